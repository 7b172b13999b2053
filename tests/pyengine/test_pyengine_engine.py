# -*- coding: utf-8 -*-
import json

import pytest

from pyengine_support import engine_for, stanza
from splunk_app.pyengine import csvbody

CONF = (
    stanza("login_no_mfa", "eventName=ConsoleLogin additionalEventData.MFAUsed=No", severity="medium",
           mitre="T1078.004") +
    stanza("any_login", "eventName=ConsoleLogin", severity="low", mitre="T1078.004, T1110") +
    stanza("root_use", "userIdentity.type=Root", severity="high", mitre="T1078")
)

LOGIN = json.dumps({"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "No"},
                    "userIdentity": {"type": "Root"}, "tags": ["a", "b,c"]})
OTHER = '{"eventName": "DescribeInstances", "n": 1.50}'


@pytest.fixture
def engine(tmp_path):
    return engine_for(tmp_path, CONF)


def rows_of(body):
    return csvbody.parse_rows(body.decode("utf-8"))


def body_of(*rows):
    return "".join(csvbody.encode_row(row) for row in rows).encode("utf-8")


# -- analyze ---------------------------------------------------------------------------------

def test_analyze_fields_and_detections(engine):
    assert engine.detection_ids == ["login_no_mfa", "any_login", "root_use"]
    result = engine.analyze(LOGIN)
    assert result == {
        "fields": [["eventName", ["ConsoleLogin"]], ["additionalEventData.MFAUsed", ["No"]],
                   ["userIdentity.type", ["Root"]], ["tags{}", ["a", "b,c"]]],
        "detections": ["login_no_mfa", "any_login", "root_use"],
        "error": None,
    }
    assert engine.analyze(OTHER) == {"fields": [["eventName", ["DescribeInstances"]], ["n", ["1.50"]]],
                                     "detections": [], "error": None}


def test_analyze_first_seen_order_with_duplicates(engine):
    result = engine.analyze('{"b": 1, "a": 2, "b": 3}')
    assert result["fields"] == [["b", ["1", "3"]], ["a", ["2"]]]


@pytest.mark.parametrize("raw, error", [
    ("", "empty event"),
    ("[]", "not a JSON object"),
    ("12", "not a JSON object"),
])
def test_analyze_errors(engine, raw, error):
    assert engine.analyze(raw) == {"fields": [], "detections": [], "error": error}


def test_analyze_invalid_json(engine):
    result = engine.analyze('{"eventName": "ConsoleLogin"} trailing')
    assert result["error"].startswith("invalid JSON: ")
    assert result["fields"] == [] and result["detections"] == []
    assert engine.analyze('{"eventName": "ConsoleLogin"}  \n')["detections"] == ["any_login"]


def test_rules_limit_evaluation(tmp_path):
    engine = engine_for(tmp_path, CONF, rules="root_*")
    assert engine.analyze(LOGIN)["detections"] == ["root_use"]


# -- process_body ----------------------------------------------------------------------------

def test_empty_body_gives_empty_output(engine):
    assert engine.process_body(b"") == b""


def test_header_only_body_keeps_the_header(engine):
    assert engine.process_body(b"_raw,host\n") == b"_raw,host,__mv__raw,__mv_host\n"
    assert engine.process_body(body_of(["_raw"], [OTHER]), only_detections=True) == b"_raw,__mv__raw\n"


def test_process_body_columns_values_and_multivalues(engine):
    body = body_of(["_time", "_raw", "host"], ["1.5", LOGIN, "h1"], ["2.5", OTHER, "h,2"])
    rows = rows_of(engine.process_body(body))
    header = rows[0]
    plain = ["_time", "_raw", "host", "eventName", "additionalEventData.MFAUsed", "userIdentity.type", "tags{}",
             "detection", "detection_title", "mitre_attack_id", "detection_severity", "n"]
    assert header == plain + ["__mv_" + name for name in plain]
    first = dict(zip(header, rows[1]))
    assert first["_raw"] == LOGIN and first["__mv__raw"] == ""
    assert first["tags{}"] == "a\nb,c" and first["__mv_tags{}"] == "$a$;$b,c$"
    assert first["detection"] == "login_no_mfa\nany_login\nroot_use"
    assert first["__mv_detection"] == "$login_no_mfa$;$any_login$;$root_use$"
    assert first["detection_title"] == "t login_no_mfa\nt any_login\nt root_use"
    assert first["mitre_attack_id"] == "T1078.004\nT1110\nT1078"
    assert first["__mv_mitre_attack_id"] == "$T1078.004$;$T1110$;$T1078$"
    assert first["detection_severity"] == "high" and first["__mv_detection_severity"] == ""
    assert first["n"] == ""
    second = dict(zip(header, rows[2]))
    assert second["host"] == "h,2" and second["n"] == "1.50" and second["eventName"] == "DescribeInstances"
    assert second["detection"] == "" and second["detection_severity"] == ""
    assert len(rows) == 3


