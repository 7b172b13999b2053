"""Helpers and fixtures of the modular input tests (conftest.py registers the fixtures): a
realistic CloudTrail log tree built from the shared records, the input run as splunkd runs it
(bin/cloudtrail_logs.py in a subprocess, XML configuration on stdin), and a real S3 API on
loopback (moto's standalone server).
"""
import collections
import gzip
import json
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape, quoteattr

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))
SCRIPT = REPO / "bin" / "cloudtrail_logs.py"
RUN_TIMEOUT = 120
# One line per kill -9 test, written at the end of the pytest run by conftest.py.
KILL_FIGURES = []
# The ListObjectsV2 calls measured by test_listing.py, written there too.
LISTING_FIGURES = []


# ---------------------------------------------------------------- the log tree

def shared_record_texts(shared_data):
    """Every shared record as the bytes a CloudTrail file would hold: NDJSON lines as they are,
    Stratus records serialised compactly as CloudTrail writes them (tests/shared_records.py;
    `shared_data` is the fixture that has already checked the data is there)."""
    from shared_records import iter_shared_records
    return [raw.encode("utf-8") for _origin, raw in iter_shared_records()]


class LogTree(object):
    """{key: bytes} of a CloudTrail bucket, with what a correct input must send from it."""

    def __init__(self):
        self.objects = collections.OrderedDict()
        self.expected = collections.Counter()  # (key, record bytes) -> count
        self.records = {}                      # key -> [record bytes] in file order
        self.bad = set()                       # keys that must be reported as corrupt
        self.skipped = set()                   # keys that must be skipped (digest, not CloudTrail)

    def add_log(self, key, records, separator=b",", head=b'{"Records":[', tail=b"]}"):
        document = head + separator.join(records) + tail
        self.objects[key] = gzip.compress(document, 6, mtime=0)
        self.records[key] = list(records)
        for record in records:
            self.expected[(key, record)] += 1

    def expected_records(self):
        return collections.Counter(record for (_key, record), n in self.expected.items() for _ in range(n))

    def write_to(self, folder):
        folder = pathlib.Path(folder)
        for key, data in self.objects.items():
            if key.endswith("/"):
                continue
            path = folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return folder


def _group_key(record):
    account = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId") or "123456789012"
    if not re.match(r"^\d{12}$", str(account)):
        account = "123456789012"
    region = record.get("awsRegion") or "us-east-1"
    event_time = record.get("eventTime") or "2020-01-01T00:00:00Z"
    return str(account), region, event_time[:10]


