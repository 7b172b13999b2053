"""First end-to-end throughput figure: `| cloudtraildetect` driven over protocol v2 like splunkd.

The 727 shared CloudTrail records are repeated to --events rows, sent as --chunk-size row
execute chunks carrying `_raw` and the usual Splunk fields, and the command's wall time from
the first execute to the last reply is measured (start-up and getinfo excluded, reported
apart). Each engine and extract setting runs in the same invocation, so their ratios compare.
The benchmark suite proper (`make bench`, a generated corpus, the splunklib baseline) is a
separate piece of work; this is the quick figure for the command as built.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import splunkd  # noqa: E402
from shared_records import shared_records  # noqa: E402


def _chunks(events, chunk_size):
    records = shared_records()
    rows = []
    for index in range(events):
        origin, raw = records[index % len(records)]
        rows.append({"_raw": raw, "_time": "%.3f" % (1722500000 + index), "host": "ip-10-0-0-1",
                     "source": origin.split("#")[0], "sourcetype": "aws:cloudtrail", "index": "aws",
                     "linecount": "1", "splunk_server": "idx1"})
    return [splunkd.encode_csv(rows[i:i + chunk_size]) for i in range(0, len(rows), chunk_size)]


def measure(engine, args, bodies):
    env = {"CTDETECT_ENGINE": engine}
    proc = splunkd.CommandProcess(env=splunkd.command_env(env))
    try:
        started = time.perf_counter()
        proc.send(splunkd.frame(splunkd.getinfo_metadata(args)))
        getinfo = proc.read_reply()
        ready = time.perf_counter()
        assert getinfo is not None and not getinfo.errors(), getinfo
        replies = []
        for index, body in enumerate(bodies):
            proc.send(splunkd.frame({"action": "execute", "finished": index == len(bodies) - 1}, body))
            reply = proc.read_reply(timeout=600)
            assert reply is not None and not reply.meta.get("inspector"), reply
            replies.append(reply)
        done = time.perf_counter()
        # Decoding ~200 MB of wide CSV in Python would dwarf the command; check one reply only.
        rows_out = len(replies[-1].table.rows)
        proc.close_stdin()
        proc.wait()
    finally:
        proc.kill()
    return ready - started, done - ready, rows_out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--chunk-size", type=int, default=50000)
    parser.add_argument("--python-events", type=int, default=20000, help="events for the slower pure-Python engine")
    options = parser.parse_args(argv)
    bodies = _chunks(options.events, options.chunk_size)
    python_bodies = _chunks(options.python_events, options.chunk_size)
    megabytes = sum(len(body) for body in bodies) / 1e6
    print("%d events (%.1f MB of CSV) in %d chunks of up to %d rows" % (options.events, megabytes, len(bodies), options.chunk_size))
    print("%-8s %-14s %10s %12s %12s" % ("engine", "options", "events", "events/s", "startup ms"))
    for engine, args, data, count in [("native", [], bodies, options.events),
                                      ("native", ["extract=false"], bodies, options.events),
                                      ("native", ["only_detections=true"], bodies, options.events),
                                      ("python", [], python_bodies, options.python_events)]:
        startup, elapsed, rows_out = measure(engine, args, data)
        print("%-8s %-14s %10d %12.0f %12.1f" % (engine, " ".join(args) or "(defaults)", count, count / elapsed,
                                               startup * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
