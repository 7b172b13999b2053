#!/usr/bin/env python3
"""Generate one alert (saved search) and one filter macro per detection.

Reads the detections from default/cloudtrail_detections.conf and tests/detections/pending/*.conf
(detections waiting to be merged into the default file; once merged, that folder is empty and
the output does not change) and rewrites the generated section of default/savedsearches.conf
and default/macros.conf: the lines from BEGIN_MARKER to END_MARKER. Everything outside the
markers is written by hand and kept as it is.

    python3 packaging/generate_savedsearches.py           # rewrite the generated sections
    python3 packaging/generate_savedsearches.py --check   # exit 1 when a file is out of date

`make generate` runs the first form; tests/spl/test_generated_savedsearches.py the second.
"""
import argparse
import glob
import os
import sys
import textwrap

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from splunk_app.pyengine.conf import read_conf_files, with_defaults  # noqa: E402

BEGIN_MARKER = "# ---- BEGIN GENERATED: one %s per detection (packaging/generate_savedsearches.py) ----"
END_MARKER = "# ---- END GENERATED ----"
GENERATED_NOTE = (
    "# Generated from default/cloudtrail_detections.conf and tests/detections/pending/*.conf by\n"
    "# packaging/generate_savedsearches.py. Do not edit by hand: change the detection and run\n"
    "# `make generate` (a test fails when this section and the detections disagree). Tune an\n"
    "# alert in local/ (savedsearches.conf, or its <id>_filter macro in macros.conf).\n"
)

SAVED_SEARCH_PREFIX = "CloudTrail Detect - "

# Splunk's alert.severity: 1 debug, 2 info, 3 low, 4 medium, 5 high, 6 critical.
ALERT_SEVERITY = {"informational": 2, "low": 3, "medium": 4, "high": 5, "critical": 6}

# How often each severity runs and how long one incident (same identity, same account) stays
# suppressed after it alerted. The window is chosen by index time, not by event time: each run
# reads the events Splunk indexed during one cron period, ending 5 minutes before the run
# (dispatch.index_earliest/index_latest, "-<period+5>m@m" to "-5m@m"), so consecutive runs read
# consecutive slices and every event is evaluated by exactly one run, however late CloudTrail
# delivered it. The event-time window (EVENT_LOOKBACK to now) only bounds which buckets a run
# reads: an event indexed more than that long after it happened is not alerted.
SCHEDULE = {
    "critical": ("*/15 * * * *", 15, "1h"),
    "high": ("*/15 * * * *", 15, "1h"),
    "medium": ("*/30 * * * *", 30, "4h"),
    "low": ("5 * * * *", 60, "24h"),
    "informational": ("5 * * * *", 60, "24h"),
}
# Minutes between the end of a run's index-time slice and the run: events indexed in the last
# minutes may not be searchable on every indexer yet.
INDEX_LAG_MINUTES = 5
EVENT_LOOKBACK = "-24h@m"


def time_window(period_minutes):
    """(earliest, latest, index_earliest, index_latest) of an alert run every period_minutes."""
    return (EVENT_LOOKBACK, "now", "-%dm@m" % (period_minutes + INDEX_LAG_MINUTES), "-%dm@m" % INDEX_LAG_MINUTES)


# The fields identifying one incident of a per-event detection: who, in which account.
SUPPRESS_FIELDS = "user,recipientAccountId"


def detection_paths(root=REPO_ROOT):
    """The detection files in precedence order: default/, then the pending files by name."""
    paths = [os.path.join(root, "default", "cloudtrail_detections.conf")]
    paths += sorted(glob.glob(os.path.join(root, "tests", "detections", "pending", "*.conf")))
    return paths


def load_detections(paths):
    """[(id, {key: value})] in definition order, [default] keys applied."""
    defaults, stanzas = read_conf_files(paths)
    detections = []
    for detection_id, keys in stanzas.items():
        merged = with_defaults(defaults, keys)
        detections.append((detection_id, dict((key, value.value) for key, value in merged.items())))
    return detections


def one_line(text):
    return " ".join((text or "").split())


def conf_value(text, first_width):
    """A long value wrapped onto continuation lines (each ends with a backslash)."""
    lines = textwrap.wrap(one_line(text), width=98, break_long_words=False, break_on_hyphens=False,
                          initial_indent="x" * first_width)
    if not lines:
        return ""
    lines[0] = lines[0][first_width:]
    return " \\\n".join(lines)


