"""bin/cloudtraildetect.py driven as splunkd drives it (subprocess, protocol v2)."""
import importlib.util
import json

import pytest

import splunkd

VALID_OPTIONS = "valid options: rules, extract, only_detections, field"


def record(event_name, source_ip="198.51.100.7", **extra):
    """A realistic CloudTrail record (as compact JSON text)."""
    data = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/zoë",
                         "accountId": "111122223333", "userName": "zoë"},
        "eventTime": "2024-11-28T12:00:00Z",
        "eventSource": "signin.amazonaws.com" if event_name == "ConsoleLogin" else "cloudtrail.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "eu-west-3",
        "sourceIPAddress": source_ip,
        "userAgent": "Mozilla/5.0 (Ünïcödé; 日本語) 😀",
        "requestParameters": {"name": "trail-ø", "tags": [{"key": "k$1", "value": "v,\"q\""}, {"key": "k2", "value": "多字节"}]},
        "eventID": "0c8e2f0e-1111-4c6b-9a6f-%012d" % abs(hash(event_name + source_ip) % 10 ** 12),
        "readOnly": False,
        "eventType": "AwsApiCall",
    }
    data.update(extra)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def console_login(mfa="No", source_ip="198.51.100.7"):
    return record("ConsoleLogin", source_ip=source_ip, additionalEventData={"MFAUsed": mfa, "LoginTo": "https://console.aws.amazon.com/"},
                  responseElements={"ConsoleLogin": "Success"})


def event_row(raw, serial, **columns):
    row = {"_raw": raw, "_time": "1732795200.%03d" % serial, "host": "héte-%d" % serial,
           "source": "s3://bucket/AWSLogs/111122223333/CloudTrail/eu-west-3/2024/11/28/ü.json.gz",
           "sourcetype": "aws:cloudtrail", "index": "main", "_serial": str(serial),
           "tag": ["aws", "cloud$trail", "😀 emoji", "multi\nline"] if serial % 2 else "single"}
    row.update(columns)
    return row


def chunked_rows():
    """Three chunks of rows: detections, plain events, broken events, multivalue columns."""
    first = [
        event_row(console_login("No"), 0),
        event_row(console_login("Yes"), 1),
        event_row(record("StopLogging"), 2, punct="{\"\":\"\",\"\":{\"\":\"\",\"\":\"\"}}"),
    ]
    second = [
        event_row(record("DescribeTrails", source_ip="203.0.113.99"), 3),
        event_row("{\"eventName\": \"StopLogging\", \"broken\": ", 4),
        event_row("[1, 2, 3]", 5),
        event_row("", 6),
        event_row(record("GetCallerIdentity"), 7, comment="déjà vu, \"quoted\"\r\nCRLF line"),
    ]
    third = [event_row(record("StopLogging", source_ip="203.0.113.5"), 8)]
    return [first, second, third]


def expected_detections(raw):
    if raw == console_login("No"):
        return ["test_console_login_without_mfa"]
    if raw == record("StopLogging"):
        return ["test_cloudtrail_stopped"]
    if raw == record("DescribeTrails", source_ip="203.0.113.99"):
        return ["test_known_attacker_ip"]
    if raw == record("StopLogging", source_ip="203.0.113.5"):
        return ["test_cloudtrail_stopped", "test_known_attacker_ip"]
    return []


def detections_of(row):
    value = row.get("detection", "")
    return value if isinstance(value, list) else ([value] if value else [])


def as_cell(value):
    """What a decoded reply row holds for an input value."""
    if isinstance(value, list):
        return value if len(value) > 1 else (value[0] if value else "")
    return "" if value is None else str(value)


def assert_framing(run, sent):
    assert run.getinfo is not None, run
    assert run.getinfo.meta.get("type") == "streaming", run
    assert run.getinfo.body == b""
    assert run.getinfo.errors() == [], run
    assert len(run.executes) == sent == run.sent, run
    assert run.extra == [], run
    assert run.exit_code == 0, run


def assert_columns_order(table):
    plain = [c for c in table.columns if not c.startswith("__mv_")]
    mv = [c for c in table.columns if c.startswith("__mv_")]
    assert table.columns == plain + mv
    assert mv == ["__mv_" + c for c in plain]


def assert_rows_unchanged(sent_rows, table, keep=None):
    """Every input row comes back, in order, with each of its input values."""
    kept = [row for row in sent_rows if keep is None or keep(row)]
    assert len(table.rows) == len(kept)
    for sent, got in zip(kept, table.rows):
        for name, value in sent.items():
            assert name in got, name
            assert got[name] == as_cell(value), (name, got[name], value)


