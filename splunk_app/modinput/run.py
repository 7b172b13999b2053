"""The entry point of bin/cloudtrail_logs.py: --scheme, --validate-arguments, or one run.

A run reads every log file not yet finished, in listing order (listing.py decides what is
listed: CloudTrail's region folders from their watermark on, anything else whole; at its end the
days it proved passed are saved and the done-files logs compacted). Per file: read, decompress,
split (native splitter), then send the records from the checkpointed position on, in batches:
write a batch to splunkd, flush, then save the position. A file whose last record is sent is
marked done. Corrupt gzip or JSON is logged as ERROR (splunkd puts stderr in _internal), the file
is marked bad and the run goes on; digest files and other objects are logged and marked skipped.

start_date works at two levels: files whose path date is earlier are not read at all (CloudTrail
files are foldered by delivery time and hold only records written before it), and within the
files read, records whose eventTime is earlier are not sent (a file delivered just after
midnight holds events of the day before).
"""
import calendar
import os
import sys
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

from splunk_app.modinput import scheme
from splunk_app.modinput.checkpoint import BAD, DONE, SKIPPED, CheckpointStore
from splunk_app.modinput.listing import DISCOVERY_MAX_AGE, Listing
from splunk_app.modinput.splitter import NOT_A_LOG_FILE, CorruptFile, SplitError, decompress, load_splitter
from splunk_app.modinput.sources import LocalSource, S3Source, SourceError, name_kind
from splunk_app.modinput.writer import EventWriter, epoch_text

READ_ONLY_PREFIXES = ("Describe", "List", "Get")
MAX_CONSECUTIVE_READ_FAILURES = 5


def app_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Log(object):
    """stderr lines 'LEVEL message': splunkd logs them in splunkd.log (index _internal)."""

    def __init__(self, stream, prefix=""):
        self._stream = stream
        self._prefix = prefix

    def __call__(self, level, message):
        try:
            self._stream.write("%s %s%s\n" % (level, self._prefix, message))
            self._stream.flush()
        except (OSError, ValueError):
            pass


def is_read_only(event_name, read_only):
    """exclude_read_only drops Describe*/List*/Get* events, except those marked readOnly=false."""
    return bool(event_name) and event_name.startswith(READ_ONLY_PREFIXES) and read_only is not False


def _utc_midnight(day):
    return calendar.timegm((day.year, day.month, day.day, 0, 0, 0, 0, 0, 0))


def before_start(event_time, start_day, start_epoch):
    """True when a record's eventTime is earlier than the start date (midnight UTC).

    CloudTrail writes eventTime in UTC as ``YYYY-MM-DDThh:mm:ssZ``: its first ten characters
    compare as text with ``start_day`` (YYYY-MM-DD), with no parsing. Any other form (an offset
    such as +02:00) is converted to epoch seconds first. A record whose eventTime is missing or
    unreadable is not before the start: it is kept, as a file without a date in its path is."""
    if not event_time:
        return False
    if event_time[-1:] == "Z" and event_time[4:5] == "-" and event_time[7:8] == "-" and event_time[10:11] == "T":
        return event_time[:10] < start_day
    seconds = epoch_text(event_time)
    return seconds is not None and float(seconds) < start_epoch


def _parse_xml(data, what):
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as err:
        raise ValueError("cannot parse the %s XML from splunkd: %s" % (what, err))


def _params(element):
    params = {}
    for child in element:
        if child.tag == "param":
            params[child.get("name")] = child.text or ""
        elif child.tag == "param_list":
            params[child.get("name")] = ",".join(value.text or "" for value in child.findall("value"))
    return params


def validate_arguments(stdin, stdout):
    """--validate-arguments: exit status 0, or 1 with <error><message> on stdout."""
    root = _parse_xml(stdin.read(), "validation")
    item = root.find("item")
    params = _params(item) if item is not None else {}
    _config, errors = scheme.validate(params)
    if not errors:
        return 0
    stdout.write(("<error><message>%s</message></error>" % escape("; ".join(errors))).encode("utf-8"))
    stdout.flush()
    return 1


