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
    assert sorted(line.split(": ")[1] for line in skipped) == sorted(
        str(folder / key) for key in log_tree.skipped)
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
            name = parsed.get("eventName", "")
            if name.startswith(("Describe", "List", "Get")) and parsed.get("readOnly") is not False:
                continue
            expected.append(record)
    assert sorted(e["data"] for e in events) == sorted(expected)
    assert 0 < len(events) < sum(log_tree.expected.values())
    assert all(e["index"] == "cloudtrail" for e in events)
    # A write event named Get*/List* with readOnly false is kept.
    assert any(json.loads(e["data"]).get("readOnly") is False for e in events)


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


def test_huge_file(tmp_path, shared_data):
    """A 50 MB (decompressed) log file, one of its records 8 MB: sent whole, byte for byte."""
    from modinput_support import shared_record_texts
    texts = shared_record_texts(shared_data)
    big = json.dumps({"eventVersion": "1.08", "eventTime": "2023-05-06T07:08:09Z", "eventName": "PutBucketPolicy",
                      "requestParameters": {"policy": "x" * (8 << 20)}}).encode()
    records, size = [big], len(big)
    while size < 50 << 20:
        text = texts[len(records) % len(texts)]
        records.append(text)
        size += len(text) + 1
    document = b'{"Records":[' + b",".join(records) + b"]}"
    path = tmp_path / "logs" / "AWSLogs" / "111111111111" / "CloudTrail" / "us-east-1" / "2023" / "05" / "06"
    path.mkdir(parents=True)
    (path / "huge.json.gz").write_bytes(gzip.compress(document, 1))
    result = run_input({"local_folder": str(tmp_path / "logs"), "batch_size": "2000"}, tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    events = result.events()
    assert len(events) == len(records)
    assert events[0]["data"] == big
    assert collections.Counter(e["data"] for e in events) == collections.Counter(records)
    assert len(document) >= 50 << 20


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
