"""The protocol floor for `make bench`: a protocol v2 command that answers every execute chunk
with its body unchanged.

It does no work at all, so its rate is the most any streaming command that keeps every field
of every event (as `| cloudtraildetect` must: splunkd replaces each event with the reply's row)
can reach through this driver on this machine: each chunk crosses the pipe once in, its reply
once out, and the protocol waits for one before sending the next. It moves bytes the way the
real command does: one reused buffer per body, pipes widened to the same 512 KB
(splunk_app/pipes.py), the reply written straight to the descriptor.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from splunk_app import pipes  # noqa: E402

PREFIX = b"chunked 1.0,"


def write_all(descriptor, data):
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def read_exactly(stream, view):
    got = 0
    while got < len(view):
        count = stream.readinto(view[got:])
        if not count:
            raise EOFError("input ended after %d of %d body bytes" % (got, len(view)))
        got += count


def main():
    stdin = sys.stdin.buffer
    pipes.widen([sys.stdin, sys.stdout], pipes.DEFAULT_KB)
    buffer = bytearray()
    while True:
        header = stdin.readline()
        if not header:
            return 0
        if not header.startswith(PREFIX):
            sys.stderr.write("echo_command: bad chunk header %r\n" % header[:80])
            return 1
        meta_length, body_length = (int(part) for part in header[len(PREFIX):].split(b","))
        metadata = json.loads(stdin.read(meta_length))
        if len(buffer) < body_length:
            buffer = bytearray(body_length + body_length // 4)
        body = memoryview(buffer)[:body_length]
        read_exactly(stdin, body)
        if metadata.get("action") == "getinfo":
            reply = json.dumps({"type": "streaming"}).encode("utf-8")
            body = b""
        else:
            reply = json.dumps({"finished": bool(metadata.get("finished"))}).encode("utf-8")
        write_all(1, PREFIX + b"%d,%d\n" % (len(reply), len(body)) + reply)
        write_all(1, body)
        if metadata.get("finished"):
            return 0


if __name__ == "__main__":
    sys.exit(main())
