"""What a run lists: CloudTrail's region folders by date, anything else whole.

Listing a whole trail bucket on every run costs one ListObjectsV2 request per 1,000 objects, and
an organization trail's bucket holds millions. With ``lookback_days`` > 0 (the default) a run
instead lists:

- each *region folder* (``.../AWSLogs/[o-.../]<account>/CloudTrail/<region>/``, layout.py) from
  its *watermark* on only: one listing with ``StartAfter=<region folder><yyyy>/<mm>/<dd>`` that
  goes to the end of the folder, so a run costs about one request per region folder (a request
  returns up to 1,000 keys: ~3 days of a busy region's files at CloudTrail's ~5-minute
  delivery);
- whole, as before, anything under the prefix that is not in that layout (a folder beside
  ``AWSLogs/``, a folder in ``CloudTrail/`` that is not a region), and the files lying directly
  in the folders walked through (the prefix's own level, ``AWSLogs/``...); other services'
  folders in an account's folder (``CloudTrail-Digest/``, ``Config/``...) are not listed at all.

The region folders are found by listing one level at a time (Delimiter "/"): the prefix, then
``AWSLogs/``, organizations, ``<account>/CloudTrail/``, about one request per account. For S3
the result is kept in listing.json and used for DISCOVERY_MAX_AGE (a region used for the first
time, for instance by an intruder, is listed within that time); a local tree is looked at on
every run (reading folders costs nothing there). When no region folder is found, the whole
prefix is listed, as lookback_days = 0 always does, and the log says why, once.

The watermark. After a run, each listing of a region folder that started at day F proves the
days [F, E) *passed*, every file of them finished, where E is the oldest of: the newest day
listed (never later than today, UTC) minus lookback_days; the day of the first file listed but
not finished (a read that failed, the file max_events_per_run stopped in); for a listing cut
short, the day of the last key listed. Passed days are saved in listing.json, durably (at the
end of the run, and every SAVE_EVERY seconds of a long one: a closed listing's result is final),
and then never listed again (the gaps left, for instance by a start_date moved earlier, are).
CloudTrail puts a file in the folder of the day it delivers it, on average about 5 minutes after
its events (not guaranteed), so the newest days are the only ones that still receive files;
lookback_days is the safety margin for late writes (replication, copies): a file that lands in a
passed day is never read.
"""
import datetime
import time

from splunk_app.modinput.layout import (ACCOUNT, BEGINNING, DESCEND, IGNORED, INSIDE_REGION, REGION, day_in_folder,
                                        day_path, folder_kind, gaps, merge)

DISCOVERY_MAX_AGE = 3600  # seconds an S3 discovery of region folders is used
SAVE_EVERY = 60            # seconds between saves of the progress of a long run
MAX_PROBES = 100           # folders beside the prefix's own level checked for an AWSLogs/ inside
_SHOWN = 5                 # folders named in a log line


def _names(prefixes):
    shown = ", ".join(prefixes[:_SHOWN])
    return shown + (" and %d more" % (len(prefixes) - _SHOWN) if len(prefixes) > _SHOWN else "")


class _Range(object):
    """One listing of a region folder, from day ``first`` to day ``end`` (None: to its end), and
    what it proved once the run has dealt with what it listed."""

    def __init__(self, root, first, end):
        self.root = root
        self.first = first
        self.end = end
        self.pending = None     # the item listed last: its outcome is known when the next is asked for
        self.first_open = None  # the earliest day of a file listed and not finished
        self.last_day = None    # the newest day listed
        self.complete = False
        self.closed = False

    def _settle(self, settled):
        item, self.pending = self.pending, None
        if item is None or settled(item):
            return
        # A key outside the dated layout sorts nowhere in particular: nothing passes then.
        day = day_in_folder(self.root, item.key) or BEGINNING
        if self.first_open is None or day < self.first_open:
            self.first_open = day

    def observe(self, item, settled):
        self._settle(settled)
        self.pending = item
        day = day_in_folder(self.root, item.key)
        if day is not None and (self.last_day is None or day > self.last_day):
            self.last_day = day

    def close(self, settled, complete):
        if not self.closed:
            self._settle(settled)
            self.complete = complete
            self.closed = True

    def passed(self, today, lookback_days):
        """The interval of days this listing proved passed, or None."""
        try:
            if self.end is not None and self.complete:
                end = self.end
            elif self.last_day is None:
                return None
            elif self.end is not None:
                end = self.last_day  # cut short: the rest of that day may not have been listed
            else:
                end = min(self.last_day, today) - datetime.timedelta(days=lookback_days)
        except OverflowError:
            return None
        if self.first_open is not None:
            end = min(end, self.first_open)
        return (self.first, end) if end > self.first else None


