"""Listing by date and the compaction of the done-files logs (listing.py, layout.py,
checkpoint.py): exactly once over many days, accounts, regions and an organization trail; the
ListObjectsV2 calls of a steady-state run bounded by the region folders and the days of the
window, not by the objects in the bucket; a late file within the lookback read; nothing sent
again after a compaction; what is not CloudTrail's layout listed whole.

ListObjectsV2 calls are counted in the input's own process (modinput_support.run_counting:
botocore's before-call event on every client it makes). Buckets large enough for the counts to
mean something are filled through moto's backend (fast_s3), read over HTTP like any other."""
import collections
import datetime
import gzip
import json
import math
import os

import pytest

from modinput_support import (LISTING_FIGURES, LogTree, add_day, check_exactly_once, dated_record, parse_stream,
                              region_folders, run_counting, run_input)
from splunk_app.modinput import layout
from splunk_app.modinput.checkpoint import CheckpointStore, stanza_folder
from splunk_app.modinput.listing import Listing
from splunk_app.modinput.sources import LocalSource

STANZA = "cloudtrail_logs://test"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ORGANIZATION = "o-exampleorg1"
DAY0 = datetime.date(2024, 3, 1)


def _day(n):
    return DAY0 + datetime.timedelta(days=n)


def _merged(*trees):
    merged = LogTree()
    for tree in trees:
        merged.objects.update(tree.objects)
        merged.records.update(tree.records)
        merged.expected.update(tree.expected)
    return merged


def _s3(bucket, key):
    return "s3://%s/%s" % (bucket, key)


def _log_lines(checkpoint_dir):
    """{log file name: its lines} of the stanza's done-files logs."""
    folder = stanza_folder(str(checkpoint_dir), STANZA)
    lines = {}
    roots = os.path.join(folder, "roots")
    for name in ["files.log"] + ["roots/" + n for n in (sorted(os.listdir(roots)) if os.path.isdir(roots) else ())]:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                lines[name] = [json.loads(line) for line in handle]
    return lines


def _state(checkpoint_dir):
    with open(os.path.join(stanza_folder(str(checkpoint_dir), STANZA), "listing.json"), "rb") as handle:
        return json.loads(handle.read().decode("utf-8"))


# ---------------------------------------------------------------- layout.py

@pytest.mark.parametrize("folder, kind", [
    ("AWSLogs/", layout.DESCEND), ("AWSLogs/123456789012/", layout.ACCOUNT),
    ("AWSLogs/o-abcdefghij/", layout.DESCEND), ("AWSLogs/o-abcdefghij/123456789012/", layout.ACCOUNT),
    ("AWSLogs/123456789012/CloudTrail/", layout.DESCEND),
    ("AWSLogs/123456789012/CloudTrail/us-east-1/", layout.REGION),
    ("AWSLogs/o-abcdefghij/123456789012/CloudTrail/us-gov-west-1/", layout.REGION),
    ("AWSLogs/123456789012/CloudTrail/eusc-de-east-1/", layout.REGION),
    ("my-trail/AWSLogs/123456789012/CloudTrail/eu-west-3/", layout.REGION),
    ("AWSLogs/123456789012/CloudTrail/backup/", layout.OTHER),
    ("AWSLogs/123456789012/CloudTrail/us-east-1/2024/", layout.INSIDE_REGION),
    ("AWSLogs/123456789012/CloudTrail-Digest/", layout.IGNORED), ("AWSLogs/123456789012/Config/", layout.IGNORED),
    # The top of a copy of AWSLogs/ or of an account's folder.
    ("123456789012/", layout.DESCEND), ("123456789012/CloudTrail/", layout.DESCEND),
    ("123456789012/CloudTrail-Digest/", layout.IGNORED), ("123456789012/Config/", layout.OTHER),
    ("o-abcdefghij/", layout.DESCEND), ("CloudTrail/", layout.DESCEND), ("CloudTrail/us-east-1/", layout.REGION),
    ("exported/", layout.OTHER), ("AWSLogs/junk/", layout.OTHER), ("AWSLogs/o-abcdefghij/junk/", layout.OTHER),
])
def test_folder_kinds(folder, kind):
    assert layout.folder_kind(folder) == kind


