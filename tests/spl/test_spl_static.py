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


def shipped_detection_ids():
    """The ids of the detections the app ships (default/ and the pending files), in order."""
    sys.path.insert(0, str(REPO_ROOT / "packaging"))
    import generate_savedsearches
    return [detection_id for detection_id, _keys in generate_savedsearches.load_detections(generate_savedsearches.detection_paths())]


@pytest.fixture(scope="module")
def checker(known_fields):
    return spl_checker.Checker(
        spl_checker.macros_from(conf("macros.conf")),
        conf("commands.conf").keys(),
        spl_checker.lookup_columns(conf("transforms.conf"), str(REPO_ROOT / "lookups")),
        known_fields,
        shipped_detection_ids(),
    )


def dashboard_searches():
    """(where, query, tokens, primary query) of every data source and drill-down search of every
    shipped dashboard: tokens are the dashboard's input tokens; the primary query (drill-downs
    only) is the query of the panel's data source, whose results $row.<field>.value$ refers to."""
    out = []
    for path in sorted(VIEWS.glob("*.xml")):
        definition = json.loads(ElementTree.parse(path).getroot().find("definition").text)
        tokens = sorted(i["options"]["token"] for i in definition.get("inputs", {}).values() if "token" in i.get("options", {}))
        for source_id, source in definition["dataSources"].items():
            if "query" in source.get("options", {}):
                out.append(("%s %s" % (path.stem, source_id), source["options"]["query"], tokens, None))
                for name, value in source["options"].get("queryParameters", {}).items():
                    out.append(("%s %s %s" % (path.stem, source_id, name), value, tokens, None))
        for viz_id, viz in definition["visualizations"].items():
            primary = definition["dataSources"][viz["dataSources"]["primary"]]["options"]["query"]
            for handler in viz.get("eventHandlers", []):
                if "query" in handler.get("options", {}):
                    out.append(("%s %s drilldown" % (path.stem, viz_id), handler["options"]["query"], tokens, primary))
    return out


SAVED = conf("savedsearches.conf")
MACROS = conf("macros.conf")


@pytest.mark.parametrize("name", sorted(SAVED))
def test_saved_search_is_valid_spl(checker, name):
    assert checker.check(SAVED[name]["search"]) == []


@pytest.mark.parametrize("name", sorted(MACROS))
def test_macro_is_valid_spl(checker, name):
    assert checker.check(MACROS[name]["definition"]) == []


@pytest.mark.parametrize("where,query,tokens,primary", dashboard_searches(), ids=[d[0] for d in dashboard_searches()])
def test_dashboard_search_is_valid_spl(checker, where, query, tokens, primary):
    if where.endswith((" earliest", " latest")):
        # a time-range parameter: only its tokens are checked
        assert spl_checker.dashboard_tokens(query)[2] == [] and checker._token_problems(spl_checker.dashboard_tokens(query)[1], tokens, None) == []
        return
    row_fields = checker.output_fields(primary, dashboard=True) if primary else None
    assert checker.check(query, dashboard=True, tokens=tokens, row_fields=row_fields) == []


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


# ---- detection ids, wildcards and dashboard tokens

GPU_BULK = SAVED["CloudTrail Detect - aws_ec2_gpu_instances_bulk_launch"]["search"]


def test_the_shipped_gpu_search_used_below_passes(checker):
    assert "rules=aws_ec2_gpu_instance_launch" in GPU_BULK and "detection=aws_ec2_gpu_instance_launch" in GPU_BULK
    assert checker.check(GPU_BULK) == []


def test_catches_a_misspelled_detection_in_rules(checker):
    # The command refuses an unknown id at run time: the alert would fail on every run.
    problems = checker.check(GPU_BULK.replace("rules=aws_ec2_gpu_instance_launch", "rules=aws_ec2_gpu_instance_lanch"))
    assert "cloudtraildetect: rules entry 'aws_ec2_gpu_instance_lanch' matches no shipped detection" in problems


def test_catches_a_rules_wildcard_that_matches_nothing(checker):
    search = "`cloudtrail_index` | cloudtraildetect rules=\"aws_security_group_*,aws_ec2_gpu_*_lunch\" | stats count"
    assert checker.check(search) == ["cloudtraildetect: rules entry 'aws_ec2_gpu_*_lunch' matches no shipped detection"]
    assert checker.check(search.replace("_lunch", "_launch")) == []


def test_catches_a_misspelled_detection_value(checker):
    problems = checker.check(GPU_BULK.replace("search detection=aws_ec2_gpu_instance_launch", "search detection=aws_ec2_gpu_instances_launch"))
    assert "search: detection 'aws_ec2_gpu_instances_launch' matches no shipped detection" in problems
    problems = checker.check("`cloudtrail_s3_exposures` | search detection IN (aws_s3_bucket_acl_public, aws_s3_bucket_policy_publik) | stats count")
    assert "search: detection 'aws_s3_bucket_policy_publik' matches no shipped detection" in problems