class Listing(object):
    """The objects one run goes through, and (finish) what the run proved about them."""

    def __init__(self, source, store, log, prefix="", lookback_days=2, start_date=None,
                 rediscover_after=DISCOVERY_MAX_AGE, now=None):
        self.source = source
        self.store = store
        self.log = log
        self.prefix = prefix or ""
        self.lookback_days = lookback_days
        self.start = start_date or BEGINNING
        self.rediscover_after = rediscover_after
        self.now = time.time() if now is None else now
        self.today = datetime.datetime.fromtimestamp(self.now, datetime.timezone.utc).date()
        self.plan = None
        self._plan_is_new = False
        self._ranges = []
        self._settled = None
        self._last_save = time.monotonic()
        self._advanced = set()
        self._dropped = 0

    # ------------------------------------------------------------ the plan

    def _fresh(self, plan):
        if not isinstance(plan, dict) or plan.get("prefix") != self.prefix or not plan.get("roots"):
            return False
        try:
            age = self.now - float(plan.get("discovered"))
        except (TypeError, ValueError):
            return False
        return 0 <= age < self.rediscover_after

    def _make_plan(self):
        if self.lookback_days <= 0:
            return {"prefix": self.prefix, "roots": [], "whole": [self.prefix], "loose": []}
        cached = self.store.plan
        if self._fresh(cached):
            return cached
        plan = self._discover()
        self._report(plan, cached if isinstance(cached, dict) and cached.get("prefix") == self.prefix else None)
        self._plan_is_new = self.rediscover_after > 0 or not isinstance(cached, dict) or any(
            cached.get(name) != plan.get(name) for name in ("prefix", "roots", "whole", "loose", "notes"))
        return plan

    def _discover(self):
        """Find the region folders under the prefix, one level at a time."""
        prefix = self.prefix
        roots, whole, loose, notes = [], [], [], []
        ignored = probes = 0
        levels = []  # (prefix of a level to list, whether its other folders may hold an AWSLogs/)
        kind = folder_kind(prefix) if prefix.endswith("/") else None
        if kind == REGION:
            roots.append(prefix)
        elif kind == INSIDE_REGION:
            notes.append("the prefix %s is inside a region folder" % prefix)
        elif kind == ACCOUNT:
            levels.append((prefix + "CloudTrail/", False))
        elif kind == IGNORED:
            notes.append("the prefix %s is another service's folder" % prefix)
        else:
            levels.append((prefix, True))
        while levels:
            level, probe = levels.pop()
            has_files, folders = self.source.children(level)
            if has_files:
                loose.append(level)
            for folder in folders:
                kind = folder_kind(folder)
                if kind == REGION:
                    roots.append(folder)
                elif kind == DESCEND:
                    levels.append((folder, False))
                elif kind == ACCOUNT:
                    levels.append((folder + "CloudTrail/", False))
                elif kind == IGNORED:
                    ignored += 1
                elif kind == INSIDE_REGION:
                    whole.append(folder)  # below a partial prefix such as .../us-east-1/2024/0
                else:
                    if probe and probes < MAX_PROBES:
                        probes += 1
                        if self.source.exists(folder + "AWSLogs/"):
                            levels.append((folder, False))  # a trail's own prefix, for instance
                            continue
                    elif probe:
                        notes.append("more than %d folders beside AWSLogs/: the others were not looked into"
                                     % MAX_PROBES)
                    whole.append(folder)
        if not roots:
            whole, loose = [prefix], []
        return {"prefix": self.prefix, "discovered": self.now, "roots": sorted(roots), "whole": sorted(whole),
                "loose": sorted(loose), "ignored": ignored, "notes": sorted(set(notes))}

    def _report(self, plan, cached):
        """Say, when it changes, how the prefix is listed and why part of it is listed whole."""
        where = self.source.description
        shape = lambda p: (bool(p.get("roots")), p.get("whole"), p.get("loose"), p.get("notes"))
        if cached is None or shape(cached) != shape(plan):
            if not plan["roots"]:
                self.log("INFO", "listing: no CloudTrail region folder (AWSLogs/[<organization>/]<account>/CloudTrail/"
                                 "<region>/<yyyy>/<mm>/<dd>/) under %s%s: every run lists it whole (lookback_days = 0 "
                                 "does that without looking for region folders)"
                         % (where, " (%s)" % "; ".join(plan["notes"]) if plan["notes"] else ""))
            else:
                accounts = set(root.rsplit("/", 3)[0] for root in plan["roots"])
                self.log("INFO", "listing: %d region folders in %d accounts under %s are listed by date (from their "
                                 "newest day minus lookback_days = %d on)%s"
                         % (len(plan["roots"]), len(accounts), where, self.lookback_days,
                            "; %d other services' folders beside CloudTrail/ are not listed" % plan["ignored"]
                            if plan["ignored"] else ""))
                if plan["whole"]:
                    self.log("INFO", "listing: outside CloudTrail's layout, so listed whole on every run: %s"
                             % _names(plan["whole"]))
                if plan["loose"]:
                    self.log("INFO", "listing: the files directly in %s are listed on every run"
                             % _names([level or "the top of %s" % where for level in plan["loose"]]))
                for note in plan["notes"]:
                    self.log("INFO", "listing: %s" % note)
        if cached is not None and cached.get("roots"):
            new = sorted(set(plan["roots"]) - set(cached["roots"]))
            if new:
                self.log("INFO", "listing: %d new region folders: %s" % (len(new), _names(new)))

    # ------------------------------------------------------------ the run

    def items(self, settled):
        """Every object to consider, lazily. settled(item) says, once the run has dealt with an
        item, whether it is finished (or needs nothing: a folder marker, a file before
        start_date): the watermark never passes an item that is not."""
        self._settled = settled
        self.plan = self._make_plan()
        if self._plan_is_new:
            self._save_early()  # a run killed later need not look for the region folders again
        units = sorted([(root, REGION) for root in self.plan["roots"]] +
                       [(folder, "whole") for folder in self.plan["whole"]] +
                       [(level, "loose") for level in self.plan["loose"]])
        for prefix, kind in units:
            if kind == "whole":
                for item in self.source.walk(prefix):
                    yield item
            elif kind == "loose":
                for item in self.source.files(prefix):
                    yield item
            else:
                for item in self._region(prefix, settled):
                    yield item

    def _region(self, root, settled):
        for first, end in gaps(self.store.passed_days(root), self.start):
            listing = _Range(root, first, end)
            self._ranges.append(listing)
            stop = None if end is None else root + day_path(end)
            for item in self.source.walk(root, None if first == BEGINNING else root + day_path(first)):
                if stop is not None and item.key >= stop:
                    break
                listing.observe(item, settled)
                yield item
            listing.close(settled, complete=True)
            # A long run (the first one over a large bucket) keeps what it proved as it goes.
            if time.monotonic() - self._last_save >= SAVE_EVERY:
                self._save_early()

    def _save_early(self):
        try:
            self._save()
        except OSError as err:  # the end of the run tries again
            self._last_save = time.monotonic()
            self.log("WARN", "cannot save the listing state yet: %s" % (err,))

    def _save(self):
        """Save the plan (when new) and the days passed by the listings closed so far, durably,
        then compact the logs of the region folders whose passed days grew. A closed listing's
        result is final (every item it listed has been dealt with), so saving it before the
        run ends is as safe as after."""
        passed = {}
        for listing in self._ranges:
            interval = listing.passed(self.today, self.lookback_days) if listing.closed else None
            if interval is not None:
                passed.setdefault(listing.root, self.store.passed_days(listing.root)).append(interval)
        changed = sorted(root for root, intervals in passed.items()
                         if merge(intervals) != self.store.passed_days(root))
        if changed or self._plan_is_new:
            everything = dict((root, self.store.passed_days(root)) for root in self.store.passed_roots())
            everything.update((root, merge(passed[root])) for root in changed)
            plan = self.plan if self.lookback_days > 0 and self.plan is not None else self.store.plan
            self.store.save_listing(plan, everything)
            self._plan_is_new = False
            if changed:
                self._dropped += self.store.compact(changed)
                self._advanced.update(changed)
        self._last_save = time.monotonic()

    def finish(self):
        """After the run (complete or not): save the plan and the days passed, durably, then
        compact the logs. Returns a summary for the log."""
        for listing in self._ranges:
            listing.close(self._settled, complete=False)
        future = sorted(listing.root for listing in self._ranges
                        if listing.last_day is not None and listing.last_day > self.today + datetime.timedelta(days=1))
        if future:
            self.log("WARN", "listing: files dated after today (%s UTC by this host's clock) in %s: the watermark "
                             "does not move past today, so those region folders are listed from there on every run "
                             "(is the clock right?)" % (self.today.isoformat(), _names(future)))
        self._save()
        return self.summary()

    def summary(self):
        plan = self.plan or {"roots": [], "whole": []}
        text = "%d %s" % (self.source.requests, self.source.request_name)
        if plan["roots"]:
            text += ", %d region folders listed by date (%d listings)" % (len(plan["roots"]), len(self._ranges))
        if plan["whole"]:
            text += ", %d folders listed whole" % len(plan["whole"])
        if self._advanced:
            text += ", watermark moved in %d region folders (%d log lines compacted)" % (
                len(self._advanced), self._dropped)
        return text