def test_getinfo_reply_is_streaming(command_env):
    run = splunkd.run_search([], [[]], env=command_env)
    assert_framing(run, 1)
    assert run.executes[0].meta == {"finished": True}
    assert run.executes[0].body == b""  # an empty execute gets an empty body
    # Inspector notes (the native-engine note) come once, with getinfo, never with execute.
    assert all(level in ("INFO", "WARN") for level, _ in run.getinfo.messages)
    assert "inspector" not in run.executes[0].meta


def test_chunks_with_multivalues_and_utf8(command_env):
    chunks = chunked_rows()
    bodies = [splunkd.encode_csv(rows) for rows in chunks]
    assert all(len(body) != len(body.decode("utf-8")) for body in bodies)  # byte lengths != char lengths
    run = splunkd.run_search(["rules=*"], chunks, env=command_env)
    assert_framing(run, 3)
    assert [reply.meta for reply in run.executes] == [{"finished": False}, {"finished": False}, {"finished": True}]
    for rows, reply in zip(chunks, run.executes):
        table = reply.table
        assert_columns_order(table)
        assert_rows_unchanged(rows, table)
        for sent, got in zip(rows, table.rows):
            assert detections_of(got) == expected_detections(sent["_raw"])
            if sent["_raw"].startswith("{\"eventVersion"):
                # extracted fields (extract=true by default), non-ASCII intact
                assert got["userIdentity.userName"] == "zoë"
                assert got["userAgent"] == "Mozilla/5.0 (Ünïcödé; 日本語) 😀"
                assert got["requestParameters.tags{}.key"] == ["k$1", "k2"]
                assert got["requestParameters.tags{}.value"] == ["v,\"q\"", "多字节"]
                assert got.get("cloudtrail_error", "") == ""
    second = run.executes[1].table.rows
    assert second[1]["cloudtrail_error"].startswith("invalid JSON")
    assert second[2]["cloudtrail_error"] == "not a JSON object"
    assert second[3]["cloudtrail_error"] == "empty event"
    both = run.executes[2].table.rows[0]
    assert both["detection_severity"] == "critical"
    assert both["mitre_attack_id"] == ["T1562.008", "T1078"]
    assert both["detection_title"] == ["CloudTrail logging stopped", "Call from a known attacker address"]


def test_splunkd_style_quoting_is_accepted(command_env):
    chunks = chunked_rows()
    run = splunkd.run_search([], chunks, env=command_env, quote_all=True)
    assert_framing(run, 3)
    for rows, reply in zip(chunks, run.executes):
        assert_rows_unchanged(rows, reply.table)


def test_header_only_body(command_env):
    run = splunkd.run_search([], [b"_raw,host,__mv__raw,__mv_host\n"], env=command_env)
    assert_framing(run, 1)
    table = run.executes[0].table
    assert table.rows == [] and "_raw" in table.columns and "host" in table.columns


def test_extract_false_keeps_detections_only(command_env):
    rows = chunked_rows()[0]
    run = splunkd.run_search(["extract=false"], [rows], env=command_env)
    assert_framing(run, 1)
    table = run.executes[0].table
    assert "eventName" not in table.columns and "userIdentity.userName" not in table.columns
    assert table.rows[0]["detection"] == "test_console_login_without_mfa"
    assert_rows_unchanged(rows, table)


def test_only_detections_keeps_errors(command_env):
    chunks = chunked_rows()
    run = splunkd.run_search(["only_detections=t", "extract=0"], chunks, env=command_env)
    assert_framing(run, 3)
    for rows, reply in zip(chunks, run.executes):
        def keep(row):
            raw = row["_raw"]
            return bool(expected_detections(raw)) or not raw.startswith("{\"eventVersion")
        assert_rows_unchanged(rows, reply.table, keep=keep)
        for row in reply.table.rows:
            assert row.get("detection") or row.get("cloudtrail_error")


def test_field_option(command_env):
    rows = [{"message": console_login("No"), "_raw": "not json at all"}, {"message": record("Other")}]
    run = splunkd.run_search(["field=message"], [rows], env=command_env)
    assert_framing(run, 1)
    got = run.executes[0].table.rows
    assert got[0]["detection"] == "test_console_login_without_mfa"
    assert got[0]["_raw"] == "not json at all"
    assert got[1].get("detection", "") == "" and got[1]["eventName"] == "Other"


