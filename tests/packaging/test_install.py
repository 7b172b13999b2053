"""The installable package: built by packaging/build_package.py (AppInspect is `make package`'s
job), unpacked into a fresh $SPLUNK_HOME/etc/apps/, and run from there over protocol v2 with the
Pythons Splunk ships (3.9 and 3.13) on every shared CloudTrail record.

The modular input is run from the installed package too, in S3 mode against moto's server on
127.0.0.1, by Pythons that can import boto3 only from the package's vendored lib/.

CTDETECT_PACKAGE=<file.tar.gz> tests a package built beforehand instead of building one.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
for path in (TESTS, os.path.join(TESTS, "harness"), os.path.join(TESTS, "modinput"), os.path.join(REPO, "packaging")):
    if path not in sys.path:
        sys.path.insert(0, path)

import build_package  # noqa: E402
import check_portability  # noqa: E402
import splunkd  # noqa: E402
from modinput_support import log_tree, moto_endpoint  # noqa: E402,F401 (fixtures)
from modinput_support import check_exactly_once, input_xml, parse_events, parse_stream, script_env, upload  # noqa: E402
from shared_records import shared_records  # noqa: E402

PYTHONS = {"3.9": "3.9", "3.13": "3.13"}  # the newest pyenv patch release of each
FALLBACK = "native engine not available"
OPTION_SETS = ([], ["extract=false", "only_detections=true"])
APP_ID, VERSION, _CONF = build_package.app_identity(REPO)


def pyenv_python(version):
    try:
        return build_package.interpreter(version)
    except build_package.PackageError as error:
        raise RuntimeError(str(error))


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    given = os.environ.get("CTDETECT_PACKAGE")
    if given:
        return os.path.abspath(given)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, os.path.join(REPO, "packaging", "build_package.py"), "--skip-appinspect",
                    "--dist", str(dist)], check=True)
    return str(dist / ("%s-%s.tar.gz" % (APP_ID, VERSION)))


@pytest.fixture(scope="module")
def members(package):
    with tarfile.open(package, "r:gz") as archive:
        return {member.name: member for member in archive.getmembers()}


@pytest.fixture(scope="module")
def installed(package, tmp_path_factory):
    """The package unpacked into a fresh $SPLUNK_HOME/etc/apps; returns (splunk_home, app)."""
    splunk_home = tmp_path_factory.mktemp("splunk_home")
    apps = splunk_home / "etc" / "apps"
    apps.mkdir(parents=True)
    with tarfile.open(package, "r:gz") as archive:
        for member in archive.getmembers():
            assert not member.name.startswith("/") and ".." not in member.name.split("/"), member.name
            assert member.isfile() or member.isdir(), member.name
        archive.extractall(str(apps))
    return str(splunk_home), str(apps / APP_ID)


def _chunks():
    """The shared records as splunkd would send them (two execute chunks), plus two events that
    are not CloudTrail records."""
    rows = []
    records = shared_records() + [("not-json", "{not json"), ("empty", "")]
    for index, (origin, raw) in enumerate(records):
        rows.append({"_raw": raw, "_time": "%d.000" % (1722500000 + index), "host": "ip-10-0-0-1",
                     "source": origin, "sourcetype": "aws:cloudtrail"})
    half = len(rows) // 2
    return [rows[:half], rows[half:]]


CHUNKS = _chunks()


def _search(script, python, args, env=None):
    messages = [splunkd.frame(splunkd.getinfo_metadata(args, app=APP_ID))] + splunkd.execute_messages(CHUNKS)
    run = splunkd.run_messages(messages, python=python, env=env, script=script, timeout=120)
    assert run.exit_code == 0 and not run.errors(), run
    assert len(run.executes) == len(CHUNKS), run
    return run


def _inspector(run):
    return [text for reply in [run.getinfo] + run.executes for level, text in reply.messages]


class Reference(dict):
    native = True


@pytest.fixture(scope="module")
def reference():
    """The in-repository command's rows per option set: with the in-place native build (required
    under CTDETECT_REQUIRE_NATIVE=1, as `make test` sets), else the engine it finds."""
    script = os.path.join(REPO, "bin", "cloudtraildetect.py")
    engine = "native" if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1" else None
    result = Reference()
    for args in OPTION_SETS:
        run = _search(script, sys.executable, args, env={"CTDETECT_CONF_DIR": None, "CTDETECT_ENGINE": engine})
        result.native = result.native and not [m for m in _inspector(run) if FALLBACK in m]
        result[tuple(args)] = run.rows
    return result


# ---------------------------------------------------------------------------------------------
# What the package holds
# ---------------------------------------------------------------------------------------------

def test_one_app_folder_named_as_the_app_id(members, package):
    assert os.path.basename(package) == "%s-%s.tar.gz" % (APP_ID, VERSION)
    assert {name.split("/")[0] for name in members} == {APP_ID}


def test_only_the_app_files(members):
    names = [name.split("/", 1)[1] for name in members if "/" in name]
    for name in names:
        parts = name.split("/")
        assert not any(part.startswith(".") for part in parts), name
        assert "__pycache__" not in parts and not name.endswith((".pyc", ".pyo")), name
        assert parts[0] not in ("native", "tests", "docs", "samples", "packaging", "local", "build", "dist"), name
        assert not parts[0].startswith("build"), name
    for required in ("app.manifest", "LICENSE", "README.md", "metadata/default.meta", "default/app.conf",
                     "default/commands.conf", "default/distsearch.conf", "bin/cloudtraildetect.py",
                     "splunk_app/command.py", "splunk_app/engine_loader.py", "splunk_app/pyengine/engine.py",
                     "lookups/known_attacker_ips.csv", "README/cloudtrail_detections.conf.spec"):
        assert required in names, required
    # Everything the repository's app folders hold is shipped (picked up by folder, not by name).
    expected = build_package.source_files(REPO)
    assert sorted(set(expected) - set(names)) == []


def test_file_modes(members):
    for name, member in members.items():
        relative = name.split("/", 1)[1] if "/" in name else ""
        mode = stat.S_IMODE(member.mode)
        if member.isdir():
            assert mode == 0o755, name
        elif re.match(r"^bin/[^/]+\.py$", relative):
            assert mode == 0o755, name
        else:
            assert mode == 0o644, name


def test_native_modules_for_both_pythons_and_declared(installed):
    _home, app = installed
    modules = sorted(f for f in os.listdir(os.path.join(app, "splunk_app")) if f.endswith(".so"))
    assert modules == ["_ctdetect.cpython-313-x86_64-linux-gnu.so", "_ctdetect.cpython-39-x86_64-linux-gnu.so"]
    with open(os.path.join(app, "README.md"), encoding="utf-8") as handle:
        declaration = build_package.binary_declaration(handle.read())
    for path in check_portability.elf_files([app]):  # every binary, ours or a library's
        assert os.path.basename(path) in declaration, path


def test_native_modules_are_portable(installed):
    """glibc 2.17 symbol versions at most, no C++ runtime, only libc-family libraries."""
    _home, app = installed
    for path in check_portability.elf_files([app]):
        report, problems = check_portability.check_file(path, build_package.GLIBC_FLOOR)
        assert problems == [], report


def test_portability_check_rejects_a_system_toolchain_build(tmp_path):
    """The check itself: a module built the ordinary way (system g++, shared libstdc++) fails."""
    source = tmp_path / "m.cpp"
    source.write_text('#include <string>\nextern "C" int f(const char *s) { return (int)std::string(s).size(); }\n')
    library = tmp_path / "m.so"
    subprocess.run(["g++", "-shared", "-fPIC", "-O2", str(source), "-o", str(library)], check=True)
    _report, problems = check_portability.check_file(str(library), build_package.GLIBC_FLOOR)
    assert "depends on libstdc++.so.6" in problems
    assert any(p.startswith("needs GLIBCXX_") for p in problems)


def test_manifest_and_versions(installed):
    _home, app = installed
    with open(os.path.join(app, "app.manifest"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    assert manifest["schemaVersion"] == "2.0.0"
    assert manifest["info"]["id"] == {"group": None, "name": APP_ID, "version": VERSION}
    assert manifest["info"]["license"]["text"] == "LICENSE"
    conf = build_package.read_conf(os.path.join(app, "default", "app.conf"))
    assert conf["launcher"]["version"] == conf["id"]["version"] == VERSION
    assert conf["install"]["is_configured"] == "0"


def test_distsearch_replicates_what_the_command_imports(installed):
    """Indexers get bin/, lookups/ and .conf/.meta by default; everything else the command loads
    (splunk_app/ with the native modules) must match a replicationAllowlist pattern."""
    _home, app = installed
    conf = build_package.read_conf(os.path.join(app, "default", "distsearch.conf"))
    patterns = list(conf["replicationAllowlist"].values())

    def to_regex(pattern):
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("...", i):
                out += ".*"
                i += 3
            elif pattern[i] == "*":
                out += "[^/]*"
                i += 1
            else:
                out += re.escape(pattern[i])
                i += 1
        return re.compile(out + r"\Z")

    regexes = [to_regex(p) for p in patterns]
    for folder, _dirs, names in os.walk(os.path.join(app, "splunk_app")):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), os.path.dirname(os.path.dirname(app)))
            assert any(r.match(relative) for r in regexes), relative  # e.g. apps/<id>/splunk_app/x.so


def test_appinspect_reports_no_failure_and_no_error(package, installed):
    """`splunk-appinspect inspect --mode precert`, plain and with the cloud tags (as
    `make package` runs it): no failure but the accepted one on the declared x86-64 modules
    (build_package.ACCEPTED_FAILURES), no error."""
    subprocess.run([os.path.join(REPO, "packaging", "install-package-deps.sh"), "--appinspect"], check=True)
    _home, app = installed
    declared = [os.path.basename(path) for path in check_portability.elf_files([app])]
    build_package.appinspect(package, build_package.WORK, declared)


# ---------------------------------------------------------------------------------------------
# Running from the installed app
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("python", sorted(PYTHONS))
def test_native_module_loads_from_the_package(installed, python):
    _home, app = installed
    code = ("import sys; sys.path.insert(0, %r); from splunk_app import _ctdetect; print(_ctdetect.__file__)" % app)
    out = subprocess.check_output([pyenv_python(PYTHONS[python]), "-c", code], cwd="/",
                                  env=splunkd.command_env()).decode().strip()
    assert out.startswith(os.path.join(app, "splunk_app", "_ctdetect.cpython-%s-" % python.replace(".", "")))


@pytest.mark.parametrize("python", sorted(PYTHONS))
def test_installed_command_equals_the_repository(installed, reference, python):
    splunk_home, app = installed
    script = os.path.join(app, "bin", "cloudtraildetect.py")
    env = {"SPLUNK_HOME": splunk_home, "CTDETECT_CONF_DIR": None, "CTDETECT_ENGINE": None}
    for args in OPTION_SETS:
        run = _search(script, pyenv_python(PYTHONS[python]), args, env=env)
        assert run.getinfo.meta.get("type") == "streaming"
        assert not [m for m in _inspector(run) if FALLBACK in m], _inspector(run)
        rows = run.rows
        expected = reference[tuple(args)]
        if not reference.native:  # the engines differ only in the detail of "invalid JSON: ..."
            rows, expected = _without_error_detail(rows), _without_error_detail(expected)
        assert len(rows) == len(expected)
        if not args:
            assert len(rows) == len(shared_records()) + 2
            assert sum(1 for row in rows if row.get("detection")) > 0
        assert sum(1 for row in rows if row.get("cloudtrail_error")) == 2
        mismatches = [i for i, (left, right) in enumerate(zip(rows, expected)) if left != right]
        assert not mismatches, "rows differ from the repository's, first at %d: %r" % (
            mismatches[0], sorted(set(rows[mismatches[0]].items()) ^ set(expected[mismatches[0]].items()))[:10])


def test_fallback_elsewhere_is_one_clear_message(installed, reference, tmp_path):
    """A host where no shipped module fits (here: a module that cannot be loaded, as on an
    old glibc, and a Python with no module at all) runs the pure-Python engine with one INFO
    message, and the same results."""
    _home, app = installed
    broken = tmp_path / "apps" / APP_ID
    shutil.copytree(app, str(broken))
    module = broken / "splunk_app" / "_ctdetect.cpython-39-x86_64-linux-gnu.so"
    module.write_bytes(b"not a shared object\n" * 64)  # a module the dynamic loader rejects
    cases = [(pyenv_python(PYTHONS["3.9"]), str(broken), "3.9"), (_python_without_module(), app, None)]
    for python, root, version in cases:
        run = _search(os.path.join(root, "bin", "cloudtraildetect.py"), python, [],
                      env={"CTDETECT_CONF_DIR": None, "CTDETECT_ENGINE": None})
        notes = [m for m in _inspector(run) if FALLBACK in m]
        assert len(notes) == 1, _inspector(run)
        assert re.match(r"^cloudtraildetect: native engine not available for Python 3\.\d+ on linux-x86_64 "
                        r"\(.+\); using the pure-Python engine, which is slower$", notes[0]), notes[0]
        if version:
            assert "Python %s " % version in notes[0]
        assert run.getinfo.messages[0][0] == "INFO"
        # The engines agree on everything but the detail of "invalid JSON: <detail>"
        # (docs/engine-contract.md).
        assert _without_error_detail(run.rows) == _without_error_detail(reference[()])


def _without_error_detail(rows):
    out = []
    for row in rows:
        error = row.get("cloudtrail_error")
        if isinstance(error, str) and error.startswith("invalid JSON: "):
            row = dict(row, cloudtrail_error="invalid JSON: ")
        out.append(row)
    return out


def _python_without_module():
    """An interpreter the package has no module for: the one running the tests unless it is
    3.9 or 3.13, else another pyenv version."""
    if "%d.%d" % sys.version_info[:2] not in PYTHONS:
        return sys.executable
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for version in sorted(os.listdir(os.path.join(root, "versions")), reverse=True):
        if version.startswith("3.") and ".".join(version.split(".")[:2]) not in PYTHONS \
                and int(version.split(".")[1]) >= 9:
            return pyenv_python(version)
    raise RuntimeError("no Python 3.9+ other than 3.9 and 3.13 found to test the fallback")


# ---------------------------------------------------------------------------------------------
# The vendored libraries (lib/) and the modular input's S3 mode from the installed app
# ---------------------------------------------------------------------------------------------

def _pinned():
    """{distribution name: version} of packaging/vendor-requirements.txt."""
    pinned = {}
    with open(build_package.VENDOR_REQUIREMENTS, encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            if line:
                name, version = line.split()[0].split("==")
                pinned[name] = version
    return pinned


def test_vendored_libraries_are_the_pinned_wheels_with_their_licences(installed):
    """lib/ holds exactly the pinned distributions, pure Python, each with its licence files and
    a RECORD that lists every file shipped with its hash; botocore's models only for S3 and STS;
    nothing pip adds for a console or an installer."""
    _home, app = installed
    lib = os.path.join(app, "lib")
    pinned = _pinned()
    assert set(pinned) == {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
    dist_infos = sorted(d for d in os.listdir(lib) if d.endswith(".dist-info"))
    assert dist_infos == sorted("%s-%s.dist-info" % (name.replace("-", "_"), version)
                                for name, version in pinned.items())
    assert pinned["urllib3"].startswith("1.26.")  # botocore needs urllib3<1.27 on Python 3.9
    listed = {}
    for dist_info in dist_infos:
        names = os.listdir(os.path.join(lib, dist_info))
        assert any(n.upper().startswith(("LICENSE", "LICENCE", "COPYING")) for n in names), dist_info
        assert "METADATA" in names and "REQUESTED" not in names and "direct_url.json" not in names, dist_info
        with open(os.path.join(lib, dist_info, "RECORD"), encoding="utf-8") as handle:
            for line in handle:
                path, digest, size = line.rstrip("\n").rsplit(",", 2)
                assert path not in listed, path
                listed[path] = (digest, size)
    for name in ("boto3", "botocore", "s3transfer"):  # Apache-2.0: the NOTICE goes with it
        folder = os.path.join(lib, "%s-%s.dist-info" % (name, pinned[name]))
        assert any(n.startswith("NOTICE") for n in os.listdir(folder)), folder
    shipped = set()
    for folder, _dirs, names in os.walk(lib):
        for name in names:
            shipped.add(os.path.relpath(os.path.join(folder, name), lib).replace(os.sep, "/"))
    assert shipped == set(listed)
    for path, (digest, size) in listed.items():
        if path.endswith("/RECORD"):
            assert (digest, size) == ("", ""), path
            continue
        full = os.path.join(lib, path)
        assert digest == build_package._record_hash(full) and int(size) == os.path.getsize(full), path
    top = {path.split("/")[0] for path in shipped}
    assert top == set(dist_infos) | {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"}
    models = {path.split("/")[2] for path in shipped if path.startswith("botocore/data/") and path.count("/") > 2}
    assert models == set(build_package.BOTOCORE_SERVICES) == {"s3", "sts"}
    for required in ("endpoints.json", "partitions.json", "sdk-default-configuration.json", "_retry.json"):
        assert "botocore/data/" + required in shipped
    # The one change to vendored code (build_package.VENDOR_PATCHES): no UDP socket anywhere.
    for path in shipped:
        if path.endswith(".py"):
            with open(os.path.join(lib, path), encoding="utf-8") as handle:
                assert "SOCK_DGRAM" not in handle.read(), path
    with open(os.path.join(lib, "botocore", "session.py"), encoding="utf-8") as handle:
        assert "Modified for CloudTrail Detect" in handle.read()


# Runs a script as splunkd would, then reports where each vendored module came from. -I: no
# user site-packages, no PYTHON* variables; -S: no site-packages at all, so lib/ is the only
# place boto3 can come from; -B: no __pycache__ written into the installed app.
_PROBE = """import json, runpy, sys
script = sys.argv[1]
sys.argv = [script]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    origins = {name: getattr(sys.modules.get(name), "__file__", None)
               for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")}
    sys.stderr.write("VENDORED-ORIGINS " + json.dumps(origins) + "\\n")
"""


def _run_installed_input(python, splunk_home, app, params, checkpoint_dir, extra_env=None):
    env = script_env(dict({"SPLUNK_HOME": splunk_home}, **(extra_env or {})))
    process = subprocess.run([python, "-I", "-S", "-B", "-c", _PROBE, os.path.join(app, "bin", "cloudtrail_logs.py")],
                             input=input_xml(params, checkpoint_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd="/", timeout=300)
    stderr = process.stderr.decode("utf-8", "replace")
    origins = [json.loads(line.split(" ", 1)[1]) for line in stderr.splitlines()
               if line.startswith("VENDORED-ORIGINS ")]
    assert len(origins) == 1, stderr
    # Only the input's own `LEVEL message` lines: no warning from a vendored library on either Python.
    stray = [line for line in stderr.splitlines()
             if not re.match(r"^(DEBUG|INFO|WARN|ERROR|FATAL) |^VENDORED-ORIGINS ", line)]
    assert not stray, stderr
    return process, stderr, origins[0]


@pytest.fixture(scope="module")
def installed_bucket(moto_endpoint, log_tree):
    upload(moto_endpoint, "installed-app-logs", log_tree)
    upload(moto_endpoint, "installed-app-prefixed", log_tree, prefix="org/")
    return "installed-app-logs"


@pytest.mark.parametrize("python", sorted(PYTHONS))
def test_installed_input_reads_s3_with_the_vendored_boto3(installed, python, moto_endpoint, installed_bucket,
                                                          log_tree, tmp_path):
    """bin/cloudtrail_logs.py of the installed app, S3 mode, on the realistic bucket (moto on
    127.0.0.1): every record exactly once, the broken files reported, and boto3 with all its
    dependencies imported from <app>/lib by an interpreter that has no boto3 of its own."""
    splunk_home, app = installed
    interpreter = pyenv_python(PYTHONS[python])
    bare = subprocess.run([interpreter, "-I", "-S", "-c", "import boto3"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd="/")
    assert bare.returncode != 0 and b"No module named 'boto3'" in bare.stderr, bare
    lib = os.path.join(app, "lib") + os.sep
    bucket = installed_bucket

    params = {"s3_bucket": bucket, "s3_endpoint_url": moto_endpoint, "aws_region": "us-east-1", "batch_size": "100"}
    process, stderr, origins = _run_installed_input(interpreter, splunk_home, app, params, tmp_path / "cp")
    assert process.returncode == 0, stderr
    for name, origin in origins.items():
        assert origin and origin.startswith(lib), (name, origin)
    parse_stream(process.stdout)
    check_exactly_once(log_tree, parse_events(process.stdout), lambda key: "s3://%s/%s" % (bucket, key))
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR ")]
    assert sorted(line.split(": ")[1] for line in errors) == sorted("s3://%s/%s" % (bucket, k) for k in log_tree.bad)
    again, stderr, _origins = _run_installed_input(interpreter, splunk_home, app, params, tmp_path / "cp")
    assert again.returncode == 0 and parse_events(again.stdout) == [], stderr
    assert not [line for line in stderr.splitlines() if line.startswith("ERROR ")], stderr

    # An assumed role (STS, the other botocore model shipped) and a prefix.
    params = {"s3_bucket": "installed-app-prefixed", "s3_prefix": "org/AWSLogs/", "s3_endpoint_url": moto_endpoint,
              "aws_role_arn": "arn:aws:iam::123456789012:role/cloudtrail-reader"}
    process, stderr, origins = _run_installed_input(interpreter, splunk_home, app, params, tmp_path / "cp-role",
                                                    extra_env={"AWS_ENDPOINT_URL_STS": moto_endpoint})
    assert process.returncode == 0, stderr
    assert origins["botocore"].startswith(lib)
    check_exactly_once(log_tree, parse_events(process.stdout), lambda key: "s3://installed-app-prefixed/org/%s" % key)
    assert not [folder for folder, _dirs, _names in os.walk(os.path.join(app, "lib"))
                if os.path.basename(folder) == "__pycache__"]
