"""Framing of Splunk's custom search command protocol v2 ("chunked").

A message is ``chunked 1.0,<meta_len>,<body_len>\\n``, then exactly ``meta_len`` bytes of JSON
metadata (an object) and ``body_len`` bytes of body. Both lengths count bytes, not characters.
Nothing separates two messages.

This module knows nothing about what the messages mean: ``command`` does that.
"""
import json

HEADER_PREFIX = b"chunked 1.0,"
# A header is "chunked 1.0," plus two decimal lengths and a newline; anything longer than this
# without a newline is not a header (and must not make us buffer unbounded input).
MAX_HEADER_BYTES = 128
# The most one read asks for. A header may claim any length (the fuzzer found one longer than a
# C ssize_t: OverflowError); a buffered stream allocates what a read asks for before it reads, so
# a claimed length only turns into memory as the bytes actually arrive, in pieces of this size.
# Real chunks (tens of MB) are read in one piece, as before.
MAX_READ_BYTES = 1 << 28


class ProtocolError(Exception):
    """The input does not follow the chunked protocol. The message says how."""


def _show(data):
    """A short printable rendering of bytes for error messages (none at all for metadata that
    holds a session key: error messages end up in logs and in the job inspector)."""
    if b"session_key" in bytes(data):
        return "<%d bytes holding a session key, not shown>" % len(data)
    text = repr(bytes(data[:60]))
    return text + ("..." if len(data) > 60 else "")


def _read_exactly(stream, size, what):
    """Read exactly ``size`` bytes, looping over short reads; EOF first is a ProtocolError."""
    if size == 0:
        return b""
    parts = []
    got = 0
    while got < size:
        part = stream.read(min(size - got, MAX_READ_BYTES))
        if not part:
            raise ProtocolError(
                "unexpected end of input: expected %d bytes of %s, got %d" % (size, what, got)
            )
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class BodyBuffer(object):
    """One growable buffer that chunk bodies are read into, in place of a new bytes object per
    chunk: a body is up to hundreds of MB, and fresh memory costs a page fault and a page clear
    per 4 KB on every chunk. A body read into it is valid until the next read."""

    def __init__(self):
        self._buffer = bytearray()

    # A buffer more than four times the body it is asked for (one huge chunk made it so) is
    # replaced by a smaller one rather than kept for the rest of the search.
    ALWAYS_KEPT = 64 << 20

    def view(self, size):
        have = len(self._buffer)
        if have < size or (have > self.ALWAYS_KEPT and have // 4 > size):
            self._buffer = bytearray()  # let go of the old one before allocating the new one
            # A quarter more than asked: chunks vary by a few percent, and each regrowth costs a
            # zero-fill and a page fault per 4 KB of the new buffer.
            self._buffer = bytearray(size + size // 4)
        return memoryview(self._buffer)[:size]


def _read_exactly_into(stream, view, what):
    """Fill ``view`` from ``stream``, looping over short reads; EOF first is a ProtocolError."""
    size = len(view)
    got = 0
    while got < size:
        count = stream.readinto(view[got:])
        if not count:
            raise ProtocolError(
                "unexpected end of input: expected %d bytes of %s, got %d" % (size, what, got)
            )
        got += count
    return view


def _read_header(stream):
    """Return the header line without its newline, or None at a clean end of input."""
    line = stream.readline(MAX_HEADER_BYTES)
    if not line:
        return None
    # readline may stop short on a raw (unbuffered) stream; keep going until newline or EOF.
    while not line.endswith(b"\n") and len(line) < MAX_HEADER_BYTES:
        more = stream.readline(MAX_HEADER_BYTES - len(line))
        if not more:
            raise ProtocolError("unexpected end of input inside a chunk header: %s" % _show(line))
        line += more
    if not line.endswith(b"\n"):
        raise ProtocolError(
            "malformed chunk header: no newline within %d bytes: %s" % (MAX_HEADER_BYTES, _show(line))
        )
    return line[:-1]


def _parse_length(text, what, header):
    if not text or not text.isdigit():
        raise ProtocolError(
            "malformed chunk header %s: %s length %s is not a non-negative integer"
            % (_show(header), what, _show(text))
        )
    return int(text)


def parse_header(header):
    """Return (meta_len, body_len) from a header line (without its newline)."""
    if not header.startswith(HEADER_PREFIX):
        raise ProtocolError(
            "malformed chunk header %s: expected 'chunked 1.0,<meta_len>,<body_len>'" % _show(header)
        )
    parts = header[len(HEADER_PREFIX):].split(b",")
    if len(parts) != 2:
        raise ProtocolError(
            "malformed chunk header %s: expected 'chunked 1.0,<meta_len>,<body_len>'" % _show(header)
        )
    return _parse_length(parts[0], "metadata", header), _parse_length(parts[1], "body", header)


def read_chunk(stream, body_buffer=None):
    """Read one message from a binary stream.

    Returns (metadata dict, body bytes), or None when the input ends cleanly before a header.
    With a BodyBuffer, a body of up to MAX_READ_BYTES is read into it and returned as a
    memoryview of it (a longer one, which no real chunk is, is read piece by piece as bytes).
    Raises ProtocolError for a malformed header, input that ends inside a message, or
    metadata that is not a JSON object.
    """
    header = _read_header(stream)
    if header is None:
        return None
    meta_len, body_len = parse_header(header)
    raw_meta = _read_exactly(stream, meta_len, "chunk metadata")
    if body_buffer is not None and 0 < body_len <= MAX_READ_BYTES and hasattr(stream, "readinto"):
        body = _read_exactly_into(stream, body_buffer.view(body_len), "chunk body")
    else:
        body = _read_exactly(stream, body_len, "chunk body")
    try:
        metadata = json.loads(raw_meta.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ProtocolError("chunk metadata is not valid UTF-8: %s" % err)
    except ValueError as err:
        raise ProtocolError("chunk metadata is not valid JSON: %s: %s" % (err, _show(raw_meta)))
    except RecursionError:
        # json.loads recurses once per nested array or object: "[" * 2000 raises RecursionError.
        raise ProtocolError("chunk metadata is nested too deeply: %s" % _show(raw_meta))
    if not isinstance(metadata, dict):
        raise ProtocolError("chunk metadata is not a JSON object: %s" % _show(raw_meta))
    return metadata, body


def encode_chunk(metadata, body=b""):
    """The bytes of one message up to its body: header and compact JSON metadata."""
    return encode_header(metadata, len(body))


def encode_header(metadata, body_length):
    """The same for a body of ``body_length`` bytes that the caller writes itself."""
    meta = json.dumps(metadata, separators=(",", ":")).encode("utf-8")
    return b"chunked 1.0,%d,%d\n" % (len(meta), body_length) + meta


def write_chunk(stream, metadata, body=b""):
    """Write one message (metadata dict, body bytes) and flush once."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError("chunk body must be bytes, not %s" % type(body).__name__)
    stream.write(encode_chunk(metadata, body))
    if body:
        stream.write(body)
    stream.flush()
