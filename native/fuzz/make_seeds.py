#!/usr/bin/env python3
"""Seed corpora of the fuzz targets, generated from the shared data (never copied into the repo).

    python3 native/fuzz/make_seeds.py [--data ../shared/data] [--out build-fuzz/seeds]

Writes <out>/<target>/<n> for flatten_fuzzer (CloudTrail records), chunk_fuzzer (execute bodies
from the splunkd recordings and bodies of CloudTrail records, behind the option byte),
condition_fuzzer (every condition of default/cloudtrail_detections.conf), splitter_fuzzer
(CloudTrail log files {"Records":[...]}, as the modular input gets them once gunzipped) and
protocol_fuzzer (the recorded splunkd input streams, bodies shortened). Seeds are kept small
(the targets run with -max_len), so each fuzzer reaches millions of executions in minutes.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SEED = 4096


def records(data):
    out = []
    for path in sorted(glob.glob(os.path.join(data, "cloudtrail", "stratus-red-team", "*.json"))):
        with open(path, "rb") as f:
            out.extend(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") for r in json.load(f))
    for path in sorted(glob.glob(os.path.join(data, "cloudtrail", "*.ndjson"))):
        with open(path, "rb") as f:
            out.extend(line.rstrip(b"\r\n") for line in f if line.strip())
    return out


def csv_cell(value):
    if any(c in value for c in b',"\r\n'):
        return b'"' + value.replace(b'"', b'""') + b'"'
    return value


def frames(stream):
    """(header line, metadata, body) of each message of a recorded protocol v2 stream."""
    pos = 0
    while pos < len(stream):
        end = stream.find(b"\n", pos)
        m = re.match(rb"chunked 1\.0,(\d+),(\d+)$", stream[pos:end]) if end >= 0 else None
        if m is None:  # trailing bytes after the last message
            return
        meta_len, body_len = int(m.group(1)), int(m.group(2))
        meta = stream[end + 1:end + 1 + meta_len]
        body = stream[end + 1 + meta_len:end + 1 + meta_len + body_len]
        yield meta, body
        pos = end + 1 + meta_len + body_len


def first_rows(body, limit):
    """The header and as many whole lines of a CSV body as fit in `limit` bytes."""
    lines = body.split(b"\n")
    out = lines[0] + b"\n"
    for line in lines[1:]:
        if len(out) + len(line) + 1 > limit:
            break
        out += line + b"\n"
    return out


def conditions(conf_path):
    out = []
    with open(conf_path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", "\n")
    # A condition runs from "condition =" to the next line that starts a key or a stanza.
    for m in re.finditer(r"^condition\s*=\s*(.*?)(?=^\S|\Z)", text, re.S | re.M):
        out.append(m.group(1).strip().encode("utf-8"))
    return out


HAND_CONDITIONS = [
    b'eventName=ConsoleLogin userIdentity.type IN (IAMUser, Root) NOT additionalEventData.MFAUsed=Yes',
    b'any(requestParameters.ipPermissions.items{}, portrange(22, fromPort, toPort, ipProtocol) '
    b'AND ipRanges.items{}.cidrIp="0.0.0.0/0")',
    b'cidrmatch("10.0.0.0/8", sourceIPAddress) OR cidrlookup("known_attacker_ips", sourceIPAddress)',
    b"'weird key'=v* AND responseElements.n>=1.5 AND responseElements.n<2 AND a.b!=x",
    b'userAgent="*kali*" OR userAgent=*\\** OR userAgent="a\\"b"',
    b'any(nested{}, any(nested{}{}, nested{}{}{}=4))',
    b'(((eventName=A OR eventName=B) AND NOT (readOnly=true)))',
]


def write(out_dir, target, seeds):
    folder = os.path.join(out_dir, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    kept = 0
    for seed in seeds:
        if len(seed) > MAX_SEED:
            continue
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(seed)
        kept += 1
    print("make_seeds: %-17s %4d seeds" % (target, kept))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("CTDETECT_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data")))
    parser.add_argument("--out", default=os.path.join(ROOT, "build-fuzz", "seeds"))
    args = parser.parse_args()
    recordings = sorted(glob.glob(os.path.join(args.data, "splunkd-recordings", "*", "*.input.gz")))
    if not recordings or not glob.glob(os.path.join(args.data, "cloudtrail", "*.ndjson")):
        raise SystemExit("make_seeds: no shared data in %s (set CTDETECT_SHARED_DATA)" % args.data)

    recs = records(args.data)
    write(args.out, "flatten_fuzzer", recs + [b"", b" ", b"[]", b"{}", b'{"a":[]}', b"null", b"{\"x\":1e999}"])

    small = [r for r in recs if len(r) < 1200]
    chunk = []
    streams = []
    for path in recordings:
        with gzip.open(path, "rb") as f:
            stream = f.read()
        streams.append(stream)
        for meta, body in frames(stream):
            if body:
                chunk.append(b"\x00" + first_rows(body, 1500))
    for i in range(0, min(len(small), 120), 3):
        rows = small[i:i + 3]
        chunk.append(b"\x00_time,_raw,host\n" + b"".join(b"1,%s,h\n" % csv_cell(r) for r in rows))
        chunk.append(b"\x01raw,__mv_raw,detection\n" + b"".join(b"%s,,x\n" % csv_cell(r) for r in rows[:1]))
    chunk += [b"\x00_raw\n\n", b"\x00_raw,a\r\n\"{}\",1\r\n\r\n", b'\x02a\x01"b"\x01c,d\x01\r\n\x01']
    write(args.out, "chunk_fuzzer", chunk)

    write(args.out, "condition_fuzzer", conditions(os.path.join(ROOT, "default", "cloudtrail_detections.conf")) + HAND_CONDITIONS)

    logs = []
    for path in sorted(glob.glob(os.path.join(args.data, "cloudtrail", "stratus-red-team", "*.json"))):
        with open(path, "rb") as f:
            batch = [json.dumps(r, separators=(",", ":")).encode() for r in json.load(f)]
        for i in range(0, len(batch), 2):
            logs.append(b'{"Records":[' + b",".join(batch[i:i + 2]) + b"]}")
    logs += [b'{"Records":[]}', b'{"Records":[1,"x",[2],{"eventName":"A","readOnly":true}]}',
             b'{"Digest":1}', b'{"Records":{}}', b'{"Records":[ {} , [ ] ]}\n', b""]
    write(args.out, "splitter_fuzzer", logs)

    protocol = []
    for stream in streams:
        short = b""
        for meta, body in frames(stream):
            body = first_rows(body, 600) if body else b""
            short += b"chunked 1.0,%d,%d\n" % (len(meta), len(body)) + meta + body
        protocol.append(short[:MAX_SEED])
    protocol += [b"", b"chunked 1.0,2,0\n{}", b"chunked 1.0,0,0\n", b"chunked 1.0,2,3\n{}abc", b"chunked 2.0,1,1\n"]
    write(args.out, "protocol_fuzzer", protocol)


if __name__ == "__main__":
    main()
