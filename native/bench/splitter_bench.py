#!/usr/bin/env python3
"""Record splitter benchmark: the native splitter against json.load + per-record json.dumps.

    python3 native/bench/splitter_bench.py [--mb 64] [--records-per-file 100] [--repeat 3]

Builds CloudTrail log files in memory from the shared records (../shared/data/cloudtrail, or
CTDETECT_SHARED_DATA): compact JSON {"Records":[...]}, gzip level 6 as CloudTrail delivers them.
Then, on the same files, each way turns every file into one JSON text per record:
- native:   gzip.decompress + splunk_app._ctdetect.split_records + a bytes slice per record
            (the text exactly as written: what the modular input sends);
- python:   gzip.decompress + the pure-Python splitter (the fallback);
- baseline: gzip.decompress + json.loads + json.dumps of each record (the Splunk Add-on for AWS's
            way, re-serialising every record).
Prints MB/s of gzip input and MB/s of JSON (decompressed) for each, best of --repeat runs.
Not part of `make test`.
"""
import argparse
import gzip
import json
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
from shared_records import iter_shared_records  # noqa: E402


def shared_records():
    """Every shared record as the bytes a CloudTrail file holds (see tests/shared_records.py)."""
    return [raw.encode("utf-8") for _origin, raw in iter_shared_records()]


def build_files(total_mb, per_file):
    records = shared_records()
    files, size, index = [], 0, 0
    while size < total_mb << 20:
        chunk = [records[(index + i) % len(records)] for i in range(per_file)]
        index += per_file
        document = b'{"Records":[' + b",".join(chunk) + b"]}"
        files.append(gzip.compress(document, 6))
        size += len(document)
    return files, size


def native_way():
    from splunk_app import _ctdetect

    def run(compressed):
        document = gzip.decompress(compressed)
        error, detail, records = _ctdetect.split_records(document)
        if error:
            raise ValueError(detail)
        return [document[offset:offset + length] for offset, length, _t, _n, _r in records]
    return run


def python_way():
    from splunk_app.modinput.pysplitter import split_records

    def run(compressed):
        document = gzip.decompress(compressed)
        return [document[offset:offset + length] for offset, length, _t, _n, _r in split_records(document)]
    return run


def baseline_way(compressed):
    document = json.loads(gzip.decompress(compressed))
    return [json.dumps(record) for record in document["Records"]]


def decompress_only(compressed):
    return gzip.decompress(compressed)


def measure(function, files, repeat):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        count = 0
        for data in files:
            result = function(data)
            count += len(result) if isinstance(result, list) else 1
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64, help="decompressed JSON to build, in MiB (default 64)")
    parser.add_argument("--records-per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files, json_bytes = build_files(args.mb, args.records_per_file)
    gzip_bytes = sum(len(f) for f in files)
    print("corpus: %d files, %d records each, %.1f MiB gzip, %.1f MiB JSON (ratio %.1f)"
          % (len(files), args.records_per_file, gzip_bytes / 2 ** 20, json_bytes / 2 ** 20, json_bytes / gzip_bytes))
    ways = [("native split_records", native_way()), ("pure-Python splitter", python_way()),
            ("json.loads + json.dumps", baseline_way), ("(gzip.decompress alone)", decompress_only)]
    results = {}
    print("%-26s %10s %14s %14s %12s" % ("way", "seconds", "MB/s gzip in", "MB/s JSON", "records/s"))
    for name, function in ways:
        seconds, count = measure(function, files, args.repeat)
        results[name] = seconds
        print("%-26s %10.3f %14.1f %14.1f %12s" % (name, seconds, gzip_bytes / 1e6 / seconds, json_bytes / 1e6 / seconds,
                                                    "%.0f" % (count / seconds) if "alone" not in name else "-"))
    print("native is %.1fx the json.loads + json.dumps way (gzip included); splitting alone (minus "
          "decompression) is %.1fx" % (results["json.loads + json.dumps"] / results["native split_records"],
                                       (results["json.loads + json.dumps"] - results["(gzip.decompress alone)"])
                                       / max(1e-9, results["native split_records"] - results["(gzip.decompress alone)"])))


if __name__ == "__main__":
    main()