def test_parse_key():
    assert layout.parse_key("AWSLogs/o-abcdefghij/123456789012/CloudTrail/us-east-1/2024/05/06/f.json.gz") == (
        "AWSLogs/o-abcdefghij/123456789012/CloudTrail/us-east-1/", datetime.date(2024, 5, 6))
    assert layout.parse_key("t/AWSLogs/123456789012/CloudTrail/eu-west-1/2024/02/29/f") == (
        "t/AWSLogs/123456789012/CloudTrail/eu-west-1/", datetime.date(2024, 2, 29))
    for key in ("AWSLogs/123456789012/CloudTrail/us-east-1/2023/02/29/f",   # no such day
                "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/06/sub/f",  # not directly in the day
                "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/06/f", "us-east-1/2024/05/06/f",
                "exported/2024/05/06/f"):
        assert layout.parse_key(key) is None, key


def test_gaps_and_merge():
    d = datetime.date
    assert layout.gaps([], layout.BEGINNING) == [(layout.BEGINNING, None)]
    assert layout.gaps([(layout.BEGINNING, d(2024, 1, 5))], d(2024, 1, 1)) == [(d(2024, 1, 5), None)]
    assert layout.gaps([(d(2024, 1, 5), d(2024, 2, 1))], d(2024, 1, 1)) == [(d(2024, 1, 1), d(2024, 1, 5)),
                                                                            (d(2024, 2, 1), None)]
    assert layout.gaps([(d(2024, 1, 5), d(2024, 2, 1))], d(2024, 3, 1)) == [(d(2024, 3, 1), None)]
    assert layout.merge([(d(2024, 1, 5), d(2024, 2, 1)), (d(2024, 1, 1), d(2024, 1, 5)),
                         (d(2024, 3, 1), d(2024, 3, 1))]) == [(d(2024, 1, 1), d(2024, 2, 1))]


def test_local_walk_is_in_key_order_from_start_after(tmp_path):
    keys = ["a-b", "a.b/c", "a/x", "a/y/z", "a/y/z0", "A/q", "b.json", "ab/c/d", "a/y-", "a0", "e/"]
    for key in keys:
        if key.endswith("/"):
            (tmp_path / key).mkdir(parents=True, exist_ok=True)
        else:
            (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / key).write_bytes(b"x")
    files = sorted(key for key in keys if not key.endswith("/"))
    source = LocalSource(str(tmp_path))
    assert [item.key for item in source.walk("")] == files  # S3's order: keys compared as text
    for start_after in ("", "a", "a/", "a/x", "a/y", "a/y/", "a-b", "a/y/z", "zzz", "A"):
        assert [item.key for item in source.walk("", start_after or None)] == [k for k in files if k > start_after]
    assert [item.key for item in source.walk("a/", "a/y")] == ["a/y-", "a/y/z", "a/y/z0"]


# ---------------------------------------------------------------- listing.py, in process

def _write_days(root_folder, region_folder, first, count, per_day=2, tag="f"):
    keys = []
    for n in range(count):
        day = first + datetime.timedelta(days=n)
        for number in range(per_day):
            key = "%s%s/%s%d_%s.json.gz" % (region_folder, day.strftime("%Y/%m/%d"), tag, number, day.isoformat())
            path = root_folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
            keys.append(key)
    return keys


def _pass(folder, checkpoint_dir, fail=(), lookback=2, start_date=None, stop_after=None):
    """One run of the listing over a local tree, as run.py drives it, without reading: every
    listed file is marked done except those in fail; stop_after stops after that many."""
    store = CheckpointStore(str(checkpoint_dir), STANZA)
    assert store.lock()
    messages = []
    listing = Listing(LocalSource(str(folder)), store, lambda level, text: messages.append((level, text)),
                      lookback_days=lookback, start_date=start_date, rediscover_after=0)
    listed = []
    for item in listing.items(lambda item: store.status(item.key) is not None):
        listed.append(item.key)
        if item.key not in fail and store.status(item.key) is None:
            store.mark(item.key, "done")
        if stop_after is not None and len(listed) >= stop_after:
            break
    listing.finish()
    store._lock_handle.close()
    return listed, CheckpointStore(str(checkpoint_dir), STANZA), messages


ROOT = "AWSLogs/123456789012/CloudTrail/us-east-1/"


