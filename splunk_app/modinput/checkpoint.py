"""Checkpoints of one input stanza, under the input's checkpoint_dir.

Files in a folder named after the stanza:
- ``current.json``: the file being read and the index of its next record, replaced atomically
  (write a temporary file, fsync, rename) after every batch splunkd has received;
- the done-files logs: one JSON line per finished file (``done``, ``bad`` or ``skipped``),
  appended and fsynced when the file is finished. A file of a CloudTrail region folder
  (``.../CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file>``) has its line in that region folder's log,
  ``roots/<hash of the folder>.log``; any other file in ``files.log`` (which, from the versions
  before region logs, may also hold region folders' files: they are found there too). A run
  holds ``files.log`` and one region folder's log at a time in memory. A torn last line (a kill
  while appending) is ignored: the file is then finished again from ``current.json``, which
  already points past its last record;
- ``listing.json``: what listing by date keeps between runs (listing.py): the region folders
  found, and for each region folder its *passed days*, intervals of days every file of which is
  finished and which are never listed again. Replaced atomically and made durable (the file
  and its folder fsynced) before anything relies on it.

Compaction: once ``listing.json`` holds a passed day, the lines of that day's files are dropped
from the logs (a log is rewritten to a temporary file, fsynced and renamed over the old one), so
the logs hold the days still listed rather than the whole history. A file of a passed day counts
as finished whether or not its line is still in a log: a kill at any point of a compaction,
before or after any rename, changes nothing a later run does.

So a kill at any point loses nothing and re-sends at most the batch in flight. A file's last
batch is followed by its ``done`` line only (no position): a kill between the two re-sends that
batch, still at most one.

A killed process loses nothing it wrote (the kernel has it), so the bound above needs no fsync.
fsync only matters when the host itself goes down: ``current.json`` and the logs are fsynced at
most once per ``sync_interval`` seconds (and at the end of a run), so a host crash re-sends at
most that much more, and still loses nothing (a lost checkpoint only moves the position back).
``listing.json`` and compacted logs are always fsynced, ``listing.json`` first.
"""
import collections
import hashlib
import json
import os
import re
import time

from splunk_app.modinput.layout import covers, day_text, merge, parse_day, parse_key

DONE, BAD, SKIPPED = "done", "bad", "skipped"
STATE_VERSION = 1
# Region folders' logs kept in memory at once (a run lists one region folder at a time).
ROOT_LOGS_IN_MEMORY = 4


