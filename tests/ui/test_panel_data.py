"""The panels' data (panel_data.py) against the raw events and against each other.

The render test shows that the renderer draws what panel_data.py computes; these tests check
that what it computes is right, so that a panel contradicting another one, or counting what its
title does not say, fails here (no browser needed). Where a dashboard's SPL and its Python copy
must agree on a list (the S3 exposure detections) or a threshold, the SPL is read from the
shipped files.
"""
import collections
import json
import os
import re
import sys
import xml.etree.ElementTree as ElementTree

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import panel_data  # noqa: E402

VIEWS = os.path.join(panel_data.REPO_ROOT, "default", "data", "ui", "views")


def definition(name):
    root = ElementTree.parse(os.path.join(VIEWS, name + ".xml")).getroot()
    return json.loads(root.find("definition").text)


def queries(name):
    """Every query of a dashboard: data sources and drill-downs, by id."""
    d = definition(name)
    out = dict((source_id, source["options"]["query"]) for source_id, source in d["dataSources"].items())
    for viz_id, viz in d["visualizations"].items():
        for index, handler in enumerate(viz.get("eventHandlers", [])):
            if "query" in handler.get("options", {}):
                out["%s drilldown %d" % (viz_id, index)] = handler["options"]["query"]
    return out


def rows(block):
    """A ds.test block as a list of {field: value} rows."""
    names = [f["name"] for f in block["fields"]]
    return [dict(zip(names, values)) for values in zip(*block["columns"])]


@pytest.fixture(scope="module")
def events():
    return panel_data.run_command(panel_data.corpus_records())


@pytest.fixture(scope="module")
def data(events):
    return dict((name, compute(events)) for name, compute in panel_data.DASHBOARDS.items())


def successful_runs(events):
    return [e for e in events if panel_data._succeeded(e, "RunInstances")]


def is_large(instance_type):
    match = re.search(r"\.(\d+)xlarge$", instance_type)
    return bool(match and int(match.group(1)) >= 8) or ".metal" in instance_type


# ---- Compute abuse

def test_large_instances_agree_with_instances_by_type(data):
    # Both panels count the same instances: a type in both shows the same number of instances.
    compute = data["cloudtrail_detect_compute_abuse"]
    by_type = dict((r["instance_type"], int(r["instances"])) for r in rows(compute["ds_launched_by_type"]))
    large = dict((r["instance_type"], r) for r in rows(compute["ds_large_instances"]))
    shared = sorted(set(by_type) & set(large))
    assert shared, "no instance type is in both panels: the comparison below would prove nothing"
    for kind in shared:
        assert int(large[kind]["instances"]) == by_type[kind], kind
    for row in large.values():
        assert 1 <= int(row["calls"]) <= int(row["instances"]), row


def test_large_instances_count_calls_and_instances_of_the_records(data, events):
    # Computed again from the RunInstances records themselves: calls are records, instances are
    # the instances each record's response lists (one instance type per RunInstances call).
    calls, instances = collections.Counter(), collections.Counter()
    for event in successful_runs(events):
        types = event.get("responseElements.instancesSet.items{}.instanceType") or []
        for kind, count in collections.Counter(types).items():
            if is_large(kind):
                calls[kind] += 1
                instances[kind] += count
    shown = dict((r["instance_type"], (int(r["calls"]), int(r["instances"]))) for r in rows(data["cloudtrail_detect_compute_abuse"]["ds_large_instances"]))
    assert shown == dict((kind, (calls[kind], instances[kind])) for kind in calls)
    # The records hold a call launching several large instances at once (the case a per-call
    # count multiplied by the expansion got wrong: 4 x g4dn.12xlarge showed as 4 calls, 16 instances).
    assert any(count > 1 for _calls, count in shown.values())


def test_instances_by_type_is_the_top_ten(data, events):
    totals = collections.Counter()
    for _event, kind, count in panel_data.launched_instances(successful_runs(events)):
        totals[kind] += count
    shown = [(r["instance_type"], int(r["instances"])) for r in rows(data["cloudtrail_detect_compute_abuse"]["ds_launched_by_type"])]
    assert len(shown) == min(10, len(totals))
    assert shown == sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert "head 10" in queries("cloudtrail_detect_compute_abuse")["ds_launched_by_type"]


def test_compute_spl_counts_calls_and_instances_after_the_expansion():
    # After `mvexpand` one event is several rows: calls must be dc(eventID), and no count of a
    # whole call (mvcount of its instances) may be summed.
    for source_id in ("ds_launched_by_type", "ds_large_instances"):
        query = queries("cloudtrail_detect_compute_abuse")[source_id]
        assert query.startswith("`cloudtrail_ec2_launched_instances`"), source_id
        assert "sum(instances) as instances" in query and "count as calls" not in query
    assert "dc(eventID) as calls" in queries("cloudtrail_detect_compute_abuse")["ds_large_instances"]
    macro = panel_data.macro("cloudtrail_ec2_launched_instances")
    assert macro.rstrip().endswith("| mvexpand instance_type")
    assert "instances=if(isnotnull(response_types), 1, " in macro


