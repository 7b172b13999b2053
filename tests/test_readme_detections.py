"""The README's detection table lists every shipped detection with its conf severity and MITRE ids."""
import re



def _conf_detections(repo_root):
    detections, current = {}, None
    for line in (repo_root / "default" / "cloudtrail_detections.conf").read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[([a-z0-9_]+)\]\s*$", line)
        if header:
            current = header.group(1)
            detections[current] = {}
            continue
        key = re.match(r"^(severity|mitre_attack)\s*=\s*(.*)$", line)
        if current and key:
            detections[current][key.group(1)] = key.group(2).strip()
    return detections


def test_readme_table_matches_the_detections(repo_root):
    rows = {}
    for line in (repo_root / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z0-9_]+)` \| (\w+) \| ([T0-9., ]+) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3).strip())
    detections = _conf_detections(repo_root)
    assert len(detections) >= 7
    assert set(rows) == set(detections)
    for detection_id, keys in detections.items():
        assert rows[detection_id] == (keys["severity"], keys["mitre_attack"]), detection_id


def test_demo_fires_every_detection(repo_root):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(repo_root / "tests" / "harness" / "demo.py"),
                             str(repo_root / "samples" / "demo_events.ndjson")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for detection_id in _conf_detections(repo_root):
        assert detection_id in result.stdout
    assert "1 not readable as CloudTrail JSON" in result.stdout
