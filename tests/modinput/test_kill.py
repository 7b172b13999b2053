"""kill -9 at random points while the input reads, restarted until a run finishes: nothing is
lost, and each kill re-sends at most one batch.

Each event splunkd received is parsed for its eventID: every expected eventID must arrive at
least as many times as the files hold it, and the arrivals beyond that (the duplicates) are
bounded by one batch per kill, in all and for each killed run. The figures of each test (kills,
events expected and received, duplicates, bound) are printed at the end of the pytest run, in a
section "modular input: kill -9 figures" (conftest.py), and recorded as properties of the test
case for --junitxml."""
import collections
import datetime
import json
import os
import random
import subprocess
import sys
import time

import pytest

from modinput_support import KILL_FIGURES, SCRIPT, build_tree, input_xml, parse_events, script_env, upload

BATCH = 50


def _run_killed_until_done(tmp_path, params, env, rng, delays, max_kills):
    """Run the input with stdout in a file (what splunkd received), kill -9 it at a random
    moment, until a run ends by itself. Returns ([events of each run], kills)."""
    runs, kills = [], 0
    stdin = input_xml(params, tmp_path / "cp")
    for attempt in range(max_kills + 20):
        out_path = tmp_path / ("out-%d" % attempt)
        with open(out_path, "wb") as out, open(tmp_path / ("err-%d" % attempt), "wb") as err:
            process = subprocess.Popen([sys.executable, str(SCRIPT)], stdin=subprocess.PIPE, stdout=out, stderr=err,
                                       env=env)
            process.stdin.write(stdin)
            process.stdin.close()
            if kills < max_kills:
                # Mostly while sending (a random moment after the first events are out), sometimes
                # at any moment from the start (start-up, listing, the first read).
                if rng.random() < 0.8:
                    deadline = time.time() + 30
                    while (out_path.stat().st_size <= len(b"<stream>\n") and process.poll() is None
                           and time.time() < deadline):
                        time.sleep(0.005)
                try:
                    process.wait(rng.uniform(*delays))
                except subprocess.TimeoutExpired:
                    process.kill()  # SIGKILL
                    kills += 1
            returncode = process.wait(120)
        runs.append(parse_events(out_path.read_bytes()))
        if returncode == 0:
            return runs, kills
        assert returncode == -9, (tmp_path / ("err-%d" % attempt)).read_text()
    raise AssertionError("the input never finished")


def _event_id(raw):
    event_id = json.loads(raw.decode("utf-8")).get("eventID")
    assert isinstance(event_id, str) and event_id, "a record without eventID: %r" % raw[:200]
    return event_id


def _check(what, tree, runs, kills, source_of, record_property, started):
    """Compare what splunkd received over every run with the records of the files, by eventID
    (and, stricter, byte for byte); record the figures; return the duplicates.

    An eventID may be in several files (the tree holds copies of the shared records): the
    expected eventIDs are a multiset, and a duplicate is an arrival beyond that count. Per kill,
    events are told apart by (source, eventID), which is unique in a tree."""
    expected_ids = collections.Counter()
    for (_key, record), count in tree.expected.items():
        expected_ids[_event_id(record)] += count
    received_ids = collections.Counter()
    per_run = []
    for events in runs:
        mine = collections.Counter((event["source"], _event_id(event["data"])) for event in events)
        per_run.append(mine)
        for (_source, event_id), count in mine.items():
            received_ids[event_id] += count
    missing = expected_ids - received_ids
    unknown = sorted(set(received_ids) - set(expected_ids))
    duplicates = sum((received_ids - expected_ids).values())
    bound = kills * BATCH
    # Per kill: what a killed run sent and a later run sent again.
    resent = []
    for index, mine in enumerate(per_run[:-1]):
        later = collections.Counter()
        for other in per_run[index + 1:]:
            later.update(other)
        resent.append(sum((mine & later).values()))
    figures = collections.OrderedDict([
        ("kills", kills), ("runs", len(runs)), ("events_expected", sum(expected_ids.values())),
        ("event_ids_expected", len(expected_ids)), ("events_received", sum(received_ids.values())),
        ("duplicates", duplicates), ("bound", bound), ("worst_kill_resent", max(resent or [0])),
        ("seconds", round(time.time() - started, 1))])
    for name, value in figures.items():
        record_property(name, value)
    KILL_FIGURES.append(
        "%s: %d kills in %d runs; %d events expected (%d distinct eventIDs), %d received; %d duplicates by "
        "eventID (bound: %d kills x %d = %d; worst single kill re-sent %d); %.1f s"
        % (what, kills, len(runs), figures["events_expected"], figures["event_ids_expected"],
           figures["events_received"], duplicates, kills, BATCH, bound, figures["worst_kill_resent"],
           figures["seconds"]))
    # Nothing lost: every expected eventID arrived at least as many times as the files hold it.
    assert not missing, "lost %d events, e.g. eventIDs %s" % (sum(missing.values()), sorted(missing)[:5])
    assert not unknown, "eventIDs that are in no file: %s" % unknown[:5]
    # Duplicates: at most one batch per kill, in all and for each killed run.
    assert duplicates <= bound, figures
    assert all(count <= BATCH for count in resent), resent
    # Stricter: the same by source and raw bytes (each record byte for byte, from its own file).
    received = collections.Counter()
    for events in runs:
        received.update((event["source"], event["data"]) for event in events)
    expected = collections.Counter({(source_of(key), record): n for (key, record), n in tree.expected.items()})
    assert not (expected - received), "lost: %d records" % sum((expected - received).values())
    assert set(received) == set(expected)
    assert sum((received - expected).values()) == duplicates
    return duplicates


