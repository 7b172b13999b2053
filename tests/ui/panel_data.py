"""The results each dashboard panel would show, computed from the command's real output.

How the data is made (the render test relies on nothing else):
1. Events: every shared CloudTrail record (../shared/data, tests/shared_records.py), every
   hand-written event of the detections' samples (tests/detections/samples/*.json, positive and
   negative), the demo events (samples/demo_events.ndjson) and the few UI fixtures
   (tests/ui/fixtures.py: EC2 throttling, a brute force, instances in the opened groups).
   _time is each record's eventTime.
2. The real engine (the native module when built, else the pure-Python one) runs
   `| cloudtraildetect` over all of them through Engine.process_body, exactly as the search
   command does on one chunk: the detections of default/ plus tests/detections/pending/*.conf,
   the demo lookup samples/lookups/known_attacker_ips.csv (the shipped one is empty).
3. Each panel's table is computed below in Python, step by step as its SPL says (the comment of
   each function names the data source it stands for). Two stand-ins: `cloudtrail_user` is
   re-implemented as the macro defines it, and `iplocation` is a fixed table of the source
   addresses seen in console sign-ins (IP_LOCATIONS: illustrative locations, not a geolocation
   database, which the tests cannot download). The country baseline lookup is taken as if its
   scheduled search had run over every event. Where a dashboard uses a macro, its copy here
   is one function (s3_exposures for `cloudtrail_s3_exposures`, launched_instances for
   `cloudtrail_ec2_launched_instances`), and thresholds are read from default/macros.conf.
test_panel_data.py checks these results against the records and the panels against each other.
"""
import collections
import csv
import datetime
import glob
import io
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))
sys.path.insert(0, HERE)

from shared_records import shared_records  # noqa: E402

sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "harness"))
from splunkd import decode_mv  # noqa: E402
from splunk_app import engine_loader  # noqa: E402
from splunk_app.pyengine.conf import read_conf_files, with_defaults  # noqa: E402
import fixtures  # noqa: E402

SEVERITIES = ["informational", "low", "medium", "high", "critical"]

# iplocation stand-in: address prefix -> (Country, City, lat, lon). 81.2.69.0/24 is the block
# MaxMind's own test database places in London; the others are illustrative.
IP_LOCATIONS = [
    ("81.2.69.", ("United Kingdom", "London", 51.5142, -0.0931)),
    ("45.146.164.", ("Netherlands", "Amsterdam", 52.3759, 4.8975)),
    ("185.220.101.", ("Germany", "Frankfurt am Main", 50.1188, 8.6843)),
    ("91.134.203.", ("France", "Roubaix", 50.6942, 3.1746)),
    ("102.129.152.", ("South Africa", "Johannesburg", -26.2309, 28.0583)),
    ("225.01.00.", ("United States", "Ashburn", 39.0437, -77.4875)),
]


def iplocation(address):
    for prefix, location in IP_LOCATIONS:
        if (address or "").startswith(prefix):
            return location
    return None


