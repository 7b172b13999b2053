"""The native and the pure-Python engines must agree on every shared CloudTrail record.

Both engines load the shipped detections; every record of ../shared/data/cloudtrail goes
through analyze() (fields, values, coordinates' effect via detections, errors) and, as one
protocol v2 chunk with the usual Splunk columns, through process_body().
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from shared_records import shared_records  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CONF = os.path.join(REPO, "default", "cloudtrail_detections.conf")


def _native():
    try:
        from splunk_app import _ctdetect
    except ImportError:
        if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            raise
        pytest.skip("native engine not built (make build); CTDETECT_REQUIRE_NATIVE=1 turns this into a failure")
    return _ctdetect


@pytest.fixture(scope="module")
def lookup_dir(tmp_path_factory):
    # Addresses that occur in the shared records, so the lookup detection fires on real data.
    folder = tmp_path_factory.mktemp("lookups")
    (folder / "known_attacker_ips.csv").write_text(
        "ip,description\n"
        "1.2.3.0/24,range\n"
        "2001:db8::/32,documentation v6\n"
        "not-an-address,bad row kept out\n",
        encoding="utf-8",
    )
    return str(folder)


@pytest.fixture(scope="module")
def engines(lookup_dir):
    from splunk_app.pyengine import Engine as PythonEngine

    native = _native()
    return native.Engine([CONF], lookup_dir), PythonEngine([CONF], lookup_dir)


def _normalise(analysis):
    return {
        "fields": [[name, list(values)] for name, values in analysis["fields"]],
        "detections": list(analysis["detections"]),
        "error": analysis["error"],
    }


def test_same_detections_and_warnings(engines):
    native, python = engines
    assert list(native.detection_ids) == list(python.detection_ids)
    assert len(native.detection_ids) >= 7
    assert len(native.warnings) == len(python.warnings) == 1


def test_every_shared_record_gives_identical_results(engines):
    native, python = engines
    records = shared_records()
    assert len(records) == 727
    mismatches = []
    for origin, raw in records:
        left, right = _normalise(native.analyze(raw)), _normalise(python.analyze(raw))
        assert left["error"] is None, (origin, left["error"])
        if left != right:
            mismatches.append(origin)
    assert not mismatches, "engines disagree on %d records, first: %s" % (len(mismatches), mismatches[:5])


def _csv_cell(text):
    if any(c in text for c in ',"\r\n'):
        return '"%s"' % text.replace('"', '""')
    return text


def _chunk(records):
    lines = ["_raw,_time,host,source,sourcetype,__mv__raw,__mv__time,__mv_host,__mv_source,__mv_sourcetype"]
    for index, (origin, raw) in enumerate(records):
        lines.append(",".join([_csv_cell(raw), "%d.000" % (1722500000 + index), "ip-10-0-0-1",
                               _csv_cell(origin), "aws:cloudtrail", "", "", "", "", ""]))
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.parametrize("extract,only_detections", [(True, False), (False, False), (True, True)])
def test_whole_chunk_bodies_are_byte_identical(engines, extract, only_detections):
    native, python = engines
    body = _chunk(shared_records())
    left = bytes(native.process_body(body, "_raw", extract, only_detections))
    right = bytes(python.process_body(body, "_raw", extract, only_detections))
    if left != right:
        left_lines, right_lines = left.split(b"\n"), right.split(b"\n")
        first = next(i for i, (a, b) in enumerate(zip(left_lines, right_lines)) if a != b) if any(
            a != b for a, b in zip(left_lines, right_lines)) else min(len(left_lines), len(right_lines))
        pytest.fail("bodies differ at line %d:\nnative: %r\npython: %r" % (
            first, left_lines[first][:600] if first < len(left_lines) else None,
            right_lines[first][:600] if first < len(right_lines) else None))
    assert b"detection_severity" in left.split(b"\n", 1)[0]


@pytest.mark.parametrize("raw,expected", [
    ("", "empty event"),
    ("   ", "empty event"),
    ("[1, 2]", "not a JSON object"),
    ('"text"', "not a JSON object"),
    ("{not json", "invalid JSON: "),
    ('{"a": 1} trailing', "invalid JSON: "),
    ('{"a": 01}', "invalid JSON: "),
])
def test_errors_agree(engines, raw, expected):
    native, python = engines
    for engine in engines:
        result = engine.analyze(raw)
        assert result["error"].startswith(expected), (engine, result["error"])
        assert result["fields"] == [] and result["detections"] == []


@pytest.mark.parametrize("depth,readable", [(1023, True), (1024, False), (100000, False)])
def test_nesting_limit_agrees(engines, depth, readable):
    raw = '{"a":' + "[" * depth + "1" + "]" * depth + "}"
    for engine in engines:
        error = engine.analyze(raw)["error"]
        if readable:
            assert error is None
        else:
            assert error == "invalid JSON: more than 1024 nested arrays and objects"


def test_native_replies_are_owned_memoryviews(engines):
    """The native reply is handed over without a copy, and stays valid after later calls."""
    native, _python = engines
    records = shared_records()
    first = native.process_body(_chunk(records[:3]))
    kept = bytes(first)
    second = native.process_body(_chunk(records[3:9]))
    assert isinstance(first, memoryview) and first.readonly
    assert bytes(first) == kept and bytes(second) != kept
