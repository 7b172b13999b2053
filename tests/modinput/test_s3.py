"""The input over a real S3 API on loopback (moto's server): the realistic bucket, the credential
store, role assumption and a prefix."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from modinput_support import REPO, check_exactly_once, parse_stream, run_input, script_env, upload


@pytest.fixture(scope="module")
def bucket(moto_endpoint, log_tree):
    upload(moto_endpoint, "cloudtrail-logs", log_tree)
    upload(moto_endpoint, "prefixed-logs", log_tree, prefix="org/")
    return "cloudtrail-logs"


def test_s3_bucket_every_record_once(tmp_path, moto_endpoint, bucket, log_tree):
    params = {"s3_bucket": bucket, "s3_endpoint_url": moto_endpoint, "aws_region": "us-east-1", "batch_size": "100"}
    result = run_input(params, tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    parse_stream(result.stdout)
    check_exactly_once(log_tree, result.events(), lambda key: "s3://%s/%s" % (bucket, key))
    errors = result.lines("ERROR")
    assert sorted(line.split(": ")[1] for line in errors) == sorted("s3://%s/%s" % (bucket, k) for k in log_tree.bad)
    again = run_input(params, tmp_path / "cp")
    assert again.returncode == 0 and again.events() == [] and not again.lines("ERROR")


def test_s3_prefix_and_assumed_role(tmp_path, moto_endpoint, bucket, log_tree):
    params = {"s3_bucket": "prefixed-logs", "s3_prefix": "org/AWSLogs/", "s3_endpoint_url": moto_endpoint,
              "aws_role_arn": "arn:aws:iam::123456789012:role/cloudtrail-reader"}
    result = run_input(params, tmp_path / "cp", env=script_env({"AWS_ENDPOINT_URL_STS": moto_endpoint}))
    assert result.returncode == 0, result.stderr
    check_exactly_once(log_tree, result.events(), lambda key: "s3://prefixed-logs/org/%s" % key)


class _FakeSplunkd(BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):
        _FakeSplunkd.requests.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != "Splunk good-key":
            self.send_response(401)
            self.end_headers()
            return
        entries = [{"content": {"realm": "other", "username": "AKIAEXAMPLEEXAMPLE01", "clear_password": "wrong"}},
                   {"content": {"realm": "cloudtrail_detect", "username": "AKIAEXAMPLEEXAMPLE01",
                                "clear_password": "secret-from-the-store"}}]
        body = json.dumps({"entry": entries}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def splunkd():
    server = HTTPServer(("127.0.0.1", 0), _FakeSplunkd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeSplunkd.requests = []
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_access_key_secret_comes_from_the_credential_store(tmp_path, moto_endpoint, bucket, log_tree, splunkd):
    params = {"s3_bucket": bucket, "s3_endpoint_url": moto_endpoint, "aws_access_key_id": "AKIAEXAMPLEEXAMPLE01"}
    env = script_env({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    result = run_input(params, tmp_path / "cp", env=env, server_uri=splunkd, session_key="good-key")
    assert result.returncode == 0, result.stderr
    check_exactly_once(log_tree, result.events(), lambda key: "s3://%s/%s" % (bucket, key))
    # Neither the stored secret nor the session key appears in the output, the log or a checkpoint.
    checkpoints = b"".join(path.read_bytes() for path in (tmp_path / "cp").rglob("*") if path.is_file())
    for secret in ("secret-from-the-store", "good-key"):
        assert secret not in result.stderr and secret.encode() not in result.stdout
        assert secret.encode() not in checkpoints
    app = os.path.basename(str(REPO))
    assert _FakeSplunkd.requests[0][0].startswith("/servicesNS/nobody/%s/storage/passwords?" % app)
    # A session key splunkd does not accept: the run stops with an error, and sends nothing.
    refused = run_input(params, tmp_path / "cp2", env=env, server_uri=splunkd, session_key="bad-key")
    assert refused.returncode == 1 and refused.events() == []
    assert "storage/passwords answered HTTP 401" in refused.stderr


def test_huge_file_from_s3(tmp_path, moto_endpoint, huge_log):
    """The 50 MiB (7.2 MiB gzip) log file of test_local.test_huge_file, read through the S3 API:
    every record byte for byte, source s3://<bucket>/<key>."""
    from modinput_support import HUGE_KEY, s3_client
    client = s3_client(moto_endpoint)
    client.create_bucket(Bucket="huge-logs")
    client.put_object(Bucket="huge-logs", Key=HUGE_KEY, Body=huge_log.compressed)
    result = run_input({"s3_bucket": "huge-logs", "s3_endpoint_url": moto_endpoint, "batch_size": "2000"},
                       tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    events = result.events()
    assert len(events) == len(huge_log.records)
    assert events[0]["data"] == huge_log.big
    assert [e["data"] for e in events] == huge_log.records
    assert {e["source"] for e in events} == {"s3://huge-logs/" + HUGE_KEY}


def test_missing_bucket_is_an_error(tmp_path, moto_endpoint):
    result = run_input({"s3_bucket": "no-such-bucket", "s3_endpoint_url": moto_endpoint}, tmp_path / "cp")
    assert result.returncode == 1
    assert "cannot list s3://no-such-bucket/" in result.stderr
    parse_stream(result.stdout)
