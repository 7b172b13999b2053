"""Regressions found by fuzzing the framing reader (native/fuzz/protocol_fuzzer.py).

Each test is named after the finding and holds the input that showed it: whatever the bytes,
read_chunk returns a message, None, or raises ProtocolError, never another exception.
"""
import io

import pytest

from splunk_app import protocol
from splunk_app.protocol import ProtocolError, read_chunk


def test_length_beyond_ssize_t_is_a_protocol_error():
    # Found by the fuzzer: stream.read(meta_len) raised OverflowError ("cannot fit 'int' into an
    # index-sized integer") for a length longer than a C ssize_t.
    data = b"chunked 1.0,0" + b"3" * 110 + b",0\n"
    with pytest.raises(ProtocolError, match="unexpected end of input"):
        read_chunk(io.BytesIO(data))


def test_huge_claimed_length_reads_in_bounded_pieces():
    # A header may claim far more than arrives: no read asks for more than MAX_READ_BYTES, so a
    # buffered stream never allocates the claimed size up front (MemoryError before).
    asked = []

    class Recording(io.BytesIO):
        def read(self, size=-1):
            asked.append(size)
            return super().read(size)

    with pytest.raises(ProtocolError, match="unexpected end of input"):
        read_chunk(Recording(b"chunked 1.0,2,%d\n{}partial body" % (1 << 62)))
    assert max(asked) <= protocol.MAX_READ_BYTES


def test_deeply_nested_metadata_is_a_protocol_error():
    # json.loads raised RecursionError (not a ValueError) on deeply nested metadata.
    meta = b"[" * 5000
    with pytest.raises(ProtocolError, match="nested too deeply"):
        read_chunk(io.BytesIO(b"chunked 1.0,%d,0\n" % len(meta) + meta))


def test_large_bodies_still_arrive_whole():
    body = b"x" * (protocol.MAX_READ_BYTES // 64)
    metadata, got = read_chunk(io.BytesIO(b"chunked 1.0,2,%d\n{}" % len(body) + body))
    assert metadata == {} and got == body