def test_process_body_exact_bytes(engine):
    body = b'_raw,x\n"{""eventName"":""ConsoleLogin""}",1\r\n'
    expected = (b'_raw,x,eventName,detection,detection_title,mitre_attack_id,detection_severity,'
                b'__mv__raw,__mv_x,__mv_eventName,__mv_detection,__mv_detection_title,__mv_mitre_attack_id,'
                b'__mv_detection_severity\n'
                b'"{""eventName"":""ConsoleLogin""}",1,ConsoleLogin,any_login,t any_login,"T1078.004\nT1110",low,'
                b',,,,,$T1078.004$;$T1110$,\n')
    assert engine.process_body(body) == expected


def test_process_body_quoted_cells_with_newlines_round_trip(engine):
    record = json.dumps({"eventName": "X", "msg": "multi\nline, \"quoted\" $5"})
    body = body_of(["_raw", "note"], [record, 'a "b"\r\nc'])
    rows = rows_of(engine.process_body(body))
    assert rows[0] == ["_raw", "note", "eventName", "msg", "__mv__raw", "__mv_note", "__mv_eventName", "__mv_msg"]
    assert rows[1] == [record, 'a "b"\r\nc', "X", "multi\nline, \"quoted\" $5", "", "", "", ""]


def test_process_body_unicode_and_byte_exact_passthrough(engine):
    record = u'{"eventName":"Caf\\u00e9","who":"jörg"}'
    body = u"_raw,city\n%s,Zürich\n" % csvbody.quote(record)
    out = engine.process_body(body.encode("utf-8") + b"\xff,\xfe\n")
    rows = csvbody.parse_rows(out.decode("utf-8", "surrogateescape"))
    assert rows[1][:4] == [record, u"Zürich", u"Café", u"jörg"]
    assert rows[2][:2] == [u"\udcff", u"\udcfe"]
    assert out.split(b"\n")[2].startswith(b"\xff,\xfe,")


def test_input_mv_columns_pass_through(engine):
    body = body_of(["_raw", "ip", "__mv_ip", "__mv_orphan"],
                   [OTHER, "1.1.1.1\n2.2.2.2", "$1.1.1.1$;$2.2.2.2$", "$x$;$y$"])
    rows = rows_of(engine.process_body(body, extract=False))
    # an __mv_ column without its plain column is an ordinary column (without a twin)
    assert rows[0] == ["_raw", "ip", "__mv_orphan", "__mv__raw", "__mv_ip"]
    assert rows[1] == [OTHER, "1.1.1.1\n2.2.2.2", "$x$;$y$", "", "$1.1.1.1$;$2.2.2.2$"]


def test_command_fields_override_input_columns_only_where_produced(engine):
    body = body_of(["_raw", "eventName", "__mv_eventName", "detection", "n"],
                   [LOGIN, "old\nvalue", "$old$;$value$", "stale", "keep"],
                   [OTHER, "in", "", "stale2", "kept?"],
                   ["", "e", "", "", "z"])
    rows = rows_of(engine.process_body(body))
    header = rows[0]
    assert header[:5] == ["_raw", "eventName", "detection", "n", "additionalEventData.MFAUsed"]
    first, second, third = [dict(zip(header, row)) for row in rows[1:]]
    assert first["eventName"] == "ConsoleLogin" and first["__mv_eventName"] == ""
    assert first["detection"] == "login_no_mfa\nany_login\nroot_use"
    assert first["n"] == "keep"  # not produced: the input's value stays
    assert second["eventName"] == "DescribeInstances"
    assert second["detection"] == "stale2"  # no detection produced: input stays
    assert second["n"] == "1.50"
    assert third["eventName"] == "e" and third["cloudtrail_error"] == "empty event"


def test_extract_false_writes_only_results(engine):
    body = body_of(["_raw"], [LOGIN], [OTHER])
    rows = rows_of(engine.process_body(body, extract=False))
    assert rows[0] == ["_raw", "detection", "detection_title", "mitre_attack_id", "detection_severity",
                       "__mv__raw", "__mv_detection", "__mv_detection_title", "__mv_mitre_attack_id",
                       "__mv_detection_severity"]
    assert rows[1][1] == "login_no_mfa\nany_login\nroot_use"
    assert rows[2] == [OTHER, "", "", "", "", "", "", "", "", ""]


