"""How chunk bodies and replies cross between Python and the native engine.

The shim reads every body into one reused BodyBuffer, and the command streams replies
(prepare_reply, then write_reply to stdout's descriptor) so that a reply never exists whole. All of it exists for speed and memory (a fresh
buffer of a few hundred MB per chunk costs a page fault per 4 KB); these tests pin that none of
it changes what a reader sees: a body or a reply still held is never overwritten, a streamed
reply is exactly the size announced and the bytes of the built one, a header claiming more than
any real chunk (over MAX_READ_BYTES) is never allocated up front, and a reader that went away is
a BrokenPipeError.
"""
import io
import os
import threading

import pytest

from splunk_app import protocol
from splunk_app.engine_loader import conf_paths, load_engine, lookup_dir

from .test_command import console_login, record


def _message(metadata, body):
    return protocol.encode_chunk(metadata, body) + body


def _body(*raws):
    rows = ["_raw,host,__mv__raw,__mv_host"]
    for number, raw in enumerate(raws):
        rows.append('"%s",h%d,,' % (raw.replace('"', '""'), number))
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_bodies_read_into_one_buffer_equal_the_bytes_sent():
    first, second = _body(console_login()), _body(record("StopLogging"), record("GetObject"))
    stream = io.BytesIO(_message({"action": "execute"}, first) + _message({"action": "execute"}, second)
                        + _message({"action": "execute", "finished": True}, b""))
    buffer = protocol.BodyBuffer()
    _, body = protocol.read_chunk(stream, buffer)
    assert isinstance(body, memoryview) and bytes(body) == first
    _, body = protocol.read_chunk(stream, buffer)
    assert bytes(body) == second
    metadata, body = protocol.read_chunk(stream, buffer)
    assert metadata["finished"] is True and body == b""
    assert protocol.read_chunk(stream, buffer) is None


def test_a_short_body_after_a_long_one_is_only_its_own_bytes():
    long_body, short_body = _body(*[console_login()] * 20), _body(record("StopLogging"))
    stream = io.BytesIO(_message({"action": "execute"}, long_body) + _message({"action": "execute"}, short_body))
    buffer = protocol.BodyBuffer()
    protocol.read_chunk(stream, buffer)
    _, body = protocol.read_chunk(stream, buffer)
    assert len(body) == len(short_body) and bytes(body) == short_body


def test_a_header_claiming_a_huge_body_allocates_nothing_up_front():
    # 2**40 bytes claimed, 5 sent: the reader must fail on the end of input, not on memory.
    stream = io.BytesIO(b"chunked 1.0,2,%d\n{}hello" % (1 << 40))
    with pytest.raises(protocol.ProtocolError, match="unexpected end of input"):
        protocol.read_chunk(stream, protocol.BodyBuffer())


@pytest.fixture(scope="module")
def native_engine(detections_dir):
    engine, note = load_engine(conf_paths(str(detections_dir)), lookup_dir(str(detections_dir)), "*",
                               environ={"CTDETECT_ENGINE": "native"})
    return engine


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_the_native_engine_takes_any_bytes_like_body(native_engine, kind):
    body = _body(console_login(), record("StopLogging"))
    expected = bytes(native_engine.process_body(body))
    assert bytes(native_engine.process_body(kind(body))) == expected


def test_a_reply_still_held_is_never_reused(native_engine):
    bodies = [_body(console_login()), _body(record("StopLogging")), _body(*[record("GetObject")] * 50),
              _body(console_login(mfa="Yes"))]
    expected = [bytes(native_engine.process_body(body)) for body in bodies]
    held = []
    for body, reply in zip(bodies, expected):
        view = native_engine.process_body(bytearray(body))
        held.append(view)
        assert bytes(view) == reply
    # Every reply is still alive: none was handed out again while held.
    assert [bytes(view) for view in held] == expected
    assert all(view.readonly for view in held)
    del held
    # Replies built after the held ones were released are still right.
    for body, reply in zip(bodies * 2, expected * 2):
        assert bytes(native_engine.process_body(body)) == reply



def test_a_buffer_made_huge_by_one_chunk_is_not_kept_for_small_ones():
    buffer = protocol.BodyBuffer()
    buffer.view(protocol.BodyBuffer.ALWAYS_KEPT + 1)
    assert len(buffer._buffer) > protocol.BodyBuffer.ALWAYS_KEPT
    buffer.view(1000)
    assert len(buffer._buffer) == 1250  # a quarter of headroom
    # Ordinary variation keeps the buffer.
    buffer.view(900)
    buffer.view(1200)
    assert len(buffer._buffer) == 1250


def _read_all(fd, into):
    while True:
        part = os.read(fd, 1 << 16)
        if not part:
            return
        into.append(part)


def test_a_streamed_reply_is_the_announced_size_and_equals_the_built_one(native_engine):
    body = _body(*([console_login(), record("StopLogging"), record("GetObject")] * 200))
    for extract in (True, False):
        built = bytes(native_engine.process_body(body, "_raw", extract))
        size = native_engine.prepare_reply(bytearray(body), "_raw", extract)
        assert size == len(built)
        read_end, write_end = os.pipe()
        parts = []
        reader = threading.Thread(target=_read_all, args=(read_end, parts))
        reader.start()
        with pytest.raises(ValueError, match="call prepare_reply with this body first"):
            native_engine.write_reply(write_end, body + b"")  # another object than the one prepared
        size = native_engine.prepare_reply(body, "_raw", extract)
        native_engine.write_reply(write_end, body)
        os.close(write_end)
        reader.join()
        os.close(read_end)
        assert b"".join(parts) == built


def test_a_reader_gone_is_a_broken_pipe(native_engine):
    body = _body(*([console_login()] * 2000))
    read_end, write_end = os.pipe()
    os.close(read_end)
    native_engine.prepare_reply(body)
    try:
        with pytest.raises(BrokenPipeError):
            native_engine.write_reply(write_end, body)
    finally:
        os.close(write_end)
