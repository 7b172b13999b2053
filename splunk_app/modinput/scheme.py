"""The input's scheme (``--scheme``) and the validation of its arguments.

One stanza ``cloudtrail_logs://<name>`` reads either a local folder tree (``local_folder``) or an
S3 bucket (``s3_bucket`` and the ``s3_*``/``aws_*`` arguments). No argument holds a secret: an
access key's secret lives in Splunk's credential store (storage/passwords, realm
``cloudtrail_detect``, user name = the access key id), or the instance role is used.
"""
import datetime
import re
from collections import namedtuple
from xml.sax.saxutils import escape

SCHEME_NAME = "cloudtrail_logs"
SOURCETYPE = "aws:cloudtrail"
CREDENTIAL_REALM = "cloudtrail_detect"
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 100000
DEFAULT_LOOKBACK_DAYS = 2
MAX_LOOKBACK_DAYS = 3650

# (name, data type, title, description)
ARGUMENTS = (
    ("local_folder", "string", "Local folder",
     "A folder tree holding CloudTrail log files (for example synced with 'aws s3 sync'). "
     "Set this or s3_bucket."),
    ("s3_bucket", "string", "S3 bucket", "The bucket CloudTrail writes to. Set this or local_folder."),
    ("s3_prefix", "string", "S3 key prefix",
     "Only objects under this prefix are read, for example AWSLogs/123456789012/CloudTrail/."),
    ("aws_region", "string", "AWS region", "The bucket's region (default us-east-1)."),
    ("aws_role_arn", "string", "Role to assume",
     "Optional IAM role (arn:aws:iam::<account>:role/<name>) assumed before reading the bucket."),
    ("s3_endpoint_url", "string", "S3 endpoint URL",
     "Optional endpoint (a VPC endpoint or an S3-compatible store), http:// or https://."),
    ("aws_access_key_id", "string", "Access key id",
     "Optional. Its secret is read from Splunk's credential store (storage/passwords, realm "
     "cloudtrail_detect, user name = this access key id). Empty: the instance role or the "
     "environment's credentials."),
    ("exclude_read_only", "boolean", "Exclude read-only events",
     "true: skip Describe*, List* and Get* events (unless their readOnly is false). Default false."),
    ("start_date", "string", "Start date",
     "YYYY-MM-DD: log files whose path date (.../yyyy/mm/dd/) is earlier are not read, and records "
     "whose eventTime (UTC) is earlier are not sent."),
    ("max_events_per_run", "number", "Maximum events per run",
     "Stop after this many events; the next run goes on from there. 0 (default): no limit."),
    ("batch_size", "number", "Events per batch",
     "Events written to splunkd before each checkpoint (default 500): at most one batch is sent "
     "twice after a crash."),
    ("lookback_days", "number", "Lookback days",
     "Each run lists CloudTrail's region folders from the newest day minus this many days, so "
     "that files delivered late to those days are still read (default 2); a file landing in an "
     "older day is not. 0: list everything on every run (for trees without CloudTrail's layout)."),
)

InputConfig = namedtuple("InputConfig", [
    "local_folder", "s3_bucket", "s3_prefix", "aws_region", "aws_role_arn", "s3_endpoint_url",
    "aws_access_key_id", "exclude_read_only", "start_date", "max_events_per_run", "batch_size", "lookback_days",
    "index"])

_TRUE = ("1", "true", "t", "yes", "y")
_FALSE = ("0", "false", "f", "no", "n")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/\-]+$")
_ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")


def scheme_xml():
    """The --scheme document (bytes)."""
    args = []
    for name, data_type, title, description in ARGUMENTS:
        args.append(
            '      <arg name="%s">\n        <title>%s</title>\n        <description>%s</description>\n'
            "        <data_type>%s</data_type>\n        <required_on_create>false</required_on_create>\n"
            "        <required_on_edit>false</required_on_edit>\n      </arg>\n"
            % (name, escape(title), escape(description), data_type))
    text = (
        "<scheme>\n"
        "  <title>CloudTrail logs</title>\n"
        "  <description>CloudTrail log files from an S3 bucket or a local folder: one event per record, "
        "_raw exactly as written by CloudTrail, checkpointed so that nothing is lost.</description>\n"
        "  <use_external_validation>true</use_external_validation>\n"
        "  <use_single_instance>false</use_single_instance>\n"
        "  <streaming_mode>xml</streaming_mode>\n"
        "  <endpoint>\n    <args>\n%s    </args>\n  </endpoint>\n"
        "</scheme>\n" % "".join(args))
    return text.encode("utf-8")