def test_the_watermark_waits_for_a_file_not_finished(tmp_path):
    keys = _write_days(tmp_path / "logs", ROOT, DAY0, 10)
    failing = keys[7]  # day 3
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp", fail={failing})
    assert listed == keys
    assert store.passed_days(ROOT) == [(layout.BEGINNING, _day(3))]  # not day 7 (= day 9 - 2): day 3 waits
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp")
    assert listed == keys[6:]  # from day 3 on: the failed file is read again
    assert store.passed_days(ROOT) == [(layout.BEGINNING, _day(7))]
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp")
    assert listed == keys[14:]  # days 7, 8, 9: the newest day and the two before
    # The region folder's log holds the lines of the days still listed only.
    logs = _log_lines(tmp_path / "cp")
    assert "files.log" not in logs
    assert sorted(entry["key"] for lines in logs.values() for entry in lines) == keys[14:]


def test_a_run_cut_short_still_moves_the_watermark(tmp_path):
    keys = _write_days(tmp_path / "logs", ROOT, DAY0, 10)
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp", stop_after=9)  # stops in day 4
    assert listed == keys[:9]
    assert store.passed_days(ROOT) == [(layout.BEGINNING, _day(2))]  # day 4 - 2
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp")
    assert listed == keys[4:]
    assert store.passed_days(ROOT) == [(layout.BEGINNING, _day(7))]


def test_start_date_moved_earlier_lists_the_days_never_read(tmp_path):
    keys = _write_days(tmp_path / "logs", ROOT, DAY0, 10)
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp", start_date=_day(5))
    assert listed == keys[10:]
    assert store.passed_days(ROOT) == [(_day(5), _day(7))]
    listed, store, _messages = _pass(tmp_path / "logs", tmp_path / "cp", start_date=_day(2))
    assert listed == keys[4:10] + keys[14:]  # days 2-4, never read, then the window
    assert store.passed_days(ROOT) == [(_day(2), _day(7))]
    listed, _store, _messages = _pass(tmp_path / "logs", tmp_path / "cp", start_date=_day(2))
    assert listed == keys[14:]


def test_a_future_day_does_not_move_the_watermark_past_today(tmp_path):
    keys = _write_days(tmp_path / "logs", ROOT, DAY0, 3)
    future = _write_days(tmp_path / "logs", ROOT, datetime.date(2999, 1, 1), 1, per_day=1)
    listed, store, messages = _pass(tmp_path / "logs", tmp_path / "cp")
    assert listed == keys + future
    assert [level for level, text in messages if "files dated after today" in text and ROOT in text] == ["WARN"]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    (first, end), = store.passed_days(ROOT)
    assert end <= today - datetime.timedelta(days=2)
    # A file delivered today is still listed.
    todays = _write_days(tmp_path / "logs", ROOT, today, 1, per_day=1, tag="today")
    listed, _store, _messages = _pass(tmp_path / "logs", tmp_path / "cp")
    assert listed == todays + future


# ---------------------------------------------------------------- S3: an organization trail's bucket

ACCOUNTS = ("111111111111", "222222222222")
MEMBERS = ("333333333333", "444444444444")


def _trail_folders():
    return region_folders(ACCOUNTS, REGIONS) + region_folders(MEMBERS, REGIONS, organization=ORGANIZATION)


def _other_services(days):
    """What else AWS writes in an account's folder: never listed."""
    objects = {}
    for account in ACCOUNTS:
        for day in days:
            for n in range(3):
                objects["AWSLogs/%s/Config/us-east-1/%s/ConfigHistory_%d.json.gz" % (
                    account, day.strftime("%Y/%m/%d"), n)] = gzip.compress(b'{"configurationItems":[]}', mtime=0)
    return objects


