"""The shipped detections against their positive and negative sample events, on every engine.

Each detection in default/cloudtrail_detections.conf has one samples file,
tests/detections/samples/<id>.json (Panther's model: the detection and its samples are reviewed
together):

    {"id": "<detection id>",
     "positive": [sample, ...],   # each must fire the detection
     "negative": [sample, ...]}   # none may fire it

A sample is {"name": "why this case matters", "event": {a full CloudTrail record}} or
{"name": ..., "shared": "<origin>"} where <origin> names a real record of ../shared/data/cloudtrail
exactly as tests/shared_records.py does ("stratus-red-team/<file>.json#<index>",
"traildiscover.ndjson#<line index>").

Engines: the pure-Python fallback (splunk_app.pyengine) must exist, so its absence fails. The
native one (splunk_app._ctdetect) is skipped when it is not built, unless CTDETECT_REQUIRE_NATIVE=1.
"""
import importlib
import json
import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from shared_records import iter_shared_records  # noqa: E402

CONF = REPO_ROOT / "default" / "cloudtrail_detections.conf"
# Detections being written land in tests/detections/pending/*.conf until they are merged into
# the shipped file; the tests treat them as part of it.
PENDING_DIR = HERE / "pending"
CONF_PATHS = [CONF] + sorted(PENDING_DIR.glob("*.conf"))
STRATUS_DIR_NAME = "stratus-red-team"
SEED_IDS = ["aws_console_login_without_mfa", "aws_console_login_failure", "aws_console_login_from_known_attacker_ip",
            "aws_ec2_gpu_instance_launch", "aws_security_group_ingress_ssh_from_anywhere",
            "aws_network_acl_allow_all_ingress", "aws_s3_bucket_acl_public"]
SAMPLES_DIR = HERE / "samples"
DEMO_EVENTS = REPO_ROOT / "samples" / "demo_events.ndjson"
SHIPPED_LOOKUP = REPO_ROOT / "lookups" / "known_attacker_ips.csv"

# The test's own lookup (the shipped one is empty on purpose). The attacker-IP samples rely on
# exactly these rows: a /24, a single IPv4 address and an IPv6 /48.
TEST_LOOKUP_ROWS = [
    ("198.51.100.0/24", "test range: documentation network TEST-NET-2"),
    ("203.0.113.66", "test single address"),
    ("2001:db8:bad::/48", "test IPv6 range"),
]

ENGINE_MODULES = {"python": "splunk_app.pyengine", "native": "splunk_app._ctdetect"}


# --------------------------------------------------------------------------- inputs

def _conf_stanzas(path):
    """Stanza names of a .conf file, in order (enough for this test: no engine semantics)."""
    names = []
    continued = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if continued:
            continued = line.rstrip().endswith("\\")
            continue
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            names.append(stripped[1:-1])
            continue
        continued = line.rstrip().endswith("\\")
    return [name for name in names if name != "default"]


