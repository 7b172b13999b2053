"""The seven seed detections through the real command, driven over protocol v2 as splunkd does.

test_seed_detections.py checks every sample in process (``engine.analyze``). Here every
positive, negative and trap sample of the seven seeds goes through ``bin/cloudtraildetect.py``
in a subprocess (tests/harness/splunkd.py: getinfo, several execute chunks, the last one
finished), with each engine forced in turn (CTDETECT_ENGINE=python, CTDETECT_ENGINE=native),
and the ``detection`` field of every event that comes back is compared as a list of exact ids:
an event must not pass for ``aws_ec2_gpu_instance_launch`` because
``aws_ec2_gpu_instance_launch_attempt`` fired.

Three selections are run per engine:
- ``rules=<one seed>`` for each seed: each event's ``detection`` is exactly ``[seed]`` or nothing,
  and exactly ``[seed]`` for that seed's positives, nothing for its negatives (the samples files
  are the ground truth);
- ``rules=<the seven>``: each event's list is exactly the seeds that fired on it alone, in
  definition order, with the title, severity and MITRE ids those detections define;
- no ``rules=`` (every shipped detection, as a user runs the command): the seeds among each
  event's ids are the same list.

The detections are the shipped ones (default/cloudtrail_detections.conf, plus the pending files
the in-process test also loads, as local/), with the in-process test's attacker-IP lookup: the
shipped lookup is empty on purpose. The native engine is skipped when it is not built, unless
CTDETECT_REQUIRE_NATIVE=1 (as in `make test`).
"""
import os
import pathlib
import shutil
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
for _path in (REPO_ROOT, HERE.parent / "harness", HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import splunkd  # noqa: E402
from test_seed_detections import (  # noqa: E402
    CONF, CONF_PATHS, PENDING_DIR, SAMPLE_FILES, SEED_IDS, TEST_LOOKUP_ROWS, _raw)

SEVERITIES = ["informational", "low", "medium", "high", "critical"]
CHUNK_ROWS = 40  # 97 samples: three execute chunks
GPU = "aws_ec2_gpu_instance_launch"


def _conf_metadata():
    """id -> (title, severity, [MITRE ids]) of every detection, read from the conf files with
    the app's conf reader (stanza syntax only: no engine is involved)."""
    from splunk_app.pyengine.conf import read_conf_files, with_defaults
    defaults, stanzas = read_conf_files([str(path) for path in CONF_PATHS])
    metadata = {}
    for detection_id, keys in stanzas.items():
        keys = with_defaults(defaults, keys)
        techniques = []
        for item in keys["mitre_attack"].value.split(","):
            if item.strip() and item.strip() not in techniques:
                techniques.append(item.strip())
        metadata[detection_id] = (keys["title"].value.strip(), keys["severity"].value.strip(), techniques)
    return list(stanzas), metadata


CONF_ORDER, METADATA = _conf_metadata()
SEEDS = [detection_id for detection_id in CONF_ORDER if detection_id in SEED_IDS]  # definition order


def _samples():
    """[(label, seed, kind, sample name, raw)] for every sample of the seven seeds."""
    by_id = {data["id"]: data for data in SAMPLE_FILES.values()}
    out = []
    for seed in SEED_IDS:
        for kind in ("positive", "negative"):
            for index, sample in enumerate(by_id[seed][kind]):
                out.append(("%s-%s%d" % (seed, kind[:3], index), seed, kind, sample["name"], _raw(sample)))
    return out


SAMPLES = _samples()


def test_the_seven_seeds_and_their_samples_are_there():
    assert sorted(SEEDS) == sorted(SEED_IDS) and len(SEEDS) == 7
    for seed in SEED_IDS:
        kinds = [kind for _, owner, kind, _, _ in SAMPLES if owner == seed]
        assert "positive" in kinds and "negative" in kinds, seed


# --------------------------------------------------------------------------- the command

@pytest.fixture(scope="module")
def conf_dir(tmp_path_factory):
    """A folder laid out like the app (CTDETECT_CONF_DIR): the shipped detections, the pending
    ones as local/, the shipped lookups with the test's attacker ranges."""
    root = tmp_path_factory.mktemp("seed-conf")
    (root / "default").mkdir()
    shutil.copyfile(str(CONF), str(root / "default" / CONF.name))
    pending = sorted(PENDING_DIR.glob("*.conf"))
    if pending:
        (root / "local").mkdir()
        (root / "local" / CONF.name).write_bytes(b"\n".join(path.read_bytes() for path in pending))
    shutil.copytree(str(REPO_ROOT / "lookups"), str(root / "lookups"))
    lines = ["ip,description"] + ["%s,%s" % row for row in TEST_LOOKUP_ROWS]
    (root / "lookups" / "known_attacker_ips.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _native_or_skip():
    try:
        from splunk_app import _ctdetect  # noqa: F401
    except ImportError as err:
        if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            pytest.fail("the native engine does not import: %s" % err)
        pytest.skip("native engine not built (%s); set CTDETECT_REQUIRE_NATIVE=1 to require it" % err)


_RUNS = {}


def _rows():
    return [{"_raw": raw, "_time": "1732795200.%03d" % number, "sourcetype": "aws:cloudtrail", "sample": label}
            for number, (label, _, _, _, raw) in enumerate(SAMPLES)]


def _ids(row):
    value = row.get("detection", "")
    return value if isinstance(value, list) else ([value] if value else [])


def _values(row, name):
    value = row.get(name, "")
    return value if isinstance(value, list) else ([value] if value else [])


def run_command(engine, conf_dir, rules):
    """{sample label: reply row} of one search over every sample (cached per engine and rules)."""
    key = (engine, rules)
    if key in _RUNS:
        return _RUNS[key]
    if engine == "native":
        _native_or_skip()
    rows = _rows()
    chunks = [rows[i:i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)]
    args = [] if rules is None else ["rules=" + rules]
    run = splunkd.run_search(args, chunks, env={"CTDETECT_CONF_DIR": str(conf_dir), "CTDETECT_ENGINE": engine},
                             timeout=120)
    assert run.exit_code == 0, run
    assert run.getinfo.meta.get("type") == "streaming" and run.errors() == [], run
    assert [reply.meta for reply in run.executes] == [{"finished": i == len(chunks) - 1} for i in range(len(chunks))]
    assert run.extra == []
    got = run.rows
    assert [row["sample"] for row in got] == [row["sample"] for row in rows]  # every event back, in order
    for sent, row in zip(rows, got):
        assert row["_raw"] == sent["_raw"], sent["sample"]
        assert row.get("cloudtrail_error", "") == "", (sent["sample"], row.get("cloudtrail_error"))
        assert row.get("eventName"), sent["sample"]  # extract=true by default
    _RUNS[key] = dict((row["sample"], row) for row in got)
    return _RUNS[key]


@pytest.fixture(scope="module", params=["python", "native"])
def engine(request):
    if request.param == "native":
        _native_or_skip()
    return request.param


def _describe(label):
    for sample_label, seed, kind, name, _ in SAMPLES:
        if sample_label == label:
            return "%s %s %r" % (seed, kind, name)
    return label


# --------------------------------------------------------------------------- one seed at a time

@pytest.mark.parametrize("seed", SEED_IDS)
def test_each_seed_alone_fires_on_its_positives_only(engine, conf_dir, seed):
    rows = run_command(engine, conf_dir, seed)
    title, severity, techniques = METADATA[seed]
    wrong = []
    for label, owner, kind, _, _ in SAMPLES:
        row = rows[label]
        ids = _ids(row)
        assert ids in ([], [seed]), (_describe(label), ids)  # nothing but the one selected id
        if owner == seed and ids != ([seed] if kind == "positive" else []):
            wrong.append("%s: got %s" % (_describe(label), ids))
        if ids:
            assert row["detection_title"] == title, label
            assert row["detection_severity"] == severity, label
            assert _values(row, "mitre_attack_id") == techniques, label
        else:
            for name in ("detection_title", "detection_severity", "mitre_attack_id"):
                assert row.get(name, "") == "", (label, name)
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- the seven together

def _alone(engine, conf_dir):
    """label -> the seeds that fire on the sample when each is selected alone, in definition order."""
    fired = dict((label, []) for label, _, _, _, _ in SAMPLES)
    for seed in SEEDS:
        rows = run_command(engine, conf_dir, seed)
        for label in fired:
            if _ids(rows[label]) == [seed]:
                fired[label].append(seed)
    return fired


def test_the_seven_together_give_exactly_the_ids_each_gives_alone(engine, conf_dir):
    alone = _alone(engine, conf_dir)
    rows = run_command(engine, conf_dir, ",".join(SEED_IDS))
    for label, owner, kind, _, _ in SAMPLES:
        row = rows[label]
        expected = alone[label]
        assert _ids(row) == expected, (_describe(label), _ids(row), expected)
        assert (owner in _ids(row)) == (kind == "positive"), _describe(label)
        assert _values(row, "detection_title") == [METADATA[d][0] for d in expected], label
        techniques = []
        for detection_id in expected:
            techniques += [t for t in METADATA[detection_id][2] if t not in techniques]
        assert _values(row, "mitre_attack_id") == techniques, label
        highest = max((METADATA[d][1] for d in expected), key=SEVERITIES.index) if expected else ""
        assert row.get("detection_severity", "") == highest, label
    # Samples that fire more than one seed exist (a sign-in from a listed address without MFA):
    # the lists above are compared whole, not one id at a time.
    assert any(len(ids) > 1 for ids in alone.values())


def test_every_shipped_detection_selected_gives_the_same_seed_ids(engine, conf_dir):
    seven = run_command(engine, conf_dir, ",".join(SEED_IDS))
    everything = run_command(engine, conf_dir, None)
    for label, owner, kind, _, _ in SAMPLES:
        ids = _ids(everything[label])
        assert len(ids) == len(set(ids)) and all(d in METADATA for d in ids), (label, ids)
        assert [d for d in ids if d in SEED_IDS] == _ids(seven[label]), (_describe(label), ids)
        assert (owner in ids) == (kind == "positive"), (_describe(label), ids)


def test_an_id_is_not_matched_by_a_longer_one(engine, conf_dir):
    """The trap of a substring check: the real Stratus GPU launch was refused
    (Client.UnauthorizedOperation), a negative of aws_ec2_gpu_instance_launch that fires
    aws_ec2_gpu_instance_launch_attempt."""
    everything = run_command(engine, conf_dir, None)
    trapped = []
    for label, owner, kind, _, _ in SAMPLES:
        row = everything[label]
        if owner == GPU and kind == "negative" and GPU + "_attempt" in _ids(row):
            trapped.append(label)
            assert GPU not in _ids(row)
            text = row["detection"] if isinstance(row["detection"], str) else "\n".join(row["detection"])
            assert GPU in text  # what a substring test would have taken for a match
    assert trapped, "no negative GPU sample fires %s_attempt any more: the trap is not exercised" % GPU


def test_both_engines_return_the_same_events(conf_dir):
    python_rows = run_command("python", conf_dir, None)
    native_rows = run_command("native", conf_dir, None)
    for label, _, _, _, _ in SAMPLES:
        assert native_rows[label] == python_rows[label], _describe(label)
