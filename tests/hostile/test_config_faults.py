"""A broken local/cloudtrail_detections.conf (CTDETECT_CONF_DIR) stops the command at getinfo
with one ERROR naming the file, the stanza and the line (and the column inside a condition);
a lookup with malformed rows gives one WARN per bad row and the rest of it is used."""
import re

import pytest

import splunkd

from .conftest import GOOD_RECORD, make_conf_dir

CONDITION = "eventName=ConsoleLogin AND (userIdentity.type=Root"  # no closing parenthesis: column 51


def start(tmp_path, engine, local=None, lookup=None):
    kwargs = {"local": local}
    if lookup is not None:
        kwargs["lookup"] = lookup
    root = make_conf_dir(tmp_path / engine, **kwargs)
    env = {"CTDETECT_CONF_DIR": str(root), "CTDETECT_ENGINE": engine}
    rows = [{"_raw": GOOD_RECORD}, {"_raw": '{"eventName":"ConsoleLogin","sourceIPAddress":"203.0.113.7"}'},
            {"_raw": '{"eventName":"Other","sourceIPAddress":"10.0.0.1"}'}]
    return root, splunkd.run_search([], [rows], env=env)


def single_error(run):
    assert run.exit_code == 1, run
    assert run.getinfo.meta["finished"] is True and run.executes == [], run
    errors = run.getinfo.errors()
    assert len(errors) == 1 and errors[0].startswith("cloudtraildetect: "), errors
    assert "Traceback" not in run.stderr
    return errors[0]


def line_of(message):
    found = re.search(r"(?::| line )(\d+)", message)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("engine", ["native", "python"])
def test_condition_error_in_local_names_file_stanza_line_and_column(tmp_path, engine):
    local = "# tuned\n[hostile_console_login]\ncondition = %s\n" % CONDITION
    root, run = start(tmp_path, engine, local=local)
    error = single_error(run)
    local_path = str(root / "local" / "cloudtrail_detections.conf")
    assert "hostile_console_login" in error
    assert local_path in error and str(root / "default") not in error, error  # the override, not default/
    assert line_of(error.split(local_path, 1)[1]) == 3, error
    assert "column 51" in error, error


@pytest.mark.parametrize("engine", ["native", "python"])
@pytest.mark.parametrize("local, line, problem", [
    ("[hostile_console_login]\ntitle = ok\nno equals sign here\n", 3, "key = value"),
    ("[hostile_console_login]\n = value\n", 2, "a key is missing before '='"),
])
def test_syntax_error_in_local_names_file_stanza_and_line(tmp_path, engine, local, line, problem):
    root, run = start(tmp_path, engine, local=local)
    error = single_error(run)
    local_path = str(root / "local" / "cloudtrail_detections.conf")
    assert local_path in error and "[hostile_console_login]" in error and problem in error, error
    assert line_of(error.split(local_path, 1)[1]) == line, error


@pytest.mark.parametrize("engine", ["native", "python"])
def test_unclosed_stanza_header_and_bad_values(tmp_path, engine):
    root, run = start(tmp_path, engine, local="\n\n[hostile_console_login\n")
    error = single_error(run)
    assert str(root / "local" / "cloudtrail_detections.conf") in error and "[name]" in error
    assert line_of(error.split("cloudtrail_detections.conf", 1)[1]) == 3
    _root, run = start(tmp_path / "severity", engine, local="[hostile_stop_logging]\nseverity = urgent\n")
    error = single_error(run)
    assert "hostile_stop_logging" in error and "urgent" in error and "local" in error


@pytest.mark.parametrize("engine", ["native", "python"])
def test_detection_file_that_is_not_utf8(tmp_path, engine):
    root, run = start(tmp_path, engine, local=b"[hostile_console_login]\ntitle = caf\xe9\n")
    error = single_error(run)
    assert str(root / "local" / "cloudtrail_detections.conf") in error and "UTF-8" in error, error


@pytest.mark.parametrize("engine", ["native", "python"])
def test_malformed_cidrs_are_warnings_and_the_rest_is_used(tmp_path, engine):
    lookup = ("ip,description\n"
              "10.0.0.0/33,bad mask\n"
              "203.0.113.0/24,good\n"
              "300.1.1.1,bad octet\n"
              "::/129,bad v6\n"
              "not-an-ip,words\n"
              "2001:db8::/32,good v6\n")
    root, run = start(tmp_path, engine, lookup=lookup)
    assert run.exit_code == 0 and run.errors() == [], run
    warnings = [text for level, text in run.getinfo.messages if level == "WARN"]
    path = str(root / "lookups" / "known_attacker_ips.csv")
    assert [(line_of(w.split(path, 1)[1]), w.split("'")[1]) for w in warnings] == [
        (2, "10.0.0.0/33"), (4, "300.1.1.1"), (5, "::/129"), (6, "not-an-ip")], warnings
    assert all(w.startswith("cloudtraildetect: ") and w.endswith("row ignored") for w in warnings)
    rows = run.executes[0].table.rows
    assert rows[0]["detection"] == "hostile_stop_logging"
    assert rows[1]["detection"] == ["hostile_console_login", "hostile_known_attacker_ip"]  # good row used
    assert rows[2].get("detection", "") == ""


def test_engines_agree_on_what_loads(tmp_path):
    # Every broken file above stops both engines; a valid override loads in both.
    for engine in ("native", "python"):
        _root, run = start(tmp_path / ("ok-" + engine), engine, local="[hostile_console_login]\nseverity = low\n")
        assert run.exit_code == 0 and run.errors() == [], run
        assert run.executes[0].table.rows[1]["detection_severity"] == "critical"  # low + critical
