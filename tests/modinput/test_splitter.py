"""The native record splitter and the pure-Python one give identical results."""
import gzip
import os

import pytest

from modinput_support import build_tree
from splunk_app.modinput import pysplitter
from splunk_app.modinput.splitter import CorruptFile, SplitError, decompress, load_splitter


@pytest.fixture(scope="module")
def native_split():
    split, note = load_splitter({})
    if note:
        if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            raise RuntimeError(note)
        pytest.skip("native splitter not built; CTDETECT_REQUIRE_NATIVE=1 turns this into a failure")
    return split


def outcome(split, data):
    try:
        return split(data)
    except SplitError as err:
        return err.kind  # the detail differs between the two, the kind does not


EDGE_CASES = [
    b'{"Records":[]}', b'{"Records":[ ]} \n', b'  {"Records" : [ {} , [] , "s" , 1.5e3 , null , true ] }',
    b'{"a":{"Records":[1]},"Records":[{"eventTime":"t"}],"Records":5}', b'{"Records":5,"Records":[{}]}',
    b'{"Rec\\u006frds":[{"eventName":"Escaped key"}]}',
    b'{"Records":[{"eventName":"A","eventName":"B","readOnly":true,"readOnly":"yes","eventTime":1}]}',
    '{"Records":[{"eventName":"caf\u00e9","x":"\U0001F600 \\ud83d\\ude00"},{"eventTime":"\u00e9"}]}'.encode(),
    b'{"Records":[{"policy":"\\\\ud800 is text"}]}',
    b"", b"  \r\n", b"[]", b"7", b'"Records"', b"{}", b'{"Records":{}}', b'{"Records":"x"}', b"null",
    b'{"Records":[{"a":1}]', b'{"Records":[{"a":tru}]}', b'{"Records":[1,]}', b'{"Records":[1]} x',
    b'{"Records":[1]}{}', b'{"Records":[01]}', b'{"Records":[NaN]}', b'{"Records":[1e400]}',
    b'{"Records":[18446744073709551616]}', b'{"Records":["\\ud800"]}', b'{"Records":["\\udc00x"]}',
    b'{"x":"\\uD800","Records":[]}', b'{"Records":["\xff"]}', b'{"Records":["\xc3"]}', b'\xef\xbb\xbf{"Records":[]}',
    b'{"Records":["a\x01b"]}', b'{"Records":[{"a":"\\x"}]}', b"{'Records':[]}", b'{"Records":[{"a" 1}]}',
    b'{"Records":[' + b"[" * 200 + b"]" * 200 + b"]}",
]


@pytest.mark.parametrize("index", range(len(EDGE_CASES)))
def test_edge_cases_agree(native_split, index):
    data = EDGE_CASES[index]
    assert outcome(native_split, data) == outcome(pysplitter.split_records, data)


def test_every_generated_log_file_agrees(native_split, shared_data):
    tree = build_tree(shared_data)
    checked = 0
    for key, data in tree.objects.items():
        try:
            document = decompress(data)
        except CorruptFile:
            assert key in tree.bad
            continue
        native = outcome(native_split, document)
        assert native == outcome(pysplitter.split_records, document), key
        if key in tree.records:
            assert [document[o:o + n] for o, n, *_ in native] == tree.records[key]
            checked += 1
    assert checked > 30


def test_fields_and_errors(native_split):
    data = b'{"Records":[{"eventTime":"2024-01-02T03:04:05Z","eventName":"GetObject","readOnly":true},{"x":1}]}'
    assert native_split(data) == [(12, 76, "2024-01-02T03:04:05Z", "GetObject", True), (89, 7, None, None, None)]
    with pytest.raises(SplitError) as err:
        native_split(b'{"digestStartTime":"x"}')
    assert err.value.kind == "not a CloudTrail log file" and 'no "Records" key' in str(err.value)
    with pytest.raises(SplitError) as err:
        native_split(b'{"Records":[')
    assert err.value.kind == "invalid JSON"


def test_decompress():
    assert decompress(gzip.compress(b"{}") + gzip.compress(b" ")) == b"{} "  # every member
    assert decompress(b'{"Records":[]}') == b'{"Records":[]}'  # an uncompressed file
    for broken in (gzip.compress(b"{}" * 100)[:-5], b"\x1f\x8b\x08\x00garbage"):
        with pytest.raises(CorruptFile):
            decompress(broken)


def test_engine_choice():
    split, note = load_splitter({"CTDETECT_ENGINE": "python"})
    assert split is pysplitter.split_records and note is None
    with pytest.raises(ValueError):
        load_splitter({"CTDETECT_ENGINE": "fast"})