def test_only_detections_keeps_matches_and_errors(engine):
    body = body_of(["_raw", "id"], [OTHER, "1"], [LOGIN, "2"], ["not json", "3"], ["", "4"], ["[1]", "5"],
                   [OTHER, "6"])
    rows = rows_of(engine.process_body(body, extract=False, only_detections=True))
    header = rows[0]
    assert header[:7] == ["_raw", "id", "detection", "detection_title", "mitre_attack_id", "detection_severity",
                          "cloudtrail_error"]
    kept = [dict(zip(header, row)) for row in rows[1:]]
    assert [row["id"] for row in kept] == ["2", "3", "4", "5"]
    assert kept[0]["cloudtrail_error"] == ""
    assert kept[1]["cloudtrail_error"].startswith("invalid JSON: ")
    assert kept[1]["_raw"] == "not json" and kept[1]["detection"] == ""
    assert kept[2]["cloudtrail_error"] == "empty event"
    assert kept[3]["cloudtrail_error"] == "not a JSON object"


def test_other_field_and_missing_field_column(engine):
    body = body_of(["json", "_raw"], [LOGIN, "ignored"])
    rows = rows_of(engine.process_body(body, field="json", extract=False))
    assert rows[1][2] == "login_no_mfa\nany_login\nroot_use"
    rows = rows_of(engine.process_body(body_of(["a"], ["1"], ["2"])))
    assert rows == [["a", "cloudtrail_error", "__mv_a", "__mv_cloudtrail_error"],
                    ["1", "empty event", "", ""], ["2", "empty event", "", ""]]


def test_new_columns_in_first_seen_order_across_rows(engine):
    body = body_of(["_raw"], ['{"b": 1}'], ['{"a": 1, "b": 2, "c": 3}'])
    rows = rows_of(engine.process_body(body))
    assert rows[0] == ["_raw", "b", "a", "c", "__mv__raw", "__mv_b", "__mv_a", "__mv_c"]
    assert rows[1][1:4] == ["1", "", ""]


def test_process_body_matches_analyze_on_shared_records(engine):
    from shared_records import shared_records
    records = [raw for _, raw in shared_records()][:200]
    body = body_of(["_raw"], *[[raw] for raw in records])
    out = engine.process_body(body)
    rows = rows_of(out)
    header = rows[0]
    assert len(rows) == len(records) + 1
    for raw, row in zip(records, rows[1:]):
        cells = dict(zip(header, row))
        assert cells["_raw"] == raw
        for name, values in engine.analyze(raw)["fields"]:
            plain, multi = csvbody.encode_values(values)
            if name not in ("_raw",):
                assert cells[name] == plain and cells["__mv_" + name] == multi


def test_input_cells_are_copied_byte_for_byte(engine):
    body = b'"_raw","host",note\n"{}","h1","a ""b"""junk\n'
    out = engine.process_body(body)
    assert out == b'_raw,host,note,__mv__raw,__mv_host,__mv_note\n"{}","h1","a ""b"""junk,,,\n'


def test_extracted_fields_never_overwrite_splunk_fields_or_results(engine):
    record = json.dumps({"_time": "x", "": "empty", "_raw": "r", "__mv_x": "m", "detection": "fake",
                         "cloudtrail_error": "no", "json": "self", "eventName": "ConsoleLogin"})
    body = body_of(["_time", "json"], ["1.5", record])
    rows = rows_of(engine.process_body(body, field="json"))
    assert rows[0] == ["_time", "json", "eventName", "detection", "detection_title", "mitre_attack_id",
                       "detection_severity", "__mv__time", "__mv_json", "__mv_eventName", "__mv_detection",
                       "__mv_detection_title", "__mv_mitre_attack_id", "__mv_detection_severity"]
    assert rows[1][:4] == ["1.5", record, "ConsoleLogin", "any_login"]
    # analyze() still lists every field
    names = [name for name, _ in engine.analyze(record)["fields"]]
    assert names == ["_time", "", "_raw", "__mv_x", "detection", "cloudtrail_error", "json", "eventName"]


def test_blank_lines_and_short_rows(engine):
    body = ("_raw,id\n\n%s,1\n\n%s\n" % (csvbody.quote(OTHER), csvbody.quote(OTHER))).encode()
    rows = rows_of(engine.process_body(body, extract=False))
    assert rows[1:] == [[OTHER, "1", "", ""], [OTHER, "", "", ""]]
    # with one column, a blank line is a row whose record is empty
    rows = rows_of(engine.process_body(b"_raw\n\n", extract=False))
    assert rows == [["_raw", "cloudtrail_error", "__mv__raw", "__mv_cloudtrail_error"], ["", "empty event", "", ""]]


def test_repeated_header_names_keep_the_first_column(engine):
    out = engine.process_body(b"a,_raw,a\n1,,3\n")
    assert out == b"a,_raw,cloudtrail_error,__mv_a,__mv__raw,__mv_cloudtrail_error\n1,,empty event,,,\n"


def test_unterminated_quote_makes_the_body_an_error(engine):
    with pytest.raises(ValueError) as info:
        engine.process_body(b'_raw,a\n"x')
    assert str(info.value) == "malformed CSV body: unterminated quoted value in the row starting on line 2"