def _epoch(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return 0.0


def corpus_records():
    records = [raw for _, raw in shared_records()]
    for path in sorted(glob.glob(os.path.join(REPO_ROOT, "tests", "detections", "samples", "*.json"))):
        with open(path, encoding="utf-8") as handle:
            samples = json.load(handle)
        for case in samples.get("positive", []) + samples.get("negative", []):
            if "event" in case:
                records.append(json.dumps(case["event"], separators=(",", ":")))
    with open(os.path.join(REPO_ROOT, "samples", "demo_events.ndjson"), encoding="utf-8") as handle:
        records += [line.rstrip("\n") for line in handle if line.strip()]
    records += fixtures.fixture_records()
    return records


def detection_conf_paths():
    return [os.path.join(REPO_ROOT, "default", "cloudtrail_detections.conf")] + sorted(
        glob.glob(os.path.join(REPO_ROOT, "tests", "detections", "pending", "*.conf")))


def detection_titles():
    """{detection id: title} of the shipped detections."""
    defaults, stanzas = read_conf_files(detection_conf_paths())
    return dict((detection_id, with_defaults(defaults, keys)["title"].value) for detection_id, keys in stanzas.items())


def macro(name):
    """The definition of a macro of default/macros.conf (e.g. a threshold)."""
    _defaults, stanzas = read_conf_files([os.path.join(REPO_ROOT, "default", "macros.conf")])
    return stanzas[name]["definition"].value


def run_command(records):
    """The events after `| cloudtraildetect` (default options): dicts of field -> [values]."""
    engine, _note = engine_loader.load_engine(detection_conf_paths(), os.path.join(REPO_ROOT, "samples", "lookups"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["_time", "_raw"])
    for raw in records:
        try:
            when = _epoch(json.loads(raw).get("eventTime"))
        except ValueError:
            when = 0.0
        writer.writerow(["%.3f" % when, raw])
    output = bytes(engine.process_body(buffer.getvalue().encode("utf-8"))).decode("utf-8")
    rows = list(csv.reader(io.StringIO(output)))
    header = rows[0]
    events = []
    for row in rows[1:]:
        cells = dict(zip(header, row))
        event = {}
        for name in header:
            if name.startswith("__mv_") or name == "_raw":
                continue
            value, mv = cells.get(name, ""), cells.get("__mv_" + name, "")
            if mv:
                event[name] = decode_mv(mv)
            elif value != "":
                event[name] = [value]
        event["_time"] = [float(cells["_time"])]
        events.append(event)
    return events


# ---- helpers standing for SPL building blocks

def first(event, name):
    values = event.get(name)
    return values[0] if values else None


def user_of(event):
    """`cloudtrail_user`."""
    if first(event, "userIdentity.userName"):
        return first(event, "userIdentity.userName")
    if first(event, "userIdentity.type") == "Root":
        return "root"
    for name in ("userIdentity.arn", "userIdentity.principalId", "userIdentity.invokedBy", "userIdentity.type"):
        if first(event, name):
            return first(event, name)
    return "unknown"


def has_detection(event, detection_id=None):
    detections = event.get("detection", [])
    return bool(detections) if detection_id is None else detection_id in detections


def console_signins(events):
    """`cloudtrail_console_signins`: ConsoleLogin events with user and outcome."""
    out = []
    for event in events:
        if first(event, "eventName") != "ConsoleLogin" or first(event, "eventSource") != "signin.amazonaws.com":
            continue
        result = first(event, "responseElements.ConsoleLogin")
        if result == "Success":
            outcome = "success"
        elif result == "Failure" or first(event, "errorMessage") is not None:
            outcome = "failure"
        else:
            outcome = "other"
        out.append((event, user_of(event), outcome))
    return out


def table(fields, rows):
    """A ds.test data block (column-major) from row tuples; multivalue cells are lists."""
    columns = [[] for _ in fields]
    for row in rows:
        for index, value in enumerate(row):
            columns[index].append(value if isinstance(value, list) else ("" if value is None else str(value)))
    return {"fields": [{"name": name} for name in fields], "columns": columns}


def single(name, value):
    return table([name], [(value,)])


def ctime(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")


def strftime(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def ordered_values(values):
    """stats values(): distinct, sorted."""
    return sorted(set(v for v in values if v is not None and v != ""))


def mv_or_single(values):
    values = ordered_values(values)
    return values if len(values) > 1 else (values[0] if values else "")


# ---- dashboards

def overview(events):
    detected = [e for e in events if has_detection(e)]
    data = {}
    # ds_detections_total: where isnotnull(detection) | stats count
    data["ds_detections_total"] = single("detections", len(detected))
    # ds_high_total: search detection_severity IN (high, critical) | stats count
    data["ds_high_total"] = single("detections", sum(1 for e in detected if first(e, "detection_severity") in ("high", "critical")))
    # ds_identities_total: stats dc(user)
    data["ds_identities_total"] = single("identities", len(set(user_of(e) for e in detected)))
    # ds_over_time: timechart count by detection_severity (span 1d here, over the 45 days that
    # hold the most detections: the records span several years, as a time picker would choose)
    detection_days = sorted(int(first(e, "_time")) // 86400 for e in detected)
    start = 86400 * max(set(detection_days), key=lambda d: (sum(1 for x in detection_days if d <= x < d + 45), -d))
    days = collections.OrderedDict((start + 86400 * i, collections.Counter()) for i in range(45))
    for event in detected:
        day = int(first(event, "_time")) // 86400 * 86400
        if day in days:
            days[day][first(event, "detection_severity")] += 1
    present = [s for s in SEVERITIES if any(c[s] for c in days.values())]
    rows = [tuple([datetime.datetime.fromtimestamp(day, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")]
                  + [counts[s] for s in present]) for day, counts in days.items()]
    data["ds_over_time"] = table(["_time"] + present, rows)
    # ds_top_detections: stats count by detection | sort - count | head 10
    counts = collections.Counter(d for e in detected for d in e["detection"])
    data["ds_top_detections"] = table(["detection", "count"], sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    # ds_top_identities: stats count, dc(detection), values(detection), values(recipientAccountId) by user
    by_user = collections.defaultdict(list)
    for event in detected:
        by_user[user_of(event)].append(event)
    rows = []
    for user, group in by_user.items():
        ids = [d for e in group for d in e["detection"]]
        rows.append((user, len(group), len(set(ids)), mv_or_single(ids), mv_or_single([first(e, "recipientAccountId") for e in group])))
    rows.sort(key=lambda r: (-r[1], r[0]))
    data["ds_top_identities"] = table(["user", "detections", "distinct_detections", "detection", "accounts"], rows[:10])
    # ds_top_sources: stats count, dc(user), values(detection) by sourceIPAddress
    by_ip = collections.defaultdict(list)
    for event in detected:
        if first(event, "sourceIPAddress"):
            by_ip[first(event, "sourceIPAddress")].append(event)
    rows = [(ip, len(g), len(set(user_of(e) for e in g)), mv_or_single([d for e in g for d in e["detection"]]))
            for ip, g in by_ip.items()]
    rows.sort(key=lambda r: (-r[1], r[0]))
    data["ds_top_sources"] = table(["sourceIPAddress", "detections", "identities", "detection"], rows[:10])
    # ds_recent: sort - _time | head 50 | table time detection_severity detection user ...
    recent = sorted(detected, key=lambda e: -first(e, "_time"))[:50]
    data["ds_recent"] = table(
        ["time", "detection_severity", "detection", "user", "sourceIPAddress", "eventName", "recipientAccountId", "awsRegion", "eventID"],
        [(strftime(first(e, "_time")), first(e, "detection_severity"), e["detection"] if len(e["detection"]) > 1 else e["detection"][0],
          user_of(e), first(e, "sourceIPAddress"), first(e, "eventName"), first(e, "recipientAccountId"), first(e, "awsRegion"),
          first(e, "eventID")) for e in recent])
    return data


def _new_countries(signins):
    """The new-country search, the baseline lookup built from every successful sign-in."""
    groups = collections.OrderedDict()
    for event, user, outcome in signins:
        location = iplocation(first(event, "sourceIPAddress"))
        if outcome != "success" or not location:
            continue
        groups.setdefault((user, location[0]), []).append((event, location))
    baseline = {key: min(first(e, "_time") for e, _ in group) for key, group in groups.items()}
    rows = []
    for (user, country), group in groups.items():
        first_signin = min(first(e, "_time") for e, _ in group)
        user_first_seen = min(t for (u, _c), t in baseline.items() if u == user)
        country_first_seen = baseline[(user, country)]
        if country_first_seen >= first_signin and user_first_seen < first_signin:
            known = sorted(set(c for (u, c) in baseline if u == user))
            rows.append((first_signin, user, country, mv_or_single([loc[1] for _, loc in group]),
                         mv_or_single([first(e, "sourceIPAddress") for e, _ in group]), ", ".join(known)))
    rows.sort(key=lambda r: -r[0])
    return rows


def console_signins_dashboard(events):
    signins = console_signins(events)
    failures = [(e, u) for e, u, o in signins if o == "failure"]
    data = {}
    data["ds_failed_total"] = single("failures", len(failures))
    without_mfa = [(e, u) for e, u, _o in signins if has_detection(e, "aws_console_login_without_mfa")]
    data["ds_nomfa_total"] = single("signins", len(without_mfa))
    new_rows = _new_countries(signins)
    data["ds_new_country_total"] = single("new_countries", len(new_rows))
    # ds_failures_map: iplocation | where isnotnull(lat) | stats count as failures by lat lon
    bubbles = collections.Counter()
    for event, _user in failures:
        location = iplocation(first(event, "sourceIPAddress"))
        if location:
            bubbles[(location[2], location[3])] += 1
    data["ds_failures_map"] = table(["lat", "lon", "failures"], [(lat, lon, n) for (lat, lon), n in sorted(bubbles.items())])
    # ds_failures_by_source: stats count by user recipientAccountId sourceIPAddress Country City
    counts = collections.Counter()
    for event, user in failures:
        location = iplocation(first(event, "sourceIPAddress")) or ("unknown", "unknown", None, None)
        counts[(user, first(event, "recipientAccountId"), first(event, "sourceIPAddress"), location[0], location[1])] += 1
    rows = [key + (n,) for key, n in counts.items()]
    rows.sort(key=lambda r: (-r[5], r[0]))
    data["ds_failures_by_source"] = table(["user", "recipientAccountId", "sourceIPAddress", "Country", "City", "failures"], rows)
    # ds_without_mfa: sort - _time | table time user identity_type recipientAccountId sourceIPAddress Country
    rows = []
    for event, user in sorted(without_mfa, key=lambda eu: -first(eu[0], "_time")):
        location = iplocation(first(event, "sourceIPAddress"))
        rows.append((strftime(first(event, "_time")), user, first(event, "userIdentity.type"), first(event, "recipientAccountId"),
                     first(event, "sourceIPAddress"), location[0] if location else None))
    data["ds_without_mfa"] = table(["time", "user", "identity_type", "recipientAccountId", "sourceIPAddress", "Country"], rows)
    # ds_new_countries
    data["ds_new_countries"] = table(["first_signin", "user", "Country", "cities", "src_ips", "known_countries"],
                                     [(ctime(r[0]),) + r[1:] for r in new_rows])
    # ds_brute_force: pivot by source and user; in time order (sort 0 _time | streamstats), each
    # success ends a run of failures ("streak"); a success right after at least
    # `aws_console_login_brute_force_threshold` failures of its pivot counts.
    threshold = int(macro("aws_console_login_brute_force_threshold"))
    pivots = collections.defaultdict(list)
    for event, user, outcome in sorted(signins, key=lambda s: first(s[0], "_time")):
        if outcome not in ("success", "failure"):
            continue
        if first(event, "sourceIPAddress"):
            pivots[("source_ip", first(event, "sourceIPAddress"))].append((event, user, outcome))
        pivots[("user", user)].append((event, user, outcome))
    rows = []
    for (kind, value), group in pivots.items():
        streak, qualifying = [], []
        for event, user, outcome in group:
            streak.append((event, user, outcome))
            if outcome == "success":
                failures = [e for e, _u, o in streak if o == "failure"]
                if len(failures) >= threshold:
                    qualifying.append(streak)
                streak = []
        if qualifying:
            fails = [first(e, "_time") for run in qualifying for e, _u, o in run if o == "failure"]
            wins = [first(e, "_time") for run in qualifying for e, _u, o in run if o == "success"]
            members = [m for run in qualifying for m in run]
            rows.append((kind, value, len(fails), len(wins), ctime(min(fails)), ctime(max(wins)),
                         mv_or_single([u for _e, u, _o in members]), mv_or_single([first(e, "sourceIPAddress") for e, _u, _o in members])))
    rows.sort(key=lambda r: (-r[2], r[1]))
    data["ds_brute_force"] = table(["pivot_type", "pivot_value", "failures", "successes", "first_failure", "last_success", "users", "src_ips"], rows)
    return data


def _succeeded(event, *names):
    return first(event, "eventName") in names and first(event, "eventSource") == "ec2.amazonaws.com" and "errorCode" not in event


def _open_groups(events):
    """The security-group search: groups opened to the world, with the instances launched into them."""
    groups = collections.OrderedDict()
    for event in events:
        if not _succeeded(event, "AuthorizeSecurityGroupIngress", "RunInstances"):
            continue
        cidrs = []
        for name in ("requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp",
                     "requestParameters.ipPermissions.items{}.ipv6Ranges.items{}.cidrIpv6",
                     "requestParameters.cidrIp"):
            cidrs += event.get(name, [])
        world = [c for c in cidrs if c.endswith("/0")]
        is_run = first(event, "eventName") == "RunInstances"
        opened = not is_run and bool(world)
        if not is_run and not opened:
            continue
        group_ids = event.get("responseElements.instancesSet.items{}.groupSet.items{}.groupId") or event.get("requestParameters.groupId") or []
        ports = list(zip(event.get("requestParameters.ipPermissions.items{}.fromPort", []) + event.get("requestParameters.fromPort", []),
                         event.get("requestParameters.ipPermissions.items{}.toPort", []) + event.get("requestParameters.toPort", [])))
        for group_id in group_ids:
            key = (first(event, "recipientAccountId"), group_id)
            entry = groups.setdefault(key, {"open": 0, "last": None, "by": [], "world": [], "protocols": [], "ports": [], "instances": []})
            if opened:
                entry["open"] = 1
                entry["last"] = max(entry["last"] or 0, first(event, "_time"))
                entry["by"].append(user_of(event))
                entry["world"] += world
                entry["protocols"] += event.get("requestParameters.ipPermissions.items{}.ipProtocol", []) + event.get("requestParameters.ipProtocol", [])
                entry["ports"] += ["%s-%s" % p for p in ports]
            entry["instances"] += event.get("responseElements.instancesSet.items{}.instanceId", [])
    rows = []
    for (account, group_id), entry in groups.items():
        if entry["open"]:
            instances = ordered_values(entry["instances"])
            rows.append((account, group_id, entry["last"], mv_or_single(entry["by"]), mv_or_single(entry["world"]),
                         mv_or_single(entry["protocols"]), mv_or_single(entry["ports"]), len(instances), mv_or_single(instances)))
    rows.sort(key=lambda r: (-r[7], r[1]))
    return rows


def _open_nacls(events):
    vpc_of_nacl = collections.defaultdict(set)
    instances_of_vpc = collections.defaultdict(set)
    for event in events:
        if _succeeded(event, "CreateNetworkAcl"):
            vpc_of_nacl[first(event, "responseElements.networkAcl.networkAclId")].add(first(event, "responseElements.networkAcl.vpcId"))
        if _succeeded(event, "RunInstances"):
            for vpc in event.get("responseElements.instancesSet.items{}.vpcId", []):
                instances_of_vpc[vpc].update(event.get("responseElements.instancesSet.items{}.instanceId", []))
    nacls = collections.OrderedDict()
    for event in events:
        if not has_detection(event, "aws_network_acl_allow_all_ingress"):
            continue
        nacl = first(event, "requestParameters.networkAclId")
        rule = "%s %s proto %s ports %s-%s" % (
            first(event, "requestParameters.ruleNumber"),
            first(event, "requestParameters.cidrBlock") or first(event, "requestParameters.ipv6CidrBlock"),
            first(event, "requestParameters.aclProtocol"),
            first(event, "requestParameters.portRange.from") or "all", first(event, "requestParameters.portRange.to") or "all")
        entry = nacls.setdefault((first(event, "recipientAccountId"), nacl), {"rules": [], "by": [], "last": 0})
        entry["rules"].append(rule)
        entry["by"].append(user_of(event))
        entry["last"] = max(entry["last"], first(event, "_time"))
    rows = []
    for (account, nacl), entry in nacls.items():
        vpcs = sorted(vpc_of_nacl.get(nacl, ()))
        instances = sorted(set(i for v in vpcs for i in instances_of_vpc.get(v, ())))
        rows.append((account, nacl, entry["last"], mv_or_single(entry["by"]), mv_or_single(entry["rules"]),
                     mv_or_single(vpcs), len(instances), mv_or_single(instances)))
    rows.sort(key=lambda r: (-r[6], -r[2]))
    return rows


def network_exposure(events):
    groups = _open_groups(events)
    nacls = _open_nacls(events)
    data = {}
    data["ds_open_groups_total"] = single("groups", len(set(r[1] for r in groups)))
    data["ds_open_instances_total"] = single("instances", sum(r[7] for r in groups))
    data["ds_nacl_total"] = single("rules", sum(1 for e in events if has_detection(e, "aws_network_acl_allow_all_ingress")))
    data["ds_open_groups"] = table(
        ["recipientAccountId", "group_id", "last_opened", "opened_by", "world_cidrs", "protocols", "port_ranges", "instance_count", "instances"],
        [(r[0], r[1], ctime(r[2])) + r[3:] for r in groups])
    data["ds_nacls"] = table(
        ["recipientAccountId", "nacl_id", "last_change", "changed_by", "rules_allowing_all", "vpc", "instance_count", "instances_in_vpc"],
        [(r[0], r[1], ctime(r[2])) + r[3:] for r in nacls])
    # ds_exposure_by_identity: world-open security group rules and allow-all ACL rules, by user
    counts = collections.Counter()
    for event in events:
        if "errorCode" in event or first(event, "eventSource") != "ec2.amazonaws.com":
            continue
        cidrs = []
        for name in ("requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp", "requestParameters.ipPermissions.items{}.ipv6Ranges.items{}.cidrIpv6",
                     "requestParameters.cidrIp", "requestParameters.cidrBlock", "requestParameters.ipv6CidrBlock"):
            cidrs += event.get(name, [])
        if any(c.endswith("/0") for c in cidrs) and (first(event, "eventName") == "AuthorizeSecurityGroupIngress"
                                                     or has_detection(event, "aws_network_acl_allow_all_ingress")):
            counts[user_of(event)] += 1
    data["ds_exposure_by_identity"] = table(["user", "changes"], sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    return data


S3_ACCESS_APIS = ("PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketPublicAccessBlock",
                  "DeleteBucketPublicAccessBlock", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock",
                  "PutPublicAccessBlock", "DeletePublicAccessBlock")
# The detections that expose a bucket or its objects to the internet (the macro
# cloudtrail_s3_exposures; a test checks that both lists agree).
# aws_s3_bucket_policy_cross_account grants one other account, not the internet: the
# access-change table shows it as "another account".
S3_EXPOSURE_DETECTIONS = ("aws_s3_bucket_acl_public", "aws_s3_bucket_policy_public",
                          "aws_s3_bucket_public_access_block_weakened", "aws_s3_account_public_access_block_weakened",
                          "aws_s3_object_acl_public")
S3_CROSS_ACCOUNT = "aws_s3_bucket_policy_cross_account"


def s3_bucket(event):
    """eval bucket=coalesce('requestParameters.bucketName', "(all buckets of account ".recipientAccountId.")")."""
    return first(event, "requestParameters.bucketName") or "(all buckets of account %s)" % first(event, "recipientAccountId")


def s3_exposures(events):
    """`cloudtrail_s3_exposures`: (event, exposure detections of the event)."""
    out = []
    for event in events:
        ids = [d for d in event.get("detection", []) if d in S3_EXPOSURE_DETECTIONS]
        if ids:
            out.append((event, ids))
    return out


def s3_exposure(events):
    titles = detection_titles()
    public = s3_exposures(events)
    data = {}
    data["ds_public_buckets_total"] = single("buckets", len(set(s3_bucket(e) for e, _ids in public)))
    data["ds_public_changes_total"] = single("changes", len(public))
    by_bucket = collections.defaultdict(list)
    for event, ids in public:
        by_bucket[s3_bucket(event)].append((event, ids))
    rows = []
    for bucket, group in by_bucket.items():
        rows.append((bucket, len(group), max(first(e, "_time") for e, _ids in group), mv_or_single([user_of(e) for e, _ids in group]),
                     mv_or_single([first(e, "sourceIPAddress") for e, _ids in group]),
                     mv_or_single([titles[d] for _e, ids in group for d in ids]),
                     mv_or_single([first(e, "recipientAccountId") for e, _ids in group])))
    rows.sort(key=lambda r: -r[2])
    data["ds_public_buckets"] = table(["bucket", "changes", "last_change", "exposed_by", "src_ips", "how", "account"],
                                      [(r[0], r[1], ctime(r[2])) + r[3:] for r in rows])
    counts = collections.defaultdict(set)
    for event, _ids in public:
        counts[user_of(event)].add(s3_bucket(event))
    data["ds_public_by_identity"] = table(["user", "buckets"], sorted(((u, len(b)) for u, b in counts.items()), key=lambda kv: (-kv[1], kv[0]))[:10])

    def exposure(event):
        if any(has_detection(event, d) for d in S3_EXPOSURE_DETECTIONS):
            return "public"
        return "another account" if has_detection(event, S3_CROSS_ACCOUNT) else "no"

    changes = sorted((e for e in events if first(e, "eventName") in S3_ACCESS_APIS), key=lambda e: -first(e, "_time"))
    data["ds_access_changes"] = table(
        ["time", "eventName", "bucket", "user", "outcome", "exposure", "recipientAccountId"],
        [(strftime(first(e, "_time")), first(e, "eventName"), s3_bucket(e), user_of(e),
          first(e, "errorCode") or "success", exposure(e), first(e, "recipientAccountId")) for e in changes])
    return data


def launched_instances(runs):
    """`cloudtrail_ec2_launched_instances` over successful RunInstances events: (event, type, instances)."""
    rows = []
    for event in runs:
        response_types = event.get("responseElements.instancesSet.items{}.instanceType")
        if response_types:
            rows += [(event, kind, 1) for kind in response_types]
        elif first(event, "requestParameters.instanceType"):
            rows.append((event, first(event, "requestParameters.instanceType"),
                         len(event.get("responseElements.instancesSet.items{}.instanceId", []))))
    return rows


def compute_abuse(events):
    gpu = [e for e in events if has_detection(e, "aws_ec2_gpu_instance_launch")]
    runs = [e for e in events if _succeeded(e, "RunInstances")]
    throttled = [e for e in events if first(e, "eventSource") == "ec2.amazonaws.com" and first(e, "errorCode") == "Client.RequestLimitExceeded"]
    data = {}

    def launched(event):
        return len(event.get("responseElements.instancesSet.items{}.instanceId", []))

    def instance_type(event):
        return first(event, "requestParameters.instanceType") or first(event, "responseElements.instancesSet.items{}.instanceType")

    data["ds_gpu_total"] = single("gpu_instances", sum(launched(e) for e in gpu))
    data["ds_gpu_identities_total"] = single("identities", len(set(user_of(e) for e in gpu)))
    data["ds_throttled_total"] = single("throttled_calls", len(throttled))
    by_user = collections.defaultdict(list)
    for event in gpu:
        by_user[(user_of(event), first(event, "recipientAccountId"))].append(event)
    rows = []
    for (user, account), group in by_user.items():
        min_counts = [int(first(e, "requestParameters.instancesSet.items{}.minCount")) for e in group
                      if first(e, "requestParameters.instancesSet.items{}.minCount")]
        rows.append((user, account, len(group), sum(launched(e) for e in group), max(min_counts) if min_counts else "",
                     mv_or_single([instance_type(e) for e in group]), mv_or_single([first(e, "awsRegion") for e in group])))
    rows.sort(key=lambda r: (-r[3], r[0]))
    data["ds_gpu_by_identity"] = table(["user", "recipientAccountId", "calls", "gpu_instances", "max_min_count", "instance_types", "regions"], rows)
    # `cloudtrail_ec2_launched_instances`: one row per launched instance (its type, instances=1),
    # or one row per call for the requested type when the response lists no type.
    launched_rows = launched_instances(runs)
    by_type = collections.Counter()
    for _event, kind, count in launched_rows:
        by_type[kind] += count
    # ds_launched_by_type: stats sum(instances) as instances by instance_type | sort - instances | head 10
    data["ds_launched_by_type"] = table(["instance_type", "instances"], sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    # ds_large_instances: 8xlarge and up, metal | stats dc(eventID) as calls sum(instances) as instances ... by instance_type
    large = collections.OrderedDict()
    for event, kind, count in launched_rows:
        match = re.search(r"\.(\d+)xlarge$", kind)
        if (match and int(match.group(1)) >= 8) or ".metal" in kind:
            entry = large.setdefault(kind, {"calls": set(), "instances": 0, "users": [], "regions": []})
            entry["calls"].add(first(event, "eventID"))
            entry["instances"] += count
            entry["users"].append(user_of(event))
            entry["regions"].append(first(event, "awsRegion"))
    rows = [(k, len(v["calls"]), v["instances"], mv_or_single(v["users"]), mv_or_single(v["regions"])) for k, v in large.items()]
    rows.sort(key=lambda r: (-r[2], r[0]))
    data["ds_large_instances"] = table(["instance_type", "calls", "instances", "launched_by", "regions"], rows)
    by_user = collections.defaultdict(list)
    for event in throttled:
        by_user[(user_of(event), first(event, "recipientAccountId"))].append(event)
    rows = [(u, a, len(g), len(set(first(e, "eventName") for e in g)), mv_or_single([first(e, "eventName") for e in g]),
             mv_or_single([first(e, "awsRegion") for e in g])) for (u, a), g in by_user.items()]
    rows.sort(key=lambda r: (-r[2], r[0]))
    data["ds_throttling"] = table(["user", "recipientAccountId", "throttled_calls", "distinct_apis", "apis", "regions"], rows)
    return data


DASHBOARDS = {
    "cloudtrail_detect_overview": overview,
    "cloudtrail_detect_console_signins": console_signins_dashboard,
    "cloudtrail_detect_network_exposure": network_exposure,
    "cloudtrail_detect_s3_exposure": s3_exposure,
    "cloudtrail_detect_compute_abuse": compute_abuse,
}


def all_panel_data():
    events = run_command(corpus_records())
    return {name: compute(events) for name, compute in DASHBOARDS.items()}


if __name__ == "__main__":
    for dashboard, sources in all_panel_data().items():
        print(dashboard)
        for source, block in sources.items():
            print("  %-28s %d rows  %s" % (source, len(block["columns"][0]) if block["columns"] else 0,
                                          [c[:2] for c in block["columns"][:3]]))
