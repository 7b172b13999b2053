"""The input over a local folder tree, run as splunkd runs it."""
import collections
import gzip
import json
import os
import pathlib
import subprocess

import pytest

from modinput_support import REPO, check_exactly_once, parse_stream, run_input, script_env



@pytest.fixture
def folder(tmp_path, log_tree):
    return log_tree.write_to(tmp_path / "logs")


def test_local_folder_sends_every_record_once(tmp_path, folder, log_tree):
    result = run_input({"local_folder": str(folder), "batch_size": "40"}, tmp_path / "checkpoints")
    assert result.returncode == 0, result.stderr
    parse_stream(result.stdout)  # one well-formed XML document
    events = result.events()
    check_exactly_once(log_tree, events, lambda key: str(folder / key))
    assert len(events) == sum(log_tree.expected.values()) > 700
    # Broken files are reported as errors naming the file; digest and other objects are skipped.
    errors = result.lines("ERROR")
    assert sorted(line.split(": ")[1] for line in errors) == sorted(str(folder / key) for key in log_tree.bad)
    assert all("marked bad and skipped" in line for line in errors)
    skipped = [line for line in result.stderr.splitlines() if "skipped: " in line and "marked bad" not in line]
    # Other services' folders beside CloudTrail/ (here CloudTrail-Digest/) are not even listed.
    beside = set(key for key in log_tree.skipped if "/CloudTrail/" not in key)
    assert beside and all("CloudTrail-Digest/" in key for key in beside)
    assert sorted(line.split(": ")[1] for line in skipped) == sorted(
        str(folder / key) for key in log_tree.skipped - beside)
    assert not [line for line in result.stderr.splitlines() if "CloudTrail-Digest/" in line]
    # A second run finds nothing new and reports nothing again.
    again = run_input({"local_folder": str(folder)}, tmp_path / "checkpoints")
    assert again.returncode == 0 and again.events() == [] and not again.lines("ERROR")
    parse_stream(again.stdout)


def test_raw_is_byte_exact_with_crlf_and_xml_characters(tmp_path, folder, log_tree):
    result = run_input({"local_folder": str(folder)}, tmp_path / "checkpoints")
    by_source = collections.defaultdict(list)
    for event in result.events():
        by_source[event["source"]].append(event["data"])
    pretty = [key for key in log_tree.records if key.endswith("pretty_crlf.json.gz")][0]
    special = [key for key in log_tree.records if key.endswith("special.json.gz")][0]
    assert by_source[str(folder / pretty)] == log_tree.records[pretty]
    assert all(b"\r\n" in raw for raw in by_source[str(folder / pretty)])
    assert by_source[str(folder / special)] == log_tree.records[special]
    # The same bytes as a slice of the decompressed file.
    document = gzip.decompress((folder / special).read_bytes())
    for raw in by_source[str(folder / special)]:
        assert raw in document
    times = [e["time"] for e in result.events() if e["source"] == str(folder / special)]
    assert times == ["1614834367", "1614834368.123"]


