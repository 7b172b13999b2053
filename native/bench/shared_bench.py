"""`make bench-shared`: the command end to end over protocol v2 on the real shared records.

    python3 native/bench/shared_bench.py [--copies 100] [--engine native|python]

The 727 records of ../shared/data/cloudtrail (tests/shared_records.py: NDJSON lines byte for
byte, the Stratus arrays one compact record each) are repeated --copies times in the same order,
so that the run lasts long enough to time (--copies 1 is one chunk of a few milliseconds), and
driven exactly as `make bench` drives the command (run_bench.end_to_end: 50,000-row execute
chunks carrying _raw and the usual Splunk fields; the clock runs from writing each execute
message to reading its whole reply). Files go to build/bench/.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
import run_bench  # noqa: E402
from shared_records import shared_records  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--engine", default="native", choices=("native", "python"))
    options = parser.parse_args(argv)
    if options.copies < 1:
        parser.error("--copies must be at least 1")
    records = [raw for _origin, raw in shared_records()]
    os.makedirs(run_bench.BENCH_DIR, exist_ok=True)
    corpus = os.path.join(run_bench.BENCH_DIR, "shared-x%d.ndjson" % options.copies)
    with open(corpus, "w", encoding="utf-8") as out:
        for _ in range(options.copies):
            for raw in records:
                out.write(raw + "\n")
    events = len(records) * options.copies
    json_mb = os.path.getsize(corpus) / 1e6
    chunks_path, index = run_bench.chunk_file(corpus, events)
    print("shared records: %d x %d copies = %d events, %.1f MB of JSON, %d chunk(s), %s engine"
          % (len(records), options.copies, events, json_mb, len(index), options.engine))
    print("%-34s %10s %12s %10s %11s %8s" % ("run", "events", "events/s", "JSON MB/s", "start-up ms", "peak MB"))
    for label, args in (("extract=true", []), ("extract=false", ["extract=false"])):
        run = run_bench.end_to_end(run_bench.COMMAND, args, chunks_path, index, events,
                                   {"CTDETECT_ENGINE": options.engine})
        print("%-34s %10d %12.0f %10.1f %11.1f %8.1f" % (
            "command end to end, " + label, run["events"], run["events_per_s"],
            run["events_per_s"] * json_mb / events, run["startup_ms"], run["peak_rss_mb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
