"""Static checks of every search the app ships (tests/spl/spl_checker.py says what is checked)."""
import json
import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests" / "ui"))

import spl_checker  # noqa: E402
from splunk_app.pyengine.conf import read_conf_files  # noqa: E402

DEFAULT = REPO_ROOT / "default"
VIEWS = DEFAULT / "data" / "ui" / "views"


def conf(name):
    _defaults, stanzas = read_conf_files([str(DEFAULT / name)])
    return {stanza: {key: value.value for key, value in keys.items()} for stanza, keys in stanzas.items()}


@pytest.fixture(scope="module")
def known_fields():
    """Every field name the engine extracts from the CloudTrail records the tests hold."""
    import panel_data
    names = set()
    for event in panel_data.run_command(panel_data.corpus_records()):
        names.update(event)
    return names


@pytest.fixture(scope="module")
def checker(known_fields):
    return spl_checker.Checker(
        spl_checker.macros_from(conf("macros.conf")),
        conf("commands.conf").keys(),
        spl_checker.lookup_columns(conf("transforms.conf"), str(REPO_ROOT / "lookups")),
        known_fields,
    )


def dashboard_searches():
    """(where, query) of every data source and drill-down search of every shipped dashboard."""
    out = []
    for path in sorted(VIEWS.glob("*.xml")):
        definition = json.loads(ElementTree.parse(path).getroot().find("definition").text)
        for source_id, source in definition["dataSources"].items():
            if "query" in source.get("options", {}):
                out.append(("%s %s" % (path.stem, source_id), source["options"]["query"]))
        for viz_id, viz in definition["visualizations"].items():
            for handler in viz.get("eventHandlers", []):
                if "query" in handler.get("options", {}):
                    out.append(("%s %s drilldown" % (path.stem, viz_id), handler["options"]["query"]))
    return out


SAVED = conf("savedsearches.conf")
MACROS = conf("macros.conf")


@pytest.mark.parametrize("name", sorted(SAVED))
def test_saved_search_is_valid_spl(checker, name):
    assert checker.check(SAVED[name]["search"]) == []


@pytest.mark.parametrize("name", sorted(MACROS))
def test_macro_is_valid_spl(checker, name):
    assert checker.check(MACROS[name]["definition"]) == []


@pytest.mark.parametrize("where,query", dashboard_searches(), ids=[w for w, _ in dashboard_searches()])
def test_dashboard_search_is_valid_spl(checker, where, query):
    assert checker.check(query, dashboard=True) == []


def test_dashboards_are_well_formed_and_follow_the_time_picker():
    views = sorted(VIEWS.glob("*.xml"))
    assert len(views) == 5
    nav = ElementTree.parse(DEFAULT / "data" / "ui" / "nav" / "default.xml").getroot()
    in_nav = {view.get("name") for view in nav.iter("view")}
    for path in views:
        root = ElementTree.parse(path).getroot()
        assert root.tag == "dashboard" and root.get("version") == "2" and root.find("label").text
        definition = json.loads(root.find("definition").text)
        assert path.stem in in_nav
        token = definition["inputs"]["input_global_trp"]["options"]["token"]
        assert definition["layout"]["globalInputs"] == ["input_global_trp"]
        for source_id, source in definition["dataSources"].items():
            assert source["type"] == "ds.search"
            assert source["options"]["queryParameters"] == {"earliest": "$%s.earliest$" % token, "latest": "$%s.latest$" % token}, source_id
        placed = [item["item"] for item in definition["layout"]["structure"]]
        assert sorted(placed) == sorted(definition["visualizations"])
        for viz_id, viz in definition["visualizations"].items():
            assert viz["dataSources"]["primary"] in definition["dataSources"], viz_id
            handlers = viz.get("eventHandlers", [])
            assert handlers and handlers[0]["type"] in ("drilldown.linkToSearch", "drilldown.customUrl"), viz_id


def test_every_alert_ends_in_its_filter_macro_and_is_shipped_disabled():
    for name, keys in SAVED.items():
        assert name.startswith("CloudTrail Detect - ")
        alert_id = name[len("CloudTrail Detect - "):]
        assert "`%s_filter`" % alert_id in keys["search"], name
        assert "%s_filter" % alert_id in MACROS
        assert MACROS["%s_filter" % alert_id]["definition"] == "search *"
        assert keys["disabled"] == "1" and keys["enableSched"] == "1" and keys.get("cron_schedule"), name
        assert keys["dispatch.earliest_time"] and keys["dispatch.latest_time"]
        if "alert.severity" in keys:
            assert keys["alert.suppress"] == "1" and keys["alert.suppress.fields"] and keys["alert.suppress.period"]
            assert keys["alert.digest_mode"] == "0"


def test_generated_alerts_match_the_detections():
    result = subprocess.run([sys.executable, str(REPO_ROOT / "packaging" / "generate_savedsearches.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_detection_has_an_alert():
    sys.path.insert(0, str(REPO_ROOT / "packaging"))
    import generate_savedsearches
    for detection_id, _keys in generate_savedsearches.load_detections(generate_savedsearches.detection_paths()):
        assert "CloudTrail Detect - " + detection_id in SAVED


# ---- the checker catches mistakes

GOOD = SAVED["CloudTrail Detect - aws_known_attacker_ips_update"]["search"]


def test_the_shipped_search_used_below_passes(checker):
    assert "`cloudtrail_console_signins`" in GOOD and "known_attacker_ips" in GOOD
    assert checker.check(GOOD) == []


def test_catches_a_misspelled_macro(checker):
    problems = checker.check(GOOD.replace("`cloudtrail_console_signins`", "`cloudtrail_console_signin`"))
    assert problems == ["unknown macro `cloudtrail_console_signin`"]


def test_catches_a_misspelled_lookup(checker):
    problems = checker.check(GOOD.replace("lookup known_attacker_ips ip", "lookup known_attacker_ip ip"))
    assert any("unknown lookup 'known_attacker_ip'" in p for p in problems), problems
    problems = checker.check(GOOD.replace("outputlookup override_if_empty=false known_attacker_ips", "outputlookup override_if_empty=false knwon_attacker_ips"))
    assert any("unknown lookup 'knwon_attacker_ips'" in p for p in problems), problems


@pytest.mark.parametrize("mistake,expected", [
    ("`cloudtrail_index` | cloudtraildetect | stat count", "unknown command 'stat'"),
    ("`cloudtrail_index` | cloudtraildetect | search eventNmae=ConsoleLogin", "unknown field 'eventNmae'"),
    ("`cloudtrail_index` | cloudtraildetect | eval x='userIdentity.arnn'", "unknown field 'userIdentity.arnn'"),
    ("`cloudtrail_index` | cloudtraildetect | stats count by sourceIpAddress", "unknown field 'sourceIpAddress'"),
    ("`cloudtrail_index` | cloudtraildetect | search eventName=\"ConsoleLogin", "unbalanced"),
    ("`cloudtrail_index` | cloudtraildetect | search [search index=x | head 1", "unclosed"),
    ("`cloudtrail_index | cloudtraildetect", "unbalanced backtick"),
    ("`cloudtrail_index` | cloudtraildetect rule=aws_*", "unknown option rule"),
    ("`cloudtrail_index` | cloudtraildetect | stats count as n by user", "unknown field 'user'"),
])
def test_catches_other_mistakes(checker, mistake, expected):
    problems = checker.check(mistake)
    assert any(expected in p for p in problems), problems
