"""splunk_app.command.main in-process, with a stand-in engine: the loop's own behaviour."""
import io
import json

import pytest

import splunkd
from splunk_app import command, engine_loader


class FakeEngine(object):
    warnings = ["lookup known_attacker_ips.csv row 3: 'nope' is not an address"]

    def __init__(self, fail_with=None):
        self.calls = []
        self.fail_with = fail_with

    def process_body(self, body, field="_raw", extract=True, only_detections=False):
        self.calls.append((body, field, extract, only_detections))
        if self.fail_with:
            raise self.fail_with
        return b"seen," + body


@pytest.fixture
def fake(monkeypatch):
    engine = FakeEngine()
    seen = {}

    def load(conf_paths, lookup_dir, rules="*"):
        seen.update(conf_paths=conf_paths, lookup_dir=lookup_dir, rules=rules)
        return engine, "native engine not available for Python 3.x on test (because); using the pure-Python engine, which is slower"

    monkeypatch.setattr(engine_loader, "load_engine", load)
    engine.seen = seen
    return engine


def run(data):
    out, err = io.BytesIO(), io.StringIO()
    code = command.main(io.BytesIO(data), out, err)
    return code, [splunkd.Reply(meta, body) for meta, body in splunkd.split_messages(out.getvalue())], err.getvalue()


def getinfo(args=()):
    return splunkd.frame(splunkd.getinfo_metadata(list(args)))


def test_loop_passes_options_and_echoes_finished(fake):
    data = (getinfo(["rules=a*", "extract=no", "only_detections=1", "field=msg"])
            + splunkd.frame({"action": "execute", "finished": False}, b"a\n1\n")
            + splunkd.frame({"action": "execute", "finished": False}, b"")
            + splunkd.frame({"action": "execute", "finished": True}, "é\n😀\n".encode("utf-8")))
    code, replies, err = run(data)
    assert code == 0, err
    assert replies[0].meta == {"type": "streaming", "inspector": {"messages": [
        ["INFO", "cloudtraildetect: native engine not available for Python 3.x on test (because); "
                 "using the pure-Python engine, which is slower"],
        ["WARN", "cloudtraildetect: lookup known_attacker_ips.csv row 3: 'nope' is not an address"]]}}
    assert [(r.meta, r.body) for r in replies[1:]] == [
        ({"finished": False}, b"seen,a\n1\n"), ({"finished": False}, b""),
        ({"finished": True}, "seen,é\n😀\n".encode("utf-8"))]
    assert fake.calls == [(b"a\n1\n", "msg", False, True), ("é\n😀\n".encode("utf-8"), "msg", False, True)]
    assert fake.seen["rules"] == "a*"
    assert fake.seen["lookup_dir"].endswith("lookups")


def test_unexpected_exception_is_reported(fake):
    fake.fail_with = RuntimeError("boom")
    code, replies, err = run(getinfo() + splunkd.frame({"action": "execute", "finished": True}, b"a\n1\n"))
    assert code != 0
    assert replies[-1].meta == {"finished": True, "inspector": {"messages": [
        ["ERROR", "cloudtraildetect: internal error: RuntimeError: boom"]]}}
    assert "Traceback" in err  # on stderr (search.log), not on stdout


def test_engine_value_error_names_the_chunk(fake):
    fake.fail_with = ValueError("bad CSV quoting on line 2")
    code, replies, err = run(getinfo() + splunkd.frame({"action": "execute", "finished": False}, b"a\n1\n")
                             + splunkd.frame({"action": "execute", "finished": True}, b"a\n1\n"))
    assert code != 0
    assert replies[-1].errors() == ["cloudtraildetect: cannot process execute message 1: bad CSV quoting on line 2"]
    assert len(replies) == 2


def test_unknown_action_mid_stream(fake):
    code, replies, _ = run(getinfo() + splunkd.frame({"action": "finish"}))
    assert code != 0
    assert replies[-1].errors() == ["cloudtraildetect: protocol error: expected an execute message, got action 'finish'"]


def test_getinfo_without_searchinfo(fake):
    code, replies, _ = run(splunkd.frame({"action": "getinfo"}))
    assert code != 0
    assert "no searchinfo" in replies[0].errors()[0]


def test_broken_pipe_is_quiet(fake):
    class Closed(io.BytesIO):
        def write(self, data):
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    code = command.main(io.BytesIO(getinfo()), Closed(), err)
    assert code != 0
    assert err.getvalue() == ""


def test_replies_are_compact_json(fake):
    _, replies, _ = run(getinfo())
    assert replies[0].raw_meta == json.dumps(replies[0].meta, separators=(",", ":")).encode()


def test_stops_after_the_finished_execute(fake):
    # Anything after the finished execute is never read (splunkd sends nothing there).
    code, replies, _ = run(getinfo() + splunkd.frame({"action": "execute", "finished": True}, b"a\n1\n") + b"junk")
    assert code == 0
    assert [r.meta for r in replies] == [replies[0].meta, {"finished": True}]