def _load_sample_files():
    files = {}
    for path in sorted(SAMPLES_DIR.glob("*.json")):
        files[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return files


SAMPLE_FILES = _load_sample_files()
CONF_IDS = [name for path in CONF_PATHS if path.is_file() for name in _conf_stanzas(path)]

_SHARED = None


def _shared(origin):
    global _SHARED
    if _SHARED is None:
        _SHARED = dict(iter_shared_records())
    if origin not in _SHARED:
        raise AssertionError("shared record %r does not exist (see tests/shared_records.py)" % origin)
    return _SHARED[origin]


def _raw(sample):
    if "shared" in sample:
        return _shared(sample["shared"])
    return json.dumps(sample["event"], ensure_ascii=False, separators=(",", ":"))


def _cases():
    """(detection id, kind, sample index, sample) for every sample of every file."""
    for data in SAMPLE_FILES.values():
        for kind in ("positive", "negative"):
            for index, sample in enumerate(data.get(kind, [])):
                yield data["id"], kind, index, sample


CASES = list(_cases())
CASE_IDS = ["%s-%s%d" % (det, kind[:3], index) for det, kind, index, _ in CASES]


# --------------------------------------------------------------------------- engines

@pytest.fixture(scope="session")
def lookup_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lookups")
    lines = ["ip,description"] + ["%s,%s" % row for row in TEST_LOOKUP_ROWS]
    (directory / "known_attacker_ips.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def _import_engine_class(kind):
    module = importlib.import_module(ENGINE_MODULES[kind])
    return module.Engine


_ENGINES = {}


def _engine_or_skip(kind, lookup_dir):
    key = (kind, str(lookup_dir))
    if key in _ENGINES:
        return _ENGINES[key]
    try:
        engine_class = _import_engine_class(kind)
    except (ImportError, AttributeError) as exc:
        if kind == "python" or os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            pytest.fail("%s engine (%s) cannot be imported: %s" % (kind, ENGINE_MODULES[kind], exc))
        pytest.skip("native engine not built (%s); set CTDETECT_REQUIRE_NATIVE=1 to require it" % exc)
    engine = engine_class(conf_paths=[str(path) for path in CONF_PATHS], lookup_dir=str(lookup_dir), rules="*")
    _ENGINES[key] = engine
    return engine


@pytest.fixture(params=["python", "native"])
def engine(request, lookup_dir):
    return _engine_or_skip(request.param, lookup_dir)


# --------------------------------------------------------------------------- the samples file set

def test_there_are_samples():
    assert SAMPLE_FILES, "no samples in %s" % SAMPLES_DIR


def test_sample_files_are_well_formed():
    for file_name, data in SAMPLE_FILES.items():
        assert {"id", "positive", "negative"} <= set(data) <= {"id", "positive", "negative", "stratus"}, file_name
        for technique in data.get("stratus", []):
            assert (_stratus_dir() / (technique + ".json")).is_file(), (file_name, technique)
        assert file_name == data["id"] + ".json", "%s holds the samples of %s" % (file_name, data["id"])
        for kind in ("positive", "negative"):
            for sample in data[kind]:
                assert isinstance(sample.get("name"), str) and sample["name"].strip(), (file_name, sample)
                assert ("event" in sample) != ("shared" in sample), (file_name, sample["name"])
                assert set(sample) <= {"name", "event", "shared"}, (file_name, sample["name"])
                if "event" in sample:
                    event = sample["event"]
                    assert isinstance(event, dict), (file_name, sample["name"])
                    # Events written for the tests must look like real records.
                    for key in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName",
                                "awsRegion", "sourceIPAddress", "userAgent", "requestParameters",
                                "responseElements", "eventID", "eventType", "recipientAccountId"):
                        assert key in event, (file_name, sample["name"], key)


def test_detection_ids_are_unique():
    duplicates = sorted({name for name in CONF_IDS if CONF_IDS.count(name) > 1})
    assert not duplicates, duplicates


def test_every_sample_file_names_a_detection_of_the_conf():
    assert CONF.is_file(), CONF
    unknown = sorted(data["id"] for data in SAMPLE_FILES.values() if data["id"] not in CONF_IDS)
    assert not unknown, "samples for detections that are not in %s: %s" % (CONF.name, unknown)


def test_every_detection_has_positive_and_negative_samples():
    by_id = {data["id"]: data for data in SAMPLE_FILES.values()}
    assert CONF_IDS
    for detection in CONF_IDS:
        assert detection in by_id, "%s has no samples file %s/%s.json" % (detection, SAMPLES_DIR, detection)
        assert len(by_id[detection]["positive"]) >= 1, "%s has no positive sample" % detection
        assert len(by_id[detection]["negative"]) >= 1, "%s has no negative sample" % detection


def test_shared_references_exist():
    for det, kind, index, sample in CASES:
        if "shared" in sample:
            _shared(sample["shared"])


def test_shipped_attacker_lookup_is_empty_with_its_header():
    assert SHIPPED_LOOKUP.is_file(), "%s is missing" % SHIPPED_LOOKUP
    assert SHIPPED_LOOKUP.read_text(encoding="utf-8").splitlines() == ["ip,description"]


# --------------------------------------------------------------------------- each sample on each engine

def test_engine_loads_exactly_the_conf_detections(engine):
    assert list(engine.detection_ids) == CONF_IDS
    assert list(engine.warnings) == []


@pytest.mark.parametrize("detection,kind,index,sample", CASES, ids=CASE_IDS)
def test_sample(engine, detection, kind, index, sample):
    result = engine.analyze(_raw(sample))
    assert result["error"] is None, (sample["name"], result["error"])
    fired = detection in result["detections"]
    if kind == "positive":
        assert fired, "%s should fire on positive #%d %r; it fired %s" % (detection, index, sample["name"],
                                                                          result["detections"])
    else:
        assert not fired, "%s should not fire on negative #%d %r" % (detection, index, sample["name"])


def test_engines_agree_on_every_sample(lookup_dir):
    python_engine = _engine_or_skip("python", lookup_dir)
    native_engine = _engine_or_skip("native", lookup_dir)
    raws = [_raw(sample) for _, _, _, sample in CASES]
    raws += [line for line in DEMO_EVENTS.read_text(encoding="utf-8").splitlines()] if DEMO_EVENTS.is_file() else []
    for raw in raws:
        expected = python_engine.analyze(raw)
        actual = native_engine.analyze(raw)
        if expected.get("error") and actual.get("error"):
            # The detail after "invalid JSON: " differs between engines by contract.
            assert expected["error"].split(":")[0] == actual["error"].split(":")[0], raw[:200]
            expected = dict(expected, error=None)
            actual = dict(actual, error=None)
        assert actual == expected, raw[:200]


# --------------------------------------------------------------------------- Stratus Red Team coverage

def _stratus_dir():
    from conftest import _require_shared_data
    return _require_shared_data() / "cloudtrail" / STRATUS_DIR_NAME


def test_every_stratus_attack_fires_a_detection_specific_to_it(engine):
    """Each file is one real attack; a samples file claims it with "stratus": [<file stem>], and
    at least one claiming detection must fire on at least one of the attack's records."""
    claims = {}
    for data in SAMPLE_FILES.values():
        for technique in data.get("stratus", []):
            claims.setdefault(technique, []).append(data["id"])
    unclaimed, silent = [], []
    for path in sorted(_stratus_dir().glob("*.json")):
        technique = path.stem
        claimed_by = claims.get(technique)
        if not claimed_by:
            unclaimed.append(technique)
            continue
        fired = set()
        for record in json.loads(path.read_text(encoding="utf-8")):
            fired.update(engine.analyze(json.dumps(record, ensure_ascii=False, separators=(",", ":")))["detections"])
        if not fired.intersection(claimed_by):
            silent.append((technique, claimed_by))
    assert not unclaimed, "no detection claims these Stratus attacks: %s" % unclaimed
    assert not silent, "claimed but not fired: %s" % silent


# --------------------------------------------------------------------------- the demo data

def _demo_lines():
    assert DEMO_EVENTS.is_file(), DEMO_EVENTS
    return [line for line in DEMO_EVENTS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_demo_events_shape():
    lines = _demo_lines()
    assert 30 <= len(lines) <= 80, len(lines)
    invalid = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            invalid.append(number)
            continue
        assert isinstance(record, dict) and "eventName" in record, number
    assert len(invalid) == 1, "demo data should show exactly one broken line, found %s" % invalid


def test_demo_events_fire_every_seed_detection(engine):
    fired = set()
    errors = 0
    for line in _demo_lines():
        result = engine.analyze(line)
        if result["error"]:
            assert result["error"].startswith("invalid JSON"), result["error"]
            errors += 1
        fired.update(result["detections"])
    assert errors == 1
    # aws_console_login_from_known_attacker_ip fires on the demo's sign-in from 198.51.100.23 only
    # with a lookup listing it (this test's does; the shipped lookup is empty).
    missing = [det for det in SEED_IDS if det not in fired]
    assert not missing, "no demo event fires %s" % missing
