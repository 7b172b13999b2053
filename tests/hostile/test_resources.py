"""Memory and start-up cost under hostile input, measured on the real command (native engine).

Peak memory is the process's own high-water mark (VmHWM from /proc, read after the last reply),
never a timing. Bounds are multiples of the largest chunk plus 50 MB for the interpreter, the
module and the detections (~30 MB measured). No test here is timed: the start-up comparison
prints its figures and asserts a count instead.
"""
import os
import re
import time

import splunkd
from shared_records import shared_records

from .conftest import GOOD_RECORD, make_conf_dir, run_measured

MB = 1000 * 1000
BASE = 50 * MB


def _big_event(size):
    return '{"eventName":"ConsoleLogin","sourceIPAddress":"203.0.113.9","big":"' + "x" * size + '"}'


def test_a_100_mb_event(native_env):
    """Handled without the process dying; passed through whole; memory a small multiple of it."""
    raw = _big_event(100 * MB)
    body = splunkd.encode_csv([{"_raw": raw, "host": "big"}, {"_raw": GOOD_RECORD, "host": "good"}])
    after = splunkd.encode_csv([{"_raw": GOOD_RECORD, "host": "next"}])
    # Measured on the development machine: ~420 MB (extract=false), ~620 MB (extract=true) for
    # this 100 MB chunk: the chunk, its unquoted copy, simdjson's string copy, the reply (which
    # holds _raw again, and `big` a third time with extract=true).
    for args, factor in ((["extract=false"], 5), ([], 7)):
        code, getinfo, replies, stderr, peak = run_measured(args, [body, after], native_env)
        assert code == 0 and getinfo.errors() == [], stderr
        table = replies[0].table
        assert [row["host"] for row in table.rows] == ["big", "good"]
        assert table.rows[0]["_raw"] == raw
        assert table.rows[0]["detection"] == ["hostile_console_login", "hostile_known_attacker_ip"]
        if not args:
            assert len(table.rows[0]["big"]) == 100 * MB
        assert replies[1].table.rows[0]["detection"] == "hostile_stop_logging"
        assert peak < factor * len(body) + BASE, (args, peak / MB)