def build_tree(shared_data, copies=1, seed=5, with_junk=True, records_per_file=25):
    """CloudTrail's layout: records grouped per account/region/day into gzip files of up to
    records_per_file records, plus digest files, non-CloudTrail objects and broken files."""
    rng = random.Random(seed)
    texts = shared_record_texts(shared_data)
    groups = collections.OrderedDict()
    for text in texts:
        groups.setdefault(_group_key(json.loads(text)), []).append(text)
    tree = LogTree()
    first = None
    for copy in range(copies):
        for (account, region, day), records in sorted(groups.items()):
            yyyy, mm, dd = day.split("-")
            for start in range(0, len(records), records_per_file):
                stamp = "%s%s%sT%02d%02dZ" % (yyyy, mm, dd, copy % 24, start % 60)
                name = "%s_CloudTrail_%s_%s_%016x.json.gz" % (account, region, stamp, rng.getrandbits(64))
                key = "AWSLogs/%s/CloudTrail/%s/%s/%s/%s/%s" % (account, region, yyyy, mm, dd, name)
                tree.add_log(key, records[start:start + records_per_file])
                first = first or (account, region, yyyy, mm, dd)
    if not with_junk:
        return tree
    account, region, yyyy, mm, dd = first
    folder = "AWSLogs/%s/CloudTrail/%s/%s/%s/%s/" % (account, region, yyyy, mm, dd)
    # Pretty-printed with CRLF line ends and XML-special characters: _raw must stay byte for byte.
    pretty = [json.dumps(json.loads(t), indent=2, ensure_ascii=False).replace("\n", "\r\n").encode("utf-8")
              for t in texts[:3]]
    special = [b'{"eventVersion":"1.08","eventTime":"2021-03-04T05:06:07Z","eventName":"PutBucketPolicy",'
               b'"eventID":"special-<&>-1","requestParameters":{"policy":"a<b && c>d ]]> \\r\\n \\u00e9 \xc3\xa9"}}',
               b'{ "eventTime" : "2021-03-04T05:06:08.123Z" , "eventName" : "ListBuckets" , "readOnly" : true ,'
               b' "eventID" : "special-spaces" }']
    tree.add_log(folder + "%s_CloudTrail_%s_pretty_crlf.json.gz" % (account, region), pretty,
                 separator=b",\r\n", head=b'{\r\n  "Records": [\r\n', tail=b"\r\n  ]\r\n}\r\n")
    tree.add_log(folder + "%s_CloudTrail_%s_special.json.gz" % (account, region), special)
    tree.add_log(folder + "%s_CloudTrail_%s_no_records.json.gz" % (account, region), [])
    # Digest files (by name, and one under the CloudTrail folder recognised by its content).
    digest = json.dumps({"awsAccountId": account, "digestStartTime": "x", "digestEndTime": "y",
                         "logFiles": [], "digestSignatureAlgorithm": "SHA256withRSA"}).encode()
    digest_key = "AWSLogs/%s/CloudTrail-Digest/%s/%s/%s/%s/%s_CloudTrail-Digest_%s_t_%s%s%sT0000Z.json.gz" % (
        account, region, yyyy, mm, dd, account, region, yyyy, mm, dd)
    tree.objects[digest_key] = gzip.compress(digest, mtime=0)
    tree.objects[folder + "misplaced_digest.json.gz"] = gzip.compress(digest, mtime=0)
    tree.objects[folder + "other_object.json.gz"] = gzip.compress(b'{"foo": [1, 2]}', mtime=0)
    tree.objects[folder + "array.json.gz"] = gzip.compress(b"[1, 2]", mtime=0)
    tree.objects[folder + "notes.txt"] = b"not a log file\n"
    tree.objects[folder + "empty.json.gz"] = b""
    tree.objects["AWSLogs/%s/CloudTrail/" % account] = b""  # an S3 folder marker
    tree.skipped |= {digest_key, folder + "misplaced_digest.json.gz", folder + "other_object.json.gz",
                     folder + "array.json.gz", folder + "notes.txt", folder + "empty.json.gz"}
    # Broken files: corrupt gzip, truncated gzip, valid gzip of truncated JSON, bad JSON inside.
    good = gzip.compress(b'{"Records":[' + b",".join(texts[:5]) + b"]}", mtime=0)
    corrupt = bytearray(good)
    for i in range(20, len(corrupt), 7):
        corrupt[i] ^= 0x5A
    tree.objects[folder + "corrupt.json.gz"] = bytes(corrupt)
    tree.objects[folder + "truncated_gzip.json.gz"] = good[:len(good) // 2]
    tree.objects[folder + "truncated_json.json.gz"] = gzip.compress((b'{"Records":[' + b",".join(texts[:5]))[:-40])
    tree.objects[folder + "bad_literal.json.gz"] = gzip.compress(b'{"Records":[' + texts[0] + b',{"eventName":tru}]}')
    tree.bad |= {folder + name for name in ("corrupt.json.gz", "truncated_gzip.json.gz", "truncated_json.json.gz",
                                            "bad_literal.json.gz")}
    return tree


@pytest.fixture(scope="session")
def log_tree(shared_data):
    return build_tree(shared_data)


HUGE_KEY = ("AWSLogs/111111111111/CloudTrail/us-east-1/2023/05/06/"
            "111111111111_CloudTrail_us-east-1_20230506T0710Z_huge.json.gz")


class HugeLog(object):
    """One log file of 50 MiB of JSON (52,429,215 bytes, 32,058 records), the first record
    8 MiB long, then the shared records over and over; ``compressed`` is its gzip (level 1, as a
    worst case for the reader: 7,600,229 bytes, 7.2 MiB, with this zlib)."""

    def __init__(self, shared_data):
        texts = shared_record_texts(shared_data)
        self.big = json.dumps({"eventVersion": "1.08", "eventTime": "2023-05-06T07:08:09Z",
                               "eventName": "PutBucketPolicy", "eventID": "huge-8-mib-record",
                               "requestParameters": {"policy": "x" * (8 << 20)}}).encode()
        self.records, size = [self.big], len(self.big)
        while size < 50 << 20:
            text = texts[len(self.records) % len(texts)]
            self.records.append(text)
            size += len(text) + 1
        self.document = b'{"Records":[' + b",".join(self.records) + b"]}"
        self.compressed = gzip.compress(self.document, 1, mtime=0)


@pytest.fixture(scope="session")
def huge_log(shared_data):
    return HugeLog(shared_data)


def dated_record(event_id, day, minute=5, region="us-east-1", account="111111111111"):
    """A small CloudTrail record (compact JSON, as CloudTrail writes it) with a unique eventID."""
    return json.dumps({"eventVersion": "1.08", "eventID": event_id, "eventName": "PutObject",
                       "eventTime": "%sT%02d:%02d:00Z" % (day.isoformat(), minute // 60 % 24, minute % 60),
                       "awsRegion": region, "recipientAccountId": account}, separators=(",", ":")).encode()


def region_folders(accounts, regions, organization=None, base=""):
    """[(region folder, account, region)]: AWSLogs/<account>/CloudTrail/<region>/, or with
    AWSLogs/<organization>/ for an organization trail."""
    above = base + "AWSLogs/" + (organization + "/" if organization else "")
    return [("%s%s/CloudTrail/%s/" % (above, account, region), account, region)
            for account in accounts for region in regions]


def add_day(tree, folders, day, files_per_day, records_per_file=2, tag="", beside=True):
    """CloudTrail files of one day in each region folder (and, beside=True, the digest file
    CloudTrail-Digest/ holds for it). Returns the keys of the log files."""
    keys = []
    for folder, account, region in folders:
        for number in range(files_per_day):
            minute = (number * 1440) // max(files_per_day, 1) + 3
            name = "%s_CloudTrail_%s_%sT%02d%02dZ_%s%04d.json.gz" % (
                account, region, day.strftime("%Y%m%d"), minute // 60, minute % 60, tag or "x", number)
            key = "%s%s/%s" % (folder, day.strftime("%Y/%m/%d"), name)
            records = [dated_record("%s-%s-%s-%d-%d%s" % (account, region, day.isoformat(), number, index, tag), day,
                                    minute, region, account) for index in range(records_per_file)]
            tree.add_log(key, records)
            keys.append(key)
        if beside:
            digest = folder.replace("/CloudTrail/", "/CloudTrail-Digest/") + (
                "%s/%s_CloudTrail-Digest_%s_t_%sT0000Z.json.gz" % (day.strftime("%Y/%m/%d"), account, region,
                                                                  day.strftime("%Y%m%d")))
            tree.objects[digest] = gzip.compress(b'{"digestStartTime":"x","logFiles":[]}', mtime=0)
    return keys


# Runs the input like bin/cloudtrail_logs.py, counting the AWS API calls of every boto3 client it
# makes (botocore's before-call event, once per call whatever the retries), written as JSON to
# argv[2] when it ends.
_COUNTING = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import boto3.session
counts = {}
def count(model=None, **kwargs):
    counts[model.name] = counts.get(model.name, 0) + 1
original = boto3.session.Session.client
def client(self, *args, **kwargs):
    made = original(self, *args, **kwargs)
    made.meta.events.register("before-call", count)
    return made
boto3.session.Session.client = client
from splunk_app.modinput.run import main
try:
    status = main([], sys.stdin.buffer, sys.stdout.buffer, sys.stderr, os.environ)
finally:
    with open(sys.argv[2], "w") as handle:
        json.dump(counts, handle)
sys.exit(status)
"""


def run_counting(params, checkpoint_dir, env=None, **kwargs):
    """run_input, and {operation: calls} of the AWS API calls the run made."""
    counts_path = pathlib.Path(str(checkpoint_dir) + ".calls.json")
    process = subprocess.run([sys.executable, "-c", _COUNTING, str(REPO), str(counts_path)],
                             input=input_xml(params, checkpoint_dir, **kwargs), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env or script_env(), timeout=RUN_TIMEOUT)
    counts = json.loads(counts_path.read_text())
    counts_path.unlink()
    return Result(process.returncode, process.stdout, process.stderr.decode("utf-8", "replace")), counts


# ---------------------------------------------------------------- running the input

def input_xml(params, checkpoint_dir, stanza="cloudtrail_logs://test", server_uri="https://127.0.0.1:8089",
              session_key="test-session-key"):
    body = "".join('<param name=%s>%s</param>' % (quoteattr(k), escape(str(v))) for k, v in params.items())
    return ("<input><server_host>test</server_host><server_uri>%s</server_uri><session_key>%s</session_key>"
            "<checkpoint_dir>%s</checkpoint_dir><configuration><stanza name=%s>%s</stanza></configuration></input>"
            % (escape(server_uri), escape(session_key), escape(str(checkpoint_dir)), quoteattr(stanza), body)
            ).encode("utf-8")


def script_env(extra=None):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("AWS_") or name.lower().endswith("_proxy"):
            del env[name]
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "PYTHONDONTWRITEBYTECODE": "1"})
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Result(object):
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def events(self):
        return parse_events(self.stdout)

    def lines(self, level):
        return [line for line in self.stderr.splitlines() if line.startswith(level + " ")]


def run_script(args=(), stdin=b"", env=None, python=None, timeout=RUN_TIMEOUT):
    process = subprocess.run([python or sys.executable, str(SCRIPT)] + list(args), input=stdin,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or script_env(), timeout=timeout)
    return Result(process.returncode, process.stdout, process.stderr.decode("utf-8", "replace"))


def run_input(params, checkpoint_dir, env=None, python=None, **kwargs):
    return run_script(stdin=input_xml(params, checkpoint_dir, **kwargs), env=env, python=python)


_EVENT = re.compile(rb"<event .*?</event>", re.S)


def parse_events(stdout):
    """Every complete <event> splunkd would have received (a killed run's output may end inside
    one), through a real XML parser: [{stanza, time, source, sourcetype, index, data (bytes)}]."""
    events = []
    for match in _EVENT.finditer(stdout):
        element = ElementTree.fromstring(match.group(0))
        event = {"stanza": element.get("stanza")}
        for child in element:
            event[child.tag] = child.text or ""
        event["data"] = event.get("data", "").encode("utf-8")
        events.append(event)
    return events


def parse_stream(stdout):
    """A complete run's output must be one well-formed <stream> document."""
    root = ElementTree.fromstring(stdout)
    assert root.tag == "stream"
    return root


def check_exactly_once(tree, events, source_of):
    """Every record of every log file sent once, byte for byte, with its time, source and sourcetype."""
    from splunk_app.modinput.writer import epoch_text
    received = collections.Counter()
    for event in events:
        received[(event["source"], event["data"])] += 1
        assert event["sourcetype"] == "aws:cloudtrail"
        assert event["stanza"] == "cloudtrail_logs://test"
    expected = collections.Counter({(source_of(key), record): n for (key, record), n in tree.expected.items()})
    assert received == expected
    times = {}
    for key, records in tree.records.items():
        for record in records:
            times[record] = epoch_text(json.loads(record).get("eventTime"))
    for event in events:
        assert event.get("time") == times[event["data"]]


# ---------------------------------------------------------------- S3 on loopback (moto)

def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's standalone server on 127.0.0.1 (installed by packaging/install-deps.sh), for the
    session; it is stopped at the end, and a start that takes more than 30 s fails."""
    executable = shutil.which("moto_server") or os.path.join(os.path.dirname(sys.executable), "moto_server")
    if not os.path.exists(executable):
        raise RuntimeError("moto_server not found: run packaging/install-deps.sh (pip install 'moto[server]')")
    port = _free_port()
    endpoint = "http://127.0.0.1:%d" % port
    process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=script_env())
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError("moto_server did not start on %s" % endpoint)
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class FastBucketServer(object):
    """moto's server in a thread of the test process, whose buckets are filled through moto's
    own S3 backend (tens of thousands of objects in a second, where HTTP puts take minutes); the
    input still talks to it over HTTP on 127.0.0.1, as to moto_endpoint."""

    def __init__(self):
        import logging
        from moto.server import ThreadedMotoServer
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = "http://%s:%d" % (host, port)

    def _backend(self):
        from moto.s3.models import s3_backends
        return s3_backends["123456789012"]["aws"]

    def create(self, bucket, objects=()):
        s3_client(self.endpoint).create_bucket(Bucket=bucket)
        self.put(bucket, objects)

    def put(self, bucket, objects):
        """objects: {key: bytes}, or (key, bytes) pairs."""
        backend = self._backend()
        for key, data in (objects.items() if isinstance(objects, dict) else objects):
            backend.put_object(bucket, key, data)

    def stop(self):
        self._server.stop()


@pytest.fixture(scope="session")
def fast_s3():
    server = FastBucketServer()
    yield server
    server.stop()


def s3_client(endpoint):
    import boto3
    return boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def upload(endpoint, bucket, tree, prefix=""):
    client = s3_client(endpoint)
    client.create_bucket(Bucket=bucket)
    for key, data in tree.objects.items():
        client.put_object(Bucket=bucket, Key=prefix + key, Body=data)
    return client
