"""Count which detections fire on every shared CloudTrail record, through the real command.

    python3 tests/harness/count_detections.py              # all of ../shared/data/cloudtrail
    python3 tests/harness/count_detections.py --conf-dir DIR --chunk-size 100

Every record of the shared CloudTrail data (``$CTDETECT_SHARED_DATA/cloudtrail``, by default
``../shared/data/cloudtrail``) is read the way ``tests/shared_records.py`` reads it (NDJSON lines
byte for byte, records of the Stratus Red Team JSON arrays re-serialised compactly); a JSON or
NDJSON file there that the canonical loader does not list is read with the same rules and
reported. The records are sent as the ``_raw`` of events to ``bin/cloudtraildetect.py`` over
search command protocol v2 (getinfo, then execute chunks, as splunkd does: see splunkd.py), with
the app's own configuration (``default/`` and ``local/`` detections, ``lookups/``; the shipped
attacker lookup is empty) unless ``--conf-dir`` names another app-shaped folder.

Printed: total events, events with any detection, events with a detection above
informational, unreadable events, then one line per detection that fired, sorted by count, with
its severity and where its events come from (Stratus technique files are grouped). Exit status 1
when the command fails or does not return every event.
"""
import argparse
import calendar
import collections
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/: shared_records, conftest
sys.path.insert(0, REPO)
import splunkd  # noqa: E402
from shared_records import iter_shared_records  # noqa: E402
from conftest import _require_shared_data  # noqa: E402
from splunk_app.pyengine.conf import read_conf_files, with_defaults  # noqa: E402

INFORMATIONAL = "informational"


def _origin_file(origin):
    return origin.rsplit("#", 1)[0]


def _compact(record):
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def shared_records():
    """(origin, raw JSON text) for every record: the canonical loader, then any file it skips."""
    records = list(iter_shared_records())
    covered = {_origin_file(origin) for origin, _ in records}
    root = _require_shared_data() / "cloudtrail"
    skipped = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative in covered or path.suffix not in (".json", ".ndjson"):
            continue
        skipped.append(relative)
        if path.suffix == ".ndjson":
            with open(path, encoding="utf-8") as handle:
                for index, line in enumerate(handle):
                    if line.strip():
                        records.append(("%s#%d" % (relative, index), line.rstrip("\r\n")))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            for index, record in enumerate(data if isinstance(data, list) else [data]):
                records.append(("%s#%d" % (relative, index), _compact(record)))
    return records, skipped


def _event_time(raw):
    try:
        return calendar.timegm(time.strptime(json.loads(raw)["eventTime"], "%Y-%m-%dT%H:%M:%SZ"))
    except (ValueError, KeyError, TypeError):
        return time.time()


def _severities(conf_dir):
    paths = [os.path.join(conf_dir, folder, "cloudtrail_detections.conf") for folder in ("default", "local")]
    defaults, stanzas = read_conf_files([path for path in paths if os.path.isfile(path)])
    found = {}
    for name, keys in stanzas.items():
        keys = with_defaults(defaults, keys)
        found[name] = " ".join(getattr(keys.get("severity", ""), "value", keys.get("severity", "")).split()).lower()
    return found


def _where(origin):
    """Where a record comes from, for the summary: the Stratus folder, or the file name."""
    name = _origin_file(origin)
    return name.split("/", 1)[0] if "/" in name else name


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf-dir", default=REPO,
                        help="app-shaped folder with default/ (and local/) cloudtrail_detections.conf and lookups/ "
                             "(default: this repository, as the installed app reads it)")
    parser.add_argument("--chunk-size", type=int, default=250, help="events per execute chunk (default 250)")
    parser.add_argument("--arg", action="append", default=[], help="an extra command option, e.g. rules=aws_iam_*")
    options = parser.parse_args(argv)

    records, skipped = shared_records()
    rows = [{"_raw": raw, "_time": "%.3f" % _event_time(raw), "host": "shared-data", "source": origin,
             "sourcetype": "aws:cloudtrail", "index": "aws"} for origin, raw in records]
    chunks = [rows[i:i + options.chunk_size] for i in range(0, len(rows), options.chunk_size)] or [[]]
    args = ["extract=false"] + options.arg
    conf_dir = os.path.abspath(options.conf_dir)
    env = None if conf_dir == REPO else {"CTDETECT_CONF_DIR": conf_dir}
    started = time.time()
    run = splunkd.run_search(args, chunks, env=env, timeout=300)
    elapsed = time.time() - started
    if run.errors() or run.exit_code != 0:
        sys.stderr.write("cloudtraildetect failed (exit code %s): %s\n%s" % (run.exit_code, run.errors(), run.stderr))
        return 1

    counts = collections.Counter()
    where = collections.defaultdict(collections.Counter)
    flagged = above_info = unreadable = 0
    severities = _severities(conf_dir)
    for row in run.rows:
        detections = row.get("detection") or []
        if isinstance(detections, str):
            detections = [detections]
        if row.get("cloudtrail_error"):
            unreadable += 1
        if detections:
            flagged += 1
            if any(severities.get(d) != INFORMATIONAL for d in detections):
                above_info += 1
        for detection in detections:
            counts[detection] += 1
            where[detection][_where(row.get("source") or "?")] += 1

    root = _require_shared_data() / "cloudtrail"
    print("| cloudtraildetect %s   over %s (protocol v2, %d execute chunks, %.1f s)" % (
        " ".join(args), root, len(chunks), elapsed))
    if skipped:
        print("files the canonical loader (tests/shared_records.py) does not list, read anyway: %s" % ", ".join(skipped))
    print("total events:                               %d" % len(rows))
    print("events returned by the command:             %d" % len(run.rows))
    print("events with any detection:                  %d" % flagged)
    print("events with a detection above informational: %d" % above_info)
    print("events not readable as CloudTrail JSON:     %d" % unreadable)
    print("detections that fired:                      %d of %d" % (len(counts), len(severities)))
    print()
    print("%6s  %-56s %-13s %s" % ("events", "detection", "severity", "where"))
    for detection, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        sources = ", ".join("%s %d" % (name, n) for name, n in sorted(where[detection].items(), key=lambda i: (-i[1], i[0])))
        print("%6d  %-56s %-13s %s" % (count, detection, severities.get(detection, "?"), sources))
    return 0 if len(run.rows) == len(rows) else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the output quietly
    sys.exit(main(sys.argv[1:]))