def test_memory_of_a_huge_event_is_given_back(native_env):
    """Gap B(3): the buffers one 60 MB event grows (its unquoted copy, simdjson's indexes and
    string copy) used to stay for the rest of the search; they are freed between chunks now."""
    big = splunkd.encode_csv([{"_raw": _big_event(60 * MB)}, {"_raw": GOOD_RECORD}])
    small = splunkd.encode_csv([{"_raw": GOOD_RECORD}])
    code, _getinfo, replies, stderr, peak = run_measured([], [small, big, small, small], native_env)
    assert code == 0, stderr
    assert all(reply.table.rows[-1]["detection"] == "hostile_stop_logging" for reply in replies)
    resident = run_measured.resident
    assert peak > resident[0] + 150 * MB, [r // MB for r in resident]
    # The engine's buffers (the record's copy, simdjson's string copy, the chunk arena) are
    # freed: at least 2 x the event below the peak. What stays is the module's pool of reply
    # buffers (native/python/module.cpp keeps the last two replies' memory for reuse), which
    # keeps the largest reply's size (measured: 16 MB at the start, 376 MB peak, 196 MB after).
    assert resident[-1] < peak - 2 * 60 * MB, ([r // MB for r in resident], peak // MB)


def _hostile_chunk(serial, records, keys=20000):
    """~35 MB: three 10 MB events, one with `keys` keys no other chunk has, broken and deep
    events, and real records with multivalue columns."""
    rows = [{"_raw": _big_event(10 * MB), "host": "big%d" % i} for i in range(3)]
    rows.append({"_raw": '{"eventName":"X",' + ",".join('"k%d_%d":%d' % (serial, i, i) for i in range(keys)) + "}"})
    rows.append({"_raw": '{"a":' + "[" * 100000 + "]" * 100000 + "}"})
    rows.append({"_raw": '{"a":"x\x00y"}'})
    rows.append({"_raw": '{"a":' + ",".join(["1e400"] * 10) + "}"})
    rows += [{"_raw": raw, "host": "h", "tag": ["a$b", 'c"d', "e\nf"]} for raw in records * 5]
    return splunkd.encode_csv(rows)


def test_hostile_mix_peak_memory(native_env):
    records = [raw for _origin, raw in shared_records()]
    bodies = [_hostile_chunk(serial, records) for serial in range(3)]
    chunk = max(len(body) for body in bodies)
    # extract=false: under 3 x the chunk + 50 MB (measured ~1.9 x + 30 MB here).
    code, _getinfo, replies, stderr, peak = run_measured(["extract=false"], bodies, native_env)
    assert code == 0, stderr
    assert all(len(reply.table) == len(records) * 5 + 7 for reply in replies)
    assert peak < 3 * chunk + BASE, (peak / MB, chunk / MB)
    # extract=true writes every value again next to _raw (the reply alone is ~2 x the chunk,
    # and the values wait in an arena until the header is known), so the 3 x bound is out of
    # reach without streaming the reply: measured ~6.7 x + 30 MB here, as `make bench` finds
    # (~8 x on its corpus); reducing it is the performance work's. And every row has a cell
    # for every field name of its chunk: one event with 20,000 keys adds 40,000 separators to
    # each of the 3,642 rows (~146 MB). That amplification is documented (README, "Hostile
    # input") and not bounded yet; the mix here has 200 such keys per chunk.
    bodies = [_hostile_chunk(serial, records, keys=200) for serial in range(3)]
    chunk = max(len(body) for body in bodies)
    code, _getinfo, replies, stderr, peak = run_measured([], bodies, native_env)
    assert code == 0, stderr
    assert peak < 8 * chunk + BASE, (peak / MB, chunk / MB)


def test_a_million_distinct_keys_across_chunks_do_not_grow_memory(native_env):
    """Gap B(1): field names are interned per search; hostile events with random keys used to
    grow that table (and the process) with every new key. It is now reset between chunks once
    it passes its budget: 1,000,000 distinct keys over 20 chunks end near where 4 chunks are."""
    def chunk(serial):
        keys = ",".join('"r%d_%d":1' % (serial, i) for i in range(50000))
        return splunkd.encode_csv([{"_raw": '{"eventName":"StopLogging",' + keys + "}"}, {"_raw": GOOD_RECORD}])

    code, _getinfo, replies, stderr, _peak = run_measured(["extract=false"], [chunk(i) for i in range(20)], native_env)
    assert code == 0, stderr
    assert all(reply.table.rows[1]["detection"] == "hostile_stop_logging" for reply in replies)
    peaks = run_measured.peaks
    # Without the reset the names alone (~300 bytes each) would add ~240 MB between the two.
    assert peaks[-1] - peaks[3] < 40 * MB, [p // MB for p in peaks]


def _detections(copies, text):
    stanzas = text.split("\n[")
    out = []
    for copy in range(copies):
        for stanza in stanzas:
            stanza = stanza if stanza.startswith("[") else "[" + stanza
            name, rest = stanza.split("]", 1)
            out.append("%s_copy%d]%s" % (name, copy, rest))
    return "\n".join(out) + "\n"


def _stanza_count(conf_text):
    """Stanza headers of a .conf text: a [name] line that does not continue the line before it."""
    count, continued = 0, False
    for line in conf_text.splitlines():
        if not continued and re.match(r"\[[^\]]+\]\s*$", line) and line.strip() != "[default]":
            count += 1
        continued = line.endswith("\\")
    return count


def test_start_up_cost_does_not_grow_with_the_number_of_detections(tmp_path, repo_root):
    """The shipped detections vs ten generated copies of each. Asserted: a count (the lookup file is
    read once however many detections use it: one warning for its one bad row). Printed, not
    asserted (no timed unit tests): the load time per detection of each set, in process."""
    from splunk_app import _ctdetect
    from splunk_app.pyengine import Engine as PythonEngine

    shipped = (repo_root / "default" / "cloudtrail_detections.conf").read_text(encoding="utf-8")
    header, first = shipped.split("\n[", 1)
    shipped_count = _stanza_count(shipped)
    lookup = "ip,description\n203.0.113.0/24,ok\nnot-an-ip,bad\n"
    sizes = {}
    for copies in (1, 10):
        root = make_conf_dir(tmp_path / str(copies), detections=_detections(copies, "[" + first), lookup=lookup)
        conf = [str(root / "default" / "cloudtrail_detections.conf")]
        lookups = str(root / "lookups")
        for name, engine_class in (("native", _ctdetect.Engine), ("python", PythonEngine)):
            started = time.perf_counter()
            engine = engine_class(conf, lookups)
            elapsed = time.perf_counter() - started
            count = len(engine.detection_ids)
            assert count == shipped_count * copies
            assert len(engine.warnings) == 1 and "not-an-ip" in engine.warnings[0], engine.warnings
            sizes[(name, copies)] = (count, elapsed)
    for name in ("native", "python"):
        (small, small_time), (large, large_time) = sizes[(name, 1)], sizes[(name, 10)]
        print("\n%s engine load: %d detections %.1f us each, %d detections %.1f us each (ratio %.2f)" % (
            name, small, small_time / small * 1e6, large, large_time / large * 1e6,
            (large_time / large) / (small_time / small)))
    assert os.path.isdir(str(tmp_path / "10"))
