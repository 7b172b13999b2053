"""splunk_app.options: searchinfo.args -> options, with errors that name what is valid."""
import pytest

from splunk_app.options import OptionError, Options, parse_args


def test_defaults():
    assert parse_args([]) == Options(rules="*", extract=True, only_detections=False, field="_raw")
    assert parse_args(None) == Options()


def test_all_options():
    options = parse_args(["rules=aws_*,test_x", "extract=f", "only_detections=YES", "field=message"])
    assert options.as_dict() == {"rules": "aws_*,test_x", "extract": False,
                                 "only_detections": True, "field": "message"}


@pytest.mark.parametrize("word, value", [
    ("true", True), ("TRUE", True), ("t", True), ("T", True), ("1", True), ("yes", True), ("Yes", True),
    ("false", False), ("False", False), ("f", False), ("0", False), ("no", False), ("NO", False),
])
def test_booleans(word, value):
    assert parse_args(["extract=" + word]).extract is value
    assert parse_args(["only_detections=" + word]).only_detections is value


@pytest.mark.parametrize("args, expected", [
    (["extrct=f"], "unknown option 'extrct'; valid options: rules, extract, only_detections, field"),
    (["Rules=*"], "unknown option 'Rules'; valid options: rules, extract, only_detections, field"),
    (["aws_*"], "unexpected argument 'aws_*'; cloudtraildetect takes only name=value options: "
                "rules, extract, only_detections, field"),
    (["extract=f", "extract=t"], "option extract given more than once"),
    (["extract=maybe"], "invalid value 'maybe' for option extract; valid values: true, t, 1, yes, false, f, 0, no"),
    (["only_detections="], "invalid value '' for option only_detections; valid values:"),
    (["rules="], "option rules needs a value"),
    (["field= "], "option field needs a value"),
    ("rules=*", "searchinfo.args is not a list"),
    ([3], "argument 3 is not a string"),
])
def test_errors(args, expected):
    with pytest.raises(OptionError) as info:
        parse_args(args)
    assert expected in str(info.value)


BOOLEAN_VALUES = "valid values: true, t, 1, yes, false, f, 0, no"
RULES_VALUES = ('valid values: detection ids or * wildcards, comma-separated, '
                'e.g. rules="aws_console_*,aws_s3_bucket_acl_public"')
FIELD_VALUES = ("valid values: the name of the field that holds the CloudTrail JSON record, "
                "e.g. field=_raw (the default)")


def _ids():
    return ["aws_a", "aws_b", "gcp_c"]


@pytest.mark.parametrize("args, expected", [
    (["extract=f", "extract=t"],
     "option extract given more than once ('extract=f', then 'extract=t'); give it once; " + BOOLEAN_VALUES),
    (["only_detections=t", "rules=*", "only_detections=t"],
     "option only_detections given more than once ('only_detections=t', then 'only_detections=t'); give it once; "
     + BOOLEAN_VALUES),
    (["rules=aws_a", "rules=aws_b"],
     "option rules given more than once ('rules=aws_a', then 'rules=aws_b'); give it once; " + RULES_VALUES
     + "; valid detections: aws_a, aws_b, gcp_c"),
    (["field=message", "field=_raw"],
     "option field given more than once ('field=message', then 'field=_raw'); give it once; " + FIELD_VALUES),
    (["rules="], "option rules needs a value; " + RULES_VALUES + "; valid detections: aws_a, aws_b, gcp_c"),
    (["rules=  "], "option rules needs a value; " + RULES_VALUES + "; valid detections: aws_a, aws_b, gcp_c"),
    (["rules= ,"], "option rules names no detection: 'rules= ,' holds only commas and spaces; " + RULES_VALUES
     + "; valid detections: aws_a, aws_b, gcp_c"),
    (["rules=,, ,"], "option rules names no detection: 'rules=,, ,' holds only commas and spaces; " + RULES_VALUES
     + "; valid detections: aws_a, aws_b, gcp_c"),
    (["field="], "option field needs a value; " + FIELD_VALUES),
    (["field= "], "option field needs a value; " + FIELD_VALUES),
])
def test_error_messages_name_the_valid_choices(args, expected):
    with pytest.raises(OptionError) as info:
        parse_args(args, _ids)
    assert str(info.value) == expected


def test_rules_errors_without_the_detection_list():
    # No callable, or one that fails (detections file missing or broken: the engine reports
    # that itself): the message still says what a valid value looks like.
    def broken():
        raise ValueError("no detections file")
    for detection_ids in (None, broken, lambda: []):
        with pytest.raises(OptionError) as info:
            parse_args(["rules= ,"], detection_ids)
        assert str(info.value) == "option rules names no detection: 'rules= ,' holds only commas and spaces; " \
            + RULES_VALUES


def test_detection_ids_are_read_only_for_a_rules_error():
    def fail():
        raise AssertionError("read without a rules error")
    assert parse_args(["rules=aws_*, ,x", "field=msg"], fail).rules == "aws_*, ,x"
    with pytest.raises(OptionError) as info:
        parse_args(["extract=f", "extract=f"], fail)
    assert "valid detections" not in str(info.value)


def test_option_error_is_a_value_error():
    assert issubclass(OptionError, ValueError)
