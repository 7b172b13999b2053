"""Differential testing: the native and the pure-Python engines agree (fields, values,
detections, errors) on deterministic mutations of every shared CloudTrail record.

Each record gets MUTANTS variants, each from a random.Random seeded with the record's index and
the variant number, so a failure names a reproducible (origin, variant). Mutations: a field
deleted; a scalar turned into another type (string, number, true/false, null); an array turned
into an object and an object into an array; an object or array emptied; a key written twice; a key renamed to one the command reserves or spath would split;
a value wrapped in arrays or objects (a few levels, or around the 1,024-level limit). The
shipped detections are loaded, and the mutants are also compared as one chunk, byte for byte.
"""
import json
import os
import random
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from shared_records import shared_records  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CONF = os.path.join(REPO, "default", "cloudtrail_detections.conf")
MUTANTS = 4
KINDS = ["delete", "retype", "array_to_object", "object_to_array", "empty", "duplicate", "wrap", "rename"]
# Key names that collide with what the command writes or reserves, or that spath would split.
HOSTILE_KEYS = ["", "a.b", "x{}", "_time", "_raw", "detection", "cloudtrail_error", "eventName", "__mv_x",
                "sourceIPAddress", "ключ", "k\u0000", "\"q\",", "$a$", "{}"]


class Dup(object):
    """A marker: serialise this dict with its first key written twice (second value first)."""

    def __init__(self, mapping, extra):
        self.mapping = mapping
        self.extra = extra


class Wrapped(object):
    """`value` inside `depth` levels of alternating arrays and {"w": ...} objects (as text: Python
    recursion could not build or write 1,100 levels)."""

    def __init__(self, value, depth):
        self.value = value
        self.depth = depth


class Number(object):
    """A JSON number written as this exact text (1e400, 1.50: Python floats cannot keep them)."""

    def __init__(self, text):
        self.text = text


