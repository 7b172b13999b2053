"""The app files that wire the command into Splunk: commands.conf, searchbnf.conf, app.conf,
distsearch.conf, default.meta, the lookup and bin/."""
import os
import re
import shlex

from splunk_app.engine_loader import load_engine
from splunk_app.options import parse_args

CHUNKED_KEYS = {"filename", "chunked", "python.version", "python.required", "maxwait", "maxchunksize",
                "run_in_preview", "is_risky"}


def read_conf(repo_root, relative):
    """{stanza: {key: value}} of a .conf file: "#" comments, "\\" continuations, no duplicates."""
    stanzas = {}
    current = None
    with open(os.path.join(str(repo_root), relative), encoding="utf-8") as handle:
        text = handle.read().replace("\\\n", " ")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1]
            assert name not in stanzas, "%s:%d: duplicate stanza %s" % (relative, number, name)
            current = stanzas[name] = {}
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, "%s:%d: %r" % (relative, number, line)
        key = key.strip()
        assert key not in current, "%s:%d: duplicate key %s" % (relative, number, key)
        current[key] = " ".join(value.split())
    return stanzas


def test_commands_conf(repo_root):
    conf = read_conf(repo_root, "default/commands.conf")
    assert list(conf) == ["cloudtraildetect"]
    stanza = dict(conf["cloudtraildetect"])
    assert set(stanza) <= CHUNKED_KEYS | {k for k in stanza if k.startswith("command.arg.")}
    assert stanza["chunked"] == "true"
    assert stanza["python.version"] == "python3"
    assert stanza["python.required"] == "3.9, 3.13"
    script = repo_root / "bin" / stanza["filename"]
    assert script.is_file() and os.access(str(script), os.X_OK)
    assert oct(script.stat().st_mode & 0o777) == "0o755"


def test_app_conf(repo_root):
    conf = read_conf(repo_root, "default/app.conf")
    assert conf["package"]["id"] == conf["id"]["name"] == "cloudtrail_detect"
    assert conf["launcher"]["version"] == conf["id"]["version"] == "0.1.0"
    assert conf["install"]["is_configured"] == "0"
    assert conf["ui"]["label"] == "CloudTrail Detect"


def test_distsearch_replicates_the_package(repo_root):
    conf = read_conf(repo_root, "default/distsearch.conf")
    app_id = read_conf(repo_root, "default/app.conf")["package"]["id"]
    patterns = list(conf["replicationAllowlist"].values())
    assert "apps/%s/splunk_app/..." % app_id in patterns
    assert (repo_root / "splunk_app" / "command.py").is_file()


def test_default_meta_exports_command_and_lookups(repo_root):
    conf = read_conf(repo_root, "metadata/default.meta")
    assert conf["commands/cloudtraildetect"]["export"] == "system"
    assert conf["lookups"]["export"] == "system"
    assert conf[""]["access"] == "read : [ * ], write : [ admin, power, sc_admin ]"


def test_attacker_lookup_is_an_empty_table(repo_root):
    assert (repo_root / "lookups" / "known_attacker_ips.csv").read_bytes() == b"ip,description\n"


def test_searchbnf_examples_are_valid(repo_root):
    conf = read_conf(repo_root, "default/searchbnf.conf")
    stanza = conf["cloudtraildetect-command"]
    assert stanza["usage"] == "public" and stanza["category"] == "streaming"
    examples = [stanza["example%d" % n] for n in (1, 2, 3)]
    assert all(stanza["comment%d" % n] for n in (1, 2, 3))
    conf_paths = [str(repo_root / "default" / "cloudtrail_detections.conf")]
    for example in examples:
        match = re.search(r"\| cloudtraildetect(.*?)(\||$)", example)
        assert match, example
        options = parse_args(shlex.split(match.group(1)))  # splunkd strips the quotes
        load_engine(conf_paths, str(repo_root / "lookups"), options.rules, environ={"CTDETECT_ENGINE": "python"})