def test_kill_local_folder(tmp_path, shared_data, record_property):
    tree = build_tree(shared_data, copies=12, seed=11, records_per_file=40)
    folder = tree.write_to(tmp_path / "logs")
    rng = random.Random(20240501)
    started = time.time()
    runs, kills = _run_killed_until_done(tmp_path, {"local_folder": str(folder), "batch_size": str(BATCH)},
                                         script_env(), rng, (0.0, 0.15), max_kills=15)
    _check("local folder, kill -9 at random", tree, runs, kills, lambda key: str(folder / key), record_property,
           started)
    assert kills >= 5
    assert sum(1 for events in runs[:-1] if events) >= 3  # killed while sending, not only at start-up


def test_kill_s3(tmp_path, shared_data, moto_endpoint, record_property):
    tree = build_tree(shared_data, copies=2, seed=12, records_per_file=30)
    upload(moto_endpoint, "kill-bucket", tree)
    rng = random.Random(7)
    started = time.time()
    params = {"s3_bucket": "kill-bucket", "s3_endpoint_url": moto_endpoint, "batch_size": str(BATCH)}
    runs, kills = _run_killed_until_done(tmp_path, params, script_env(), rng, (0.0, 0.4), max_kills=6)
    _check("S3 bucket, kill -9 at random", tree, runs, kills, lambda key: "s3://kill-bucket/%s" % key,
           record_property, started)
    assert kills >= 3
    assert sum(1 for events in runs[:-1] if events) >= 1


# Runs the input in a process that kills itself (SIGKILL) right after its k-th flush to splunkd:
# the batch is out, its checkpoint is not written yet, the worst moment for duplicates.
_KILL_AFTER_FLUSH = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from splunk_app.modinput.run import main

class Out(object):
    def __init__(self, raw, k):
        self.raw, self.k, self.flushes = raw, k, 0
    def write(self, data):
        return self.raw.write(data)
    def flush(self):
        self.raw.flush()
        self.flushes += 1
        if self.flushes == self.k:
            os.kill(os.getpid(), signal.SIGKILL)

sys.exit(main([], sys.stdin.buffer, Out(sys.stdout.buffer, int(sys.argv[2])), sys.stderr, os.environ))
"""


def test_kill_right_after_a_flush_resends_exactly_that_batch(tmp_path, shared_data, record_property):
    from modinput_support import REPO
    tree = build_tree(shared_data, copies=1, seed=13, records_per_file=120, with_junk=False)
    folder = tree.write_to(tmp_path / "logs")
    stdin = input_xml({"local_folder": str(folder), "batch_size": str(BATCH)}, tmp_path / "cp")
    runs = []
    started = time.time()
    for k in (2, 4, 7, 3):
        process = subprocess.run([sys.executable, "-c", _KILL_AFTER_FLUSH, str(REPO), str(k)], input=stdin,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=script_env(), timeout=60)
        assert process.returncode == -9, process.stderr
        runs.append(parse_events(process.stdout))
    final = subprocess.run([sys.executable, str(SCRIPT)], input=stdin, stdout=subprocess.PIPE, env=script_env(),
                           timeout=60)
    assert final.returncode == 0
    runs.append(parse_events(final.stdout))
    duplicates = _check("local folder, kill -9 right after a flush", tree, runs, 4, lambda key: str(folder / key),
                        record_property, started)
    # Each kill re-sends the batch it had just flushed: duplicates happen, and stay within the bound.
    assert 4 <= duplicates <= 4 * BATCH


# Runs the input in a process that kills itself (SIGKILL) at the k-th rename of the listing state
# (listing.json) or of a compacted done-files log (*.log), right before it (the temporary file is
# written and fsynced) or right after it (before the folder's fsync and the next rename).
_KILL_AT_STATE_WRITE = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
index, when = int(sys.argv[2]), sys.argv[3]
real_replace = os.replace
seen = [0]
def replace(source, target, *args, **kwargs):
    name = os.path.basename(str(target))
    if name != "listing.json" and not name.endswith(".log"):
        return real_replace(source, target, *args, **kwargs)
    seen[0] += 1
    if seen[0] == index and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, target, *args, **kwargs)
    if seen[0] == index and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from splunk_app.modinput.run import main
sys.exit(main([], sys.stdin.buffer, sys.stdout.buffer, sys.stderr, os.environ))
"""