def search_for(detection_id):
    return (
        "`cloudtrail_index` | cloudtraildetect rules=%(id)s only_detections=true extract=true"
        " | search detection=%(id)s | `cloudtrail_user` | `%(id)s_filter`"
        " | stats count min(_time) as firstTime max(_time) as lastTime"
        " values(eventName) as eventName values(eventSource) as eventSource"
        " values(awsRegion) as awsRegion values(sourceIPAddress) as sourceIPAddress"
        " values(userAgent) as userAgent values(errorCode) as errorCode"
        " values(detection_title) as detection_title values(detection_severity) as detection_severity"
        " values(mitre_attack_id) as mitre_attack_id values(eventID) as eventID"
        " by user recipientAccountId"
        " | convert ctime(firstTime) ctime(lastTime)"
    ) % {"id": detection_id}


def saved_search_stanza(detection_id, keys):
    severity = (keys.get("severity") or "medium").strip().lower()
    cron, period, suppress = SCHEDULE.get(severity, SCHEDULE["medium"])
    earliest, latest, index_earliest, index_latest = time_window(period)
    description = "%s (%s; MITRE ATT&CK %s). %s Known false positives: %s" % (
        one_line(keys.get("title")), severity, one_line(keys.get("mitre_attack")),
        one_line(keys.get("description")), one_line(keys.get("false_positives")))
    lines = [
        "[%s%s]" % (SAVED_SEARCH_PREFIX, detection_id),
        "description = " + conf_value(description, len("description = ")),
        "search = " + search_for(detection_id),
        "disabled = 1",
        "enableSched = 1",
        "cron_schedule = " + cron,
        "dispatch.earliest_time = " + earliest,
        "dispatch.latest_time = " + latest,
        "dispatch.index_earliest = " + index_earliest,
        "dispatch.index_latest = " + index_latest,
        "schedule_window = auto",
        "counttype = number of events",
        "relation = greater than",
        "quantity = 0",
        "alert.track = 1",
        "alert.digest_mode = 0",
        "alert.severity = %d" % ALERT_SEVERITY.get(severity, 4),
        "alert.suppress = 1",
        "alert.suppress.fields = " + SUPPRESS_FIELDS,
        "alert.suppress.period = " + suppress,
        "action.email.subject.alert = CloudTrail Detect: $name$ ($result.user$ in $result.recipientAccountId$)",
        "action.email.include.results_link = 1",
        "action.email.format = table",
        "action.email.inline = 1",
        "request.ui_dispatch_app = cloudtrail_detect",
        "request.ui_dispatch_view = search",
    ]
    return "\n".join(lines) + "\n"


def filter_macro_stanza(detection_id, keys):
    return (
        "[%s_filter]\n"
        "definition = search *\n"
        "description = Update this macro to limit the output results to filter out false positives"
        " of the alert %s%s.\n"
        "iseval = 0\n"
    ) % (detection_id, SAVED_SEARCH_PREFIX, detection_id)


def generated_section(kind, detections, stanza):
    parts = [BEGIN_MARKER % kind, GENERATED_NOTE.rstrip("\n")]
    for detection_id, keys in detections:
        parts.append("")
        parts.append(stanza(detection_id, keys).rstrip("\n"))
    parts.append("")
    parts.append(END_MARKER)
    return "\n".join(parts) + "\n"


def replace_section(text, section, kind):
    """text with its generated section replaced (or appended when it has none)."""
    begin = BEGIN_MARKER % kind
    start = text.find(begin)
    if start < 0:
        if text and not text.endswith("\n"):
            text += "\n"
        return text + ("\n" if text else "") + section
    end = text.find(END_MARKER, start)
    if end < 0:
        raise ValueError("'%s' has no matching '%s'" % (begin, END_MARKER))
    end += len(END_MARKER)
    if text[end:end + 1] == "\n":
        end += 1
    return text[:start] + section + text[end:]


def expected_files(root=REPO_ROOT):
    """{path: expected text} for the two files with a generated section."""
    detections = load_detections(detection_paths(root))
    outputs = {}
    for name, kind, stanza in (("savedsearches.conf", "alert", saved_search_stanza),
                               ("macros.conf", "filter macro", filter_macro_stanza)):
        path = os.path.join(root, "default", name)
        current = ""
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        outputs[path] = replace_section(current, generated_section(kind, detections, stanza), kind)
    return outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated section is out of date")
    parser.add_argument("--root", default=REPO_ROOT, help="the repository (default: this checkout)")
    args = parser.parse_args(argv)
    stale = []
    for path, text in sorted(expected_files(args.root).items()):
        current = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            print("generated: %s" % os.path.relpath(path, args.root))
    if args.check and stale:
        print("out of date (run `make generate`): %s" % ", ".join(os.path.relpath(p, args.root) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