def _source_for(config, stanza, server_uri, session_key, log):
    if config.local_folder:
        return LocalSource(config.local_folder)
    credentials = None
    if config.aws_access_key_id:
        from splunk_app.modinput.credentials import secret_access_key
        app = os.path.basename(app_root())
        secret = secret_access_key(server_uri, session_key, app, scheme.CREDENTIAL_REALM, config.aws_access_key_id)
        credentials = (config.aws_access_key_id, secret)
    return S3Source(config, app_root(), credentials, session_name="cloudtrail-detect-" + stanza.split("://", 1)[-1])


class Run(object):
    def __init__(self, config, stanza, store, source, writer, split_records, log, listing=None):
        self.config = config
        self.stanza = stanza
        self.store = store
        self.source = source
        self.listing = listing or Listing(source, store, log, lookback_days=0)
        self.writer = writer
        self.split_records = split_records
        self.log = log
        self.sent = 0
        self.files = 0

    def _limit_reached(self):
        return bool(self.config.max_events_per_run) and self.sent >= self.config.max_events_per_run

    def _skip(self, item, status, level, reason):
        if status == BAD:
            message = "%s; the file is marked bad and skipped" % reason
        else:
            message = "skipped: %s" % reason
        self.log(level, "%s: %s" % (item.source, message))
        self.store.mark(item.key, status, reason)

    def settled(self, item):
        """Whether a listed item needs nothing more: finished, a folder marker, or a file dated
        before start_date (which is never read)."""
        if self.store.status(item.key) is not None or name_kind(item.key) == "folder":
            return True
        return bool(self.config.start_date and item.date and item.date < self.config.start_date)

    def run(self):
        """Returns True when every file was read (False: stopped at max_events_per_run)."""
        failures = 0
        for item in self.listing.items(self.settled):
            if self.store.status(item.key) is not None:
                continue
            if self.config.start_date and item.date and item.date < self.config.start_date:
                continue
            kind = name_kind(item.key)
            if kind == "folder":
                continue
            if kind == "digest":
                self._skip(item, SKIPPED, "INFO", "a CloudTrail digest or Insights file")
                continue
            if kind == "other":
                self._skip(item, SKIPPED, "INFO", "not a CloudTrail log file name (.json.gz, .json, .gz)")
                continue
            try:
                data = self.source.read(item)
            except SourceError as err:
                self.log("ERROR", "%s; it is retried on the next run" % (err,))
                failures += 1
                if failures >= MAX_CONSECUTIVE_READ_FAILURES:
                    self.log("ERROR", "%d reads failed in a row; stopping this run" % failures)
                    return True
                continue
            failures = 0
            if not self._send_file(item, data):
                return False
        return True

    def _send_file(self, item, data):
        """Send one file's records from its checkpoint on. False when max_events_per_run stopped it."""
        size = len(data) if item.size is None else item.size
        try:
            document = decompress(data)
            records = self.split_records(document)
        except CorruptFile as err:
            self._skip(item, BAD, "ERROR", str(err))
            return True
        except SplitError as err:
            if err.kind != NOT_A_LOG_FILE:
                self._skip(item, BAD, "ERROR", str(err))
            else:
                self._skip(item, SKIPPED, "WARN" if err.detail == "empty file" else "INFO", str(err))
            return True
        del data
        start, note = self.store.position(item.key, size)
        if note:
            self.log("WARN", "%s: %s" % (item.source, note))
        total = len(records)
        if start > total:
            self.log("WARN", "%s: checkpoint at record %d but the file has %d; reading it again from the start"
                     % (item.source, start, total))
            start = 0
        self.writer.set_source(item.source)
        exclude = self.config.exclude_read_only
        batch_size = self.config.batch_size
        limit = self.config.max_events_per_run
        start_date = self.config.start_date
        start_day = start_date.isoformat() if start_date else None
        start_epoch = _utc_midnight(start_date) if start_date else None
        excluded = early = 0
        position = start
        for position in range(start, total):
            offset, length, event_time, event_name, read_only = records[position]
            if exclude and is_read_only(event_name, read_only):
                excluded += 1
                continue
            # A record dated after the start day (nearly all of them once the input runs) costs
            # one slice and one comparison: whatever its zone, it is not before the start.
            if start_day and event_time and event_time[:10] <= start_day and before_start(
                    event_time, start_day, start_epoch):
                early += 1
                continue
            self.writer.add(document[offset:offset + length], event_time)
            self.sent += 1
            if self.writer.pending_count >= batch_size or (limit and self.sent >= limit):
                self.writer.flush()
                self.store.save_position(item.key, size, position + 1)
                if limit and self.sent >= limit and position + 1 < total:
                    self.log("INFO", "max_events_per_run=%d reached in %s at record %d of %d; the next run goes on "
                             "from there" % (limit, item.source, position + 1, total))
                    return False
        self.writer.flush()
        self.store.mark(item.key, DONE, records=total)
        self.files += 1
        self.log("INFO", "%s: done, %d records (from record %d%s%s)"
                 % (item.source, total, start, ", %d read-only excluded" % excluded if excluded else "",
                    ", %d before start_date %s skipped" % (early, start_day) if early else ""))
        return not self._limit_reached()