def test_catches_a_detection_value_outside_the_rules(checker):
    # A valid id that rules= does not select: the command never tags it, so the search is empty.
    search = "`cloudtrail_index` | cloudtraildetect rules=aws_s3_bucket_acl_public | where detection=\"aws_s3_bucket_policy_public\""
    assert checker.check(search) == ["where: detection 'aws_s3_bucket_policy_public' is not among the detections rules= selects, so it never matches"]
    assert checker.check(search.replace("rules=aws_s3_bucket_acl_public", "rules=\"aws_s3_bucket_*\"")) == []


DRILLDOWN = dict((w, (q, t, p)) for w, q, t, p in dashboard_searches())["cloudtrail_detect_s3_exposure viz_public_buckets drilldown"]


def test_the_shipped_drilldown_used_below_passes(checker):
    query, tokens, primary = DRILLDOWN
    assert "$row.bucket.value$" in query and "$global_time" not in query
    assert checker.check(query, dashboard=True, tokens=tokens, row_fields=checker.output_fields(primary, dashboard=True)) == []


@pytest.mark.parametrize("mistake,expected", [
    ("$row.bucket.value\"", "unclosed token at '$row.bucket.value\" | table"),
    ("$row.bucket.value \"", "unclosed token"),
    ("$row.buckets.value$\"", "token $row.buckets.value$: the panel's results have no field 'buckets'"),
    ("$row.bucket$\"", "token $row.bucket$: a row token is $row.<field>.value$"),
    ("$clik.value$\"", "token $clik.value$: the dashboard defines no token 'clik'"),
])
def test_catches_dashboard_token_mistakes(checker, mistake, expected):
    query, tokens, primary = DRILLDOWN
    query = query.replace("$row.bucket.value$\"", mistake)
    problems = checker.check(query, dashboard=True, tokens=tokens, row_fields=checker.output_fields(primary, dashboard=True))
    assert any(expected in p for p in problems), problems


def test_a_literal_dollar_is_not_a_token(checker):
    assert spl_checker.dashboard_tokens('rex field=x "a$$" | search y="$row.y.value$"') == ('rex field=x "a$" | search y="TOKEN"', ["row.y.value"], [])


# ---- time windows

def minutes(time_modifier):
    """Minutes from now of a relative time modifier: -70m@m -> -70, -24h@m -> -1440, now -> 0."""
    if time_modifier == "now":
        return 0
    match = re.match(r"^-(\d+)([mhd])(?:@\w+)?$", time_modifier)
    assert match, time_modifier
    return -int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[match.group(2)]


def cron_period(cron):
    """Minutes between the runs of an hourly-or-faster cron schedule with evenly spaced minutes."""
    minute, rest = cron.split(" ", 1)
    assert rest == "* * * *", cron
    if minute.startswith("*/"):
        return int(minute[2:])
    runs = sorted(int(m) for m in minute.split(","))
    gaps = set((b - a) % 60 or 60 for a, b in zip(runs, runs[1:] + runs[:1]))
    assert len(gaps) == 1, cron
    return gaps.pop()


INDEX_TIME = sorted(name for name, keys in SAVED.items() if "dispatch.index_earliest" in keys)


def test_per_event_alerts_use_index_time():
    generated = [name for name in SAVED if name not in (
        "CloudTrail Detect - aws_console_login_failures_by_source", "CloudTrail Detect - aws_console_login_brute_force",
        "CloudTrail Detect - aws_ec2_api_throttling_by_user", "CloudTrail Detect - aws_ec2_gpu_instances_bulk_launch",
        "CloudTrail Detect - aws_security_group_open_to_world_instances", "CloudTrail Detect - aws_known_attacker_ips_update")]
    assert sorted(generated) == INDEX_TIME


@pytest.mark.parametrize("name", INDEX_TIME)
def test_index_time_windows_tile_the_schedule(name):
    # Consecutive runs read consecutive index-time slices: no gap (a late event never evaluated)
    # and no overlap (an event alerted twice).
    keys = SAVED[name]
    period = cron_period(keys["cron_schedule"])
    earliest, latest = minutes(keys["dispatch.index_earliest"]), minutes(keys["dispatch.index_latest"])
    assert latest - earliest == period, name
    assert latest <= -5 and keys["dispatch.index_earliest"].endswith("@m") and keys["dispatch.index_latest"].endswith("@m")
    # The event-time window only bounds the buckets read: wide enough for late deliveries.
    assert minutes(keys["dispatch.earliest_time"]) <= -24 * 60 and keys["dispatch.latest_time"] == "now"


@pytest.mark.parametrize("name", [
    "CloudTrail Detect - aws_console_login_failures_by_source", "CloudTrail Detect - aws_console_login_brute_force",
    "CloudTrail Detect - aws_ec2_api_throttling_by_user", "CloudTrail Detect - aws_ec2_gpu_instances_bulk_launch"])
def test_threshold_windows_slide_over_late_events(name):
    # Event-time windows longer than the period, ending after CloudTrail's delivery delay: an event
    # delivered late is still counted by a later run; suppression at least as long as the window
    # keeps the overlapping runs from alerting twice on one incident.
    keys = SAVED[name]
    period = cron_period(keys["cron_schedule"])
    earliest, latest = minutes(keys["dispatch.earliest_time"]), minutes(keys["dispatch.latest_time"])
    assert latest <= -10
    assert latest - earliest >= 3 * period
    assert minutes("-" + keys["alert.suppress.period"]) <= earliest - latest