@pytest.mark.parametrize("args, expected", [
    (["extrct=f"], "unknown option 'extrct'; " + VALID_OPTIONS),
    (["rules=*", "stray"], "unexpected argument 'stray'"),
    (["extract=f", "extract=f"], "option extract given more than once ('extract=f', then 'extract=f'); give it "
                                 "once; valid values: true, t, 1, yes, false, f, 0, no"),
    (["only_detections=perhaps"], "valid values: true, t, 1, yes, false, f, 0, no"),
])
def test_bad_option(command_env, args, expected):
    run = splunkd.run_search(args, [chunked_rows()[0]], env=command_env)
    assert run.exit_code != 0, run
    assert run.getinfo.meta["finished"] is True
    errors = run.getinfo.errors()
    assert len(errors) == 1 and errors[0].startswith("cloudtraildetect: ") and expected in errors[0], errors
    assert run.executes == [] and run.extra == []
    assert "Traceback" not in run.stderr


def test_bad_rules_names_valid_ids(command_env, detection_ids):
    run = splunkd.run_search(["rules=test_cloudtrail_stopped,no_such_rule*"], [chunked_rows()[0]], env=command_env)
    assert run.exit_code != 0, run
    errors = run.getinfo.errors()
    assert len(errors) == 1 and "no_such_rule*" in errors[0], errors
    for detection_id in detection_ids:
        assert detection_id in errors[0]


RULES_VALUES = ('valid values: detection ids or * wildcards, comma-separated, '
                'e.g. rules="aws_console_*,aws_s3_bucket_acl_public"')
FIELD_VALUES = ("valid values: the name of the field that holds the CloudTrail JSON record, "
                "e.g. field=_raw (the default)")
SHIM_DETECTIONS = "valid detections: test_console_login_without_mfa, test_cloudtrail_stopped, test_known_attacker_ip"


@pytest.mark.parametrize("args, expected", [
    (["rules=test_*", "extract=f", "rules=*"],
     "option rules given more than once ('rules=test_*', then 'rules=*'); give it once; %s; %s"
     % (RULES_VALUES, SHIM_DETECTIONS)),
    (["field=_raw", "field=message"],
     "option field given more than once ('field=_raw', then 'field=message'); give it once; " + FIELD_VALUES),
    (["rules="], "option rules needs a value; %s; %s" % (RULES_VALUES, SHIM_DETECTIONS)),
    (["rules= ,"], "option rules names no detection: 'rules= ,' holds only commas and spaces; %s; %s"
     % (RULES_VALUES, SHIM_DETECTIONS)),
    (["field="], "option field needs a value; " + FIELD_VALUES),
    (["field=  "], "option field needs a value; " + FIELD_VALUES),
])
def test_bad_option_names_the_valid_choices(engine_env, args, expected):
    """The whole job-inspector message, word for word, with each engine: the detections listed
    are those of the conf in use (CTDETECT_CONF_DIR here)."""
    run = splunkd.run_search(args, [chunked_rows()[0]], env=engine_env)
    assert run.exit_code == 1, run
    assert run.getinfo.meta["finished"] is True
    assert run.getinfo.errors() == ["cloudtraildetect: " + expected]
    assert run.executes == [] and run.extra == []
    assert "Traceback" not in run.stderr


def test_empty_rules_with_a_broken_detections_file_still_says_what_is_valid(engine_env, tmp_path):
    # The ids cannot be read, so the message gives the form of a valid value without them.
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "cloudtrail_detections.conf").write_text("[broken\n", encoding="utf-8")
    run = splunkd.run_search(["rules=,"], [[]], env=dict(engine_env, CTDETECT_CONF_DIR=str(tmp_path)))
    assert run.exit_code == 1, run
    assert run.getinfo.errors() == [
        "cloudtraildetect: option rules names no detection: 'rules=,' holds only commas and spaces; " + RULES_VALUES]


def test_unknown_rule_is_worded_the_same_by_both_engines(engine_env):
    run = splunkd.run_search(["rules=test_cloudtrail_stopped, no_such_rule*"], [chunked_rows()[0]], env=engine_env)
    assert run.exit_code == 1, run
    assert run.getinfo.errors() == [
        "cloudtraildetect: rules: 'no_such_rule*' matches no detection; " + SHIM_DETECTIONS]
    assert run.executes == []