def run_stanza(stanza, params, checkpoint_dir, server_uri, session_key, stdout, stderr, environ):
    log = Log(stderr, "%s: " % stanza)
    config, errors = scheme.validate(params, check_folder=False)
    if errors:
        log("ERROR", "invalid configuration: %s" % "; ".join(errors))
        return 1
    if not checkpoint_dir:
        log("ERROR", "splunkd gave no checkpoint_dir")
        return 1
    try:
        split_records, note = load_splitter(environ)
    except ValueError as err:
        log("ERROR", str(err))
        return 1
    if note:
        log("WARN", note)
    store = CheckpointStore(checkpoint_dir, stanza)
    if not store.lock():
        log("WARN", "another run of this input is still going; this one stops")
        return 0
    for level, message in store.notes:
        log(level, message)
    try:
        source = _source_for(config, stanza, server_uri, session_key, log)
    except Exception as err:  # SourceError, CredentialError, a botocore configuration error
        log("ERROR", "cannot open the source: %s" % (err,))
        return 1
    # A local tree is looked at on every run; S3 region folders found are kept for an hour.
    listing = Listing(source, store, log, prefix=config.s3_prefix if config.s3_bucket else "",
                      lookback_days=config.lookback_days, start_date=config.start_date,
                      rediscover_after=0 if config.local_folder else DISCOVERY_MAX_AGE)
    writer = EventWriter(stdout, stanza, scheme.SOURCETYPE, config.index)
    writer.start()
    run = Run(config, stanza, store, source, writer, split_records, log, listing)
    status = 0
    try:
        complete = run.run()
    except SourceError as err:
        log("ERROR", str(err))
        complete, status = False, 1
    finally:
        writer.close()
        store.sync()
    # What the run proved (the days passed) is saved even after a listing error: it holds.
    try:
        listed = listing.finish()
    except OSError as err:
        log("ERROR", "cannot save the listing state in %s: %s (nothing is lost: the next run lists those days "
                     "again)" % (store.folder, err))
        listed, status = listing.summary(), 1
    if status == 0:
        log("INFO", "run %s: %d events sent from %d files; %s"
            % ("complete" if complete else "paused", run.sent, run.files, listed))
    return status


def run_input(stdin, stdout, stderr, environ):
    root = _parse_xml(stdin.read(), "input")
    text = lambda name: (root.findtext(name) or "").strip()
    status = 0
    configuration = root.find("configuration")
    stanzas = configuration.findall("stanza") if configuration is not None else []
    if not stanzas:
        Log(stderr)("ERROR", "no <stanza> in the input configuration from splunkd")
        return 1
    for stanza in stanzas:
        status |= run_stanza(stanza.get("name") or "", _params(stanza), text("checkpoint_dir"), text("server_uri"),
                             text("session_key"), stdout, stderr, environ)
    return status


def main(argv=None, stdin=None, stdout=None, stderr=None, environ=None):
    argv = sys.argv[1:] if argv is None else argv
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout.buffer if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    environ = os.environ if environ is None else environ
    try:
        if "--scheme" in argv:
            stdout.write(scheme.scheme_xml())
            stdout.flush()
            return 0
        if "--validate-arguments" in argv:
            return validate_arguments(stdin, stdout)
        return run_input(stdin, stdout, stderr, environ)
    except BrokenPipeError:
        Log(stderr)("ERROR", "splunkd closed the pipe; the run stops (nothing is lost: the checkpoint "
                             "is behind every unsent event)")
        return 1
    except ValueError as err:
        Log(stderr)("ERROR", str(err))
        return 1
