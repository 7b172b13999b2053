"""Replays of real splunkd traffic: all five of splunk-sdk-python's protocol v2 recordings
(../shared/data/splunkd-recordings/scpv2-splunk-6.3, see the data README).

The recorded stdin is fed byte for byte, except the getinfo arguments, which are rewritten to
ones valid for this command (meta_len recomputed in bytes); each recording is also replayed with
its own arguments, which belong to another command and must be refused by name. No recording
holds CloudTrail JSON, so every event must come back unchanged with cloudtrail_error set.

- countmatches: a streaming command's 500 tweets (multi-byte text; the data README says 629) in one chunk;
- sum.map: a 50,000-row, 16 MB chunk;
- sum.reduce: the reduce phase, one row under a quoted ``"__mv_total"`` header cell, finished=true;
- generatehello: getinfo with "action" as its last key, then an execute header whose metadata
  has spaces and a trailing newline and whose 150-byte body the recording cut off;
- pypygeneratetext: getinfo with quoted raw_args, then a stray newline.
The last two are generating-command sessions cut short: what matters is how the command meets
them (a clear protocol error naming what is wrong, exit status 2, the getinfo answered first).
"""
import gzip
import re

import pytest

import splunkd

RECORDINGS = ("countmatches", "sum.map", "sum.reduce", "generatehello", "pypygeneratetext")


def recorded_messages(recordings, name):
    data = gzip.decompress((recordings / ("%s.input.gz" % name)).read_bytes())
    messages = splunkd.split_messages(data)
    # re-framing the split messages gives the recorded bytes back: the split is exact
    assert b"".join(b"chunked 1.0,%d,%d\n" % (len(m), len(b)) + m + b for m, b in messages) == data
    return messages


def replay(recordings, name, args, env):
    messages = recorded_messages(recordings, name)
    getinfo_meta = splunkd.rewrite_getinfo_args(messages[0][0], args)
    raw = [splunkd.frame(getinfo_meta)] + [
        b"chunked 1.0,%d,%d\n" % (len(meta), len(body)) + meta + body for meta, body in messages[1:]]
    run = splunkd.run_messages(raw, env=env, timeout=600)
    return messages, run


def assert_replay(messages, run, field, error_prefixes):
    assert run.getinfo.meta["type"] == "streaming", run
    assert run.getinfo.errors() == []
    assert run.exit_code == 0, run
    assert run.extra == []
    assert len(run.executes) == len(messages) - 1
    for (meta, body), reply in zip(messages[1:], run.executes):
        assert reply.meta == {"finished": splunkd.json.loads(meta)["finished"]}
        sent = splunkd.decode_csv(body)
        got = reply.table
        assert len(got.cells) == len(sent.cells)
        assert set(sent.columns) <= set(got.columns)
        assert "cloudtrail_error" in got.columns
        for index, (before, after) in enumerate(zip(sent.cells, got.cells)):
            for column, value in before.items():
                assert after[column] == value, (index, column)
            expected = error_prefixes if before.get(field) else ("empty event",)
            assert after["cloudtrail_error"].startswith(expected), (index, after["cloudtrail_error"])
            assert after.get("detection", "") == ""


@pytest.mark.parametrize("args", [["field=text"], ["field=text", "only_detections=true", "extract=f"]])
def test_countmatches_tweets(recordings, command_env, args):
    messages, run = replay(recordings, "countmatches", args, command_env)
    body = messages[1][1]
    assert len(body) != len(body.decode("utf-8"))  # multi-byte text: byte and character counts differ
    assert_replay(messages, run, "text", ("invalid JSON", "not a JSON object"))
    assert len(run.executes[0].table) == 500


def test_countmatches_without_the_field(recordings, command_env):
    # The tweets have no _raw column: every event is an "empty event".
    messages, run = replay(recordings, "countmatches", [], command_env)
    assert_replay(messages, run, "_raw", ("empty event",))


def test_sum_map_50000_rows(recordings, command_env):
    messages, run = replay(recordings, "sum.map", ["rules=*"], command_env)
    assert len(messages[1][1]) > 16000000
    assert_replay(messages, run, "_raw", ("invalid JSON",))
    assert len(run.executes[0].table) == 50000


def recorded_stream(recordings, name):
    """(messages, rest): the whole messages at the start of the recorded stdin, and the bytes
    after them (a message cut short, or a stray byte)."""
    data = gzip.decompress((recordings / ("%s.input.gz" % name)).read_bytes())
    messages, pos = [], 0
    while True:
        match = splunkd.HEADER_RE.match(data[pos:data.find(b"\n", pos) + 1]) if b"\n" in data[pos:] else None
        if not match:
            break
        start = data.find(b"\n", pos) + 1
        end = start + int(match.group(1)) + int(match.group(2))
        if end > len(data):
            break
        messages.append((data[start:start + int(match.group(1))], data[start + int(match.group(1)):end]))
        pos = end
    return messages, data[pos:]


def with_args(raw_getinfo_meta, args):
    return splunkd.frame(splunkd.rewrite_getinfo_args(raw_getinfo_meta, args))


def recorded_reply_body(recordings, name):
    """The body of the last message the recorded command wrote (its 2015 SDK put an uncounted
    newline after each metadata, so the file is not split message by message)."""
    data = (recordings / ("%s.output" % name)).read_bytes()
    header = list(re.finditer(rb"chunked 1\.0,(\d+),(\d+)\n", data))[-1]
    start = header.end() + int(header.group(1))
    return data[start:start + int(header.group(2))]


