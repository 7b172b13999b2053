"""kill -9 at random points while the input reads, restarted until a run finishes: nothing is
lost, and each kill re-sends at most one batch."""
import collections
import random
import subprocess
import sys
import time

from modinput_support import SCRIPT, build_tree, input_xml, parse_events, script_env, upload

BATCH = 50


def _run_killed_until_done(tmp_path, params, env, rng, delays, max_kills):
    """Run the input with stdout in a file (what splunkd received), kill -9 it at a random
    moment, until a run ends by itself. Returns ([events of each run], kills)."""
    runs, kills = [], 0
    stdin = input_xml(params, tmp_path / "cp")
    for attempt in range(max_kills + 20):
        out_path = tmp_path / ("out-%d" % attempt)
        with open(out_path, "wb") as out, open(tmp_path / ("err-%d" % attempt), "wb") as err:
            process = subprocess.Popen([sys.executable, str(SCRIPT)], stdin=subprocess.PIPE, stdout=out, stderr=err,
                                       env=env)
            process.stdin.write(stdin)
            process.stdin.close()
            if kills < max_kills:
                # Mostly while sending (a random moment after the first events are out), sometimes
                # at any moment from the start (start-up, listing, the first read).
                if rng.random() < 0.8:
                    deadline = time.time() + 30
                    while (out_path.stat().st_size <= len(b"<stream>\n") and process.poll() is None
                           and time.time() < deadline):
                        time.sleep(0.005)
                try:
                    process.wait(rng.uniform(*delays))
                except subprocess.TimeoutExpired:
                    process.kill()  # SIGKILL
                    kills += 1
            returncode = process.wait(120)
        runs.append(parse_events(out_path.read_bytes()))
        if returncode == 0:
            return runs, kills
        assert returncode == -9, (tmp_path / ("err-%d" % attempt)).read_text()
    raise AssertionError("the input never finished")


def _check(tree, runs, kills, source_of):
    received = collections.Counter()
    for events in runs:
        received.update((e["source"], e["data"]) for e in events)
    expected = collections.Counter({(source_of(key), record): n for (key, record), n in tree.expected.items()})
    # Nothing lost: every record of every file arrived at least as often as it is in the files.
    assert not (expected - received), "lost: %d events" % sum((expected - received).values())
    assert set(received) == set(expected)
    duplicates = sum((received - expected).values())
    assert duplicates <= kills * BATCH
    # Per kill: what a killed run sent and a later run sent again is at most one batch.
    for index, events in enumerate(runs[:-1]):
        later = collections.Counter()
        for other in runs[index + 1:]:
            later.update((e["source"], e["data"]) for e in other)
        mine = collections.Counter((e["source"], e["data"]) for e in events)
        assert sum((mine & later).values()) <= BATCH
    # The eventIDs (the shared records hold duplicate ids: compare multisets against the source).
    def ids(counter):
        out = collections.Counter()
        for (_source, raw), n in counter.items():
            out[raw] += n
        return out
    assert not (ids(expected) - ids(received))
    return duplicates


def test_kill_local_folder(tmp_path, shared_data):
    tree = build_tree(shared_data, copies=12, seed=11, records_per_file=40)
    folder = tree.write_to(tmp_path / "logs")
    rng = random.Random(20240501)
    started = time.time()
    runs, kills = _run_killed_until_done(tmp_path, {"local_folder": str(folder), "batch_size": str(BATCH)},
                                         script_env(), rng, (0.0, 0.15), max_kills=15)
    duplicates = _check(tree, runs, kills, lambda key: str(folder / key))
    assert kills >= 5
    assert sum(1 for events in runs[:-1] if events) >= 3  # killed while sending, not only at start-up
    sys.stderr.write("local kill -9: %d kills, %d events, %d re-sent (bound %d), %.1fs\n"
                     % (kills, sum(tree.expected.values()), duplicates, kills * BATCH, time.time() - started))


def test_kill_s3(tmp_path, shared_data, moto_endpoint):
    tree = build_tree(shared_data, copies=2, seed=12, records_per_file=30)
    upload(moto_endpoint, "kill-bucket", tree)
    rng = random.Random(7)
    params = {"s3_bucket": "kill-bucket", "s3_endpoint_url": moto_endpoint, "batch_size": str(BATCH)}
    runs, kills = _run_killed_until_done(tmp_path, params, script_env(), rng, (0.0, 0.4), max_kills=6)
    duplicates = _check(tree, runs, kills, lambda key: "s3://kill-bucket/%s" % key)
    assert kills >= 3
    assert sum(1 for events in runs[:-1] if events) >= 1
    sys.stderr.write("s3 kill -9: %d kills, %d re-sent (bound %d)\n" % (kills, duplicates, kills * BATCH))


# Runs the input in a process that kills itself (SIGKILL) right after its k-th flush to splunkd:
# the batch is out, its checkpoint is not written yet, the worst moment for duplicates.
_KILL_AFTER_FLUSH = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from splunk_app.modinput.run import main

class Out(object):
    def __init__(self, raw, k):
        self.raw, self.k, self.flushes = raw, k, 0
    def write(self, data):
        return self.raw.write(data)
    def flush(self):
        self.raw.flush()
        self.flushes += 1
        if self.flushes == self.k:
            os.kill(os.getpid(), signal.SIGKILL)

sys.exit(main([], sys.stdin.buffer, Out(sys.stdout.buffer, int(sys.argv[2])), sys.stderr, os.environ))
"""


def test_kill_right_after_a_flush_resends_exactly_that_batch(tmp_path, shared_data):
    from modinput_support import REPO
    tree = build_tree(shared_data, copies=1, seed=13, records_per_file=120, with_junk=False)
    folder = tree.write_to(tmp_path / "logs")
    stdin = input_xml({"local_folder": str(folder), "batch_size": str(BATCH)}, tmp_path / "cp")
    runs = []
    for k in (2, 4, 7, 3):
        process = subprocess.run([sys.executable, "-c", _KILL_AFTER_FLUSH, str(REPO), str(k)], input=stdin,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=script_env(), timeout=60)
        assert process.returncode == -9, process.stderr
        runs.append(parse_events(process.stdout))
    final = subprocess.run([sys.executable, str(SCRIPT)], input=stdin, stdout=subprocess.PIPE, env=script_env(),
                           timeout=60)
    assert final.returncode == 0
    runs.append(parse_events(final.stdout))
    duplicates = _check(tree, runs, 4, lambda key: str(folder / key))
    # Each kill re-sends the batch it had just flushed: duplicates happen, and stay within the bound.
    assert 4 <= duplicates <= 4 * BATCH
    sys.stderr.write("kill right after a flush: 4 kills, %d re-sent (bound %d)\n" % (duplicates, 4 * BATCH))
