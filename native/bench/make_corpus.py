"""Deterministic benchmark corpus: realistic CloudTrail records at any scale.

Every record is one of the 727 real shapes of ../shared/data/cloudtrail with its identifying
values varied (eventID, requestID, eventTime, sourceIPAddress, user names and ARNs, access
keys, account ids), picked with a weighting that resembles a real trail (read-only calls and
AssumeRole dominate). Sizes run from about 0.5 KB to 200 KB: a small share of records carry a
large policy document or a long list of items, as RunInstances, PutBucketPolicy and
Describe* responses do. Same arguments, same bytes.

    python3 native/bench/make_corpus.py --events 1000000 --seed 7 --out build/bench/corpus.ndjson
"""
import argparse
import json
import os
import random
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests"))
from shared_records import shared_records  # noqa: E402

VERSION = 2  # bump when the output for given arguments changes
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ci-pipeline",
         "terraform", "backup-job", "data-eng", "sec-audit"]
# The shared records come from attack simulations whose user agents mark them as such
# (stratus-red-team_..., Grimoire); a production trail carries ordinary clients.
USER_AGENTS = ["aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.ls",
               "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.11.6 cfg/retry-mode#legacy Botocore/1.34.69",
               "AWS Internal", "console.amazonaws.com",
               "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.4",
               "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0",
               "aws-sdk-java/2.25.16 Linux/5.10.213 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc.",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36"]
ACCOUNTS = ["111122223333", "444455556666", "777788889999", "123456789012"]


def _weight(record):
    name = record.get("eventName", "")
    if name.startswith(("Describe", "List", "Get", "Lookup")) or record.get("readOnly") is True:
        return 6
    if name in ("AssumeRole", "AssumeRoleWithSAML", "GenerateDataKey", "Decrypt", "ConsoleLogin"):
        return 8
    return 1


def _vary(record, rng, index, base_time):
    record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if "requestID" in record:
        record["requestID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    seconds = base_time + index // 20
    record["eventTime"] = "2024-%02d-%02dT%02d:%02d:%02dZ" % (
        1 + (seconds // 2592000) % 12, 1 + (seconds // 86400) % 28, (seconds // 3600) % 24, (seconds // 60) % 60,
        seconds % 60)
    source = record.get("sourceIPAddress", "")
    if source and not source.endswith("amazonaws.com") and source != "AWS Internal":
        record["sourceIPAddress"] = "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                                                     rng.randint(1, 254))
    agent = record.get("userAgent", "")
    if isinstance(agent, str) and ("stratus-red-team" in agent or "grimoire" in agent):
        record["userAgent"] = rng.choice(USER_AGENTS)
    account = rng.choice(ACCOUNTS)
    record["recipientAccountId"] = account
    identity = record.get("userIdentity")
    if isinstance(identity, dict):
        user = rng.choice(USERS)
        identity["accountId"] = account
        if "userName" in identity:
            identity["userName"] = user
        if identity.get("type") == "IAMUser":
            identity["arn"] = "arn:aws:iam::%s:user/%s" % (account, user)
        if "accessKeyId" in identity:
            identity["accessKeyId"] = "AKIA%016X" % rng.getrandbits(64)


def _inflate(record, rng, target):
    """Make the record about `target` bytes with a realistic large member."""
    parameters = record.get("requestParameters")
    if not isinstance(parameters, dict):
        parameters = {}
        record["requestParameters"] = parameters
    if rng.random() < 0.5:
        statements, size = [], 0
        while size < target:
            statements.append({"Sid": "Stmt%d" % len(statements), "Effect": rng.choice(["Allow", "Deny"]),
                               "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"][: rng.randint(1, 3)],
                               "Resource": "arn:aws:s3:::bucket-%d/*" % rng.randint(0, 10 ** 6),
                               "Principal": {"AWS": "arn:aws:iam::%s:root" % rng.choice(ACCOUNTS)}})
            size += len(json.dumps(statements[-1])) + 1
        parameters["policy"] = json.dumps({"Version": "2012-10-17", "Statement": statements})
    else:
        items, size = [], 0
        while size < target:
            items.append({"instanceId": "i-%017x" % rng.getrandbits(68), "instanceType": rng.choice(
                ["t3.micro", "m5.large", "c6g.xlarge", "r6i.2xlarge"]), "privateIpAddress": "10.%d.%d.%d" % (
                rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)), "tagSet": {"items": [
                    {"key": "Name", "value": "node-%d" % rng.randint(0, 9999)}]}})
            size += len(json.dumps(items[-1])) + 1
        record.setdefault("responseElements", {})
        if not isinstance(record["responseElements"], dict):
            record["responseElements"] = {}
        record["responseElements"]["instancesSet"] = {"items": items}


def generate(events, seed, out):
    rng = random.Random(seed)
    templates = [raw for _origin, raw in shared_records()]
    parsed = [json.loads(raw) for raw in templates]
    weights = [_weight(record) for record in parsed]
    chosen = rng.choices(range(len(templates)), weights=weights, k=events)
    base_time = 1704067200 % (86400 * 28)
    written = 0
    with open(out + ".tmp", "w", encoding="utf-8") as handle:
        for index, template in enumerate(chosen):
            record = json.loads(templates[template])
            _vary(record, rng, index, base_time)
            roll = rng.random()
            if roll < 0.001:
                _inflate(record, rng, rng.randint(100000, 200000))
            elif roll < 0.011:
                _inflate(record, rng, rng.randint(8000, 40000))
            elif roll < 0.05:
                record.pop("tlsDetails", None)
                record.pop("responseElements", None)
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            handle.write(line)
            handle.write("\n")
            written += len(line) + 1
    os.replace(out + ".tmp", out)
    return written


def corpus_path(folder, events, seed):
    return os.path.join(folder, "corpus-v%d-%d-%d.ndjson" % (VERSION, events, seed))


def ensure(folder, events, seed):
    """The corpus file for these arguments, generated once and reused."""
    os.makedirs(folder, exist_ok=True)
    path = corpus_path(folder, events, seed)
    if not os.path.exists(path):
        generate(events, seed, path)
    return path


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    options = parser.parse_args(argv)
    size = generate(options.events, options.seed, options.out)
    print("%s: %d events, %.1f MB, %.0f bytes per event" % (options.out, options.events, size / 1e6,
                                                              size / options.events))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