def test_organization_trail_exactly_once_late_files_and_compaction(tmp_path, fast_s3):
    folders = _trail_folders()
    bucket = "org-trail"
    first_days = LogTree()
    for n in range(10):
        add_day(first_days, folders, _day(n), 2)
    fast_s3.create(bucket, first_days.objects)
    fast_s3.put(bucket, _other_services([_day(n) for n in range(10)]))
    params = {"s3_bucket": bucket, "s3_endpoint_url": fast_s3.endpoint, "batch_size": "100"}
    source = lambda key: _s3(bucket, key)

    first, calls = run_counting(params, tmp_path / "cp")
    assert first.returncode == 0, first.stderr
    parse_stream(first.stdout)
    check_exactly_once(first_days, first.events(), source)
    # Discovery: the top, AWSLogs/, the organization's folder, <account>/CloudTrail/ of 4 accounts;
    # then one listing per region folder. Digest and Config files are not listed.
    assert calls == {"ListObjectsV2": 3 + 4 + 12, "GetObject": 12 * 10 * 2}, calls
    assert "12 region folders in 4 accounts" in first.stderr and "skipped" not in first.stderr

    # A new day arrives, with a late file in day 8 (within the 2-day lookback: read) and one in
    # day 2 (a day passed: never read, the documented trade-off).
    newer, late, too_late = LogTree(), LogTree(), LogTree()
    add_day(newer, folders, _day(10), 2, tag="n")
    add_day(late, folders[:1] + folders[-1:], _day(8), 1, tag="late", beside=False)
    add_day(too_late, folders[:1], _day(2), 1, tag="old", beside=False)
    for tree in (newer, late, too_late):
        fast_s3.put(bucket, tree.objects)
    second, calls = run_counting(params, tmp_path / "cp")
    assert second.returncode == 0, second.stderr
    check_exactly_once(_merged(newer, late), second.events(), source)
    assert calls == {"ListObjectsV2": 12, "GetObject": 12 * 2 + 2}, calls  # the discovery is an hour old at most

    # Compaction: each region folder's log holds the days still listed (8, 9, 10) only.
    logs = _log_lines(tmp_path / "cp")
    assert "files.log" not in logs and len(logs) == 12
    kept = [entry["key"] for lines in logs.values() for entry in lines]
    assert sorted(set(layout.parse_key(key)[1] for key in kept)) == [_day(8), _day(9), _day(10)]
    assert len(kept) == len(set(kept)) == 12 * 3 * 2 + 2
    passed = _state(tmp_path / "cp")["passed_days"]
    assert len(passed) == 12 and all(days == [["0001-01-01", _day(8).isoformat()]] for days in passed.values())

    # Nothing again: not by date, not listing everything (lookback_days = 0), not with another prefix.
    third, calls = run_counting(params, tmp_path / "cp")
    assert third.returncode == 0 and third.events() == [] and calls == {"ListObjectsV2": 12}, (third.stderr, calls)
    objects = len(first_days.objects) + len(newer.objects) + len(late.objects) + len(too_late.objects) + 60
    everything, calls = run_counting(dict(params, lookback_days="0"), tmp_path / "cp")
    assert everything.returncode == 0 and everything.events() == [], everything.stderr
    # (Listing everything reads the Config files too, as before listing by date: not log files.)
    assert calls == {"ListObjectsV2": math.ceil(objects / 1000.0), "GetObject": 60}, calls
    organization, calls = run_counting(dict(params, s3_prefix="AWSLogs/%s/" % ORGANIZATION), tmp_path / "cp")
    assert organization.returncode == 0 and organization.events() == [], organization.stderr
    assert calls == {"ListObjectsV2": 1 + 2 + 6}, calls  # the organization's folder, 2 accounts, 6 region folders