def test_sum_reduce_quoted_mv_header_and_a_single_finished_chunk(recordings, command_env):
    messages, run = replay(recordings, "sum.reduce", ["field=total"], command_env)
    assert [splunkd.json.loads(meta) for meta, _ in messages[1:]] == [{"action": "execute", "finished": True}]
    assert messages[1][1] == b'total,"__mv_total"\n"2147943.07811",\n'
    assert_replay(messages, run, "total", ("not a JSON object",))
    table = run.executes[0].table
    # The quoted "__mv_total" is total's multivalue twin, not a field of its own (which would
    # have got a twin "__mv___mv_total"); the value is the one the recorded reducer answered.
    assert table.columns.count("total") == 1 and table.columns.count("__mv_total") == 1
    assert "__mv___mv_total" not in table.columns
    recorded = splunkd.decode_csv(recorded_reply_body(recordings, "sum.reduce").replace(b"\r\n", b"\n"))
    assert [row["total"] for row in table.rows] == [row["total"] for row in recorded.rows] == ["2147943.07811"]
    assert table.rows[0]["cloudtrail_error"] == "not a JSON object"


def test_sum_reduce_without_the_field(recordings, command_env):
    messages, run = replay(recordings, "sum.reduce", [], command_env)
    assert_replay(messages, run, "_raw", ("empty event",))
    assert run.executes[0].table.rows == [{"total": "2147943.07811", "cloudtrail_error": "empty event"}]


def test_generatehello_execute_cut_short(recordings, command_env):
    messages, rest = recorded_stream(recordings, "generatehello")
    # getinfo whole; then the execute header, claiming 43 bytes of metadata (spaces, a newline)
    # and 150 of body, of which the recording holds the metadata only.
    assert len(messages) == 1
    assert rest == b'chunked 1.0,43,150\n{ "action": "execute", "finished": false }\n'
    run = splunkd.run_raw(with_args(messages[0][0], ["rules=*"]) + rest, env=command_env)
    assert run.exit_code == 2, run
    assert len(run.replies) == 2, run
    assert run.replies[0].meta["type"] == "streaming" and run.replies[0].errors() == []
    assert run.replies[1].meta["finished"] is True and run.replies[1].body == b""
    assert run.replies[1].errors() == [
        "cloudtraildetect: protocol error: unexpected end of input: expected 150 bytes of chunk body, got 0"]
    assert "Traceback" not in run.stderr


def test_generatehello_execute_metadata_as_recorded(recordings, command_env):
    # The same execute metadata, byte for byte (spaces, a newline inside meta_len), with the body
    # a generating command gets (none): accepted, answered with finished=false, then a clean end.
    messages, rest = recorded_stream(recordings, "generatehello")
    meta = rest[rest.index(b"\n") + 1:]
    assert len(meta) == 43
    run = splunkd.run_raw(with_args(messages[0][0], []) + b"chunked 1.0,43,0\n" + meta, env=command_env)
    assert run.exit_code == 0, run
    assert len(run.replies) == 2, run
    assert run.replies[0].meta["type"] == "streaming" and run.replies[0].errors() == []
    assert run.replies[1].meta == {"finished": False} and run.replies[1].body == b""


def test_pypygeneratetext_stray_newline_after_getinfo(recordings, command_env):
    # A blank line where a header belongs is a protocol error, as in splunk-sdk-python's own
    # reader (its header pattern needs "chunked 1.0,"): the recorded generating command never
    # read past getinfo, so this newline is no evidence that splunkd sends one mid-stream.
    # Kept strict also because the framing reader's 10-million-run fuzz campaign covers it so.
    messages, rest = recorded_stream(recordings, "pypygeneratetext")
    assert len(messages) == 1 and rest == b"\n"
    meta = splunkd.json.loads(messages[0][0])
    assert meta["searchinfo"]["raw_args"] == ["count=1000", 'text="Hello World!"']
    run = splunkd.run_raw(with_args(messages[0][0], ["extract=f"]) + rest, env=command_env)
    assert run.exit_code == 2, run
    assert len(run.replies) == 2, run
    assert run.replies[0].meta["type"] == "streaming" and run.replies[0].errors() == []
    assert run.replies[1].errors() == [
        "cloudtraildetect: protocol error: malformed chunk header b'': expected 'chunked 1.0,<meta_len>,<body_len>'"]


@pytest.mark.parametrize("name, option", [
    ("countmatches", "fieldname"), ("sum.map", "total"), ("sum.reduce", "total"), ("generatehello", "count"),
    ("pypygeneratetext", "count")])
def test_recorded_getinfo_args_are_rejected(recordings, auto_env, name, option):
    # Each recording's own arguments belong to another command: ours names its options, and
    # reads nothing after the getinfo it refuses (the whole recording is piped at once).
    messages, rest = recorded_stream(recordings, name)
    data = b"".join(b"chunked 1.0,%d,%d\n" % (len(m), len(b)) + m + b for m, b in messages) + rest
    assert data == gzip.decompress((recordings / ("%s.input.gz" % name)).read_bytes())
    run = splunkd.run_raw(data, env=auto_env)
    assert run.exit_code == 1, run
    assert len(run.replies) == 1 and run.replies[0].meta["finished"] is True
    assert run.replies[0].errors() == [
        "cloudtraildetect: unknown option '%s'; valid options: rules, extract, only_detections, field" % option]


def test_every_recording_is_replayed(recordings):
    # A new recording in the shared data must get a replay here.
    assert sorted(p.name[:-len(".input.gz")] for p in recordings.glob("*.input.gz")) == sorted(RECORDINGS)
