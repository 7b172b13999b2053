"""The real CloudTrail records of ../shared/data/cloudtrail, one JSON text per record.

NDJSON lines are used byte for byte; records of the Stratus Red Team JSON arrays are
re-serialised compactly (those files are pretty-printed arrays, not raw CloudTrail lines).
"""
import json

from conftest import _require_shared_data


def iter_shared_records():
    """Yield (origin, raw_json_text) for every shared record, in a stable order."""
    root = _require_shared_data() / "cloudtrail"
    for path in sorted((root / "stratus-red-team").glob("*.json")):
        records = json.loads(path.read_text(encoding="utf-8"))
        for index, record in enumerate(records):
            yield "stratus-red-team/%s#%d" % (path.name, index), json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    for name in ("traildiscover.ndjson", "otrf-cloudgoat-ec2-proxy-s3-exfiltration.ndjson"):
        with open(root / name, encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if line.strip():
                    yield "%s#%d" % (name, index), line.rstrip("\r\n")


def shared_records():
    return list(iter_shared_records())
