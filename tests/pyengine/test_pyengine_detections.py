import pytest

from pyengine_support import engine_for, stanza
from splunk_app.pyengine import Engine


def error_of(tmp_path, conf_text, **kwargs):
    with pytest.raises(ValueError) as info:
        engine_for(tmp_path, conf_text, **kwargs)
    return str(info.value)


def test_detections_in_definition_order_default_then_local_only(tmp_path):
    default = stanza("b_one", "a=1") + stanza("a_two", "a=2")
    local = stanza("c_new", "a=3") + "[b_one]\ncondition = a=9\n"
    engine = engine_for(tmp_path, default, local_text=local)
    assert engine.detection_ids == ["b_one", "a_two", "c_new"]
    assert engine.analyze('{"a": 9}')["detections"] == ["b_one"]
    assert engine.analyze('{"a": 1}')["detections"] == []
    assert engine.warnings == []


def test_default_stanza_supplies_missing_keys(tmp_path):
    text = ("[default]\nseverity = high\nmitre_attack = T1000\ndescription = d\nfalse_positives = f\n"
            "[x]\ntitle = X\ncondition = a=1\n")
    engine = engine_for(tmp_path, text)
    assert engine.detection_ids == ["x"]


def test_disabled_detections_are_checked_but_not_evaluated(tmp_path):
    text = (stanza("on", "a=1") + stanza("off", "a=1", extra="disabled = YES") +
            stanza("on2", "a=1", extra="disabled = f"))
    engine = engine_for(tmp_path, text)
    assert engine.detection_ids == ["on", "on2"]
    assert engine.analyze('{"a": 1}')["detections"] == ["on", "on2"]
    message = error_of(tmp_path, stanza("off", "a=", extra="disabled = 1"))
    assert message.startswith("detection off: ")
    assert "expected a value after '=' at column 3" in message


def test_local_can_disable_and_enable(tmp_path):
    engine = engine_for(tmp_path, stanza("a", "x=1") + stanza("b", "x=1", extra="disabled = true"),
                        local_text="[a]\ndisabled = 1\n[b]\ndisabled = false\n")
    assert engine.detection_ids == ["b"]


@pytest.mark.parametrize("text, expected", [
    (stanza("Bad-Id", "a=1"), "detection Bad-Id: the id must match [a-z0-9_]+"),
    (stanza("x", "a=1", severity="severe"),
     "severity 'severe' is not one of informational, low, medium, high, critical"),
    (stanza("x", "a=1", extra="disabled = maybe"), "disabled 'maybe' is not a boolean"),
    (stanza("x", "a=1", extra="colour = red"),
     "unknown key 'colour' (valid keys: title, severity, mitre_attack, description, references, "
     "false_positives, condition, disabled)"),
    (stanza("x", "a=1", mitre="T1078, TA0001"),
     "'TA0001' is not a MITRE ATT&CK technique id such as T1078 or T1078.004"),
    (stanza("x", "a=1", mitre="T1078.4"), "'T1078.4' is not a MITRE ATT&CK technique id"),
    (stanza("x", "a=1", mitre=" , "), "mitre_attack lists no technique"),
    (stanza("x", "a=1", extra="title = \t "), "the required key 'title' is empty"),
    ("[x]\ntitle = t\nseverity = low\nmitre_attack = T1\ndescription = d\ncondition = a=1\n",
     "detection x: the required key 'false_positives' is missing (stanza at "),
    (stanza("x", ""), "the required key 'condition' is empty"),
    (stanza("x", 'cidrmatch("1.2.3.4/40", ip)'), "invalid CIDR range '1.2.3.4/40' at column 11"),
    (stanza("x", 'cidrlookup("nope", ip)'), "lookup 'nope' not found"),
])
def test_load_errors_name_detection_and_problem(tmp_path, text, expected):
    message = error_of(tmp_path, text)
    assert expected in message
    assert message.startswith("detection ")