def test_rules_selecting_only_disabled_detections_is_worded_the_same_by_both_engines(engine_env, detections_dir,
                                                                                      tmp_path):
    (tmp_path / "default").mkdir()
    (tmp_path / "local").mkdir()
    (tmp_path / "default" / "cloudtrail_detections.conf").write_bytes(
        (detections_dir / "default" / "cloudtrail_detections.conf").read_bytes())
    (tmp_path / "local" / "cloudtrail_detections.conf").write_text(
        "[test_cloudtrail_stopped]\ndisabled = true\n", encoding="utf-8")
    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "known_attacker_ips.csv").write_bytes(
        (detections_dir / "lookups" / "known_attacker_ips.csv").read_bytes())
    env = dict(engine_env, CTDETECT_CONF_DIR=str(tmp_path))
    run = splunkd.run_search(["rules=test_cloudtrail_*"], [[]], env=env)
    assert run.exit_code == 1, run
    assert run.getinfo.errors() == ["cloudtraildetect: rules: 'test_cloudtrail_*' selects only disabled detections"]
    # Naming a disabled detection among others is fine; an unknown one lists the disabled too.
    assert splunkd.run_search(["rules=test_cloudtrail_stopped,test_known_*"], [[]], env=env).exit_code == 0
    run = splunkd.run_search(["rules=nope"], [[]], env=env)
    assert run.getinfo.errors() == ["cloudtraildetect: rules: 'nope' matches no detection; " + SHIM_DETECTIONS]


def test_rules_selects(command_env):
    rows = chunked_rows()[2]
    run = splunkd.run_search(["rules=test_known_*"], [rows], env=command_env)
    assert_framing(run, 1)
    assert run.executes[0].table.rows[0]["detection"] == "test_known_attacker_ip"


def test_broken_detection_file_is_reported(command_env, tmp_path):
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "cloudtrail_detections.conf").write_text(
        "[bad_one]\ntitle = x\nseverity = high\nmitre_attack = T1078\ndescription = x\n"
        "false_positives = x\ncondition = eventName=(\n", encoding="utf-8")
    run = splunkd.run_search([], [[]], env=dict(command_env, CTDETECT_CONF_DIR=str(tmp_path)))
    assert run.exit_code != 0
    errors = run.getinfo.errors()
    assert len(errors) == 1 and "bad_one" in errors[0], errors


def test_missing_detection_file_is_reported(command_env, tmp_path):
    run = splunkd.run_search([], [[]], env=dict(command_env, CTDETECT_CONF_DIR=str(tmp_path)))
    assert run.exit_code != 0
    assert "no detections file" in run.getinfo.errors()[0]


def getinfo_bytes(args=()):
    return splunkd.frame(splunkd.getinfo_metadata(list(args)))


def execute_bytes(rows, finished):
    return splunkd.frame({"action": "execute", "finished": finished}, splunkd.encode_csv(rows))


def assert_protocol_failure(run, expected, replies_before):
    assert run.exit_code != 0, run
    assert len(run.replies) == replies_before + 1, run
    last = run.replies[-1]
    assert last.meta["finished"] is True
    errors = last.errors()
    assert len(errors) == 1 and errors[0].startswith("cloudtraildetect: protocol error: ") and expected in errors[0], errors
    assert "Traceback" not in run.stderr


def test_truncated_stream(command_env):
    whole = execute_bytes(chunked_rows()[0], True)
    run = splunkd.run_raw(getinfo_bytes() + whole[:len(whole) - 10], env=command_env)
    assert run.replies[0].meta["type"] == "streaming"
    assert_protocol_failure(run, "unexpected end of input: expected", 1)


def test_truncated_header(command_env):
    run = splunkd.run_raw(getinfo_bytes() + b"chunked 1.0,36", env=command_env)
    assert_protocol_failure(run, "end of input inside a chunk header", 1)


def test_bad_header_mid_stream(command_env):
    data = getinfo_bytes() + execute_bytes(chunked_rows()[0], False) + b"chunked 1.1,2,0\n{}"
    run = splunkd.run_raw(data, env=command_env)
    assert run.replies[1].meta == {"finished": False} and len(run.replies[1].table) == 3
    assert_protocol_failure(run, "malformed chunk header", 2)


def test_negative_length(command_env):
    run = splunkd.run_raw(getinfo_bytes() + b"chunked 1.0,-1,0\n", env=command_env)
    assert_protocol_failure(run, "not a non-negative integer", 1)


