"""A small splunkd emulator for the `| cloudtraildetect` command (protocol v2, "chunked").

It starts ``bin/cloudtraildetect.py`` as splunkd does (a subprocess speaking over stdin and
stdout, with the interpreter of your choice), sends a getinfo message with a realistic
``searchinfo``, then one execute message per chunk of rows and waits for its single reply before
sending the next, the last one with ``"finished": true``. Replies are parsed strictly (framing,
then CSV with ``__mv_`` columns decoded back to lists).

It deliberately shares no code with ``splunk_app``: the CSV encoder below is written by hand
from SPLUNK-FACTS.md, and replies are decoded with Python's csv module, so a test that
round-trips through both checks one implementation against another.

Run as a script for a demo: ``python tests/harness/splunkd.py [--python PY] [--arg rules=*]
FILE.ndjson...`` sends each line of the files as the ``_raw`` of one event and prints what comes
back.
"""
import csv
import io
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from urllib.parse import quote

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO_ROOT, "bin", "cloudtraildetect.py")
MV_PREFIX = "__mv_"
HEADER_RE = re.compile(rb"chunked 1\.0,(\d+),(\d+)\n\Z")
DEFAULT_TIMEOUT = 60.0


class HarnessError(AssertionError):
    """The command broke the protocol (or did not answer in time)."""


# What AddressSanitizer and UndefinedBehaviorSanitizer write to stderr when the native module is
# an instrumented build (`make test-sanitize-python`). A report fails the run even when the test
# expects the command to fail: the crash must not pass for the expected error.
SANITIZER_REPORT_RE = re.compile(r"ERROR: (?:Address|Leak)Sanitizer|^\S+:\d+:\d+: runtime error: ", re.M)


def check_no_sanitizer_report(stderr):
    match = SANITIZER_REPORT_RE.search(stderr)
    if match:
        raise HarnessError("sanitizer report in the command's stderr:\n%s" % stderr[max(0, match.start() - 200):])


# ---------------------------------------------------------------------------------------------
# CSV as splunkd writes it
# ---------------------------------------------------------------------------------------------

def encode_mv(values):
    """splunkd's multivalue encoding: $v1$;$v2$ with each $ inside a value doubled."""
    return ";".join("$%s$" % value.replace("$", "$$") for value in values)


def decode_mv(text):
    """Inverse of encode_mv; raises HarnessError on a malformed encoding."""
    values = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "$":
            raise HarnessError("bad multivalue encoding at %d: %r" % (i, text))
        i += 1
        value = []
        while True:
            if i >= n:
                raise HarnessError("unterminated multivalue encoding: %r" % text)
            if text[i] == "$":
                if i + 1 < n and text[i + 1] == "$":
                    value.append("$")
                    i += 2
                    continue
                i += 1
                break
            value.append(text[i])
            i += 1
        values.append("".join(value))
        if i < n:
            if text[i] != ";":
                raise HarnessError("bad multivalue separator at %d: %r" % (i, text))
            i += 1
            if i == n:
                raise HarnessError("multivalue encoding ends with ';': %r" % text)
    return values


def _cell(text, quote_all):
    if quote_all and text != "":
        return '"%s"' % text.replace('"', '""')
    if any(c in text for c in ',"\r\n'):
        return '"%s"' % text.replace('"', '""')
    return text


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def encode_csv(rows, quote_all=False):
    """A CSV body like splunkd's from a list of dicts.

    Values are strings (or numbers, or None for an empty cell); a list or tuple is a multivalue
    field. Columns: every plain field in first-seen order, then a ``__mv_`` twin for each, in
    the same order. A multivalue field with several values is written joined by newlines in the
    plain column and encoded in its ``__mv_`` column; single values leave ``__mv_`` empty. Cells
    are quoted when they contain , " CR or LF (or always, with quote_all, as splunkd 6.3 did
    for most text); lines end with LF. No rows gives an empty body.
    """
    if not rows:
        return b""
    columns = []
    seen = set()
    for row in rows:
        for name in row:
            if name.startswith(MV_PREFIX):
                raise ValueError("give multivalue fields as lists, not %s columns: %r" % (MV_PREFIX, name))
            if name not in seen:
                seen.add(name)
                columns.append(name)
    lines = [",".join(_cell(name, quote_all) for name in columns + [MV_PREFIX + c for c in columns])]
    for row in rows:
        plain, multi = [], []
        for name in columns:
            value = row.get(name)
            if isinstance(value, (list, tuple)):
                values = [_as_text(v) for v in value]
                plain.append("\n".join(values))
                multi.append(encode_mv(values) if len(values) > 1 else "")
            else:
                plain.append(_as_text(value))
                multi.append("")
        lines.append(",".join(_cell(text, quote_all) for text in plain + multi))
    return ("\n".join(lines) + "\n").encode("utf-8")


