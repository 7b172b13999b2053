"""--scheme, --validate-arguments and the configuration files of the input."""
import xml.etree.ElementTree as ElementTree

import pytest

from modinput_support import REPO, run_script
from splunk_app.modinput.scheme import ARGUMENTS


def test_scheme():
    result = run_script(["--scheme"])
    assert result.returncode == 0
    root = ElementTree.fromstring(result.stdout)
    assert root.findtext("streaming_mode") == "xml"
    assert root.findtext("use_external_validation") == "true"
    names = [arg.get("name") for arg in root.iter("arg")]
    assert names == [a[0] for a in ARGUMENTS]
    assert not [n for n in names if "secret" in n or "password" in n]


def validation_xml(params):
    items = "".join('<param name="%s">%s</param>' % (k, v) for k, v in params.items())
    return ("<items><server_host>h</server_host><server_uri>https://127.0.0.1:8089</server_uri>"
            "<session_key>k</session_key><checkpoint_dir>/tmp</checkpoint_dir>"
            '<item name="test">%s</item></items>' % items).encode()


@pytest.mark.parametrize("params", [
    {"s3_bucket": "my-trail-bucket", "aws_region": "eu-west-3", "aws_role_arn": "arn:aws:iam::123456789012:role/r",
     "s3_endpoint_url": "https://bucket.vpce-1a2b3c4d.s3.eu-west-3.vpce.amazonaws.com", "exclude_read_only": "1",
     "start_date": "2024-02-29", "max_events_per_run": "100000", "batch_size": "1000",
     "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "lookback_days": "3"},
    {"local_folder": "/tmp", "exclude_read_only": "no"},
    {"local_folder": "/tmp", "lookback_days": "0"},
    {"s3_bucket": "my-trail-bucket", "lookback_days": " 3650 "},
])
def test_valid_arguments(params):
    result = run_script(["--validate-arguments"], validation_xml(params))
    assert result.returncode == 0, result.stdout
    assert result.stdout == b""


@pytest.mark.parametrize("params, message", [
    ({}, "set exactly one of local_folder and s3_bucket"),
    ({"s3_bucket": "b-1", "local_folder": "/tmp"}, "set exactly one"),
    ({"local_folder": "/no/such/folder"}, "is not a folder"),
    ({"s3_bucket": "Bad_Bucket"}, "not a valid bucket name"),
    ({"s3_bucket": "bucket", "aws_region": "mars"}, "aws_region"),
    ({"s3_bucket": "bucket", "aws_role_arn": "role"}, "aws_role_arn"),
    ({"s3_bucket": "bucket", "s3_endpoint_url": "ftp://x"}, "s3_endpoint_url"),
    ({"s3_bucket": "bucket", "start_date": "2024-02-30"}, "start_date must be a date"),
    ({"s3_bucket": "bucket", "max_events_per_run": "-1"}, "max_events_per_run must be between"),
    ({"s3_bucket": "bucket", "batch_size": "many"}, "batch_size must be a whole number"),
    ({"s3_bucket": "bucket", "exclude_read_only": "maybe"}, "exclude_read_only must be a boolean"),
    ({"s3_bucket": "bucket", "aws_access_key_id": "not a key"}, "aws_access_key_id"),
    ({"local_folder": "/tmp", "s3_prefix": "x/"}, "apply to s3_bucket only"),
    ({"s3_bucket": "bucket", "lookback_days": "-1"}, "lookback_days must be a whole number of days from 0 to 3650"),
    ({"s3_bucket": "bucket", "lookback_days": "two"}, "lookback_days must be a whole number of days from 0 to 3650"),
    ({"s3_bucket": "bucket", "lookback_days": "1.5"}, "got '1.5'"),
    ({"local_folder": "/tmp", "lookback_days": "3651"}, "(0 lists everything on every run), got '3651'"),
])
def test_invalid_arguments(params, message):
    result = run_script(["--validate-arguments"], validation_xml(params))
    assert result.returncode == 1
    root = ElementTree.fromstring(result.stdout)
    assert root.tag == "error" and message in root.findtext("message")


def test_lookback_days_default_and_value():
    from splunk_app.modinput.scheme import validate
    config, errors = validate({"s3_bucket": "bucket"})
    assert not errors and config.lookback_days == 2
    config, errors = validate({"s3_bucket": "bucket", "lookback_days": "0"})
    assert not errors and config.lookback_days == 0


def _conf(relative):
    stanzas, current = {}, None
    for line in (REPO / relative).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = stanzas.setdefault(line[1:-1], {})
        else:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return stanzas


def test_inputs_conf_and_spec():
    conf = _conf("default/inputs.conf")
    stanza = conf["cloudtrail_logs"]
    assert stanza["python.version"] == "python3"
    assert stanza["python.required"] == "3.9, 3.13"
    assert stanza["sourcetype"] == "aws:cloudtrail"
    script = REPO / "bin" / "cloudtrail_logs.py"
    assert oct(script.stat().st_mode & 0o777) == "0o755"
    spec = (REPO / "README" / "inputs.conf.spec").read_text(encoding="utf-8")
    assert "[cloudtrail_logs://<name>]" in spec
    for name, _type, _title, _description in ARGUMENTS:
        assert "\n%s = " % name in spec, name


def test_run_with_invalid_configuration_reports_and_sends_nothing(tmp_path):
    from modinput_support import run_input
    result = run_input({"s3_bucket": "bucket", "local_folder": "/tmp"}, tmp_path)
    assert result.returncode == 1 and result.stdout == b""
    assert result.lines("ERROR") and "set exactly one" in result.stderr
