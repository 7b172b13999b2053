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


def test_option_error_is_a_value_error():
    assert issubclass(OptionError, ValueError)