def test_new_files_are_picked_up_and_finished_ones_never_reread(tmp_path, shared_data):
    from modinput_support import build_tree
    tree = build_tree(shared_data, with_junk=False)
    keys = list(tree.objects)
    folder = tmp_path / "logs"
    first = dict((k, tree.objects[k]) for k in keys[: len(keys) // 2])
    for key, data in first.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_bytes(data)
    one = run_input({"local_folder": str(folder)}, tmp_path / "cp")
    tree.write_to(folder)
    two = run_input({"local_folder": str(folder)}, tmp_path / "cp")
    check_exactly_once(tree, one.events() + two.events(), lambda key: str(folder / key))
    assert {e["source"] for e in two.events()} == {str(folder / k) for k in keys[len(keys) // 2:]}


def test_exclude_read_only_start_date_and_index(tmp_path, folder, log_tree):
    result = run_input({"local_folder": str(folder), "exclude_read_only": "true", "start_date": "2022-01-01",
                        "index": "cloudtrail"}, tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    events = result.events()
    expected = []
    for key, records in log_tree.records.items():
        parts = key.split("/")
        if "-".join(parts[4:7]) < "2022-01-01":
            continue
        for record in records:
            parsed = json.loads(record)
            if parsed.get("eventTime", "9999") < "2022-01-01":
                continue
            name = parsed.get("eventName", "")
            if name.startswith(("Describe", "List", "Get")) and parsed.get("readOnly") is not False:
                continue
            expected.append(record)
    assert sorted(e["data"] for e in events) == sorted(expected)
    assert 0 < len(events) < sum(log_tree.expected.values())
    assert all(e["index"] == "cloudtrail" for e in events)
    # A write event named Get*/List* with readOnly false is kept.
    assert any(json.loads(e["data"]).get("readOnly") is False for e in events)


def _record(event_id, event_time=None, **extra):
    record = {"eventVersion": "1.08", "eventID": event_id, "eventName": "PutObject"}
    if event_time is not None:
        record["eventTime"] = event_time
    record.update(extra)
    return json.dumps(record, separators=(",", ":")).encode()


def _write_log(root, key, records):
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(b'{"Records":[' + b",".join(records) + b"]}", mtime=0))


# The start date of the tests below, and the records of a file delivered just after midnight:
# CloudTrail files hold records written at any point before their delivery time, so the file of
# 2024/05/06 holds records of the 5th. Those are not sent; neither is a file dated the 5th.
START = "2024-05-06"
FOLDER = "AWSLogs/111111111111/CloudTrail/us-east-1/"
DAY_FILE = FOLDER + "2024/05/06/111111111111_CloudTrail_us-east-1_20240506T0005Z_a.json.gz"
EARLIER_FILE = FOLDER + "2024/05/05/111111111111_CloudTrail_us-east-1_20240505T2355Z_b.json.gz"
UNDATED_FILE = "exported/trail.json.gz"
START_DATE_RECORDS = {
    DAY_FILE: [
        (_record("late-1", "2024-05-05T23:58:01Z"), False),
        (_record("first-second", "2024-05-06T00:00:00Z"), True),
        (_record("late-2", "2024-05-05T23:59:59.999Z"), False),
        (_record("millis", "2024-05-06T00:01:02.345Z"), True),
        (_record("offset-before", "2024-05-06T01:00:00+02:00"), False),  # 2024-05-05T23:00Z
        (_record("offset-after", "2024-05-05T20:00:00-05:00"), True),    # 2024-05-06T01:00Z
        (_record("no-time"), True),                                       # kept: cannot say it is earlier
        (_record("odd-time", "yesterday"), True),
        (_record("year-earlier", "2023-12-31T23:59:59Z"), False),
        (_record("later-day", "2024-05-07T00:00:00Z"), True),
    ],
    EARLIER_FILE: [(_record("earlier-file", "2024-05-05T23:50:00Z"), False),
                   (_record("odd-in-earlier-file", "2024-05-06T00:10:00Z"), False)],  # the file is not read
    UNDATED_FILE: [(_record("undated-before", "2024-05-01T00:00:00Z"), False),
                   (_record("undated-after", "2024-06-01T00:00:00Z"), True)],
}


def _start_date_tree(root):
    for key, records in START_DATE_RECORDS.items():
        _write_log(root, key, [record for record, _ in records])
    return sorted(json.loads(record)["eventID"] for records in START_DATE_RECORDS.values()
                  for record, sent in records if sent)


def test_start_date_filters_records_inside_the_files(tmp_path):
    expected = _start_date_tree(tmp_path / "logs")
    result = run_input({"local_folder": str(tmp_path / "logs"), "start_date": START, "batch_size": "3"},
                       tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(e["data"])["eventID"] for e in result.events()) == expected
    assert "%s: done, 10 records (from record 0, 4 before start_date %s skipped)" % (tmp_path / "logs" / DAY_FILE,
                                                                                     START) in result.stderr
    # Without start_date every record is sent.
    everything = run_input({"local_folder": str(tmp_path / "logs")}, tmp_path / "cp2")
    assert len(everything.events()) == sum(len(records) for records in START_DATE_RECORDS.values())


def test_start_date_with_max_events_per_run_sends_each_record_once(tmp_path):
    expected = _start_date_tree(tmp_path / "logs")
    received = []
    for _ in range(len(expected) + 2):
        result = run_input({"local_folder": str(tmp_path / "logs"), "start_date": START, "max_events_per_run": "2",
                            "batch_size": "1"}, tmp_path / "cp")
        assert result.returncode == 0, result.stderr
        events = result.events()
        assert len(events) <= 2
        received += [json.loads(e["data"])["eventID"] for e in events]
        if not events:
            break
    assert sorted(received) == expected


@pytest.mark.parametrize("event_time, before", [
    ("2024-05-05T23:59:59Z", True), ("2024-05-06T00:00:00Z", False), ("2024-05-06T00:00:00.000001Z", False),
    ("2024-05-05T23:59:59.999999Z", True), ("2024-05-06T01:59:59+02:00", True), ("2024-05-06T02:00:00+02:00", False),
    ("2024-05-05T19:00:00-05:00", False), ("2024-05-05T18:59:59-0500", True), ("2024-05-05T23:59:59", True),
    ("2024-05-06T00:00:00", False), (None, False), ("", False), ("not a time", False), ("2024-05-0", False),
    ("Z", False), ("2024-05-06", False),
])
def test_before_start(event_time, before):
    import calendar
    import datetime
    from splunk_app.modinput.run import before_start
    day = datetime.date(2024, 5, 6)
    start_epoch = calendar.timegm(day.timetuple())
    assert before_start(event_time, day.isoformat(), start_epoch) is before


def test_max_events_per_run_resumes_where_it_stopped(tmp_path, folder, log_tree):
    total = sum(log_tree.expected.values())
    events, runs = [], 0
    while True:
        result = run_input({"local_folder": str(folder), "max_events_per_run": "300", "batch_size": "64"},
                           tmp_path / "cp")
        assert result.returncode == 0, result.stderr
        runs += 1
        assert len(result.events()) <= 300
        events += result.events()
        if not result.events():
            break
        assert runs < 10
    assert runs == (total + 299) // 300 + 1  # the last run finds nothing left
    check_exactly_once(log_tree, events, lambda key: str(folder / key))


def test_huge_file(tmp_path, huge_log):
    """A log file of 50 MiB of JSON (7.2 MiB gzip), one of its records 8 MiB: sent whole, byte
    for byte, source the file's absolute path."""
    from modinput_support import HUGE_KEY
    path = tmp_path / "logs" / HUGE_KEY
    path.parent.mkdir(parents=True)
    path.write_bytes(huge_log.compressed)
    result = run_input({"local_folder": str(tmp_path / "logs"), "batch_size": "2000"}, tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    events = result.events()
    assert len(events) == len(huge_log.records)
    assert events[0]["data"] == huge_log.big
    assert collections.Counter(e["data"] for e in events) == collections.Counter(huge_log.records)
    assert {e["source"] for e in events} == {str(path)}
    assert len(huge_log.document) >= 50 << 20


@pytest.fixture(scope="module")
def python39():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    path = pathlib.Path(root) / "versions" / "3.9.18" / "bin" / "python"
    if not path.exists():
        raise RuntimeError("Python 3.9 not found at %s (pyenv install 3.9.18)" % path)
    return str(path)


def test_python39_with_the_pure_python_splitter(tmp_path, folder, log_tree, python39):
    """Splunk 9.3-10.x run inputs with Python 3.9; the native module is built for this
    interpreter only, so 3.9 uses the pure-Python splitter, with the same events."""
    modules = sorted(str(p) for p in (REPO / "splunk_app" / "modinput").glob("*.py"))
    subprocess.run([python39, "-m", "py_compile"] + modules + [str(REPO / "bin" / "cloudtrail_logs.py")], check=True,
                   env=script_env())
    result = run_input({"local_folder": str(folder), "batch_size": "100"}, tmp_path / "cp", python=python39)
    assert result.returncode == 0, result.stderr
    check_exactly_once(log_tree, result.events(), lambda key: str(folder / key))
    assert "pure-Python" in result.stderr


def test_forced_python_splitter_sends_the_same_events(tmp_path, folder, log_tree):
    native = run_input({"local_folder": str(folder)}, tmp_path / "cp1")
    python = run_input({"local_folder": str(folder)}, tmp_path / "cp2", env=script_env({"CTDETECT_ENGINE": "python"}))
    assert native.stdout == python.stdout
    assert native.returncode == python.returncode == 0