def test_first_message_must_be_getinfo(command_env):
    run = splunkd.run_raw(execute_bytes(chunked_rows()[0], True), env=command_env)
    assert_protocol_failure(run, "expected a getinfo message first, got action 'execute'", 0)


def test_metadata_not_an_object(command_env):
    run = splunkd.run_raw(b"chunked 1.0,2,0\n[]", env=command_env)
    assert_protocol_failure(run, "chunk metadata is not a JSON object", 0)


def test_empty_input_is_a_clean_end(command_env):
    run = splunkd.run_raw(b"", env=command_env)
    assert run.exit_code == 0 and run.replies == [] and run.stdout == b""


def test_end_of_input_after_getinfo_is_clean(command_env):
    # splunkd closes the pipe early when a search is finalized: not an error.
    run = splunkd.run_raw(getinfo_bytes(), env=command_env)
    assert run.exit_code == 0, run
    assert len(run.replies) == 1 and run.replies[0].meta["type"] == "streaming", run


def _native_importable():
    return importlib.util.find_spec("splunk_app._ctdetect") is not None


def test_engine_note_once(auto_env):
    run = splunkd.run_search([], chunked_rows(), env=auto_env)
    assert_framing(run, 3)
    notes = [text for level, text in run.getinfo.messages if level == "INFO"]
    if _native_importable():
        assert notes == []
    else:
        assert len(notes) == 1, run.getinfo.messages
        assert notes[0].startswith("cloudtraildetect: native engine not available for Python ")
        assert notes[0].endswith("using the pure-Python engine, which is slower")
    assert all("inspector" not in reply.meta for reply in run.executes)


def test_forced_python_engine_gives_no_note(python_env):
    run = splunkd.run_search([], [chunked_rows()[0]], env=python_env)
    assert_framing(run, 1)
    assert run.getinfo.messages == []


def test_invalid_engine_choice(auto_env):
    env = dict(auto_env, CTDETECT_ENGINE="fortran")
    run = splunkd.run_search([], [[]], env=env)
    assert run.exit_code != 0
    assert "valid values: auto, native, python" in run.getinfo.errors()[0]


@pytest.mark.parametrize("version", ["3.9.18", "3.13.0"])
def test_other_pythons(python_env, python39, version):
    import pathlib
    python = pathlib.Path(python39).parent.parent.parent / version / "bin" / "python"
    if not python.exists():
        raise RuntimeError("Python %s not found at %s" % (version, python))
    chunks = chunked_rows()
    run = splunkd.run_search(["rules=*"], chunks, python=str(python), env=python_env)
    assert_framing(run, 3)
    for rows, reply in zip(chunks, run.executes):
        assert_rows_unchanged(rows, reply.table)
        for sent, got in zip(rows, reply.table.rows):
            assert detections_of(got) == expected_detections(sent["_raw"])


def test_shipped_app_starts(repo_root):
    """The app as shipped (default/cloudtrail_detections.conf, lookups/) loads and streams."""
    rows = [event_row(console_login("No"), 0), event_row(record("StopLogging"), 1), event_row("oops", 2)]
    run = splunkd.run_search([], [rows], env={"CTDETECT_CONF_DIR": None, "CTDETECT_ENGINE": None})
    assert_framing(run, 1)
    assert [level for level, _ in run.getinfo.messages if level == "ERROR"] == []
    assert_rows_unchanged(rows, run.executes[0].table)
    assert run.executes[0].table.rows[2]["cloudtrail_error"].startswith("invalid JSON")


def test_python39_without_its_native_build_notes_the_fallback(auto_env, python39, repo_root):
    run = splunkd.run_search([], [chunked_rows()[0]], python=python39, env=auto_env)
    assert_framing(run, 1)
    notes = [text for level, text in run.getinfo.messages if level == "INFO"]
    # Where splunk_app imports _ctdetect from: splunk_app/, or CTDETECT_NATIVE_DIR when a test
    # run points it at another build (make test-sanitize-python).
    import os
    import pathlib
    module_dir = pathlib.Path(os.environ.get("CTDETECT_NATIVE_DIR") or repo_root / "splunk_app")
    if list(module_dir.glob("_ctdetect.cpython-39*")):
        assert notes == []
    else:
        assert len(notes) == 1 and "native engine not available for Python 3.9 on " in notes[0], notes
    assert [detections_of(row) for row in run.executes[0].table.rows] == [["test_console_login_without_mfa"], [],
                                                                          ["test_cloudtrail_stopped"]]
