"""Fixtures for the hostile-input tests: the command driven over protocol v2 (the splunkd
emulator in tests/harness), a small detections folder, and a way to measure the command's peak
memory (its own maximum resident set size, from wait4(), never sampled).

The native engine is forced (CTDETECT_ENGINE=native fails when it does not import, as
CTDETECT_REQUIRE_NATIVE=1 does for the other tests); tests that are cheap also run the
pure-Python engine through the `engine` fixture.
"""
import csv
import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
TESTS = HERE.parent
for folder in (TESTS / "harness", TESTS, TESTS.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import splunkd  # noqa: E402

# Replies here hold cells of many MB; the csv module refuses cells over 128 KB by default.
csv.field_size_limit(sys.maxsize)

DETECTIONS = """\
[hostile_console_login]
title = Console sign-in
severity = medium
mitre_attack = T1078.004
description = Any console sign-in.
false_positives = None in tests.
condition = eventName=ConsoleLogin

[hostile_stop_logging]
title = CloudTrail logging stopped
severity = high
mitre_attack = T1562.008
description = Someone stopped a trail.
false_positives = None in tests.
condition = eventName=StopLogging

[hostile_known_attacker_ip]
title = Call from a known attacker address
severity = critical
mitre_attack = T1078
description = The source address is in the known_attacker_ips lookup.
false_positives = None in tests.
condition = cidrlookup("known_attacker_ips", sourceIPAddress)
"""

LOOKUP = "ip,description\n203.0.113.0/24,TEST-NET-3\n"

# A record every chunk carries after the hostile ones: the search must go on and still match it.
GOOD_RECORD = ('{"eventVersion":"1.08","eventTime":"2024-11-28T12:00:00Z","eventSource":"cloudtrail.amazonaws.com",'
               '"eventName":"StopLogging","awsRegion":"eu-west-3","sourceIPAddress":"198.51.100.7",'
               '"requestParameters":{"name":"trail"}}')


def make_conf_dir(root, detections=DETECTIONS, lookup=LOOKUP, local=None):
    root = pathlib.Path(root)
    (root / "default").mkdir(parents=True, exist_ok=True)
    (root / "lookups").mkdir(exist_ok=True)
    (root / "default" / "cloudtrail_detections.conf").write_text(detections, encoding="utf-8")
    (root / "lookups" / "known_attacker_ips.csv").write_text(lookup, encoding="utf-8")
    if local is not None:
        (root / "local").mkdir(exist_ok=True)
        data = local if isinstance(local, bytes) else local.encode("utf-8")
        (root / "local" / "cloudtrail_detections.conf").write_bytes(data)
    return root


@pytest.fixture(scope="session")
def conf_dir(tmp_path_factory):
    return make_conf_dir(tmp_path_factory.mktemp("hostile-conf"))


@pytest.fixture(scope="session")
def native_env(conf_dir):
    return {"CTDETECT_CONF_DIR": str(conf_dir), "CTDETECT_ENGINE": "native"}


@pytest.fixture(scope="session", params=["native", "python"])
def engine_env(request, conf_dir):
    """Runs the test once per engine (for tests that are cheap with the pure-Python one)."""
    return {"CTDETECT_CONF_DIR": str(conf_dir), "CTDETECT_ENGINE": request.param}


def getinfo(args=()):
    return splunkd.frame(splunkd.getinfo_metadata(list(args)))


def execute(body, finished=True, **extra):
    return splunkd.frame(dict({"action": "execute", "finished": finished}, **extra), body)


def peak_rss(pid, field="VmHWM"):
    """VmHWM (or another /proc status field) of a live process, in bytes. (wait4's ru_maxrss is
    no use here: it also counts the pages the child shared with this process between fork and
    exec.)"""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def run_measured(args, bodies, env, timeout=300):
    """A search as splunkd runs it (getinfo, then one execute per body, each answered before
    the next is sent), ended by closing stdin as splunkd does when it finalizes a search.
    Returns (exit code, getinfo reply, execute replies, stderr, peak RSS in bytes), the peak
    read from /proc just before stdin is closed (run_measured.peaks and .resident: the peak
    and the resident size after each reply)."""
    proc = splunkd.CommandProcess(env=env)
    try:
        assert proc.send(getinfo(args))
        first = proc.read_reply(timeout)
        replies = []
        peaks = []  # the peak so far after each reply
        resident = []  # the resident size after each reply
        for body in bodies:
            assert proc.send(execute(body, finished=False)), proc.stderr
            replies.append(proc.read_reply(timeout))
            peaks.append(peak_rss(proc.proc.pid))
            resident.append(peak_rss(proc.proc.pid, "VmRSS"))
        peak = peak_rss(proc.proc.pid)
        run_measured.peaks = peaks
        run_measured.resident = resident
        proc.close_stdin()
        extra = proc.drain(timeout)
        code = proc.wait(timeout)
        assert extra == [], extra
        return code, first, replies, proc.stderr, peak
    finally:
        proc.kill()
