"""Checkpoints of one input stanza, under the input's checkpoint_dir.

Two files in a folder named after the stanza:
- ``current.json``: the file being read and the index of its next record, replaced atomically
  (write a temporary file, fsync, rename) after every batch splunkd has received;
- ``files.log``: one JSON line per finished file (``done``, ``bad`` or ``skipped``), appended and
  fsynced when the file is finished. A torn last line (a kill while appending) is ignored: the
  file is then finished again from ``current.json``, which already points past its last record.

So a kill at any point loses nothing and re-sends at most the batch in flight. A file's last
batch is followed by its ``done`` line only (no position): a kill between the two re-sends that
batch, still at most one.

A killed process loses nothing it wrote (the kernel has it), so the bound above needs no fsync.
fsync only matters when the host itself goes down: both files are fsynced at most once per
``sync_interval`` seconds (and at the end of a run), so a host crash re-sends at most that much
more, and still loses nothing (a lost checkpoint only moves the position back).
"""
import hashlib
import json
import os
import re
import time

DONE, BAD, SKIPPED = "done", "bad", "skipped"


def stanza_folder(checkpoint_dir, stanza):
    """A folder name that is safe on every file system and unique per stanza."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", stanza)[:80]
    digest = hashlib.sha1(stanza.encode("utf-8")).hexdigest()[:10]
    return os.path.join(checkpoint_dir, "%s-%s" % (readable, digest))


class CheckpointStore(object):
    def __init__(self, checkpoint_dir, stanza, sync_interval=1.0):
        self.folder = stanza_folder(checkpoint_dir, stanza)
        self._sync_interval = sync_interval
        self._last_sync = time.monotonic()
        self._unsynced = False
        os.makedirs(self.folder, exist_ok=True)
        self._current_path = os.path.join(self.folder, "current.json")
        self._log_path = os.path.join(self.folder, "files.log")
        self._finished = self._load_finished()
        self._current = self._load_current()
        self._lock_handle = None

    def _load_finished(self):
        finished = {}
        try:
            with open(self._log_path, "rb") as handle:
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

    def _load_current(self):
        try:
            with open(self._current_path, "rb") as handle:
                current = json.loads(handle.read().decode("utf-8"))
            if isinstance(current, dict) and isinstance(current.get("key"), str):
                return current
        except (FileNotFoundError, ValueError):
            pass
        return {}

    def lock(self):
        """Take the stanza's lock; False when another run of the same stanza holds it."""
        handle = open(os.path.join(self.folder, "lock"), "a+b")
        try:
            import fcntl
        except ImportError:  # Windows: splunkd never runs one stanza twice at once
            self._lock_handle = handle
            return True
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_handle = handle
        return True

    def status(self, key):
        """"done", "bad", "skipped" or None (not finished)."""
        return self._finished.get(key)

    def finished_count(self):
        return len(self._finished)

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
            if self._sync_due():
                os.fsync(handle.fileno())
        os.replace(temporary, self._current_path)

    def mark(self, key, status, detail="", records=None):
        """Record a finished file (one line, appended in one write)."""
        entry = {"key": key, "status": status}
        if detail:
            entry["detail"] = detail
        if records is not None:
            entry["records"] = records
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self._log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            self._repair_torn_tail(fd)
            os.write(fd, line)
            if self._sync_due():
                os.fsync(fd)
        finally:
            os.close(fd)
        self._finished[key] = status

    def _sync_due(self):
        """True when the write being made should be fsynced (the first one after sync_interval)."""
        now = time.monotonic()
        if now - self._last_sync >= self._sync_interval:
            self._last_sync = now
            self._unsynced = False
            return True
        self._unsynced = True
        return False

    def sync(self):
        """fsync both files (the end of a run)."""
        if not self._unsynced:
            return
        for path in (self._current_path, self._log_path):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._unsynced = False
        self._last_sync = time.monotonic()

    def _repair_torn_tail(self, fd):
        """After a kill mid-append the log may end without a newline: end that line first, so the
        new entry starts on its own line (the torn one stays unreadable and is ignored)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        with open(self._log_path, "rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                os.write(fd, b"\n")
