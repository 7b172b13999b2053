"""Bad events through the real command: each passes through unchanged (every input cell
byte for byte) with a `cloudtrail_error` field, or is read as the README's "Hostile input"
table says, and the rest of the chunk and of the search goes on."""
import json

import pytest

import splunkd

from .conftest import GOOD_RECORD, execute, getinfo


def run_rows(env, raws, args=()):
    """One chunk: each raw text as the _raw of a row, then the good record; returns the rows."""
    rows = [{"_raw": raw, "host": "h%d" % i} for i, raw in enumerate(raws)]
    rows.append({"_raw": GOOD_RECORD, "host": "good"})
    run = splunkd.run_search(list(args), [rows, [{"_raw": GOOD_RECORD, "host": "next chunk"}]], env=env)
    assert run.exit_code == 0, run
    assert run.errors() == [] and len(run.executes) == 2, run
    got = run.executes[0].table.rows
    assert len(got) == len(rows)
    for sent, row in zip(rows, got):
        assert row["_raw"] == sent["_raw"] and row["host"] == sent["host"]
    # The search goes on: the good record after the bad ones, and the next chunk, match.
    for row in (got[-1], run.executes[1].table.rows[0]):
        assert row["detection"] == "hostile_stop_logging" and row.get("cloudtrail_error", "") == ""
    return got[:-1]


def test_invalid_utf8_in_raw(engine_env):
    # splunkd hands over bytes; the body is built by hand so that the bad bytes reach _raw.
    bad = [b'{"eventName":"StopLogging","a":"\xff\xfe"}', b'{"\xc3":1}', b'{"a":"\xed\xa0\x80"}',
           b'{"a":"\xc0\xaf"}', b'\xff']
    lines = [b"_raw,host"]
    for i, raw in enumerate(bad):
        lines.append(b'"' + raw.replace(b'"', b'""') + b'",h' + str(i).encode())
    lines.append(b'"' + GOOD_RECORD.encode().replace(b'"', b'""') + b'",good')
    body = b"\n".join(lines) + b"\n"
    run = splunkd.run_raw(getinfo() + execute(body), env=engine_env)
    assert run.exit_code == 0, run
    reply = run.replies[1]
    out_lines = reply.body.split(b"\n")
    for i, raw in enumerate(bad):
        # The row's own cells come back byte for byte (the reply is not valid UTF-8 either).
        assert out_lines[1 + i].startswith(b'"' + raw.replace(b'"', b'""') + b'",h' + str(i).encode() + b",")
        assert b",invalid JSON: " in out_lines[1 + i] or b',"invalid JSON: ' in out_lines[1 + i]
    assert b"hostile_stop_logging" in out_lines[1 + len(bad)]


def test_duplicate_keys_are_multivalue(engine_env):
    raw = '{"eventName":"Other","eventName":"StopLogging","a":{"b":1},"a":{"b":"2"},"a":{"c":null}}'
    row = run_rows(engine_env, [raw])[0]
    assert row["eventName"] == ["Other", "StopLogging"]
    assert row["a.b"] == ["1", "2"] and row["a.c"] == "null"
    assert row["detection"] == "hostile_stop_logging"  # any value of a multivalue field matches


def test_numbers_beyond_double_range_keep_their_text(engine_env):
    big = "9" * 100
    raw = '{"a":1e400,"b":-1E-400,"c":%s,"d":-%s.5e+999,"e":0.%s,"f":1.50}' % (big, big, "1" * 60)
    row = run_rows(engine_env, [raw])[0]
    assert (row["a"], row["b"], row["c"], row["d"], row["e"], row["f"]) == (
        "1e400", "-1E-400", big, "-%s.5e+999" % big, "0." + "1" * 60, "1.50")
    # What json.loads (and so spath-like rendering through a double) would make of them instead:
    assert json.loads(raw)["a"] == float("inf") and str(json.loads(raw)["f"]) == "1.5"
    # Leading zeros, a bare dot or an exponent without digits are not JSON numbers.
    for bad in ('{"a":01}', '{"a":1.}', '{"a":1e}', '{"a":-}', '{"a":.5}'):
        assert run_rows(engine_env, [bad])[0]["cloudtrail_error"].startswith("invalid JSON: "), bad


def test_nul_bytes(engine_env):
    rows = run_rows(engine_env, ['{"eventName":"StopLogging","a":"x\\u0000y"}', '{"a":"x\x00y"}', '\x00'])
    assert rows[0]["a"] == "x\x00y" and rows[0]["detection"] == "hostile_stop_logging"
    assert rows[1]["cloudtrail_error"].startswith("invalid JSON: ")
    assert rows[2]["cloudtrail_error"].startswith("invalid JSON: ")


def test_nesting_100000_deep(engine_env):
    deep_arrays = '{"a":' + "[" * 100000 + "]" * 100000 + "}"
    deep_objects = '{"a":' * 100000 + "1" + "}" * 100000
    for args in ([], ["extract=false"]):
        rows = run_rows(engine_env, [deep_arrays, deep_objects], args)
        for row in rows:
            assert row["cloudtrail_error"] == "invalid JSON: more than 1024 nested arrays and objects", args


def test_array_of_a_million_items(native_env):
    raw = '{"eventName":"StopLogging","a":[' + ",".join(str(i % 10) for i in range(1000000)) + "]}"
    row = run_rows(native_env, [raw])[0]
    assert len(row["a{}"]) == 1000000 and row["a{}"][:3] == ["0", "1", "2"] and row["a{}"][-1] == "9"
    assert row["detection"] == "hostile_stop_logging"


def test_not_objects_and_empty(engine_env):
    rows = run_rows(engine_env, ["", "   ", "[1]", '"text"', "null", "{} {}", '{"a":1} x'])
    assert [row["cloudtrail_error"] for row in rows][:5] == [
        "empty event", "empty event", "not a JSON object", "not a JSON object", "not a JSON object"]
    assert all(row["cloudtrail_error"].startswith("invalid JSON: ") for row in rows[5:])


def test_lone_surrogate_escape(engine_env):
    rows = run_rows(engine_env, ['{"a":"\\ud800"}', '{"a":"\\udc00x"}', '{"a":"\\ud83d\\ude00"}'])
    assert rows[0]["cloudtrail_error"].startswith("invalid JSON: ")
    assert rows[1]["cloudtrail_error"].startswith("invalid JSON: ")
    assert rows[2]["a"] == "\U0001F600"