def dump(value):
    """Compact JSON like json.dumps(ensure_ascii=False), but able to write duplicate keys and
    numbers as given."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, Wrapped):
        opening = "".join("[" if (level + value.depth) % 2 else '{"w":' for level in range(value.depth))
        return opening + dump(value.value) + "".join("]" if (level + value.depth) % 2 else "}"
                                                     for level in reversed(range(value.depth)))
    if isinstance(value, Dup):
        items = list(value.mapping.items())
        head = [(items[0][0], value.extra)] if items else [("dup", value.extra)]
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump(v) for k, v in head + items) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dump(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def slots(value, out):
    """Every (container, key) below `value`, in document order."""
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            slots(value[key], out)
    elif isinstance(value, list):
        for index in range(len(value)):
            out.append((value, index))
            slots(value[index], out)
    return out


def retyped(value, rng):
    choices = ["text", 42, -3.5, Number("1e400"), Number("1.50"), Number("-0.0E-5"), 10 ** 120, True, False,
               None, "", "0", "caf\u00e9 \U0001F600", "a$b;\"c\"\n"]
    if isinstance(value, str) and value.isdigit():
        choices.append(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        choices.append(str(value))
    return rng.choice(choices)


def mutate(record, rng):
    """Apply one mutation of a random kind to the parsed record (in place); returns the kind."""
    found = slots(record, [])
    kind = rng.choice(KINDS)
    if not found:
        return "none"
    container, key = rng.choice(found)
    value = container[key]
    if kind == "delete":
        del container[key]
    elif kind == "retype":
        scalars = [(c, k) for c, k in found if not isinstance(c[k], (dict, list))]
        if scalars:
            container, key = rng.choice(scalars)
        container[key] = retyped(container[key], rng)
    elif kind == "array_to_object":
        arrays = [(c, k) for c, k in found if isinstance(c[k], list)]
        if arrays:
            container, key = rng.choice(arrays)
            container[key] = {str(i): v for i, v in enumerate(container[key])}
    elif kind == "object_to_array":
        objects = [(c, k) for c, k in found if isinstance(c[k], dict)]
        if objects:
            container, key = rng.choice(objects)
            container[key] = list(container[key].values())
    elif kind == "empty":
        containers = [(c, k) for c, k in found if isinstance(c[k], (dict, list))]
        if containers:
            container, key = rng.choice(containers)
            container[key] = type(container[key])()
    elif kind == "duplicate":
        objects = [(c, k) for c, k in found if isinstance(c[k], dict) and c[k]]
        if objects:
            container, key = rng.choice(objects)
            container[key] = Dup(container[key], rng.choice(["other", 7, None, {"x": [1]}]))
        else:
            container[key] = Dup({"a": value}, "first")
    elif kind == "rename":
        objects = [(c, k) for c, k in found if isinstance(c, dict)]
        container, key = rng.choice(objects)
        value = container.pop(key)
        container[rng.choice(HOSTILE_KEYS)] = value
    elif kind == "wrap":
        depth = rng.choice([1, 3, 40, 1020, 1023, 1024, 1100])
        container[key] = Wrapped(value, depth)
    return kind


def mutants():
    """[(origin, variant, kind, raw)] for every shared record, deterministic."""
    out = []
    for index, (origin, raw) in enumerate(shared_records()):
        for variant in range(MUTANTS):
            rng = random.Random(index * 1000 + variant)
            record = json.loads(raw)
            kinds = [mutate(record, rng) for _ in range(1 + variant % 2)]
            out.append((origin, variant, "+".join(kinds), dump(record)))
    return out


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    try:
        from splunk_app import _ctdetect
    except ImportError:
        if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            raise
        pytest.skip("native engine not built (make build); CTDETECT_REQUIRE_NATIVE=1 turns this into a failure")
    from splunk_app.pyengine import Engine as PythonEngine

    folder = tmp_path_factory.mktemp("mutation-lookups")
    (folder / "known_attacker_ips.csv").write_text("ip,description\n1.2.3.0/24,r\n2001:db8::/32,v6\n", encoding="utf-8")
    return _ctdetect.Engine([CONF], str(folder)), PythonEngine([CONF], str(folder))


@pytest.fixture(scope="module")
def mutated():
    records = mutants()
    assert len(records) == 727 * MUTANTS
    return records


def _normalise(analysis):
    error = analysis["error"]
    if error is not None and error.startswith("invalid JSON: ") and "nested" not in error:
        error = "invalid JSON: "  # the detail is each parser's own (docs/engine-contract.md)
    return {"fields": [[name, list(values)] for name, values in analysis["fields"]],
            "detections": list(analysis["detections"]), "error": error}


def test_mutants_are_deterministic_and_varied(mutated):
    assert mutated[:50] == mutants()[:50]
    kinds = set()
    for _origin, _variant, kind, _raw in mutated:
        kinds.update(kind.split("+"))
    assert set(KINDS) <= kinds
    originals = dict(shared_records())
    assert sum(1 for m in mutated if m[3] != originals[m[0]]) > 0.9 * len(mutated)


def test_engines_agree_on_every_mutant(engines, mutated):
    native, python = engines
    mismatches = []
    counts = {"error": 0, "detections": 0}
    for origin, variant, kind, raw in mutated:
        left, right = _normalise(native.analyze(raw)), _normalise(python.analyze(raw))
        counts["error"] += left["error"] is not None
        counts["detections"] += bool(left["detections"])
        if left != right:
            mismatches.append((origin, variant, kind))
    assert not mismatches, "engines disagree on %d mutants, first: %s" % (len(mismatches), mismatches[:5])
    # The mutants exercise both outcomes: some hit the nesting limit, many still match.
    assert counts["error"] > 0 and counts["detections"] > 100, counts


def _csv_cell(text):
    if any(c in text for c in ',"\r\n'):
        return '"%s"' % text.replace('"', '""')
    return text


def test_mutant_chunks_are_byte_identical(engines, mutated):
    native, python = engines
    lines = ["_raw,source,__mv__raw,__mv_source"]
    for origin, variant, kind, raw in mutated:
        lines.append("%s,%s,," % (_csv_cell(raw), _csv_cell("%s/%d/%s" % (origin, variant, kind))))
    body = ("\n".join(lines) + "\n").encode("utf-8")
    for extract, only_detections in ((True, False), (False, True)):
        left = bytes(native.process_body(body, "_raw", extract, only_detections))
        right = bytes(python.process_body(body, "_raw", extract, only_detections))
        if left != right:
            for number, (a, b) in enumerate(zip(left.split(b"\n"), right.split(b"\n"))):
                if a != b:
                    pytest.fail("extract=%s only_detections=%s: line %d differs:\nnative: %r\npython: %r" % (
                        extract, only_detections, number, a[:400], b[:400]))
            pytest.fail("bodies differ in length: %d vs %d" % (len(left), len(right)))
