"""Replays of real splunkd traffic (splunk-sdk-python's protocol v2 recordings).

The recorded stdin is fed byte for byte, except the getinfo arguments, which are rewritten to
ones valid for this command (meta_len recomputed in bytes). Neither recording holds CloudTrail
JSON, so every event must come back unchanged with cloudtrail_error set.
"""
import gzip

import pytest

import splunkd


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


def test_recorded_getinfo_args_are_rejected(recordings, auto_env):
    # The recording's own arguments belong to countmatches: our command names its options.
    messages = recorded_messages(recordings, "countmatches")
    raw = [b"chunked 1.0,%d,%d\n" % (len(m), len(b)) + m + b for m, b in messages]
    run = splunkd.run_messages(raw, env=auto_env)
    assert run.exit_code != 0
    assert run.getinfo.errors() == [
        "cloudtraildetect: unknown option 'fieldname'; valid options: rules, extract, only_detections, field"]
    assert run.executes == []