def _text(params, name):
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _boolean(params, name, errors):
    text = _text(params, name).lower()
    if not text:
        return False
    if text in _TRUE:
        return True
    if text not in _FALSE:
        errors.append("%s must be a boolean (true/false, 1/0, yes/no), got %r" % (name, params.get(name)))
    return False


def _integer(params, name, default, minimum, maximum, errors):
    text = _text(params, name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        errors.append("%s must be a whole number, got %r" % (name, text))
        return default
    if value < minimum or value > maximum:
        errors.append("%s must be between %d and %d, got %d" % (name, minimum, maximum, value))
        return default
    return value


def _lookback_days(params, errors):
    text = _text(params, "lookback_days")
    if not text:
        return DEFAULT_LOOKBACK_DAYS
    if not re.match(r"^[0-9]+$", text) or int(text) > MAX_LOOKBACK_DAYS:
        errors.append("lookback_days must be a whole number of days from 0 to %d (0 lists everything on every "
                      "run), got %r" % (MAX_LOOKBACK_DAYS, text))
        return DEFAULT_LOOKBACK_DAYS
    return int(text)


def validate(params, check_folder=True):
    """(InputConfig, errors): errors is a list of messages, empty when the arguments are valid."""
    errors = []
    local_folder = _text(params, "local_folder")
    bucket = _text(params, "s3_bucket")
    if bool(local_folder) == bool(bucket):
        errors.append("set exactly one of local_folder and s3_bucket")
    if local_folder and check_folder:
        import os
        if not os.path.isdir(local_folder):
            errors.append("local_folder %r is not a folder" % local_folder)
    if bucket and not _BUCKET.match(bucket):
        errors.append("s3_bucket %r is not a valid bucket name" % bucket)
    region = _text(params, "aws_region") or "us-east-1"
    if not _REGION.match(region):
        errors.append("aws_region %r is not a region name such as us-east-1" % region)
    role_arn = _text(params, "aws_role_arn")
    if role_arn and not _ROLE_ARN.match(role_arn):
        errors.append("aws_role_arn %r is not a role ARN (arn:aws:iam::<12-digit account>:role/<name>)" % role_arn)
    endpoint = _text(params, "s3_endpoint_url")
    if endpoint and not re.match(r"^https?://[^\s/]+", endpoint):
        errors.append("s3_endpoint_url %r must start with http:// or https:// and name a host" % endpoint)
    access_key_id = _text(params, "aws_access_key_id")
    if access_key_id and not _ACCESS_KEY_ID.match(access_key_id):
        errors.append("aws_access_key_id %r is not an access key id (upper-case letters and digits)" % access_key_id)
    if local_folder and (role_arn or endpoint or access_key_id or _text(params, "s3_prefix")):
        errors.append("s3_prefix, aws_role_arn, s3_endpoint_url and aws_access_key_id apply to s3_bucket only")
    start_date = None
    start_text = _text(params, "start_date")
    if start_text:
        try:
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", start_text):
                raise ValueError(start_text)
            start_date = datetime.date(int(start_text[:4]), int(start_text[5:7]), int(start_text[8:10]))
        except ValueError:
            errors.append("start_date must be a date YYYY-MM-DD, got %r" % start_text)
    config = InputConfig(
        local_folder=local_folder or None,
        s3_bucket=bucket or None,
        s3_prefix=_text(params, "s3_prefix"),
        aws_region=region,
        aws_role_arn=role_arn or None,
        s3_endpoint_url=endpoint or None,
        aws_access_key_id=access_key_id or None,
        exclude_read_only=_boolean(params, "exclude_read_only", errors),
        start_date=start_date,
        max_events_per_run=_integer(params, "max_events_per_run", 0, 0, 10 ** 12, errors),
        batch_size=_integer(params, "batch_size", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE, errors),
        lookback_days=_lookback_days(params, errors),
        index=_text(params, "index") or None,
    )
    return config, errors