def stanza_folder(checkpoint_dir, stanza):
    """A folder name that is safe on every file system and unique per stanza."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", stanza)[:80]
    digest = hashlib.sha1(stanza.encode("utf-8")).hexdigest()[:10]
    return os.path.join(checkpoint_dir, "%s-%s" % (readable, digest))


def _sync_folder(folder):
    """fsync a folder, so that a rename in it survives a host crash (a no-op where folders
    cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_log(path):
    """{key: status} of a done-files log; lines that are torn or unreadable are ignored."""
    finished = {}
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # torn by a kill while appending
                try:
                    entry = json.loads(line.decode("utf-8"))
                    finished[entry["key"]] = entry["status"]
                except (ValueError, KeyError, TypeError):
                    continue
    except FileNotFoundError:
        pass
    return finished


class CheckpointStore(object):
    def __init__(self, checkpoint_dir, stanza, sync_interval=1.0):
        self.folder = stanza_folder(checkpoint_dir, stanza)
        self._sync_interval = sync_interval
        self._last_sync = time.monotonic()
        self._dirty = set()  # paths written since their last fsync
        os.makedirs(self.folder, exist_ok=True)
        self._current_path = os.path.join(self.folder, "current.json")
        self._log_path = os.path.join(self.folder, "files.log")
        self._roots_folder = os.path.join(self.folder, "roots")
        self._state_path = os.path.join(self.folder, "listing.json")
        self.notes = []  # (level, message) found while loading, for the run's log
        self.plan, self._passed_days = self._load_state()
        self._finished = _read_log(self._log_path)
        self._root_logs = collections.OrderedDict()  # region folder -> {key: status}
        self._roots_folder_made = False
        self._current = self._load_current()
        self._lock_handle = None

    # ------------------------------------------------------------ loading

    def _load_current(self):
        try:
            with open(self._current_path, "rb") as handle:
                current = json.loads(handle.read().decode("utf-8"))
            if isinstance(current, dict) and isinstance(current.get("key"), str):
                return current
        except (FileNotFoundError, ValueError):
            pass
        return {}

    def _load_state(self):
        """(plan or None, {region folder: [(first day, end day)]}) from listing.json."""
        try:
            with open(self._state_path, "rb") as handle:
                document = json.loads(handle.read().decode("utf-8"))
            if document.get("version") != STATE_VERSION:
                raise ValueError("version %r, this input reads version %d" % (document.get("version"), STATE_VERSION))
            passed = {}
            for root, intervals in document.get("passed_days", {}).items():
                passed[root] = merge((parse_day(first), parse_day(end)) for first, end in intervals)
            plan = document.get("plan")
            if not (isinstance(plan, dict) and isinstance(plan.get("prefix"), str) and all(
                    isinstance(plan.get(name), list) and all(isinstance(value, str) for value in plan[name])
                    for name in ("roots", "whole", "loose"))):
                plan = None  # looked for again
            return plan, passed
        except FileNotFoundError:
            return None, {}
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as err:
            self.notes.append((
                "WARN", "%s is unreadable (%s): every region folder is listed from its first day again, and the "
                "files of days already passed whose log lines were dropped are sent again" % (self._state_path, err)))
            return None, {}

    def lock(self):
        """Take the stanza's lock; False when another run of the same stanza holds it."""
        handle = open(os.path.join(self.folder, "lock"), "a+b")
        try:
            import fcntl
        except ImportError:  # Windows: splunkd never runs one stanza twice at once
            self._lock_handle = handle
            self._remove_temporary_files()
            return True
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_handle = handle
        self._remove_temporary_files()
        return True

    def _remove_temporary_files(self):
        """Temporary files a killed run left (only once the lock is held: another run's are live)."""
        for folder in (self.folder, self._roots_folder):
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                if name.endswith(".tmp"):
                    try:
                        os.remove(os.path.join(folder, name))
                    except OSError:
                        pass

    # ------------------------------------------------------------ finished files

    def _root_path(self, root):
        return os.path.join(self._roots_folder, hashlib.sha1(root.encode("utf-8")).hexdigest()[:20] + ".log")

    def _root_log(self, root):
        """{key: status} of a region folder's log, loaded on first use (a few kept in memory)."""
        finished = self._root_logs.get(root)
        if finished is None:
            finished = _read_log(self._root_path(root))
            self._root_logs[root] = finished
            while len(self._root_logs) > ROOT_LOGS_IN_MEMORY:
                self._root_logs.popitem(last=False)
        else:
            self._root_logs.move_to_end(root)
        return finished

    def is_passed(self, key):
        """True for a file of a passed day of its region folder (finished; never listed again)."""
        parsed = parse_key(key)
        return parsed is not None and covers(self._passed_days.get(parsed[0]), parsed[1])

    def status(self, key):
        """"done", "bad", "skipped" or None (not finished). A file of a passed day is "done"."""
        found = self._finished.get(key)
        if found is not None:
            return found
        parsed = parse_key(key)
        if parsed is None:
            return None
        root, day = parsed
        if covers(self._passed_days.get(root), day):
            return DONE
        return self._root_log(root).get(key)

    def mark(self, key, status, detail="", records=None):
        """Record a finished file (one line, appended in one write)."""
        entry = {"key": key, "status": status}
        if detail:
            entry["detail"] = detail
        if records is not None:
            entry["records"] = records
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        parsed = parse_key(key)
        if parsed is None:
            path, finished = self._log_path, self._finished
        else:
            if not self._roots_folder_made:
                os.makedirs(self._roots_folder, exist_ok=True)
                self._roots_folder_made = True
            path, finished = self._root_path(parsed[0]), self._root_log(parsed[0])
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            self._repair_torn_tail(fd, path)
            os.write(fd, line)
            self._written(fd, path)
        finally:
            os.close(fd)
        finished[key] = status

    def _repair_torn_tail(self, fd, path):
        """After a kill mid-append the log may end without a newline: end that line first, so the
        new entry starts on its own line (the torn one stays unreadable and is ignored)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        with open(path, "rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                os.write(fd, b"\n")

    # ------------------------------------------------------------ the current file

    def position(self, key, size):
        """(index of the next record to send, note): 0 unless the current file is this one.
        note is None, or says why a saved position is not used (the file's size changed)."""
        if self._current.get("key") != key:
            return 0, None
        if size is not None and self._current.get("size") not in (None, size):
            return 0, ("its size changed from %s to %s bytes since the last checkpoint; reading it again "
                       "from the start" % (self._current.get("size"), size))
        return int(self._current.get("next_record", 0)), None

    def save_position(self, key, size, next_record):
        """Atomically record that every record before next_record was received by splunkd
        (write a temporary file, rename it over current.json)."""
        self._current = {"key": key, "size": size, "next_record": next_record}
        temporary = self._current_path + ".tmp"
        with open(temporary, "wb") as handle:
            handle.write(json.dumps(self._current, sort_keys=True).encode("utf-8"))
            handle.flush()
            self._written(handle.fileno(), self._current_path)
        os.replace(temporary, self._current_path)

    # ------------------------------------------------------------ fsync

    def _written(self, fd, path):
        """After a write to fd (the file at path): fsync it, and every other file written since
        its last fsync, when sync_interval has passed; otherwise remember it for later."""
        if time.monotonic() - self._last_sync >= self._sync_interval:
            os.fsync(fd)
            self._dirty.discard(path)
            self.sync()
        else:
            self._dirty.add(path)

    def sync(self):
        """fsync every file written since its last fsync (at the end of a run, and with the
        first write after sync_interval)."""
        for path in sorted(self._dirty):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._dirty.clear()
        self._last_sync = time.monotonic()

    # ------------------------------------------------------------ listing state and compaction

    def passed_roots(self):
        return sorted(self._passed_days)

    def passed_days(self, root):
        """The passed days of a region folder: [(first day, end day)], sorted, half-open."""
        return list(self._passed_days.get(root, ()))

    def save_listing(self, plan, passed_days):
        """Replace listing.json (the plan of listing.py and every region folder's passed days)
        atomically and durably; only then do the new passed days count."""
        document = {
            "version": STATE_VERSION,
            "plan": plan,
            "passed_days": dict((root, [[day_text(first), day_text(end)] for first, end in merge(intervals)])
                                for root, intervals in sorted(passed_days.items()) if intervals),
        }
        self._write_durably(self._state_path, json.dumps(document, sort_keys=True, indent=0).encode("utf-8"))
        self.plan = plan
        self._passed_days = dict((root, merge(intervals)) for root, intervals in passed_days.items() if intervals)

    def _write_durably(self, path, data):
        temporary = path + ".tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _sync_folder(os.path.dirname(path))

    def compact(self, roots):
        """Drop the lines of passed days' files from the logs of these region folders, and from
        files.log. Call it after save_listing. Returns the number of lines dropped."""
        dropped = 0
        for root in sorted(roots):
            dropped += self._rewrite_log(self._root_path(root))
            self._root_logs.pop(root, None)  # loaded again, compacted, on first use
        if any(self.is_passed(key) for key in self._finished):
            dropped += self._rewrite_log(self._log_path)
            self._finished = dict((key, status) for key, status in self._finished.items()
                                  if not self.is_passed(key))
        return dropped

    def _rewrite_log(self, path):
        """Rewrite a log without the lines of passed days (and without torn or unreadable lines),
        through a temporary file fsynced and renamed over it. Nothing is written when no line
        goes. Lines are streamed: memory does not grow with the log."""
        temporary = path + ".tmp"
        dropped = 0
        try:
            source = open(path, "rb")
        except FileNotFoundError:
            return 0
        with source, open(temporary, "wb") as target:
            for line in source:
                keep = line.endswith(b"\n")
                if keep:
                    try:
                        keep = not self.is_passed(json.loads(line.decode("utf-8"))["key"])
                    except (ValueError, KeyError, TypeError):
                        keep = False
                if keep:
                    target.write(line)
                else:
                    dropped += 1
            if dropped:
                target.flush()
                os.fsync(target.fileno())
        if not dropped:
            os.remove(temporary)
            return 0
        os.replace(temporary, path)
        self._dirty.discard(path)
        _sync_folder(os.path.dirname(path))
        return dropped