def test_listing_calls_are_bounded_by_region_folders_not_objects(tmp_path, fast_s3, record_property):
    """A steady-state run makes one ListObjectsV2 call per region folder (its window of days is
    well under 1,000 keys): the same with 120 or 240 days of history, where listing everything
    makes one per 1,000 objects."""
    folders = _trail_folders()
    bucket = "big-org-trail"
    history = LogTree()
    for n in range(120, 240):
        add_day(history, folders, _day(n), 5, records_per_file=1)
    fast_s3.create(bucket, history.objects)
    last = _day(239)
    params = {"s3_bucket": bucket, "s3_endpoint_url": fast_s3.endpoint, "batch_size": "500",
              "start_date": (last - datetime.timedelta(days=2)).isoformat()}
    expected = LogTree()
    for n in range(237, 240):
        add_day(expected, folders, _day(n), 5, records_per_file=1)
    window_days = 3  # lookback_days 2: the newest day and the 2 before

    by_date, first_calls = run_counting(params, tmp_path / "date")
    assert by_date.returncode == 0, by_date.stderr
    check_exactly_once(expected, by_date.events(), lambda key: _s3(bucket, key))
    steady, steady_calls = run_counting(params, tmp_path / "date")
    assert steady.returncode == 0 and steady.events() == [], steady.stderr
    # The same bucket listed whole on every run, as before listing by date (lookback_days = 0).
    full, full_calls = run_counting(dict(params, lookback_days="0"), tmp_path / "full")
    assert full.returncode == 0, full.stderr
    check_exactly_once(expected, full.events(), lambda key: _s3(bucket, key))

    # 120 more days of history (before the watermark: never listed again).
    older = LogTree()
    for n in range(0, 120):
        add_day(older, folders, _day(n), 5, records_per_file=1)
    fast_s3.put(bucket, older.objects)
    grown, grown_calls = run_counting(params, tmp_path / "date")
    assert grown.returncode == 0 and grown.events() == [], grown.stderr

    objects, all_objects = len(history.objects), len(history.objects) + len(older.objects)
    accounts, regions = len(ACCOUNTS) + len(MEMBERS), len(REGIONS)
    assert first_calls["ListObjectsV2"] == 3 + accounts + accounts * regions  # discovery, then each region folder
    assert steady_calls == grown_calls == {"ListObjectsV2": accounts * regions}
    assert steady_calls["ListObjectsV2"] <= accounts * regions * window_days
    assert full_calls["ListObjectsV2"] == math.ceil(objects / 1000.0)
    figures = collections.OrderedDict([
        ("objects", objects), ("objects_grown", all_objects), ("region_folders", accounts * regions),
        ("first_run_by_date", first_calls["ListObjectsV2"]), ("steady_by_date", steady_calls["ListObjectsV2"]),
        ("steady_by_date_grown", grown_calls["ListObjectsV2"]), ("listing_everything", full_calls["ListObjectsV2"])])
    for name, value in figures.items():
        record_property(name, value)
    LISTING_FIGURES.append(
        "ListObjectsV2 calls per run, %d region folders (4 accounts, 2 of them in an organization, x 3 regions), 5 "
        "files per region folder and day: steady state by date %d with %d objects, %d with %d objects; listing "
        "everything (lookback_days = 0) %d with %d objects; first run by date %d (discovery %d)"
        % (accounts * regions, steady_calls["ListObjectsV2"], objects, grown_calls["ListObjectsV2"], all_objects,
           full_calls["ListObjectsV2"], objects, first_calls["ListObjectsV2"], 3 + accounts))


# ---------------------------------------------------------------- what is not CloudTrail's layout

def _other_log(tree, key, event_id):
    tree.add_log(key, [dated_record(event_id, DAY0)])


def test_a_bucket_without_the_layout_is_listed_whole(tmp_path, fast_s3):
    bucket = "exported-logs"
    tree = LogTree()
    _other_log(tree, "exports/2024/03/01/a.json.gz", "export-a")
    _other_log(tree, "exports/b.json.gz", "export-b")
    _other_log(tree, "c.json.gz", "top-c")
    fast_s3.create(bucket, tree.objects)
    params = {"s3_bucket": bucket, "s3_endpoint_url": fast_s3.endpoint}
    first, calls = run_counting(params, tmp_path / "cp")
    assert first.returncode == 0, first.stderr
    check_exactly_once(tree, first.events(), lambda key: _s3(bucket, key))
    # The top level, whether exports/ holds an AWSLogs/, then the whole bucket.
    assert calls == {"ListObjectsV2": 3, "GetObject": 3}, calls
    why = [line for line in first.lines("INFO") if "no CloudTrail region folder" in line]
    assert len(why) == 1 and "s3://exported-logs/" in why[0] and "lists it whole" in why[0], first.stderr
    # Said once: the next runs look again (no region folder yet) and say nothing.
    _other_log(tree, "exports/2024/03/02/d.json.gz", "export-d")
    fast_s3.put(bucket, {"exports/2024/03/02/d.json.gz": tree.objects["exports/2024/03/02/d.json.gz"]})
    second, calls = run_counting(params, tmp_path / "cp")
    assert [json.loads(e["data"])["eventID"] for e in second.events()] == ["export-d"]
    assert "no CloudTrail region folder" not in second.stderr and calls["ListObjectsV2"] == 3
    # lookback_days = 0 does not look for the layout at all.
    zero, calls = run_counting(dict(params, lookback_days="0"), tmp_path / "cp0")
    check_exactly_once(tree, zero.events(), lambda key: _s3(bucket, key))
    assert calls == {"ListObjectsV2": 1, "GetObject": 4} and "region folder" not in zero.stderr


