"""Read Splunk ``.conf`` files into stanzas of ``key -> value``.

Syntax handled (the subset Splunk documents for app configuration files), read line by line
(lines end at ``\n``; a UTF-8 BOM is skipped); "trimmed" means leading spaces and tabs and
trailing spaces, tabs and ``\r`` removed:

* blank lines and lines whose trimmed text starts with ``#`` are ignored;
* ``[stanza]``: a trimmed line that starts with ``[`` and ends with ``]``; the name is the text
  in between, taken as is;
* ``key = value``: split at the first ``=``; key and value are trimmed;
* while a value ends with a backslash, the backslash is removed and the next line, trimmed, is
  appended after a newline (so a continued line is never a comment or a header, and its
  indentation is dropped); a backslash on the last line of the file continues into nothing;
* keys in a ``[default]`` stanza, or before the first stanza, are defaults for every stanza;
* several files are read in precedence order (``default/`` first, then ``local/``): a later
  file overrides an earlier one key by key; within one file the last occurrence of a key wins.

Stanzas keep the order in which they first appear across the files. Every value remembers the
file and line it came from, so callers can point at it in error messages.
"""
import collections

# White space for trimming list entries and values (str.strip() alone would also strip Unicode
# spaces, which the native engine does not).
WHITESPACE = " \t\r\n"
DEFAULT_STANZA = "default"


class ConfError(ValueError):
    """A line of a .conf file that cannot be read; the message names the file and line."""


class Stanza(collections.OrderedDict):
    """The keys of one stanza; ``where`` is the file and line of its first header."""

    where = None


class ConfValue(object):
    """A value with the position of the line that set it."""

    __slots__ = ("value", "path", "line")

    def __init__(self, value, path, line):
        self.value = value
        self.path = path
        self.line = line

    def where(self):
        return "%s, line %d" % (self.path, self.line)

    def __repr__(self):
        return "ConfValue(%r, %r, %d)" % (self.value, self.path, self.line)


def trim(text):
    """Leading spaces and tabs, trailing spaces, tabs and carriage returns removed."""
    return text.lstrip(" \t").rstrip(" \t\r")


def _in_stanza(stanza):
    """Names the stanza a bad line belongs to (none before the first header or in [default])."""
    return "" if stanza is None or stanza == DEFAULT_STANZA else "stanza [%s], " % stanza


def parse_conf_text(text, path):
    """Parse one file's text into an ordered list of (stanza name or None, key, ConfValue).

    ``None`` stands for keys before the first stanza. A stanza header is reported as
    (name, None, ConfValue(None, path, line)) so that a stanza without keys still exists.
    """
    entries = []
    stanza = None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        number = index + 1
        line = trim(lines[index])
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise ConfError("%s, line %d: a stanza header must look like [name], found '%s'" % (path, number, line))
            stanza = line[1:-1]
            entries.append((stanza, None, ConfValue(None, path, number)))
            continue
        if "=" not in line:
            raise ConfError("%s%s, line %d: expected '[stanza]' or 'key = value', found '%s'"
                            % (_in_stanza(stanza), path, number, line))
        key, value = line.split("=", 1)
        key = trim(key)
        if not key:
            raise ConfError("%s%s, line %d: a key is missing before '='" % (_in_stanza(stanza), path, number))
        value = trim(value)
        while value.endswith("\\"):
            value = value[:-1]
            if index >= len(lines):
                break
            value += "\n" + trim(lines[index])
            index += 1
        entries.append((stanza, key, ConfValue(value, path, number)))
    return entries


def read_conf_files(paths):
    """Merge the files in precedence order.

    Returns (defaults, stanzas): ``defaults`` maps key -> ConfValue (from ``[default]`` and keys
    before the first stanza), ``stanzas`` is an OrderedDict name -> {key: ConfValue} of every
    other stanza (a Stanza, whose ``where`` names its first header), in first-appearance order,
    *without* the defaults applied.
    Raises ConfError (a ValueError) naming the file and line, or the file that cannot be read.
    """
    defaults = collections.OrderedDict()
    stanzas = collections.OrderedDict()
    for path in paths:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as error:
            raise ConfError("%s: cannot read the file: %s" % (path, error))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfError("%s: not UTF-8 text: %s" % (path, error))
        for stanza, key, value in parse_conf_text(text, path):
            if stanza is None or stanza == DEFAULT_STANZA:
                if key is not None:
                    defaults[key] = value
                continue
            keys = stanzas.get(stanza)
            if keys is None:
                keys = stanzas[stanza] = Stanza()
                keys.where = value.where()
            if key is not None:
                keys[key] = value
    return defaults, stanzas


def with_defaults(defaults, keys):
    """The keys of one stanza with the defaults filled in for the keys it does not set."""
    merged = collections.OrderedDict(defaults)
    merged.update(keys)
    return merged
