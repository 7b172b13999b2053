"""Helpers shared by the pyengine tests: import paths and small engines built in tmp_path."""
import os
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(TESTS_DIR)
for _path in (REPO_ROOT, TESTS_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from splunk_app.pyengine import Engine  # noqa: E402

HEADER = """\
title = t {id}
severity = {severity}
mitre_attack = {mitre}
description = d
false_positives = f
"""


def stanza(detection_id, condition, severity="low", mitre="T1078", extra=""):
    """A complete detection stanza with the given condition."""
    return "[%s]\n%scondition = %s\n%s\n" % (
        detection_id, HEADER.format(id=detection_id, severity=severity, mitre=mitre), condition, extra)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def engine_for(tmp_path, conf_text, lookups=None, rules="*", local_text=None):
    """An Engine over default/ (and optionally local/) conf texts and lookups {name: csv text}."""
    paths = [write(tmp_path / "default" / "cloudtrail_detections.conf", conf_text)]
    if local_text is not None:
        paths.append(write(tmp_path / "local" / "cloudtrail_detections.conf", local_text))
    lookup_dir = tmp_path / "lookups"
    lookup_dir.mkdir(exist_ok=True)
    for name, text in (lookups or {}).items():
        (lookup_dir / (name + ".csv")).write_text(text, encoding="utf-8")
    return Engine(paths, str(lookup_dir), rules=rules)


def condition_engine(tmp_path, condition, lookups=None):
    """An engine with one detection 'c' holding ``condition``."""
    return engine_for(tmp_path, stanza("c", condition), lookups=lookups)


def matches(engine, record):
    """True when detection 'c' fires on the record (a JSON text)."""
    result = engine.analyze(record)
    assert result["error"] is None, result["error"]
    return result["detections"] == ["c"]
