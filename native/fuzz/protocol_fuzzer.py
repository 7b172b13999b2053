#!/usr/bin/env python3
"""Atheris target: arbitrary bytes as the stdin of the protocol v2 framing reader.

    python3 native/fuzz/protocol_fuzzer.py [libFuzzer flags] [corpus dirs]

(`make fuzz` installs atheris into build-fuzz/venv and runs this.) For every input,
splunk_app.protocol.read_chunk is called until the input ends, over two streams holding the same
bytes: an io.BytesIO (one read gives everything asked) and a raw stream that returns at most a
few bytes per read, as a pipe may. Checked:
  - each call returns None at the end, or (dict, bytes), or raises ProtocolError; any other
    exception (OverflowError, MemoryError, RecursionError, UnicodeError...) is a finding;
  - a message consumes exactly its header line, meta_len and body_len bytes, and the body has
    body_len bytes;
  - both streams give the same messages and the same error;
  - the reader never hangs (libFuzzer's -timeout).
"""
import io
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import atheris  # noqa: E402

# Only the framing module is instrumented (json's own code is not what is under test).
import json  # noqa: E402,F401

with atheris.instrument_imports():
    from splunk_app import protocol  # noqa: E402


class Trickle(io.RawIOBase):
    """A raw stream that gives at most `step` bytes per read, like a pipe under load."""

    def __init__(self, data, step):
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self._step, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


def messages(stream, data):
    """What read_chunk makes of the stream: the messages, then None or the error text."""
    out = []
    while True:
        before = len(data) - _remaining(stream, data)
        try:
            chunk = protocol.read_chunk(stream)
        except protocol.ProtocolError as err:
            out.append(("error", str(err)))
            return out
        if chunk is None:
            assert _remaining(stream, data) == 0, "None before the end of the input"
            out.append(("end",))
            return out
        metadata, body = chunk
        assert isinstance(metadata, dict), type(metadata)
        assert isinstance(body, bytes), type(body)
        consumed = len(data) - _remaining(stream, data) - before
        header = data[before:before + consumed].split(b"\n", 1)[0]
        meta_len, body_len = protocol.parse_header(header)
        assert len(body) == body_len, (len(body), body_len)
        assert consumed == len(header) + 1 + meta_len + body_len, (consumed, header)
        assert data[before + consumed - body_len:before + consumed] == body
        out.append(("message", metadata, body))
        assert consumed > 0


def _remaining(stream, data):
    if isinstance(stream, io.BytesIO):
        return len(data) - stream.tell()
    return len(stream._data) - stream._pos


def TestOneInput(data):
    step = (1, 2, 3, 7, 64, 509)[data[0] % 6] if data else 1
    whole = messages(io.BytesIO(data), data)
    pieces = messages(Trickle(data, step), data)
    assert whole == pieces, (whole, pieces)


def main():
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
