"""Pure-Python record splitter: the same results as the native ``split_records``.

Used when the native module does not import. The file is decoded as UTF-8 and walked with the
json module's own C scanner (``scanstring`` for the top-level keys, ``raw_decode`` for each value),
so every byte is validated and each element of the "Records" array gets the exact character range
it occupies; ranges are turned back into byte offsets. Like the native splitter: NaN/Infinity,
integers outside 64 bits and numbers that overflow a double are invalid JSON; the first "Records"
key is used; within a record the last occurrence of a key wins.
"""
import json
import math
import re
from json.decoder import scanstring

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# A \uD800-\uDFFF escape (not preceded by an escaped backslash): a file that has one is checked
# for unpaired surrogates, which the json module accepts and simdjson (and UTF-8) does not.
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F]")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1


class SplitError(ValueError):
    """A file that cannot be split. ``kind`` is the core's message: "invalid JSON" or
    "not a CloudTrail log file"; ``detail`` says why."""

    def __init__(self, kind, detail):
        ValueError.__init__(self, "%s: %s" % (kind, detail))
        self.kind = kind
        self.detail = detail


INVALID_JSON = "invalid JSON"
NOT_A_LOG_FILE = "not a CloudTrail log file"


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def _checked_int(text):
    value = int(text)
    if value < _INT_MIN or value > _INT_MAX:
        raise ValueError("integer %s does not fit in 64 bits" % text[:40])
    return value


def _checked_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError("number %s is out of range" % text[:40])
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_checked_int, parse_float=_checked_float)
_raw_decode = _DECODER.raw_decode


def _invalid(detail):
    return SplitError(INVALID_JSON, detail)


def _value(text, pos):
    """(value, end) of the JSON value at pos; SplitError when it does not parse."""
    try:
        return _raw_decode(text, pos)
    except RecursionError:
        raise _invalid("nesting too deep at character %d" % pos)
    except ValueError as err:
        raise _invalid(str(err))


def _fields(value):
    if not isinstance(value, dict):
        return None, None, None
    event_time = value.get("eventTime")
    event_name = value.get("eventName")
    read_only = value.get("readOnly")
    return (event_time if isinstance(event_time, str) else None,
            event_name if isinstance(event_name, str) else None,
            read_only if isinstance(read_only, bool) else None)


def _scan(text):
    """[(start, end, value)] character ranges of the first "Records" array's elements."""
    size = len(text)
    ws = _WHITESPACE.match
    pos = ws(text, 0).end()
    if not text.startswith("{", pos):
        _, end = _value(text, pos)
        if ws(text, end).end() != size:
            raise _invalid("unexpected content after the JSON value at character %d" % end)
        raise SplitError(NOT_A_LOG_FILE, "the file is not a JSON object")
    records = None  # None: no "Records" key yet; False: "Records" is not an array
    pos = ws(text, pos + 1).end()
    if text.startswith("}", pos):
        pos += 1
    else:
        while True:
            if not text.startswith('"', pos):
                raise _invalid("expected a key at character %d" % pos)
            try:
                key, pos = scanstring(text, pos + 1, True)
            except ValueError as err:
                raise _invalid(str(err))
            pos = ws(text, pos).end()
            if not text.startswith(":", pos):
                raise _invalid("expected ':' at character %d" % pos)
            pos = ws(text, pos + 1).end()
            if key == "Records" and records is None and text.startswith("[", pos):
                records = []
                pos = ws(text, pos + 1).end()
                if text.startswith("]", pos):
                    pos += 1
                else:
                    while True:
                        value, end = _value(text, pos)
                        records.append((pos, end, value))
                        pos = ws(text, end).end()
                        if text.startswith(",", pos):
                            pos = ws(text, pos + 1).end()
                        elif text.startswith("]", pos):
                            pos += 1
                            break
                        else:
                            raise _invalid("expected ',' or ']' at character %d" % pos)
            else:
                _, pos = _value(text, pos)
                if key == "Records" and records is None:
                    records = False
            pos = ws(text, pos).end()
            if text.startswith(",", pos):
                pos = ws(text, pos + 1).end()
            elif text.startswith("}", pos):
                pos += 1
                break
            else:
                raise _invalid("expected ',' or '}' at character %d" % pos)
    if ws(text, pos).end() != size:
        raise _invalid("unexpected content after the object at character %d" % pos)
    if records is None:
        raise SplitError(NOT_A_LOG_FILE, 'no "Records" key')
    if records is False:
        raise SplitError(NOT_A_LOG_FILE, '"Records" is not an array')
    return records


def _check_surrogates(value):
    """Raise SplitError when a string or key of the decoded value holds an unpaired surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings = (item,)
        elif isinstance(item, dict):
            strings = item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in strings:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise _invalid("unpaired UTF-16 surrogate escape in a string")


def split_records(data):
    """[(offset, length, eventTime, eventName, readOnly)] for each record of a log file's bytes.

    offset/length are in bytes: data[offset:offset + length] is the record as written.
    eventTime/eventName are the record's strings or None; readOnly is True, False or None.
    Raises SplitError.
    """
    if not data.strip(b" \t\n\r"):
        raise SplitError(NOT_A_LOG_FILE, "empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _invalid("invalid UTF-8 at byte %d" % err.start)
    records = _scan(text)
    if ("\\ud" in text or "\\uD" in text) and _SURROGATE_ESCAPE.search(text):  # fast substring test first
        _check_surrogates(json.loads(text))
    out = []
    if len(text) == len(data):  # ASCII: characters are bytes
        for start, end, value in records:
            out.append((start, end - start) + _fields(value))
        return out
    char_pos = byte_pos = 0
    for start, end, value in records:
        byte_pos += len(text[char_pos:start].encode("utf-8"))
        length = len(text[start:end].encode("utf-8"))
        out.append((byte_pos, length) + _fields(value))
        byte_pos += length
        char_pos = end
    return out
