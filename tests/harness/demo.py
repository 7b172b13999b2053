"""`make demo`: run `| cloudtraildetect` over protocol v2 on the built-in sample events.

The command runs exactly as splunkd runs it (bin/cloudtraildetect.py as a subprocess, getinfo
then execute chunks, see splunkd.py), with the shipped detections and a demo copy of the
known-attacker lookup (samples/lookups/; the shipped lookup is empty). It prints one line per
event that a detection flagged or that could not be read, then counts per detection.
"""
import argparse
import calendar
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import splunkd  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
SEVERITY_ORDER = ["informational", "low", "medium", "high", "critical"]


def _rows(paths):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                event_time = time.time()
                try:
                    event_time = calendar.timegm(time.strptime(json.loads(line)["eventTime"], "%Y-%m-%dT%H:%M:%SZ"))
                except (ValueError, KeyError, TypeError):
                    pass  # unreadable records keep the time they were "indexed" at
                rows.append({"_raw": line, "_time": "%.3f" % event_time, "host": "demo",
                             "source": "%s:%d" % (os.path.basename(path), number),
                             "sourcetype": "aws:cloudtrail", "index": "aws"})
    return rows


def _config_dir():
    """An app-shaped folder: the shipped detections plus the demo lookup."""
    folder = tempfile.mkdtemp(prefix="ctdetect-demo-")
    os.makedirs(os.path.join(folder, "default"))
    shutil.copy(os.path.join(REPO, "default", "cloudtrail_detections.conf"), os.path.join(folder, "default"))
    shutil.copytree(os.path.join(REPO, "samples", "lookups"), os.path.join(folder, "lookups"))
    return folder


def _clip(text, width):
    text = text.replace("\n", ", ")
    return text if len(text) <= width else text[:width - 3] + "..."


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--arg", action="append", default=[], help="a command option, e.g. rules=aws_console_*")
    parser.add_argument("--chunk-size", type=int, default=20, help="rows per execute chunk (default 20)")
    options = parser.parse_args(argv)

    rows = _rows(options.files)
    chunks = [rows[i:i + options.chunk_size] for i in range(0, len(rows), options.chunk_size)] or [[]]
    config = _config_dir()
    try:
        started = time.time()
        run = splunkd.run_search(options.arg, chunks, env={"CTDETECT_CONF_DIR": config})
        elapsed = time.time() - started
    finally:
        shutil.rmtree(config, ignore_errors=True)
    if run.errors() or run.exit_code != 0:
        sys.stderr.write("cloudtraildetect failed (exit code %s): %s\n%s" % (run.exit_code, run.errors(), run.stderr))
        return 1

    print("| cloudtraildetect %s   (%d events in %d execute chunks, protocol v2)\n" % (
        " ".join(options.arg), len(rows), len(chunks)))
    header = "%-20s %-28s %-44s %-15s %-8s %s" % ("eventTime", "eventName", "identity", "sourceIPAddress",
                                                   "severity", "detection")
    print(header)
    print("-" * len(header) + "-" * 30)
    counts = {}
    for row in run.rows:
        detections = row.get("detection") or []
        if isinstance(detections, str):
            detections = [detections]
        error = row.get("cloudtrail_error")
        if not detections and not error:
            continue
        for detection in detections:
            counts[detection] = counts.get(detection, 0) + 1
        identity = (row.get("userIdentity.arn") or row.get("userIdentity.userName") or row.get("userIdentity.invokedBy")
                    or "-")
        what = ", ".join(detections) if detections else "cloudtrail_error: " + error
        print("%-20s %-28s %-44s %-15s %-8s %s" % (
            _clip(row.get("eventTime") or "-", 20), _clip(row.get("eventName") or "-", 28),
            _clip(identity if isinstance(identity, str) else identity[0], 44),
            _clip(row.get("sourceIPAddress") or "-", 15), row.get("detection_severity") or "-", what))
    flagged = sum(1 for row in run.rows if row.get("detection"))
    errors = sum(1 for row in run.rows if row.get("cloudtrail_error"))
    print("\n%d events returned (all %d kept), %d flagged, %d not readable as CloudTrail JSON, %.2f s end to end"
          % (len(run.rows), len(rows), flagged, errors, elapsed))
    for detection in sorted(counts, key=lambda d: (-counts[d], d)):
        print("  %-48s %d" % (detection, counts[detection]))
    notes = [text for _level, text in run.getinfo.messages]
    for note in notes:
        print("inspector: %s" % note)
    return 0 if len(run.rows) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