@pytest.mark.parametrize("where", ["local", "s3"])
def test_kill_while_the_listing_state_and_compacted_logs_are_written(tmp_path, where, record_property, request):
    """Each phase delivers a new day, so the watermark of the 4 region folders moves: a run
    renames listing.json, then the 4 compacted logs. One run per phase is killed at one of those
    renames (before or after it, each in turn), then a run goes on. The kills come after every
    event is out and every file marked: nothing may be lost and nothing sent twice."""
    from modinput_support import LogTree, REPO, add_day, region_folders, upload
    from splunk_app.modinput.checkpoint import stanza_folder
    folders = region_folders(["111111111111", "222222222222"], ("us-east-1", "eu-west-1"))
    first = datetime.date(2024, 3, 1)
    tree = LogTree()
    for n in range(6):
        add_day(tree, folders, first + datetime.timedelta(days=n), 2, beside=False)
    if where == "local":
        root = tmp_path / "logs"

        def publish(objects):
            for key, data in objects.items():
                (root / key).parent.mkdir(parents=True, exist_ok=True)
                (root / key).write_bytes(data)
        params = {"local_folder": str(root), "batch_size": str(BATCH)}
        source_of = lambda key: str(root / key)
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        client = upload(endpoint, "kill-state-bucket", LogTree())

        def publish(objects):
            for key, data in objects.items():
                client.put_object(Bucket="kill-state-bucket", Key=key, Body=data)
        params = {"s3_bucket": "kill-state-bucket", "s3_endpoint_url": endpoint, "batch_size": str(BATCH)}
        source_of = lambda key: "s3://kill-state-bucket/%s" % key
    publish(tree.objects)
    stdin = input_xml(params, tmp_path / "cp")
    runs, kills, started = [], 0, time.time()
    points = [(index, when) for index in range(1, 6) for when in ("before", "after")]
    for phase, (index, when) in enumerate(points):
        if phase:
            day = LogTree()
            add_day(day, folders, first + datetime.timedelta(days=5 + phase), 2, tag="p%d" % phase, beside=False)
            tree.objects.update(day.objects)
            tree.records.update(day.records)
            tree.expected.update(day.expected)
            publish(day.objects)
        killed = subprocess.run([sys.executable, "-c", _KILL_AT_STATE_WRITE, str(REPO), str(index), when],
                                input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=script_env(),
                                timeout=120)
        assert killed.returncode in (-9, 0), killed.stderr
        if killed.returncode == -9:
            kills += 1
        runs.append(parse_events(killed.stdout))
        after = subprocess.run([sys.executable, str(SCRIPT)], input=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=script_env(), timeout=120)
        assert after.returncode == 0, after.stderr
        runs.append(parse_events(after.stdout))
    duplicates = _check("%s, kill -9 at each rename of listing.json and compacted logs" % where, tree, runs, kills,
                        source_of, record_property, started)
    assert duplicates == 0
    assert kills == len(points)  # every phase has those 5 renames
    # What the logs hold at the end: the lines of the days still listed (the newest and 2 before).
    folder = stanza_folder(str(tmp_path / "cp"), "cloudtrail_logs://test")
    kept = []
    for name in os.listdir(os.path.join(folder, "roots")):
        with open(os.path.join(folder, "roots", name), "rb") as handle:
            kept += [json.loads(line)["key"] for line in handle]
    newest = first + datetime.timedelta(days=5 + len(points) - 1)
    assert sorted(set(key.split("/")[-2] for key in kept)) == [
        "%02d" % (newest - datetime.timedelta(days=n)).day for n in (2, 1, 0)]
    assert len(kept) == len(set(kept)) == 4 * 2 * 3
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]