class Table(object):
    """A decoded CSV body.

    columns: the header, as written. cells: one dict per row, column -> cell text, every column
    (including ``__mv_`` ones). rows: one dict per row over the plain columns, a list where the
    ``__mv_`` twin holds a multivalue encoding, else the cell text ("" for an empty cell).
    """

    def __init__(self, columns, cells):
        self.columns = columns
        self.cells = cells
        plain = [c for c in columns if not c.startswith(MV_PREFIX)]
        self.plain_columns = plain
        self.rows = []
        for cell in cells:
            row = {}
            for name in plain:
                encoded = cell.get(MV_PREFIX + name, "")
                row[name] = decode_mv(encoded) if encoded else cell[name]
            self.rows.append(row)

    def __len__(self):
        return len(self.rows)


def decode_csv(body):
    """Parse a CSV body (bytes) with the csv module into a Table; strict about row widths."""
    if not body:
        return Table([], [])
    text = body.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as err:
        raise HarnessError("reply body is not valid CSV: %s" % err)
    if not records:
        return Table([], [])
    columns = records[0]
    if len(set(columns)) != len(columns):
        raise HarnessError("duplicate columns in header: %r" % columns)
    cells = []
    for number, record in enumerate(records[1:], 2):
        if len(record) != len(columns):
            raise HarnessError("CSV line %d has %d cells for %d columns" % (number, len(record), len(columns)))
        cells.append(dict(zip(columns, record)))
    return Table(columns, cells)


# ---------------------------------------------------------------------------------------------
# Framing
# ---------------------------------------------------------------------------------------------

def frame(metadata, body=b""):
    """One message; metadata is a dict (serialised as splunkd does) or raw bytes."""
    if isinstance(metadata, dict):
        metadata = json.dumps(metadata, ensure_ascii=False).encode("utf-8")
    return b"chunked 1.0,%d,%d\n" % (len(metadata), len(body)) + metadata + body


def split_messages(data):
    """Split a byte stream into [(raw_meta, body)]; raises HarnessError on bad framing."""
    messages = []
    pos = 0
    while pos < len(data):
        newline = data.find(b"\n", pos)
        if newline < 0:
            raise HarnessError("no header at byte %d: %r" % (pos, data[pos:pos + 60]))
        match = HEADER_RE.match(data[pos:newline + 1])
        if not match:
            raise HarnessError("bad header at byte %d: %r" % (pos, data[pos:newline + 1][:80]))
        meta_len, body_len = int(match.group(1)), int(match.group(2))
        start = newline + 1
        end = start + meta_len + body_len
        if end > len(data):
            raise HarnessError("message at byte %d is cut short" % pos)
        messages.append((data[start:start + meta_len], data[start + meta_len:end]))
        pos = end
    return messages


class Reply(object):
    """One message from the command: raw_meta (bytes), meta (dict), body (bytes)."""

    def __init__(self, raw_meta, body):
        self.raw_meta = raw_meta
        self.body = body
        try:
            self.meta = json.loads(raw_meta.decode("utf-8"))
        except ValueError as err:
            raise HarnessError("reply metadata is not JSON (%s): %r" % (err, raw_meta[:200]))
        if not isinstance(self.meta, dict):
            raise HarnessError("reply metadata is not a JSON object: %r" % raw_meta[:200])
        self._table = None

    @property
    def table(self):
        if self._table is None:
            self._table = decode_csv(self.body)
        return self._table

    @property
    def messages(self):
        """Inspector messages as [(level, text)]."""
        return [tuple(m) for m in self.meta.get("inspector", {}).get("messages", [])]

    def errors(self):
        return [text for level, text in self.messages if level == "ERROR"]

    def __repr__(self):
        return "Reply(meta=%r, body=%d bytes)" % (self.meta, len(self.body))


def getinfo_metadata(args, raw_args=None, search=None, dispatch_dir=None, sid="1732800000.42",
                     app="cloudtrail_detect", preview=False, **extra):
    """The getinfo metadata splunkd sends, with a realistic searchinfo."""
    if search is None:
        search = "search index=* sourcetype=aws:cloudtrail | cloudtraildetect %s" % " ".join(args)
    searchinfo = {
        "args": list(args),
        "raw_args": list(raw_args if raw_args is not None else args),
        "dispatch_dir": dispatch_dir or "/opt/splunk/var/run/splunk/dispatch/%s" % sid,
        "sid": sid,
        "app": app,
        "owner": "admin",
        "username": "admin",
        "session_key": "h6fVwKQ2^xZ3M1qT4Ue8yR0jNc_pA5sLd9kGvB7oHwIiE",
        "splunkd_uri": "https://127.0.0.1:8089",
        "splunk_version": "9.3.2",
        "search": quote(search, safe=""),
        "command": "cloudtraildetect",
        "maxresultrows": 50000,
        "earliest_time": "0",
        "latest_time": "1732800000.000",
    }
    searchinfo.update(extra)
    return {"action": "getinfo", "preview": preview, "searchinfo": searchinfo}


