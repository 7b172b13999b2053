"""Turn one CloudTrail record (JSON text) into the fields ``spath`` would extract.

``flatten(raw)`` returns an ordered list of ``(name, value, coordinates)`` in document order:

* object keys are joined with ``.``; array elements add ``{}`` to the array's name (nested
  arrays give ``a{}{}``); top-level keys are used as they are;
* strings are unescaped; numbers keep their literal JSON text (``1.50``, ``1e3``, ``-0``);
  ``true``/``false``/``null`` become those words;
* an empty object gives the value ``{}`` and an empty array ``[]`` under the object's or
  array's own name;
* duplicate keys are all kept, in document order;
* ``coordinates`` is a tuple with the index of the enclosing element for each array level,
  outermost first.

Errors (``RecordError``, whose text is what ``cloudtrail_error`` gets):

* ``empty event``: the text is empty or only JSON white space (space, tab, CR, LF; other
  white space such as form feed or NBSP is invalid JSON);
* ``invalid JSON: <detail>``: not parseable by strict JSON rules, including ``NaN`` and
  ``Infinity``, anything but white space after the value, more than 1024 nested arrays and
  objects (simdjson's default limit; the record's own object is level 1), and
  strings that hold an unpaired UTF-16 surrogate (``"\\ud800"``) or bytes that are not UTF-8
  (decoded upstream with ``surrogateescape``): such text has no UTF-8 form, and simdjson
  rejects it too;
* ``not a JSON object``: valid JSON of another type.
"""
import json
import re
import sys

EMPTY_EVENT = "empty event"
NOT_AN_OBJECT = "not a JSON object"
INVALID_JSON_PREFIX = "invalid JSON: "

_SURROGATE = re.compile(u"[\ud800-\udfff]")
MAX_DEPTH = 1024
# Below this many brackets the nesting cannot matter, so the depth pre-scan is skipped.
_DEPTH_SCAN_THRESHOLD = 200
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)


class RecordError(Exception):
    """The record cannot be analysed; str(error) is the cloudtrail_error text."""


class _Object(list):
    """The (key, value) pairs of a JSON object, duplicates and order kept."""


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


_DECODER = json.JSONDecoder(
    object_pairs_hook=_Object,
    parse_int=str,
    parse_float=str,
    parse_constant=_reject_constant,
    strict=True,
)


def parse(raw):
    """Parse ``raw`` into nested _Object / list / str / bool / None values, or raise RecordError."""
    if _skip_ws(raw, 0) == len(raw):
        raise RecordError(EMPTY_EVENT)
    if _SURROGATE.search(raw) is not None:
        raise RecordError(INVALID_JSON_PREFIX + "the text holds bytes that are not UTF-8 (or a lone surrogate)")
    depth = 0
    if raw.count("[") + raw.count("{") > _DEPTH_SCAN_THRESHOLD:
        depth = _max_depth(raw)
        if depth > MAX_DEPTH:
            raise RecordError(INVALID_JSON_PREFIX + "more than %d nested arrays and objects" % MAX_DEPTH)
    old_limit = sys.getrecursionlimit()
    try:
        if depth > _DEPTH_SCAN_THRESHOLD:
            # The json C scanner recurses once per level; make room for up to MAX_DEPTH levels
            # so that every Python version accepts the same records.
            sys.setrecursionlimit(old_limit + depth + 100)
        value, end = _DECODER.raw_decode(raw, _skip_ws(raw, 0))
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise RecordError(INVALID_JSON_PREFIX + str(error))
    except RecursionError:
        raise RecordError(INVALID_JSON_PREFIX + "nesting too deep")
    finally:
        if depth > _DEPTH_SCAN_THRESHOLD:
            sys.setrecursionlimit(old_limit)
    end = _skip_ws(raw, end)
    if end != len(raw):
        raise RecordError(INVALID_JSON_PREFIX + "unexpected text after the JSON value at character %d" % (end + 1))
    if not isinstance(value, _Object):
        raise RecordError(NOT_AN_OBJECT)
    return value


def _max_depth(raw):
    """Deepest nesting of arrays and objects, skipping strings (approximate on broken JSON)."""
    depth = deepest = 0
    for match in _STRUCTURE.finditer(raw):
        char = match.group()
        if char == "[" or char == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char == "]" or char == "}":
            depth -= 1
    return deepest


def _skip_ws(text, position):
    length = len(text)
    while position < length and text[position] in " \t\n\r":
        position += 1
    return position


def _scalar(value, check):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    # str: an unescaped string or a number's literal text
    if check and _SURROGATE.search(value) is not None:
        raise RecordError(INVALID_JSON_PREFIX + "a string holds an unpaired surrogate or a byte that is not UTF-8")
    return value


def flatten(raw):
    """The (name, value, coordinates) triples of the record ``raw`` in document order."""
    root = parse(raw)
    # Surrogates can only come from \\uD800-\\uDFFF escapes once parse() has checked the text.
    check = "\\ud" in raw or "\\uD" in raw
    out = []
    # Explicit stack instead of recursion: deep records must not exhaust Python's stack.
    # Each entry: (iterator over children, name prefix, is_object, coordinates)
    stack = [(iter(root), None, True, ())]
    while stack:
        iterator, prefix, is_object, coords = stack[-1]
        child = next(iterator, _END)
        if child is _END:
            stack.pop()
            continue
        if is_object:
            key, value = child
            if check and _SURROGATE.search(key) is not None:
                raise RecordError(INVALID_JSON_PREFIX + "a key holds an unpaired surrogate or a byte that is not UTF-8")
            name = key if prefix is None else prefix + "." + key
            child_coords = coords
        else:
            index, value = child
            name = prefix + "{}"
            child_coords = coords + (index,)
        if isinstance(value, _Object):
            if value:
                stack.append((iter(value), name, True, child_coords))
            else:
                out.append((name, "{}", child_coords))
        elif isinstance(value, list):
            if value:
                stack.append((enumerate(value), name, False, child_coords))
            else:
                out.append((name, "[]", child_coords))
        else:
            out.append((name, _scalar(value, check), child_coords))
    return out


_END = object()


def index_fields(triples):
    """Group triples by name: an ordered dict name -> list of (value, coordinates)."""
    index = {}
    for name, value, coords in triples:
        entries = index.get(name)
        if entries is None:
            index[name] = [(value, coords)]
        else:
            entries.append((value, coords))
    return index
