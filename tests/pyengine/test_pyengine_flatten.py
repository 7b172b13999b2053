# -*- coding: utf-8 -*-
import pytest

import pyengine_support  # noqa: F401  (import paths)
from splunk_app.pyengine import flatten
from shared_records import shared_records


def triples(raw):
    return flatten.flatten(raw)


def test_names_join_keys_and_arrays_in_document_order():
    raw = '{"a": {"b": 1, "c": [{"d": "x"}, {"d": "y", "e": [1, [2, 3]]}]}, "f": "z"}'
    assert triples(raw) == [
        ("a.b", "1", ()),
        ("a.c{}.d", "x", (0,)),
        ("a.c{}.d", "y", (1,)),
        ("a.c{}.e{}", "1", (1, 0)),
        ("a.c{}.e{}{}", "2", (1, 1, 0)),
        ("a.c{}.e{}{}", "3", (1, 1, 1)),
        ("f", "z", ()),
    ]


def test_numbers_keep_their_literal_text():
    raw = '{"a": 1.50, "b": 1e3, "c": -0, "d": 12345678901234567890123, "e": 2E-7}'
    assert [value for _, value, _ in triples(raw)] == ["1.50", "1e3", "-0", "12345678901234567890123", "2E-7"]


def test_true_false_null_and_empty_containers():
    raw = '{"t": true, "f": false, "n": null, "o": {}, "l": [], "p": {"q": {}}, "r": [[], {}]}'
    assert triples(raw) == [
        ("t", "true", ()), ("f", "false", ()), ("n", "null", ()),
        ("o", "{}", ()), ("l", "[]", ()), ("p.q", "{}", ()),
        ("r{}", "[]", (0,)), ("r{}", "{}", (1,)),
    ]


def test_strings_are_unescaped():
    raw = u'{"a": "caf\\u00e9", "b": "line\\nnext\\t\\"q\\" \\\\ \\/", "c": "\\ud83d\\ude00", "d": "já"}'
    assert [value for _, value, _ in triples(raw)] == [u"café", u'line\nnext\t"q" \\ /', u"\U0001F600", u"já"]


def test_duplicate_keys_form_a_multivalue_field():
    raw = '{"a": 1, "b": 2, "a": 3}'
    assert triples(raw) == [("a", "1", ()), ("b", "2", ()), ("a", "3", ())]
    assert flatten.index_fields(triples(raw)) == {"a": [("1", ()), ("3", ())], "b": [("2", ())]}


def test_coordinates_of_nested_ranges():
    raw = ('{"requestParameters": {"ipPermissions": {"items": [{"ipRanges": {"items": '
           '[{"cidrIp": "10.0.0.0/8"}, {"cidrIp": "0.0.0.0/0"}]}}, '
           '{"ipRanges": {"items": [{"cidrIp": "1.1.1.1/32"}]}}]}}}')
    name = "requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp"
    assert triples(raw) == [(name, "10.0.0.0/8", (0, 0)), (name, "0.0.0.0/0", (0, 1)), (name, "1.1.1.1/32", (1, 0))]


def test_no_size_cut_off():
    raw = '{"a": "%s", "b": [%s]}' % ("x" * 300000, ",".join(["1"] * 20000))
    result = triples(raw)
    assert len(result) == 20001
    assert len(result[0][1]) == 300000


@pytest.mark.parametrize("levels, valid", [(200, True), (1023, True), (1024, False), (5000, False)])
def test_nesting_limit_is_1024_levels_on_every_python(levels, valid):
    # the record's object is level 1, so `levels` arrays inside it make levels + 1
    raw = '{"a": ' + "[" * levels + "1" + "]" * levels + "}"
    if valid:
        assert triples(raw) == [("a" + "{}" * levels, "1", (0,) * levels)]
    else:
        with pytest.raises(flatten.RecordError) as info:
            triples(raw)
        assert str(info.value) == "invalid JSON: more than 1024 nested arrays and objects"


def test_brackets_inside_strings_do_not_count_as_nesting():
    raw = '{"a": "%s", "b": "\\\\", "c": "\\"]]"}' % ("[{" * 3000)
    assert triples(raw) == [("a", "[{" * 3000, ()), ("b", "\\", ()), ("c", '"]]', ())]


def test_white_space_around_the_object_is_allowed():
    assert triples(' \n{"a": 1}\r\n\t ') == [("a", "1", ())]


@pytest.mark.parametrize("raw, error", [
    ("", "empty event"),
    ("   ", "empty event"),
    (" \t\r\n", "empty event"),
    ("[1, 2]", "not a JSON object"),
    ('"text"', "not a JSON object"),
    ("42", "not a JSON object"),
    ("null", "not a JSON object"),
])
def test_event_errors(raw, error):
    with pytest.raises(flatten.RecordError) as info:
        triples(raw)
    assert str(info.value) == error


@pytest.mark.parametrize("raw", [
    "\f",
    u"\u00a0",
    "{",
    '{"a": 1} x',
    '{"a": 1}{"b": 2}',
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    "{'a': 1}",
    '{"a": 01}',
    '{"a": "\\ud800"}',
    u'{"a": "\udcff"}',
    '{"a": "tab\there"}',
])
def test_invalid_json(raw):
    with pytest.raises(flatten.RecordError) as info:
        triples(raw)
    assert str(info.value).startswith("invalid JSON: ")


def test_every_shared_record_flattens():
    records = shared_records()
    assert len(records) == 727
    total = 0
    for origin, raw in records:
        result = triples(raw)
        assert result, origin
        assert all(isinstance(name, str) and isinstance(value, str) for name, value, _ in result), origin
        # every value carries one coordinate per "{}" of its name
        assert all(len(coords) == name.count("{}") for name, _, coords in result), origin
        total += len(result)
    assert total > 10000
