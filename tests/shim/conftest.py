"""Fixtures for the shim tests: the splunkd emulator, a small detections folder, interpreters.

The command under test is always bin/cloudtraildetect.py in a subprocess, with the real engine
chosen by splunk_app.engine_loader. Its detections come from CTDETECT_CONF_DIR (a folder laid
out like the app: default/cloudtrail_detections.conf and lookups/), so these tests do not
depend on the detections the app ships; test_shipped_app_starts covers those.
"""
import os
import pathlib
import sys

import pytest

HARNESS = pathlib.Path(__file__).resolve().parent.parent / "harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))
REPO = pathlib.Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TEST_DETECTIONS = """\
# Detections for the shim tests (CTDETECT_CONF_DIR).

[test_console_login_without_mfa]
title = Console sign-in without MFA
severity = medium
mitre_attack = T1078.004
description = A console sign-in that used no MFA.
false_positives = None in tests.
condition = eventName=ConsoleLogin additionalEventData.MFAUsed=No

[test_cloudtrail_stopped]
title = CloudTrail logging stopped
severity = high
mitre_attack = T1562.008
description = Someone stopped a trail.
false_positives = None in tests.
condition = eventName=StopLogging

[test_known_attacker_ip]
title = Call from a known attacker address
severity = critical
mitre_attack = T1078
description = The source address is in the known_attacker_ips lookup.
false_positives = None in tests.
condition = cidrlookup("known_attacker_ips", sourceIPAddress)
"""

TEST_DETECTION_IDS = ["test_console_login_without_mfa", "test_cloudtrail_stopped", "test_known_attacker_ip"]


@pytest.fixture(scope="session")
def detection_ids():
    return list(TEST_DETECTION_IDS)


@pytest.fixture(scope="session")
def detections_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctdetect-conf")
    (root / "default").mkdir()
    (root / "lookups").mkdir()
    (root / "default" / "cloudtrail_detections.conf").write_text(TEST_DETECTIONS, encoding="utf-8")
    (root / "lookups" / "known_attacker_ips.csv").write_text(
        "ip,description\n203.0.113.0/24,TEST-NET-3 used as attacker range in tests\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session", params=["python", "auto"])
def command_env(request, detections_dir):
    """Environment for the command: our detections; each test runs twice, with the pure-Python
    engine forced, and with the engine chosen as in production (the native one when it is
    built for this interpreter)."""
    engine = None if request.param == "auto" else request.param
    return {"CTDETECT_CONF_DIR": str(detections_dir), "CTDETECT_ENGINE": engine}


def native_engine_or_skip():
    """Skip (or fail, with CTDETECT_REQUIRE_NATIVE=1 as in `make test`) when the native module
    does not import in this interpreter, the one the command is started with."""
    try:
        from splunk_app import _ctdetect  # noqa: F401
    except ImportError as err:
        if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            pytest.fail("the native engine does not import: %s" % err)
        pytest.skip("native engine not built (%s); set CTDETECT_REQUIRE_NATIVE=1 to require it" % err)


@pytest.fixture(scope="session", params=["python", "native"])
def engine_env(request, detections_dir):
    """Our detections with each engine forced in turn (CTDETECT_ENGINE=python, then native)."""
    if request.param == "native":
        native_engine_or_skip()
    return {"CTDETECT_CONF_DIR": str(detections_dir), "CTDETECT_ENGINE": request.param}


@pytest.fixture(scope="session")
def python_env(detections_dir):
    """Our detections with the pure-Python engine forced."""
    return {"CTDETECT_CONF_DIR": str(detections_dir), "CTDETECT_ENGINE": "python"}


@pytest.fixture(scope="session")
def auto_env(detections_dir):
    """Our detections with the engine chosen as in production."""
    return {"CTDETECT_CONF_DIR": str(detections_dir), "CTDETECT_ENGINE": None}


@pytest.fixture(scope="session")
def recordings(shared_data):
    path = shared_data / "splunkd-recordings" / "scpv2-splunk-6.3"
    if not path.is_dir():
        raise RuntimeError("splunkd recordings missing at %s" % path)
    return path


@pytest.fixture(scope="session")
def python39():
    """Python 3.9 (Splunk 9.3-10.x's interpreter); its absence is a failure, not a skip."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    path = pathlib.Path(root) / "versions" / "3.9.18" / "bin" / "python"
    if not path.exists():
        raise RuntimeError("Python 3.9 not found at %s (install it with pyenv: pyenv install 3.9.18)" % path)
    return str(path)
