"""CloudTrail's folder layout, as far as listing by date needs it.

CloudTrail writes every log file to

    [<trail prefix>/]AWSLogs/[<organization id>/]<account id>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file>

(the organization level only for an organization trail). A *region folder* is everything up to
``<region>/``: the unit the input lists by date, from its watermark on, instead of listing the
whole bucket. ``AWSLogs/<account>/`` also holds other services' folders (``CloudTrail-Digest/``,
``CloudTrail-Insight/``, ``Config/``, ``vpcflowlogs/``...), which hold no CloudTrail log records.

A local copy may start below ``AWSLogs/`` (``aws s3 sync s3://<bucket>/AWSLogs/ <folder>`` makes
``<account>/CloudTrail/...`` the top of the tree, and syncing an account's folder makes
``CloudTrail/...`` the top): those forms are recognised at the start of a path only.

Days are ``datetime.date``; ``BEGINNING`` (``date.min``) stands for "from the first day".
Intervals of days are half-open ``(first, end)`` pairs: ``first <= day < end``.
"""
import datetime
import re

BEGINNING = datetime.date.min

_ORG = r"o-[a-z0-9]{10,32}"
_ACCOUNT = r"\d{12}"
# A region's name: lower-case letters and digits in parts joined by "-" (us-east-1, us-gov-west-1,
# eusc-de-east-1...). Any such folder in CloudTrail/ is taken for a region folder: only CloudTrail
# writes there.
_REGION = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+"
_AWSLOGS = r"(?:.*/)?AWSLogs/"
# Up to and including CloudTrail/: [[...]AWSLogs/][o-.../]<account>/CloudTrail/, or CloudTrail/ at the start.
_CLOUDTRAIL = r"(?:(?:%s)?(?:%s/)?%s/)?CloudTrail/" % (_AWSLOGS, _ORG, _ACCOUNT)
_REGION_FOLDER = _CLOUDTRAIL + _REGION + "/"

_KEY = re.compile(r"^(%s)(\d{4})/(\d{2})/(\d{2})/[^/]+$" % _REGION_FOLDER)
_DAY_PATH = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/")

# What a folder (a prefix ending with "/") is, for the discovery of region folders.
REGION = "region"            # a region folder: listed by date
INSIDE_REGION = "inside"     # a folder inside a region folder (only as a configured prefix)
DESCEND = "descend"          # AWSLogs/, an organization's folder, CloudTrail/, a top-level account folder
ACCOUNT = "account"          # AWSLogs/[o-.../]<account>/: only its CloudTrail/ is read
IGNORED = "ignored"          # another service's folder in an account's folder
OTHER = "other"              # outside the layout: listed whole

_FOLDER_KINDS = (
    (REGION, re.compile(r"^%s$" % _REGION_FOLDER)),
    (INSIDE_REGION, re.compile(r"^%s.+/$" % _REGION_FOLDER)),
    (DESCEND, re.compile(r"^%s$" % _CLOUDTRAIL)),
    (ACCOUNT, re.compile(r"^%s(?:%s/)?%s/$" % (_AWSLOGS, _ORG, _ACCOUNT))),
    # An account's folder at the top of a copy: listed, because without AWSLogs/ above it the
    # name alone does not prove that AWS wrote what is beside CloudTrail/ in it.
    (DESCEND, re.compile(r"^(?:%s/)?%s/$" % (_ORG, _ACCOUNT))),
    (DESCEND, re.compile(r"^(?:%s)?%s/$" % (_AWSLOGS, _ORG))),
    (DESCEND, re.compile(r"^%s$" % _AWSLOGS)),
    (IGNORED, re.compile(r"^%s(?:%s/)?%s/[^/]+/$" % (_AWSLOGS, _ORG, _ACCOUNT))),
    (IGNORED, re.compile(r"^(?:%s/)?%s/CloudTrail-(?:Digest|Insight)/$" % (_ORG, _ACCOUNT))),
)


def folder_kind(folder):
    """REGION, INSIDE_REGION, DESCEND, ACCOUNT, IGNORED or OTHER, for a prefix ending with "/"."""
    for kind, pattern in _FOLDER_KINDS:
        if pattern.match(folder):
            return kind
    return OTHER


def parse_key(key):
    """(region folder, day) for the key of a file directly in a <yyyy>/<mm>/<dd>/ folder of a
    region folder; None for any other key (or an impossible date)."""
    match = _KEY.match(key)
    if match is None:
        return None
    try:
        day = datetime.date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None
    return match.group(1), day


def day_in_folder(region_folder, key):
    """The day of a key listed in a region folder, when it is in a <yyyy>/<mm>/<dd>/ folder of it
    (at any depth below); None otherwise."""
    if not key.startswith(region_folder):
        return None
    return date_of(_DAY_PATH.match(key[len(region_folder):]))


def date_of(match):
    """The date of a (yyyy)(mm)(dd) regex match; None for no match or an impossible date."""
    if match is None:
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def day_path(day):
    """yyyy/mm/dd (no trailing slash): the StartAfter below which a day's keys sort."""
    return "%04d/%02d/%02d" % (day.year, day.month, day.day)


def day_text(day):
    return day.isoformat()


def parse_day(text):
    return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:10]))


# ---------------------------------------------------------------- intervals of days

def covers(intervals, day):
    """True when day is in one of the half-open intervals."""
    for first, end in intervals or ():
        if first <= day < end:
            return True
    return False


def merge(intervals):
    """Sorted, non-overlapping, non-empty intervals (touching ones joined)."""
    merged = []
    for first, end in sorted(interval for interval in intervals if interval[0] < interval[1]):
        if merged and first <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((first, end))
    return merged


def gaps(intervals, start):
    """The ranges of days from start on that the intervals do not cover: [(first, end or None)],
    in order; the last one is open-ended."""
    ranges = []
    position = start
    for first, end in merge(intervals):
        if end <= position:
            continue
        if first > position:
            ranges.append((position, first))
        position = max(position, end)
    ranges.append((position, None))
    return ranges
