"""Protocol faults through bin/cloudtraildetect.py on raw stdin bytes: a chunk header whose
lengths lie or are not numbers, and stdin closed between chunks. A fault is one ERROR message
to the job inspector ("finished": true) and a non-zero exit, never a traceback on stdout or a
hang; replies already sent for completed chunks stay valid."""
import pytest

import splunkd

from .conftest import GOOD_RECORD, execute, getinfo

BODY = splunkd.encode_csv([{"_raw": GOOD_RECORD, "host": "h"}])


def assert_fault(run, expected, replies_before):
    assert run.exit_code == 2, run  # protocol errors exit with 2
    assert len(run.replies) == replies_before + 1, run
    last = run.replies[-1]
    assert last.meta["finished"] is True and last.body == b""
    errors = last.errors()
    assert len(errors) == 1 and errors[0].startswith("cloudtraildetect: protocol error: "), errors
    assert expected in errors[0], errors
    assert "Traceback" not in run.stderr


def good_chunk_then(tail, env):
    """getinfo, one complete (not finished) chunk, then `tail`; the complete chunk's reply must
    be intact whatever follows."""
    run = splunkd.run_raw(getinfo() + execute(BODY, finished=False) + tail, env=env)
    assert run.replies[0].meta["type"] == "streaming", run
    assert run.replies[1].meta == {"finished": False}, run
    assert run.replies[1].table.rows[0]["detection"] == "hostile_stop_logging"
    return run


def test_body_length_too_long_is_end_of_input(engine_env):
    header = b"chunked 1.0,%d,%d\n" % (len(b'{"action":"execute","finished":true}'), len(BODY) + 1000)
    run = good_chunk_then(header + b'{"action":"execute","finished":true}' + BODY, engine_env)
    assert_fault(run, "unexpected end of input: expected %d bytes of chunk body, got %d" % (len(BODY) + 1000, len(BODY)), 2)


def test_metadata_length_too_long_is_end_of_input(engine_env):
    run = good_chunk_then(b"chunked 1.0,500,0\n" + b'{"action":"execute"}', engine_env)
    assert_fault(run, "expected 500 bytes of chunk metadata, got 20", 2)


def test_body_length_too_short_leaves_garbage_for_the_next_header(engine_env):
    # The chunk is read short: when the cut falls between rows, the rows read are answered and
    # the rest of the body is taken for the next header, where the search stops.
    meta = b'{"action":"execute","finished":false}'
    two_rows = splunkd.encode_csv([{"_raw": GOOD_RECORD, "host": "h"}, {"_raw": GOOD_RECORD, "host": "second"}])
    short = len(BODY)  # the header row and the first row only
    assert two_rows.startswith(BODY)
    run = good_chunk_then(b"chunked 1.0,%d,%d\n" % (len(meta), short) + meta + two_rows + execute(BODY), engine_env)
    assert run.replies[2].meta == {"finished": False}
    assert [row["host"] for row in run.replies[2].table.rows] == ["h"]
    assert_fault(run, "malformed chunk header", 3)


def test_body_length_too_short_inside_a_quoted_cell(engine_env):
    # When the cut falls inside a quoted cell, the chunk itself is refused.
    meta = b'{"action":"execute","finished":false}'
    run = good_chunk_then(b"chunked 1.0,%d,%d\n" % (len(meta), len(BODY) - 30) + meta + BODY + execute(BODY), engine_env)
    assert run.exit_code == 1 and len(run.replies) == 3, run
    assert run.replies[2].meta["finished"] is True
    assert run.replies[2].errors() == ["cloudtraildetect: cannot process execute message 2: malformed CSV body: "
                                       "unterminated quoted value in the row starting on line 2"]


def test_metadata_length_too_short_is_invalid_json(engine_env):
    meta = b'{"action":"execute","finished":true}'
    run = good_chunk_then(b"chunked 1.0,%d,%d\n" % (len(meta) - 5, len(BODY) + 5) + meta + BODY, engine_env)
    assert_fault(run, "chunk metadata is not valid JSON", 2)


@pytest.mark.parametrize("header, expected", [
    (b"chunked 1.0,-1,0\n", "metadata length b'-1' is not a non-negative integer"),
    (b"chunked 1.0,2,-5\n{}", "body length b'-5' is not a non-negative integer"),
    (b"chunked 1.0,two,0\n", "metadata length b'two' is not a non-negative integer"),
    (b"chunked 1.0,2,1e3\n{}", "body length b'1e3' is not a non-negative integer"),
    (b"chunked 1.0, 2,0\n{}", "metadata length b' 2' is not a non-negative integer"),
    (b"chunked 1.0,2,0x10\n{}", "body length b'0x10' is not a non-negative integer"),
    (b"chunked 1.0,2,\xd9\xa3\n{}", "is not a non-negative integer"),  # an Arabic-Indic digit
    (b"chunked 1.0,2\n{}", "expected 'chunked 1.0,<meta_len>,<body_len>'"),
    (b"CHUNKED 1.0,2,0\n{}", "expected 'chunked 1.0,<meta_len>,<body_len>'"),
    (b"chunked 1.0,2,0", "end of input inside a chunk header"),
    (b"chunked 1.0,2," + b"9" * 200 + b"\n{}", "no newline within 128 bytes"),
])
def test_malformed_lengths(engine_env, header, expected):
    run = good_chunk_then(header, engine_env)
    assert_fault(run, expected, 2)


def test_absurd_lengths_are_end_of_input_not_memory(native_env):
    # Lengths beyond what could ever be sent: read as they arrive, never allocated up front.
    for header in (b"chunked 1.0,2,%d\n{}abc" % (10 ** 30), b"chunked 1.0,%d,0\n{}" % (10 ** 12)):
        run = good_chunk_then(header, native_env)
        assert_fault(run, "unexpected end of input: expected", 2)


def test_stdin_closed_between_chunks_is_a_clean_exit(engine_env):
    # splunkd closes the pipe when a search is finalized: exit 0, and every completed chunk has
    # its whole reply.
    data = getinfo() + b"".join(execute(BODY, finished=False) for _ in range(3))
    run = splunkd.run_raw(data, env=engine_env)
    assert run.exit_code == 0, run
    assert [reply.meta for reply in run.replies[1:]] == [{"finished": False}] * 3
    for reply in run.replies[1:]:
        assert reply.table.rows[0]["detection"] == "hostile_stop_logging"
    assert run.errors() == [] and run.stderr == ""


def test_stdin_closed_while_the_emulator_waits(engine_env):
    # The same with the emulator sending chunk by chunk and closing stdin after the second reply.
    proc = splunkd.CommandProcess(env=engine_env)
    try:
        assert proc.send(getinfo())
        assert proc.read_reply().meta["type"] == "streaming"
        for _ in range(2):
            assert proc.send(execute(BODY, finished=False))
            assert proc.read_reply().table.rows[0]["detection"] == "hostile_stop_logging"
        proc.close_stdin()
        assert proc.drain() == []
        assert proc.wait() == 0
    finally:
        proc.kill()


def test_garbage_before_getinfo(engine_env):
    run = splunkd.run_raw(b"\x00\x00\x00\x00\n" + getinfo(), env=engine_env)
    assert_fault(run, "malformed chunk header", 0)
