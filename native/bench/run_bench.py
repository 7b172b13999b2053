"""`make bench`: every figure of the performance goals, measured in one run on the same data.

    python3 native/bench/run_bench.py [--events 1000000] [--small 100000] [--baseline-events 50000]

- corpus: native/bench/make_corpus.py (deterministic, cached under build/bench/);
- ceilings and the engine in process: build/ctdetect_bench (read, simdjson DOM parse,
  On-Demand eventName, process_body with extract=true and with extract=false);
- end to end: bin/cloudtraildetect.py as a subprocess driven over protocol v2 as splunkd
  drives it (getinfo, 50,000-row execute chunks carrying _raw and the usual Splunk fields),
  extract=true and extract=false, at --small and --events events (linearity);
- the splunklib StreamingCommand baseline (native/bench/baseline_command.py) and the
  pure-Python engine, driven the same way on --baseline-events events (their rate is per
  event, so a smaller run measures it; the table says how many events each row used);
- start-up (process start to getinfo reply) and peak resident memory of the command;
- the protocol floor: native/bench/echo_command.py, which answers each chunk with its body
  unchanged, driven the same way (no command that keeps every field can beat it here).
Prints a table, checks the targets, writes build/bench/results.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402

BENCH_DIR = os.path.join(REPO, "build", "bench")
BENCH_BINARY = os.path.join(REPO, "build", "ctdetect_bench")
COMMAND = os.path.join(REPO, "bin", "cloudtraildetect.py")
BASELINE = os.path.join(HERE, "baseline_command.py")
ECHO = os.path.join(HERE, "echo_command.py")
CHUNK_ROWS = 50000
HEADER = ("_raw,_time,host,index,linecount,source,sourcetype,splunk_server,__mv__raw,__mv__time,__mv_host,"
          "__mv_index,__mv_linecount,__mv_source,__mv_sourcetype,__mv_splunk_server\n")


def _cell(text):
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def chunk_file(corpus, events):
    """The corpus as splunkd's execute bodies, written once: [(offset, length)] of each body."""
    path = corpus + ".chunks"
    index_path = path + ".json"
    if os.path.exists(index_path):
        with open(index_path) as handle:
            return path, json.load(handle)
    index = []
    with open(corpus, encoding="utf-8") as source, open(path, "wb") as out:
        rows = []
        number = 0

        def flush():
            body = (HEADER + "".join(rows)).encode("utf-8")
            index.append([out.tell(), len(body), len(rows)])
            out.write(body)
            rows.clear()

        for line in source:
            raw = line.rstrip("\n")
            rows.append("%s,%d.000,ip-10-0-0-1,aws,1,s3://trail/AWSLogs/111122223333/CloudTrail/x.json.gz,"
                        "aws:cloudtrail,idx1,,,,,,,,\n" % (_cell(raw), 1722500000 + number))
            number += 1
            if len(rows) == CHUNK_ROWS:
                flush()
        if rows:
            flush()
    with open(index_path, "w") as handle:
        json.dump(index, handle)
    return path, index


def _frame(metadata, body=b""):
    meta = json.dumps(metadata).encode("utf-8")
    return b"chunked 1.0,%d,%d\n" % (len(meta), len(body)) + meta + body