def rewrite_getinfo_args(raw_meta, args):
    """Replace searchinfo.args / raw_args of a recorded getinfo; returns new metadata bytes."""
    meta = json.loads(raw_meta.decode("utf-8"))
    meta["searchinfo"]["args"] = list(args)
    meta["searchinfo"]["raw_args"] = list(args)
    return json.dumps(meta, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# The command process
# ---------------------------------------------------------------------------------------------

_EOF = object()


def command_env(extra=None):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the script must find splunk_app on its own
    env["PYTHONIOENCODING"] = "utf-8"
    if extra:
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
    return env


class CommandProcess(object):
    """bin/cloudtraildetect.py as a subprocess; replies are read by a thread as they come."""

    def __init__(self, python=None, env=None, script=SCRIPT, cwd=None):
        self.proc = subprocess.Popen(
            [python or sys.executable, script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=command_env(env), cwd=cwd or "/",
        )
        self.replies = queue.Queue()
        self.trailing = b""  # bytes after a framing error
        self._stderr = []
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_exactly(self, size):
        data = self.proc.stdout.read(size) if size else b""
        return data

    def _read_stdout(self):
        out = self.proc.stdout
        try:
            while True:
                header = out.readline()
                if not header:
                    self.replies.put(_EOF)
                    return
                match = HEADER_RE.match(header)
                if not match:
                    self.trailing = header + out.read()
                    self.replies.put(HarnessError("bad reply header: %r" % header[:80]))
                    return
                meta_len, body_len = int(match.group(1)), int(match.group(2))
                raw_meta = self._read_exactly(meta_len)
                body = self._read_exactly(body_len)
                if len(raw_meta) != meta_len or len(body) != body_len:
                    self.replies.put(HarnessError(
                        "reply cut short: header %r, got %d+%d bytes" % (header, len(raw_meta), len(body))))
                    return
                try:
                    self.replies.put(Reply(raw_meta, body))
                except HarnessError as err:
                    self.replies.put(err)
                    return
        except Exception as err:  # pragma: no cover - reported to the test
            self.replies.put(HarnessError("reading replies failed: %r" % err))

    def _read_stderr(self):
        self._stderr.append(self.proc.stderr.read())

    def send(self, data):
        """Write bytes to the command's stdin; False when it has closed its end."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ConnectionResetError, ValueError):
            return False

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_reply(self, timeout=DEFAULT_TIMEOUT):
        """The next Reply, or None when the command closed its stdout."""
        try:
            item = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise HarnessError("no reply within %.0f s; stderr:\n%s" % (timeout, self.stderr))
        if item is _EOF:
            self.replies.put(_EOF)  # stay at EOF
            return None
        if isinstance(item, Exception):
            self.replies.put(_EOF)
            raise item
        return item

    def drain(self, timeout=DEFAULT_TIMEOUT):
        """All remaining replies until the command closes stdout."""
        extra = []
        while True:
            reply = self.read_reply(timeout)
            if reply is None:
                return extra
            extra.append(reply)

    def wait(self, timeout=DEFAULT_TIMEOUT):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError("command did not exit within %.0f s" % timeout)
        for thread in self._threads:
            thread.join(timeout)
        check_no_sanitizer_report(self.stderr)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def stderr(self):
        return b"".join(self._stderr).decode("utf-8", "replace")


class SearchRun(object):
    """What one emulated search saw: getinfo reply, one reply per execute sent, replies nobody
    asked for (extra), the exit code and stderr."""

    def __init__(self, getinfo, executes, extra, exit_code, stderr, sent):
        self.getinfo = getinfo
        self.executes = executes
        self.extra = extra
        self.exit_code = exit_code
        self.stderr = stderr
        self.sent = sent  # number of execute messages sent

    @property
    def tables(self):
        return [reply.table for reply in self.executes]

    @property
    def rows(self):
        return [row for reply in self.executes for row in reply.table.rows]

    def errors(self):
        found = []
        for reply in [self.getinfo] + self.executes + self.extra:
            if reply is not None:
                found.extend(reply.errors())
        return found

    def __repr__(self):
        return "SearchRun(exit_code=%r, getinfo=%r, executes=%d/%d, extra=%r, stderr=%r)" % (
            self.exit_code, self.getinfo, len(self.executes), self.sent, self.extra, self.stderr[-2000:])


def _is_failure(reply):
    return reply is None or bool(reply.meta.get("finished")) or bool(reply.errors())


def run_messages(messages, python=None, env=None, timeout=DEFAULT_TIMEOUT, script=SCRIPT):
    """Send raw messages (bytes, the first a getinfo) one at a time, waiting for each reply as
    splunkd does; stop sending after a reply that reports failure or ends the stream."""
    proc = CommandProcess(python=python, env=env, script=script)
    try:
        getinfo = None
        executes = []
        sent = 0
        if messages and proc.send(messages[0]):
            getinfo = proc.read_reply(timeout)
            if not _is_failure(getinfo):
                for message in messages[1:]:
                    if not proc.send(message):
                        break
                    sent += 1
                    reply = proc.read_reply(timeout)
                    if reply is None:
                        break
                    executes.append(reply)
                    if reply.errors():
                        break
        proc.close_stdin()
        extra = proc.drain(timeout)
        code = proc.wait(timeout)
        return SearchRun(getinfo, executes, extra, code, proc.stderr, sent)
    finally:
        proc.kill()


def execute_messages(chunks, quote_all=False):
    """Execute messages for a list of chunks (each a list of row dicts, or a CSV body in bytes);
    the last one has finished=true."""
    messages = []
    for index, chunk in enumerate(chunks):
        body = chunk if isinstance(chunk, bytes) else encode_csv(chunk, quote_all=quote_all)
        finished = index == len(chunks) - 1
        messages.append(frame({"action": "execute", "finished": finished}, body))
    return messages


def run_search(args, chunks, python=None, env=None, timeout=DEFAULT_TIMEOUT, quote_all=False,
               searchinfo=None):
    """An emulated search: getinfo with `args`, then the chunks; returns a SearchRun."""
    getinfo = getinfo_metadata(args, **(searchinfo or {}))
    messages = [frame(getinfo)] + execute_messages(chunks, quote_all=quote_all)
    return run_messages(messages, python=python, env=env, timeout=timeout)


class RawRun(object):
    def __init__(self, replies, exit_code, stderr, stdout):
        self.replies = replies
        self.exit_code = exit_code
        self.stderr = stderr
        self.stdout = stdout

    def errors(self):
        return [text for reply in self.replies for text in reply.errors()]

    def __repr__(self):
        return "RawRun(exit_code=%r, replies=%r, stderr=%r)" % (self.exit_code, self.replies, self.stderr[-2000:])


def run_raw(data, python=None, env=None, timeout=DEFAULT_TIMEOUT, script=SCRIPT):
    """Pipe `data` to the command at once (then EOF) and parse everything it writes."""
    proc = subprocess.Popen([python or sys.executable, script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=command_env(env), cwd="/")
    try:
        stdout, stderr = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise HarnessError("command did not finish within %.0f s" % timeout)
    except BrokenPipeError:  # pragma: no cover - communicate() usually swallows it
        stdout, stderr = proc.communicate()
    check_no_sanitizer_report(stderr.decode("utf-8", "replace"))
    replies = [Reply(meta, body) for meta, body in split_messages(stdout)]
    return RawRun(replies, proc.returncode, stderr.decode("utf-8", "replace"), stdout)


# ---------------------------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------------------------

def _demo(argv):
    import argparse
    parser = argparse.ArgumentParser(description="Run | cloudtraildetect on NDJSON CloudTrail records.")
    parser.add_argument("files", nargs="+", help="files with one CloudTrail JSON record per line")
    parser.add_argument("--arg", action="append", default=[], help="a command option, e.g. rules=*")
    parser.add_argument("--python", default=None, help="interpreter to run the command with")
    parser.add_argument("--chunk-size", type=int, default=50000)
    options = parser.parse_args(argv)
    rows = []
    for path in options.files:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    rows.append({"_time": "%.3f" % time.time(), "sourcetype": "aws:cloudtrail",
                                 "_raw": line.rstrip("\r\n")})
    chunks = [rows[i:i + options.chunk_size] for i in range(0, len(rows), options.chunk_size)] or [[]]
    started = time.time()
    run = run_search(options.arg, chunks, python=options.python)
    elapsed = time.time() - started
    print("getinfo reply: %s" % json.dumps(run.getinfo.meta if run.getinfo else None))
    for row in run.rows:
        if row.get("detection") or row.get("cloudtrail_error"):
            print("%-40s %-10s %s %s" % (row.get("eventName", ""), row.get("detection_severity", ""),
                                         row.get("detection", ""), row.get("cloudtrail_error", "")))
    print("%d events in, %d out, %d replies, exit code %d, %.2f s" % (
        len(rows), len(run.rows), len(run.executes), run.exit_code, elapsed))
    if run.stderr:
        sys.stderr.write(run.stderr)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(_demo(sys.argv[1:]))