def test_condition_error_names_file_line_and_column(tmp_path):
    text = stanza("ok", "a=1") + "[bad]\n" + stanza("bad", "a=1 \\\n   b= )").split("\n", 1)[1]
    message = error_of(tmp_path, text)
    assert message.startswith("detection bad: ")
    assert "cloudtrail_detections.conf, line 15: condition: expected a value after '=' at column 9" in message


def test_rules_selection(tmp_path):
    text = stanza("aws_a", "x=1") + stanza("aws_b", "x=1") + stanza("gcp_c", "x=1") + \
        stanza("aws_off", "x=1", extra="disabled = true")
    assert engine_for(tmp_path, text).detection_ids == ["aws_a", "aws_b", "gcp_c"]
    assert engine_for(tmp_path, text, rules="gcp_c, aws_a").detection_ids == ["aws_a", "gcp_c"]
    assert engine_for(tmp_path, text, rules=" aws_* ").detection_ids == ["aws_a", "aws_b"]
    assert engine_for(tmp_path, text, rules="*_c,aws_a,aws_a").detection_ids == ["aws_a", "gcp_c"]
    assert engine_for(tmp_path, text, rules="aws_off, ,aws_a,").detection_ids == ["aws_a"]
    message = error_of(tmp_path, text, rules="aws_a,AWS_*")
    assert message == "rules: 'AWS_*' matches no detection; valid detections: aws_a, aws_b, gcp_c, aws_off"
    assert error_of(tmp_path, text, rules=" , ") == \
        'rules is empty; give detection ids or wildcards, e.g. rules="aws_console_*"'
    assert "selects only disabled detections" in error_of(tmp_path, text, rules="aws_off")


def test_cidrlookup_detection_and_warnings(tmp_path):
    lookups = {"attackers": "ip,description\n203.0.113.0/24,x\nnonsense,y\n2001:db8::1,z\n"}
    engine = engine_for(tmp_path, stanza("c", "cidrlookup(attackers, sourceIPAddress)") +
                        stanza("d", 'cidrlookup("attackers", sourceIPAddress) eventName=X'), lookups=lookups)
    assert engine.warnings == [
        "%s/attackers.csv line 3: 'nonsense' is not an IP address or CIDR range; row ignored" % (tmp_path / "lookups")]
    assert engine.analyze('{"sourceIPAddress": "203.0.113.9"}')["detections"] == ["c"]
    assert engine.analyze('{"sourceIPAddress": "2001:db8::1", "eventName": "x"}')["detections"] == ["c", "d"]
    assert engine.analyze('{"sourceIPAddress": "2001:db8::2"}')["detections"] == []


def test_missing_conf_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the file"):
        Engine([str(tmp_path / "nope.conf")], str(tmp_path))


def test_shipped_detections_load():
    import os
    from pyengine_support import REPO_ROOT
    conf_path = os.path.join(REPO_ROOT, "default", "cloudtrail_detections.conf")
    engine = Engine([conf_path], os.path.join(REPO_ROOT, "lookups"))
    assert len(engine.detection_ids) >= 1


def test_severity_any_case_mitre_list_and_trimmed_title(tmp_path):
    text = ("[x]\ntitle = \t Spaced title \ndescription = d\nfalse_positives = f\ncondition = a=1\n"
            "severity =  HIGH \nmitre_attack = T1078.004,, T1110 ,T1078.004\n")
    engine = engine_for(tmp_path, text)
    rows = engine.process_body(b'_raw\n"{""a"":1}"\n', extract=False).decode().split("\n")
    assert rows[0] == "_raw,detection,detection_title,mitre_attack_id,detection_severity," \
        "__mv__raw,__mv_detection,__mv_detection_title,__mv_mitre_attack_id,__mv_detection_severity"
    assert rows[1:] == ['"{""a"":1}",x,Spaced title,"T1078.004', 'T1110",high,,,,$T1078.004$;$T1110$,', ""]