class _ReplyBuffer(object):
    """Where the driver reads reply bodies: one buffer reused for every chunk, as splunkd (a C++
    process) reads into buffers it keeps, rather than a new bytes object per reply, whose page
    faults would be charged to whichever command is measured."""

    def __init__(self):
        self.buffer = bytearray()

    def read(self, stream, size):
        if len(self.buffer) < size:
            self.buffer = bytearray(size + size // 4)
        view = memoryview(self.buffer)[:size]
        got = 0
        while got < size:
            count = stream.readinto(view[got:])
            if not count:
                raise RuntimeError("reply ended after %d of %d body bytes" % (got, size))
            got += count
        return view


def _read_reply(stream, into=None):
    header = stream.readline()
    if not header.startswith(b"chunked 1.0,"):
        raise RuntimeError("bad reply header %r" % header[:100])
    meta_length, body_length = (int(part) for part in header[len(b"chunked 1.0,"):].split(b","))
    meta = json.loads(stream.read(meta_length))
    body = into.read(stream, body_length) if into is not None else stream.read(body_length)
    return meta, body


def _peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def end_to_end(script, args, chunks_path, index, limit, env_extra=None, python=None):
    """Drives one command process over protocol v2; returns a dict of figures."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(env_extra or {})
    started = time.perf_counter()
    process = subprocess.Popen([python or sys.executable, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               env=env, cwd="/")
    getinfo = {"action": "getinfo", "preview": False, "searchinfo": {
        "args": args, "raw_args": args, "dispatch_dir": "/tmp", "sid": "bench", "app": "cloudtrail_detect",
        "owner": "admin", "username": "admin", "session_key": "x", "splunkd_uri": "https://127.0.0.1:8089",
        "splunk_version": "9.3.2", "search": "cloudtraildetect", "command": "cloudtraildetect",
        "maxresultrows": CHUNK_ROWS, "earliest_time": "0", "latest_time": "0"}}
    process.stdin.write(_frame(getinfo))
    process.stdin.flush()
    meta, _ = _read_reply(process.stdout)
    ready = time.perf_counter()
    if meta.get("inspector") and any(level == "ERROR" for level, _ in meta["inspector"].get("messages", [])):
        raise RuntimeError("getinfo failed: %r" % meta)
    events = 0
    in_bytes = 0
    out_bytes = 0
    elapsed = 0.0
    # The driver's own reply buffer is allocated (and its pages touched) before the clock runs:
    # what splunkd's memory costs is not the command's. Replies are up to ~3 x their chunk.
    replies = _ReplyBuffer()
    replies.buffer = bytearray(3 * max(length for _, length, _ in index))
    with open(chunks_path, "rb") as source:
        for offset, length, rows in index:
            if events >= limit:
                break
            source.seek(offset)
            body = source.read(length)  # read before the clock starts: splunkd has it in memory
            message = _frame({"action": "execute", "finished": False}, body)
            begin = time.perf_counter()
            process.stdin.write(message)
            process.stdin.flush()
            reply_meta, reply_body = _read_reply(process.stdout, replies)
            elapsed += time.perf_counter() - begin
            if reply_meta.get("inspector"):
                raise RuntimeError("execute failed: %r" % reply_meta)
            events += rows
            in_bytes += length
            out_bytes += len(reply_body)
    peak = _peak_rss_mb(process.pid)
    process.stdin.write(_frame({"action": "execute", "finished": True}, b""))
    process.stdin.flush()
    try:
        _read_reply(process.stdout)
    except RuntimeError:
        pass
    process.stdin.close()
    process.wait(timeout=60)
    return {"events": events, "seconds": elapsed, "events_per_s": events / elapsed, "startup_ms": (ready - started) * 1000,
            "peak_rss_mb": peak, "in_mb": in_bytes / 1e6, "out_mb": out_bytes / 1e6}


def in_process(corpus, measures):
    output = subprocess.run([BENCH_BINARY, "--corpus", corpus, "--conf", os.path.join(REPO, "default",
                             "cloudtrail_detections.conf"), "--lookups", os.path.join(REPO, "lookups")] +
                            [item for measure in measures for item in ("--measure", measure)],
                            capture_output=True, text=True, check=True).stdout
    return {entry["measure"]: entry for entry in (json.loads(line) for line in output.splitlines() if line.strip())}


def baseline_python():
    """A virtual environment with splunk-sdk for the baseline command (bench-only)."""
    venv = os.path.join(BENCH_DIR, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    if subprocess.run([python, "-c", "import splunklib"], capture_output=True).returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "splunk-sdk"], check=True)
    return python


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000000)
    parser.add_argument("--small", type=int, default=100000)
    parser.add_argument("--baseline-events", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    if not os.path.exists(BENCH_BINARY):
        sys.exit("run_bench: %s is missing (make bench builds it)" % BENCH_BINARY)

    corpus = make_corpus.ensure(BENCH_DIR, options.events, options.seed)
    corpus_bytes = os.path.getsize(corpus)
    chunks_path, index = chunk_file(corpus, options.events)
    json_mb = corpus_bytes / 1e6
    results = {"machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}, "events": options.events,
               "corpus_mb": json_mb, "rows": []}

    def add(name, events, events_per_s, mb_per_s=None, extra=None):
        row = {"measure": name, "events": events, "events_per_s": events_per_s, "json_mb_per_s": mb_per_s}
        row.update(extra or {})
        results["rows"].append(row)
        print("%-44s %10d %14.0f %12s %s" % (name, events, events_per_s, "%.0f" % mb_per_s if mb_per_s else "",
                                              json.dumps(extra) if extra else ""))
        sys.stdout.flush()

    per_event_mb = json_mb / options.events
    print("corpus: %d events, %.0f MB of JSON (%.0f bytes per event)\n" % (options.events, json_mb, corpus_bytes / options.events))
    print("%-44s %10s %14s %12s" % ("measure", "events", "events/s", "JSON MB/s"))
    figures = in_process(corpus, ["read", "dom", "ondemand", "extract", "detect"])
    names = {"read": "read the corpus (page cache)", "dom": "ceiling: simdjson DOM parse only",
             "ondemand_eventname": "simdjson On-Demand, eventName only",
             "engine_extract": "engine in process, extract + detections",
             "engine_detect_only": "engine in process, detections only"}
    for key, label in names.items():
        entry = figures[key]
        add(label, entry["events_per_s"] * entry["seconds"], entry["events_per_s"], entry["json_mb_per_s"])
    dom_mb = figures["dom"]["json_mb_per_s"]

    runs = {}
    for label, args, limit in [("command end to end, extract=true", [], options.events),
                               ("command end to end, extract=false", ["extract=false"], options.events),
                               ("command end to end, extract=true (small)", [], options.small),
                               ("command end to end, extract=false (small)", ["extract=false"], options.small)]:
        run = end_to_end(COMMAND, args, chunks_path, index, limit, {"CTDETECT_ENGINE": "native"})
        runs[label] = run
        add(label, run["events"], run["events_per_s"], run["events_per_s"] * per_event_mb,
            {"startup_ms": round(run["startup_ms"], 1), "peak_rss_mb": round(run["peak_rss_mb"], 1)})
    echo = end_to_end(ECHO, [], chunks_path, index, options.events)
    add("protocol floor: echo command, no work", echo["events"], echo["events_per_s"],
        echo["events_per_s"] * per_event_mb)
    python_run = end_to_end(COMMAND, [], chunks_path, index, options.baseline_events, {"CTDETECT_ENGINE": "python"})
    add("pure-Python engine end to end", python_run["events"], python_run["events_per_s"],
        python_run["events_per_s"] * per_event_mb)
    baseline = end_to_end(BASELINE, [], chunks_path, index, options.baseline_events, python=baseline_python())
    add("baseline: splunklib StreamingCommand", baseline["events"], baseline["events_per_s"],
        baseline["events_per_s"] * per_event_mb)

    full_true = runs["command end to end, extract=true"]
    full_false = runs["command end to end, extract=false"]
    small_true = runs["command end to end, extract=true (small)"]
    chunk_mb = max(length for _, length, _ in index) / 1e6
    checks = [
        ("extract=true >= 30x baseline", full_true["events_per_s"] / baseline["events_per_s"], 30),
        ("extract=false >= 60x baseline", full_false["events_per_s"] / baseline["events_per_s"], 60),
        ("extract=false >= 25% of DOM parse MB/s", full_false["events_per_s"] * per_event_mb / dom_mb, 0.25),
        ("start-up to getinfo < 100 ms", 100.0 / max(run["startup_ms"] for run in runs.values()), 1.0),
        ("peak memory < 3 x chunk + 50 MB", (3 * chunk_mb + 50) / max(run["peak_rss_mb"] for run in runs.values()), 1.0),
        ("linear: 100k and 1M rates within 15%", 1 - abs(small_true["events_per_s"] / full_true["events_per_s"] - 1), 0.85),
    ]
    print("\n%-44s %10s %10s %s" % ("target", "measured", "needed", ""))
    results["targets"] = []
    for name, value, needed in checks:
        passed = value >= needed
        results["targets"].append({"target": name, "value": value, "needed": needed, "passed": passed})
        print("%-44s %10.2f %10.2f %s" % (name, value, needed, "ok" if passed else "MISSED"))
    # Not targets: where the 25% goal sits against what the protocol itself allows here.
    floor_share = echo["events_per_s"] * per_event_mb / dom_mb
    results["context"] = {"echo_floor_vs_dom": floor_share,
                          "extract_false_vs_echo_floor": full_false["events_per_s"] / echo["events_per_s"]}
    print("\n%-44s %10.2f" % ("echo floor vs DOM parse MB/s", floor_share))
    print("%-44s %10.2f" % ("extract=false vs echo floor", results["context"]["extract_false_vs_echo_floor"]))
    with open(os.path.join(BENCH_DIR, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    print("\nwritten: %s" % os.path.join(BENCH_DIR, "results.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
