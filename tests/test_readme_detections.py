"""The README's detection table is generated from the detections and must be current."""
import subprocess
import sys


def test_readme_table_is_generated_from_the_detections(repo_root):
    result = subprocess.run([sys.executable, str(repo_root / "packaging" / "detection_docs.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    conf = (repo_root / "default" / "cloudtrail_detections.conf").read_text(encoding="utf-8")
    ids = [line[1:-1] for line in conf.splitlines() if line.startswith("[") and line.endswith("]")]
    assert len(ids) >= 100
    for detection_id in ids:
        assert "| `%s` |" % detection_id in readme


def test_demo_fires_every_seed_detection(repo_root):
    result = subprocess.run([sys.executable, str(repo_root / "tests" / "harness" / "demo.py"),
                             str(repo_root / "samples" / "demo_events.ndjson")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for detection_id in ["aws_console_login_without_mfa", "aws_console_login_failure",
                         "aws_console_login_from_known_attacker_ip", "aws_ec2_gpu_instance_launch",
                         "aws_security_group_ingress_ssh_from_anywhere", "aws_network_acl_allow_all_ingress",
                         "aws_s3_bucket_acl_public"]:
        assert detection_id in result.stdout
    assert "1 not readable as CloudTrail JSON" in result.stdout
