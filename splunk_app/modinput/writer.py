"""Splunk's XML streaming output for modular inputs, written in batches.

Each record's bytes go into <data> escaped, never re-encoded: splunkd's XML parser gives back the
exact bytes (``&``, ``<``, ``>`` become entities, and ``\\r`` becomes ``&#13;`` so that XML's
line-end normalisation cannot touch it).
"""
import calendar
import re
from xml.sax.saxutils import escape

_EVENT_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def epoch_text(event_time):
    """CloudTrail's eventTime ("2024-01-02T03:04:05Z") as Splunk's <time> (epoch seconds, with the
    fraction when there is one), or None when it is missing or not such a time."""
    if not event_time:
        return None
    match = _EVENT_TIME.match(event_time)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    zone = match.group(8)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    fraction = match.group(7) or ""
    return "%d%s" % (seconds, fraction[:7])


def _attribute(text):
    return escape(text, {'"': "&quot;", "\r": "&#13;", "\n": "&#10;"}).encode("utf-8")


def escape_data(raw):
    return (raw.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
            .replace(b"\r", b"&#13;"))


class EventWriter(object):
    """Buffers events and writes them to splunkd (binary stdout) when flushed."""

    def __init__(self, out, stanza, sourcetype, index=None):
        self._out = out
        self._stanza = b'<event stanza="' + _attribute(stanza) + b'">'
        self._tail = b"<sourcetype>" + escape(sourcetype).encode("utf-8") + b"</sourcetype>"
        if index:
            self._tail += b"<index>" + escape(index).encode("utf-8") + b"</index>"
        self._source = b""
        self._pending = []
        self.pending_count = 0
        self._started = False

    def start(self):
        self._out.write(b"<stream>\n")
        self._out.flush()
        self._started = True

    def set_source(self, source):
        self._source = b"<source>" + escape(source, {"\r": "&#13;"}).encode("utf-8") + b"</source>"

    def add(self, raw, event_time):
        """Queue one event: raw is the record's bytes, event_time its eventTime string or None."""
        epoch = epoch_text(event_time)
        head = self._stanza + (b"<time>" + epoch.encode("ascii") + b"</time>" if epoch else b"")
        self._pending.append(head + self._source + self._tail + b"<data>" + escape_data(raw) + b"</data></event>\n")
        self.pending_count += 1

    def flush(self):
        """Send the queued events; when this returns, splunkd has them in its pipe."""
        if self._pending:
            self._out.write(b"".join(self._pending))
            self._pending = []
            self.pending_count = 0
        self._out.flush()

    def close(self):
        if self._started:
            self.flush()
            self._out.write(b"</stream>\n")
            self._out.flush()
