"""splunk_app.protocol: framing in bytes, short reads, clean and unclean ends."""
import io
import json

import pytest

from splunk_app.protocol import BodyBuffer, ProtocolError, encode_chunk, read_chunk, write_chunk


class TrickleStream(object):
    """A binary stream that returns at most `step` bytes per call, as a pipe may."""

    def __init__(self, data, step=1):
        self.data = data
        self.pos = 0
        self.step = step

    def _take(self, size):
        if size is None or size < 0:
            size = len(self.data)
        size = min(size, self.step)
        part = self.data[self.pos:self.pos + size]
        self.pos += len(part)
        return part

    def read(self, size=-1):
        return self._take(size)

    def readline(self, limit=-1):
        # Like a raw stream: may return less than a full line.
        part = self._take(limit)
        newline = part.find(b"\n")
        if newline >= 0:
            self.pos -= len(part) - newline - 1
            part = part[:newline + 1]
        return part


def frame(meta_bytes, body=b""):
    return b"chunked 1.0,%d,%d\n" % (len(meta_bytes), len(body)) + meta_bytes + body


def test_reads_two_chunks_then_clean_end():
    body = "_raw\n\"{\"\"a\"\":\"\"é😀\"\"}\"\n".encode("utf-8")
    data = frame(b'{"action":"getinfo"}') + frame(b'{"action":"execute","finished":true}', body)
    stream = io.BytesIO(data)
    assert read_chunk(stream) == ({"action": "getinfo"}, b"")
    assert read_chunk(stream) == ({"action": "execute", "finished": True}, body)
    assert read_chunk(stream) is None
    assert read_chunk(stream) is None


@pytest.mark.parametrize("step", [1, 2, 7, 4096])
def test_short_reads(step):
    meta = json.dumps({"action": "execute", "note": "ünïcödé ☃ 😀"}, ensure_ascii=False).encode("utf-8")
    body = ("x,y\n" + "é😀,\"a\nb\"\n" * 50).encode("utf-8")
    stream = TrickleStream(frame(meta, body) * 2, step)
    for _ in range(2):
        metadata, got = read_chunk(stream)
        assert metadata["note"] == "ünïcödé ☃ 😀"
        assert got == body
    assert read_chunk(stream) is None


def test_lengths_are_bytes_not_characters():
    meta = json.dumps({"k": "😀😀"}, ensure_ascii=False).encode("utf-8")
    body = "😀".encode("utf-8")
    # A header counting characters would be short by 6 + 3 bytes.
    wrong = b"chunked 1.0,%d,%d\n" % (len(meta.decode("utf-8")), len(body.decode("utf-8"))) + meta + body
    with pytest.raises(ProtocolError):
        stream = io.BytesIO(wrong)
        read_chunk(stream)
        read_chunk(stream)


@pytest.mark.parametrize("data, message", [
    (b"chunked 1.0,20,0\n{\"action\":", "expected 20 bytes of chunk metadata, got 10"),
    (b"chunked 1.0,2,10\n{}abc", "expected 10 bytes of chunk body, got 3"),
    (b"chunked 1.0,2", "end of input inside a chunk header"),
    (b"chunked 2.0,2,0\n{}", "malformed chunk header"),
    (b"hello world\n", "malformed chunk header"),
    (b"chunked 1.0,2\n{}", "malformed chunk header"),
    (b"chunked 1.0,2,0,0\n{}", "malformed chunk header"),
    (b"chunked 1.0,-2,0\n{}", "metadata length b'-2' is not a non-negative integer"),
    (b"chunked 1.0,2,x\n{}", "body length b'x' is not a non-negative integer"),
    (b"chunked 1.0,,0\n", "metadata length"),
    (b"chunked 1.0,2,0\r\n{}", "body length"),
    (b"chunked 1.0,5,0\n[1,2]", "not a JSON object"),
    (b"chunked 1.0,3,0\n\"a\"", "not a JSON object"),
    (b"chunked 1.0,3,0\n{a}", "not valid JSON"),
    (b"chunked 1.0,0,0\n", "not valid JSON"),
    (b"chunked 1.0,2,0\n\xff\xfe", "not valid UTF-8"),
    (b"x" * 500, "no newline within"),
])
def test_errors(data, message):
    with pytest.raises(ProtocolError) as info:
        read_chunk(io.BytesIO(data))
    assert message in str(info.value)


def test_write_chunk_counts_bytes_and_flushes_once():
    class Recorder(io.BytesIO):
        flushes = 0

        def flush(self):
            self.flushes += 1

    out = Recorder()
    body = "a,b\né,😀\n".encode("utf-8")
    write_chunk(out, {"finished": True, "inspector": {"messages": [["INFO", "héllo"]]}}, body)
    assert out.flushes == 1
    data = out.getvalue()
    header, rest = data.split(b"\n", 1)
    _, meta_len, body_len = header.split(b",")
    meta = rest[:int(meta_len)]
    assert json.loads(meta.decode("utf-8")) == {"finished": True, "inspector": {"messages": [["INFO", "héllo"]]}}
    assert b" " not in meta  # compact
    assert rest[int(meta_len):] == body and int(body_len) == len(body)
    assert read_chunk(io.BytesIO(data)) == (json.loads(meta.decode("utf-8")), body)


def test_write_empty_body_and_type_check():
    assert encode_chunk({"type": "streaming"}) == b'chunked 1.0,20,0\n{"type":"streaming"}'
    with pytest.raises(TypeError):
        write_chunk(io.BytesIO(), {}, "text")


class TrickleIntoStream(TrickleStream):
    """The same, with readinto (as the command's stdin has): short reads into a buffer."""

    def readinto(self, view):
        part = self._take(len(view))
        view[:len(part)] = part
        return len(part)


@pytest.mark.parametrize("stream_type", [TrickleStream, TrickleIntoStream])
def test_a_body_read_into_a_buffer_survives_short_reads(stream_type):
    body = "_raw\n\"{\"\"a\"\":\"\"é😀\"\"}\"\n".encode("utf-8")
    data = frame(b'{"action":"execute"}', body) + frame(b'{"action":"execute"}', body[:7])
    stream = stream_type(data, step=3)
    buffer = BodyBuffer()
    assert bytes(read_chunk(stream, buffer)[1]) == body
    assert bytes(read_chunk(stream, buffer)[1]) == body[:7]
    assert read_chunk(stream, buffer) is None


def test_malformed_metadata_holding_a_session_key_is_never_quoted():
    meta = b'{"action":"getinfo","searchinfo":{"session_key":"s3cr3t-key"'
    stream = io.BytesIO(b"chunked 1.0,%d,0\n" % len(meta) + meta)
    with pytest.raises(ProtocolError) as raised:
        read_chunk(stream)
    assert "s3cr3t" not in str(raised.value) and "holding a session key, not shown" in str(raised.value)