def test_what_is_beside_the_layout_is_listed_whole(tmp_path, fast_s3):
    """Region folders by date; beside them, listed whole on every run: a folder outside AWSLogs/,
    a folder of CloudTrail/ that is no region, the files lying in the folders walked through. A
    trail's own prefix beside them (trail/AWSLogs/...) is found and listed by date too."""
    bucket = "mixed-bucket"
    folders = region_folders(["111111111111"], ("us-east-1", "eu-west-1")) + region_folders(
        ["555555555555"], ("us-east-1",), base="trail/")
    tree = LogTree()
    for n in range(6):
        add_day(tree, folders, _day(n), 1)
    _other_log(tree, "exports/2024/03/01/a.json.gz", "export-a")
    _other_log(tree, "top.json.gz", "top")
    _other_log(tree, "AWSLogs/loose.json.gz", "loose-in-awslogs")
    _other_log(tree, "AWSLogs/111111111111/CloudTrail/backup/x.json.gz", "not-a-region")
    fast_s3.create(bucket, tree.objects)
    params = {"s3_bucket": bucket, "s3_endpoint_url": fast_s3.endpoint}
    first, calls = run_counting(params, tmp_path / "cp")
    assert first.returncode == 0, first.stderr
    check_exactly_once(tree, first.events(), lambda key: _s3(bucket, key))
    infos = "\n".join(first.lines("INFO"))
    assert "3 region folders in 2 accounts" in infos
    assert "listed whole on every run: AWSLogs/111111111111/CloudTrail/backup/, exports/" in infos
    assert "the files directly in the top of s3://mixed-bucket/, AWSLogs/ are listed on every run" in infos
    steady, calls = run_counting(params, tmp_path / "cp")
    assert steady.returncode == 0 and steady.events() == [] and "outside CloudTrail's layout" not in steady.stderr
    # 3 region folders, 2 folders whole, 2 levels' files.
    assert calls == {"ListObjectsV2": 3 + 2 + 2}, calls
    _other_log(tree, "exports/later.json.gz", "export-later")
    fast_s3.put(bucket, {"exports/later.json.gz": tree.objects["exports/later.json.gz"]})
    later, calls = run_counting(params, tmp_path / "cp")
    assert [json.loads(e["data"])["eventID"] for e in later.events()] == ["export-later"]


def test_a_prefix_inside_a_region_folder_is_listed_whole(tmp_path, fast_s3):
    bucket = "narrow-prefix"
    folders = region_folders(["111111111111"], ("us-east-1",))
    tree = LogTree()
    for n in range(3):
        add_day(tree, folders, _day(n), 2, beside=False)
    fast_s3.create(bucket, tree.objects)
    prefix = folders[0][0] + "2024/03/0"
    result, calls = run_counting({"s3_bucket": bucket, "s3_endpoint_url": fast_s3.endpoint, "s3_prefix": prefix},
                                 tmp_path / "cp")
    assert result.returncode == 0, result.stderr
    check_exactly_once(tree, result.events(), lambda key: _s3(bucket, key))
    assert calls == {"ListObjectsV2": 2, "GetObject": 6}, calls
    # Then the whole account by date: the files already read are not read again.
    wider, calls = run_counting({"s3_bucket": bucket, "s3_endpoint_url": fast_s3.endpoint,
                                 "s3_prefix": "AWSLogs/111111111111/"}, tmp_path / "cp")
    assert wider.returncode == 0 and wider.events() == [], wider.stderr


# ---------------------------------------------------------------- local folders