def test_gpu_totals_agree(data):
    compute = data["cloudtrail_detect_compute_abuse"]
    total = int(compute["ds_gpu_total"]["columns"][0][0])
    assert total == sum(int(r["gpu_instances"]) for r in rows(compute["ds_gpu_by_identity"]))
    assert int(compute["ds_gpu_identities_total"]["columns"][0][0]) == len(set(r["user"] for r in rows(compute["ds_gpu_by_identity"])))


# ---- S3 exposure

def test_s3_exposure_detections_are_listed_once_and_agree():
    macro = panel_data.macro("cloudtrail_s3_exposures")
    rules = re.search(r'rules="([^"]*)"', macro).group(1).split(",")
    searched = [v.strip() for v in re.search(r"detection IN \(([^)]*)\)", macro).group(1).split(",")]
    assert sorted(rules) == sorted(searched) == sorted(panel_data.S3_EXPOSURE_DETECTIONS)
    for where, query in queries("cloudtrail_detect_s3_exposure").items():
        assert "aws_s3_*" not in query, where
        if where != "ds_access_changes" and not where.startswith("viz_access_changes"):
            assert query.startswith("`cloudtrail_s3_exposures` |"), where


def test_only_exposing_changes_count(data, events):
    s3 = data["cloudtrail_detect_s3_exposure"]
    titles = panel_data.detection_titles()
    exposure_titles = set(titles[d] for d in panel_data.S3_EXPOSURE_DETECTIONS)
    table = rows(s3["ds_public_buckets"])
    for row in table:
        how = row["how"] if isinstance(row["how"], list) else [row["how"]]
        assert set(how) <= exposure_titles, row
    exposed = set(r["bucket"] for r in table)
    # Buckets with only other S3 detections (logging disabled, a lifecycle rule...) exist in the
    # records and must not be shown as exposed.
    others = set(panel_data.s3_bucket(e) for e in events
                 if any(d.startswith("aws_s3_") for d in e.get("detection", []))
                 and not any(d in panel_data.S3_EXPOSURE_DETECTIONS for d in e["detection"]))
    only_other = others - exposed
    assert only_other, "the records hold no bucket with only a non-exposing S3 detection"
    expected = set(panel_data.s3_bucket(e) for e in events if any(d in panel_data.S3_EXPOSURE_DETECTIONS for d in e.get("detection", [])))
    assert exposed == expected
    assert int(s3["ds_public_buckets_total"]["columns"][0][0]) == len(table)
    assert int(s3["ds_public_changes_total"]["columns"][0][0]) == sum(int(r["changes"]) for r in table)


def test_access_changes_say_what_they_exposed(data):
    table = rows(data["cloudtrail_detect_s3_exposure"]["ds_access_changes"])
    assert set(r["exposure"] for r in table) <= {"public", "another account", "no"}
    assert {"public", "no"} <= set(r["exposure"] for r in table)


# ---- Console sign-ins

def test_brute_force_needs_the_success_after_the_failures(data):
    table = rows(data["cloudtrail_detect_console_signins"]["ds_brute_force"])
    pivots = set((r["pivot_type"], r["pivot_value"]) for r in table)
    threshold = int(panel_data.macro("aws_console_login_brute_force_threshold"))
    # maria.santos: six failures, then a success.
    assert ("user", "maria.santos") in pivots and ("source_ip", "45.146.164.112") in pivots
    # leo.tanaka: a typo, a success, then five failures and no success: no brute force.
    assert ("user", "leo.tanaka") not in pivots and ("source_ip", "81.2.69.77") not in pivots
    for row in table:
        assert int(row["failures"]) >= threshold * int(row["successes"]), row


def test_brute_force_spl_uses_the_threshold_macro_and_streamstats():
    alert = panel_data.read_conf_files([os.path.join(panel_data.REPO_ROOT, "default", "savedsearches.conf")])[1]
    searches = [queries("cloudtrail_detect_console_signins")["ds_brute_force"],
                alert["CloudTrail Detect - aws_console_login_brute_force"]["search"].value]
    for query in searches:
        assert "failures >= `aws_console_login_brute_force_threshold`" in query
        assert "| sort 0 _time |" in query and "| streamstats sum(is_success) as successes_before by pivot_type pivot_value |" in query
        assert not re.search(r"failures >= \d", query)
