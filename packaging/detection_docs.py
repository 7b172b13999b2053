"""Regenerates the README's detection table from default/cloudtrail_detections.conf.

    python3 packaging/detection_docs.py          # rewrite the table in README.md
    python3 packaging/detection_docs.py --check  # exit 1 when README.md is out of date

The table sits between the markers <!-- detections:begin --> and <!-- detections:end -->;
tests/test_readme_detections.py runs --check, so the table cannot drift from the detections.
"""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from splunk_app.pyengine.conf import read_conf_files, with_defaults  # noqa: E402

BEGIN, END = "<!-- detections:begin -->", "<!-- detections:end -->"
CONF = os.path.join(REPO, "default", "cloudtrail_detections.conf")
README = os.path.join(REPO, "README.md")


def _cell(text):
    return " ".join(getattr(text, "value", text).split()).replace("|", "\\|")


def table():
    defaults, stanzas = read_conf_files([CONF])
    lines = ["| id | severity | MITRE ATT&CK | what it finds |", "|---|---|---|---|"]
    for name, keys in stanzas.items():
        keys = with_defaults(defaults, keys)
        lines.append("| `%s` | %s | %s | %s |" % (name, _cell(keys["severity"]).lower(), _cell(keys["mitre_attack"]),
                                               _cell(keys["title"])))
    return "\n".join(lines) + "\n\n%d detections.\n" % len(stanzas)


def render(readme_text):
    start, end = readme_text.index(BEGIN) + len(BEGIN), readme_text.index(END)
    return readme_text[:start] + "\n" + table() + readme_text[end:]


def main(argv):
    with open(README, encoding="utf-8") as handle:
        current = handle.read()
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            sys.stderr.write("README.md's detection table is out of date: run python3 packaging/detection_docs.py\n")
            return 1
        return 0
    with open(README, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