def test_local_copy_of_awslogs_is_walked_by_date(tmp_path, shared_data):
    """local_folder = a copy of AWSLogs/ (what `aws s3 sync s3://<bucket>/AWSLogs/ <folder>` makes):
    the day folders of the window are read, not the whole tree; with max_events_per_run and
    start_date, every record once."""
    folders = [(folder[len("AWSLogs/"):], account, region) for folder, account, region in _trail_folders()]
    tree = LogTree()
    for n in range(20):
        add_day(tree, folders, _day(n), 2)
    root = tree.write_to(tmp_path / "AWSLogs")
    params = {"local_folder": str(root), "batch_size": "7", "max_events_per_run": "150",
              "start_date": _day(4).isoformat()}
    expected = LogTree()
    for n in range(4, 20):
        add_day(expected, folders, _day(n), 2)
    events, runs, stderr = [], 0, ""
    while True:
        result = run_input(params, tmp_path / "cp")
        assert result.returncode == 0, result.stderr
        runs += 1
        events += result.events()
        stderr += result.stderr
        if not result.events():
            break
        assert runs < 20
    check_exactly_once(expected, events, lambda key: str(root / key))
    assert runs == math.ceil(12 * 16 * 2 * 2 / 150.0) + 1
    assert stderr.count("12 region folders in 4 accounts") == 1 and "CloudTrail-Digest" not in stderr
    # A steady-state run reads the folders of the window only: per region folder, itself, one
    # year, one month and three days; plus the top, the organization and the account folders.
    steady = run_input(params, tmp_path / "cp")
    read = int(steady.stderr.split(" folders read")[0].rsplit(" ", 1)[1])
    assert read <= 1 + 1 + 2 + 4 + 4 + 12 * (1 + 1 + 1 + 3), steady.stderr
    day_folders = 12 * 20
    assert read < day_folders / 2



def test_a_checkpoint_from_before_listing_by_date(tmp_path):
    """An input upgraded from a version that kept every finished file in files.log: nothing is
    read again, and files.log keeps only the lines of the days still listed."""
    folders = region_folders(["111111111111"], ("us-east-1", "eu-west-1"))
    tree = LogTree()
    for n in range(8):
        add_day(tree, folders, _day(n), 2)
    root = tree.write_to(tmp_path / "logs")
    folder = stanza_folder(str(tmp_path / "cp"), STANZA)
    os.makedirs(folder)
    with open(os.path.join(folder, "files.log"), "wb") as handle:
        for key in sorted(tree.objects):
            status = "done" if key in tree.records else "skipped"
            handle.write((json.dumps({"key": key, "records": len(tree.records.get(key, ())), "status": status},
                                     sort_keys=True) + "\n").encode())
        handle.write(b'{"key": "torn')
    result = run_input({"local_folder": str(root)}, tmp_path / "cp")
    assert result.returncode == 0 and result.events() == [], result.stderr
    kept = [entry["key"] for entry in _log_lines(tmp_path / "cp")["files.log"]]
    # The days still listed (5, 6, 7), and the digest files (not in a region folder).
    assert sorted(kept) == sorted(key for key in tree.objects
                                  if "CloudTrail-Digest" in key or layout.parse_key(key)[1] >= _day(5))
    new = LogTree()
    add_day(new, folders, _day(8), 1, tag="new")
    new.write_to(root)
    again = run_input({"local_folder": str(root)}, tmp_path / "cp")
    check_exactly_once(new, again.events(), lambda key: str(root / key))


def test_a_long_run_saves_its_progress_as_it_goes(tmp_path, monkeypatch):
    """What a closed listing proved is saved during the run (every SAVE_EVERY seconds; here at
    once): a run killed later does not list those days again."""
    from splunk_app.modinput import listing as listing_module
    monkeypatch.setattr(listing_module, "SAVE_EVERY", 0)
    other = "AWSLogs/123456789012/CloudTrail/us-west-2/"
    first = _write_days(tmp_path / "logs", ROOT, DAY0, 5)
    second = _write_days(tmp_path / "logs", other, DAY0, 5)
    store = CheckpointStore(str(tmp_path / "cp"), STANZA)
    assert store.lock()
    listing = Listing(LocalSource(str(tmp_path / "logs")), store, lambda level, text: None, rediscover_after=0)
    listed = []
    for item in listing.items(lambda item: store.status(item.key) is not None):
        listed.append(item.key)
        store.mark(item.key, "done")
        if item.key == second[0]:
            break  # killed while reading the second region folder: no finish()
    assert listed == first + second[:1]
    saved = CheckpointStore(str(tmp_path / "cp"), STANZA)
    assert saved.passed_days(ROOT) == [(layout.BEGINNING, _day(2))] and saved.passed_days(other) == []
    assert saved.plan["roots"] == [ROOT, other]
