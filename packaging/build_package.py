#!/usr/bin/env python3
"""Builds the installable app: dist/<app id>-<version>.tar.gz, then runs AppInspect on it.

Steps (each one fails loudly):
1. Reads the app id and version from default/app.conf and checks that one semantic version is
   used everywhere ([id] and [launcher] of app.conf, project() in CMakeLists.txt).
2. Builds the native module for each Python Splunk ships on Linux x86-64 (CPython 3.9 and 3.13)
   with the portable toolchain (packaging/zig-toolchain.cmake: glibc 2.17, static C++ runtime,
   simdjson compiled in), each in its own build folder under build-package/, and checks the
   results with packaging/check_portability.py.
3. Stages the app folder: the folders Splunk reads (SHIPPED_FOLDERS, whatever they hold), the
   README, the licence, a generated app.manifest and the portable modules; never dotfiles,
   caches, in-place developer builds or local/. Vendors boto3 and its dependencies, pure
   Python, into the staged lib/ (packaging/vendor-requirements.txt, pinned with hashes; never
   into the repository's lib/). Modes are 644, and 755 for bin/*.py.
4. Writes a reproducible .tar.gz (sorted entries, fixed times and owners).
5. Runs `splunk-appinspect inspect --mode precert` on it, plain and with
   `--included-tags cloud`, and fails on any failure or error (unless --skip-appinspect).

Tools it needs beyond packaging/install-deps.sh come from packaging/install-package-deps.sh,
which it runs first (ziglang and pybind11 from PyPI, simdjson's source from Debian, AppInspect
from PyPI, all under build-package/); the vendored wheels come from PyPI through venv-tools' pip
(cached under build-package/vendor/).
"""
import argparse
import base64
import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(REPO, "build-package")
DIST = os.path.join(REPO, "dist")

# Folders of the repository that are part of the app, shipped with whatever they hold (minus
# EXCLUDED). A folder that does not exist yet is skipped, so later additions are picked up.
SHIPPED_FOLDERS = ("appserver", "bin", "default", "lib", "lookups", "metadata", "README", "splunk_app", "static")
# Top-level files shipped as they are.
SHIPPED_FILES = ("LICENSE", "README.md")
# Never shipped, wherever they are.
EXCLUDED_DIRS = {"__pycache__", "local"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", "~", ".swp", ".orig", ".rej", ".tmp")
EXCLUDED_FILES = {"local.meta"}
# The developer build's in-place module (`make build`): the package gets the portable ones.
IN_PLACE_BUILD = re.compile(r"^splunk_app/_ctdetect\.[^/]*$")
# Files Splunk executes: bin/*.py (and shell scripts there, should any appear).
EXECUTABLE = re.compile(r"^bin/[^/]+\.(py|sh)$")

# The Pythons Splunk ships on Linux x86-64: minor version -> build folder name.
PYTHONS = (("3.9", "py39"), ("3.13", "py313"))
GLIBC_FLOOR = "2.17"
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
SOURCE_DATE_EPOCH = 1735689600  # 2025-01-01: fixed mtimes make the archive reproducible


class PackageError(Exception):
    pass


def log(message):
    print("package: %s" % message, flush=True)


def run(argv, **kwargs):
    log("$ %s" % " ".join(argv))
    result = subprocess.run(argv, **kwargs)
    if result.returncode != 0:
        raise PackageError("command failed (exit %d): %s" % (result.returncode, " ".join(argv)))
    return result


# ---------------------------------------------------------------------------------------------
# app.conf
# ---------------------------------------------------------------------------------------------

def read_conf(path):
    """{stanza: {key: value}} of a Splunk .conf file (comments, continuation lines)."""
    stanzas = {}
    current = stanzas.setdefault("default", {})
    with open(path, encoding="utf-8") as handle:
        text = handle.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = stanzas.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key.strip()] = " ".join(value.split())
    return stanzas


def app_identity(repo=REPO):
    """(app id, version, app.conf stanzas); checks one id and one semantic version everywhere."""
    conf = read_conf(os.path.join(repo, "default", "app.conf"))
    app_id = conf.get("package", {}).get("id")
    if not app_id or conf.get("id", {}).get("name") != app_id:
        raise PackageError("app.conf: [package] id and [id] name must be set and equal")
    version = conf.get("id", {}).get("version")
    if not version or not SEMVER.match(version):
        raise PackageError("app.conf: [id] version %r is not a semantic version" % version)
    if conf.get("launcher", {}).get("version") != version:
        raise PackageError("app.conf: [launcher] version must equal [id] version %s" % version)
    with open(os.path.join(repo, "CMakeLists.txt"), encoding="utf-8") as handle:
        match = re.search(r"project\(\s*\w+\s+VERSION\s+([0-9.]+)", handle.read())
    if not match or match.group(1) != version.split("-")[0].split("+")[0]:
        raise PackageError("CMakeLists.txt project() VERSION %s differs from app.conf %s"
                           % (match.group(1) if match else None, version))
    return app_id, version, conf


def app_manifest(app_id, version, conf):
    """app.manifest (schema 2.0.0, as `slim generate-manifest` writes it) from app.conf."""
    launcher = conf.get("launcher", {})
    return {
        "schemaVersion": "2.0.0",
        "info": {
            "title": conf.get("ui", {}).get("label", app_id),
            "id": {"group": None, "name": app_id, "version": version},
            "author": [{"name": launcher.get("author"), "email": None, "company": None}],
            "releaseDate": None,
            "description": launcher.get("description"),
            "classification": {"intendedAudience": "Security", "categories": ["Security, Fraud & Compliance"],
                               "developmentStatus": None},
            "commonInformationModels": None,
            "license": {"name": "Apache License 2.0", "text": "LICENSE",
                        "uri": "https://www.apache.org/licenses/LICENSE-2.0"},
            "privacyPolicy": {"name": None, "text": None, "uri": None},
            "releaseNotes": {"name": "README", "text": "README.md", "uri": None},
        },
        "dependencies": None,
        "tasks": None,
        "inputGroups": None,
        "incompatibleApps": None,
        "platformRequirements": {"splunk": {"Enterprise": ">=9.3"}},
        "supportedDeployments": ["_standalone", "_distributed", "_search_head_clustering"],
        "targetWorkloads": ["_search_heads", "_indexers"],
    }


# ---------------------------------------------------------------------------------------------
# Native modules
# ---------------------------------------------------------------------------------------------

def tool_paths(work):
    venv = os.path.join(work, "venv-tools")
    python = os.path.join(venv, "bin", "python")
    zig = subprocess.check_output(
        [python, "-c", "import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))"],
        universal_newlines=True).strip()
    pybind11_dir = subprocess.check_output([python, "-m", "pybind11", "--cmakedir"], universal_newlines=True).strip()
    with open(os.path.join(work, "src", "simdjson-singleheader.path"), encoding="utf-8") as handle:
        simdjson = handle.read().strip()
    return zig, pybind11_dir, simdjson


def interpreter(version):
    """The interpreter of a Python version: "3.9" finds the newest pyenv 3.9.x (then python3.9
    on PATH), "3.9.18" exactly that pyenv version."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    minor = ".".join(version.split(".")[:2])
    versions_dir = os.path.join(root, "versions")
    candidates = [version] if version != minor else sorted(
        (name for name in (os.listdir(versions_dir) if os.path.isdir(versions_dir) else [])
         if re.match(r"^%s\.\d+$" % re.escape(minor), name)),
        key=lambda name: int(name.rsplit(".", 1)[1]), reverse=True)
    for candidate in candidates:
        path = os.path.join(versions_dir, candidate, "bin", "python" + minor)
        if os.path.exists(path):
            return path
    on_path = shutil.which("python" + minor) if version == minor else None
    if on_path:
        return on_path
    raise PackageError("Python %s not found under %s nor on PATH (pyenv install %s)"
                       % (version, versions_dir, version if version != minor else minor + ".<patch>"))


def build_modules(work, jobs):
    """Builds the portable module for each Python; returns the list of .so paths."""
    zig, pybind11_dir, simdjson = tool_paths(work)
    modules = []
    for version, name in PYTHONS:
        build = os.path.join(work, name)
        module_dir = os.path.join(build, "module")
        python = interpreter(version)
        if not os.path.exists(os.path.join(build, "build.ninja")):
            run(["cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_TOOLCHAIN_FILE=%s" % os.path.join(REPO, "packaging", "zig-toolchain.cmake"),
                 "-DCTDETECT_ZIG=%s" % zig, "-DCTDETECT_GLIBC=%s" % GLIBC_FLOOR,
                 "-DCTDETECT_SIMDJSON_SOURCE_DIR=%s" % simdjson,
                 "-DCTDETECT_BUILD_CLI=OFF", "-DCTDETECT_BUILD_TESTS=OFF",
                 "-DCTDETECT_MODULE_DIR=%s" % module_dir,
                 "-Dpybind11_DIR=%s" % pybind11_dir, "-DPython_EXECUTABLE=%s" % python],
                stdout=subprocess.DEVNULL)
        # --clean-first: the portable toolchain gives Ninja no header dependencies, and zig's
        # own cache makes recompiling unchanged files nearly free (zig-toolchain.cmake).
        run(["cmake", "--build", build, "-j", str(jobs), "--clean-first"])
        built = sorted(os.path.join(module_dir, f) for f in os.listdir(module_dir) if f.endswith(".so"))
        tag = "cpython-%s-x86_64-linux-gnu" % "".join(version.split(".")[:2])
        if not any(tag in os.path.basename(path) for path in built):
            raise PackageError("no %s module in %s" % (tag, module_dir))
        modules.extend(built)
    run([sys.executable, os.path.join(REPO, "packaging", "check_portability.py"), "--glibc", GLIBC_FLOOR] + modules)
    return modules


# ---------------------------------------------------------------------------------------------
# Vendored libraries (lib/)
# ---------------------------------------------------------------------------------------------

# boto3 and its dependencies for the modular input's S3 mode (Splunk's Python has no boto3 for
# apps; splunk_app/modinput/sources.py imports it from <app>/lib): pure-Python wheels, one pinned
# version each with its sha256, installed for CPython 3.9, the oldest Splunk Python (the same
# files run on 3.13), into the staged package's lib/.
VENDOR_REQUIREMENTS = os.path.join(REPO, "packaging", "vendor-requirements.txt")
VENDOR_PYTHON = "3.9"
# botocore/data holds a model for each of ~420 AWS services (26 MB of the 31 MB installed). The
# input calls S3 and STS only (sts:AssumeRole for aws_role_arn; the web-identity credential
# provider calls STS too), so only those two models are shipped, with the top-level files
# botocore reads for every client (endpoints.json, partitions.json,
# sdk-default-configuration.json, _retry.json). tests/packaging/test_install.py runs the
# installed input in S3 mode (with an assumed role) from this lib/ alone.
BOTOCORE_SERVICES = ("s3", "sts")
# What an app folder has no use for: console scripts (pip --target puts jmespath's jp.py in
# lib/bin/) and pip's installation markers.
VENDOR_DROPPED_DIRS = ("bin",)
VENDOR_DROPPED_DIST_INFO = ("REQUESTED", "direct_url.json")
# Changes to vendored files, each applied to exactly one occurrence of the original text (the
# build fails when a new version no longer has it) and marked in the file, as Apache-2.0 section
# 4(b) asks. botocore's Client Side Monitoring sends per-call metrics as UDP datagrams (to
# 127.0.0.1:31000) when `csm_enabled` is set in the environment or an AWS config file; Splunk
# Cloud and app certification prohibit programmatic UDP communication (AppInspect
# check_for_python_udp_network_communications fails on the socket it creates). The app makes no
# use of CSM, which is off unless configured, so the vendored copy has none: the factory returns
# what it returns when CSM is off.
VENDOR_PATCHES = (
    ("botocore/session.py",
     """    def _create_csm_monitor(self):
        if self.get_config_variable('csm_enabled'):
            client_id = self.get_config_variable('csm_client_id')
            host = self.get_config_variable('csm_host')
            port = self.get_config_variable('csm_port')
            handler = monitoring.Monitor(
                adapter=monitoring.MonitorEventAdapter(),
                publisher=monitoring.SocketPublisher(
                    socket=socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
                    host=host,
                    port=port,
                    serializer=monitoring.CSMSerializer(
                        csm_client_id=client_id
                    ),
                ),
            )
            return handler
        return None
""",
     """    def _create_csm_monitor(self):
        # Modified for CloudTrail Detect (packaging/build_package.py, VENDOR_PATCHES): Client
        # Side Monitoring, which publishes metrics over UDP when csm_enabled is set, is removed;
        # this copy of botocore never opens a UDP socket. As when CSM is off: no monitor.
        return None
"""),
)


def _vendored_wanted(relative):
    """Whether a file pip installed (path relative to lib/, with /) goes into the package."""
    parts = relative.split("/")
    if parts[0] in VENDOR_DROPPED_DIRS or any(part.startswith(".") or part == "__pycache__" for part in parts):
        return False
    if relative.endswith((".pyc", ".pyo")):
        return False
    if parts[0].endswith(".dist-info") and parts[-1] in VENDOR_DROPPED_DIST_INFO:
        return False
    if parts[:2] == ["botocore", "data"] and len(parts) > 3 and parts[2] not in BOTOCORE_SERVICES:
        return False
    return True


def vendor_install(work):
    """pip-installs packaging/vendor-requirements.txt once per content of that file (hashes
    required, no dependency resolution, no bytecode); returns the install folder."""
    with open(VENDOR_REQUIREMENTS, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    target = os.path.join(work, "vendor", digest)
    if os.path.isfile(os.path.join(target, ".complete")):
        return target
    shutil.rmtree(os.path.join(work, "vendor"), ignore_errors=True)
    python = os.path.join(work, "venv-tools", "bin", "python")
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--require-hashes",
         "--no-compile", "--only-binary=:all:", "--python-version", VENDOR_PYTHON, "--implementation", "cp",
         "--target", target, "-r", VENDOR_REQUIREMENTS])
    with open(os.path.join(target, ".complete"), "w", encoding="utf-8") as handle:
        handle.write(digest + "\n")
    return target


def _record_hash(path):
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def vendor(app, installed):
    """Copies the wanted files of `installed` into <app>/lib, applies VENDOR_PATCHES and rewrites
    each dist-info RECORD to list exactly the files shipped, with their hashes (pip's RECORD also
    names lib/bin scripts and the botocore models left out). Returns the lib-relative paths."""
    lib = os.path.join(app, "lib")
    copied = []
    for current, dirs, names in os.walk(installed):
        dirs.sort()
        for name in sorted(names):
            source = os.path.join(current, name)
            relative = os.path.relpath(source, installed).replace(os.sep, "/")
            if not _vendored_wanted(relative):
                continue
            target = os.path.join(lib, relative)
            if os.path.exists(target):
                raise PackageError("lib/%s is both in the repository and vendored" % relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(relative)
    shipped = set(copied)
    for relative, original, replacement in VENDOR_PATCHES:
        path = os.path.join(lib, relative)
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        if relative not in shipped or text.count(original) != 1:
            raise PackageError("lib/%s: the text VENDOR_PATCHES replaces is not there once" % relative)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text.replace(original, replacement))
    listed = set()
    for dist_info in sorted(d for d in os.listdir(lib) if d.endswith(".dist-info")):
        record = dist_info + "/RECORD"
        if record not in shipped:
            raise PackageError("lib/%s has no RECORD" % dist_info)
        with open(os.path.join(lib, record), encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        kept = []
        for row in rows:
            path = os.path.normpath(row[0]).replace(os.sep, "/")
            if path == record or path not in shipped:
                continue
            if row[1] != _record_hash(os.path.join(installed, path)):
                raise PackageError("%s does not match its RECORD hash" % os.path.join(installed, path))
            shipped_path = os.path.join(lib, path)
            kept.append([path, _record_hash(shipped_path), str(os.path.getsize(shipped_path))])
            listed.add(path)
        kept.append([record, "", ""])
        listed.add(record)
        with open(os.path.join(lib, record), "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(kept)
    unlisted = sorted(shipped - listed)
    if unlisted:
        raise PackageError("vendored files no RECORD lists: %s" % ", ".join(unlisted[:10]))
    return copied


# ---------------------------------------------------------------------------------------------
# Staging and archive
# ---------------------------------------------------------------------------------------------

def _excluded(name, is_dir):
    if name.startswith("."):
        return True
    if is_dir:
        return name in EXCLUDED_DIRS
    return name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES)


def source_files(repo=REPO):
    """Relative paths of the repository files that go into the package, sorted."""
    files = []
    for name in SHIPPED_FILES:
        if os.path.isfile(os.path.join(repo, name)):
            files.append(name)
    for folder in SHIPPED_FOLDERS:
        top = os.path.join(repo, folder)
        if not os.path.isdir(top):
            continue
        for current, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not _excluded(d, True))
            for name in sorted(names):
                relative = os.path.relpath(os.path.join(current, name), repo).replace(os.sep, "/")
                if not _excluded(name, False) and not IN_PLACE_BUILD.match(relative) \
                        and os.path.isfile(os.path.join(current, name)):
                    files.append(relative)
    return sorted(files)


def binary_declaration(readme_text):
    """The text of the README's "Binary File Declaration" section ('' when there is none)."""
    match = re.search(r"^(#+)\s*Binary File Declaration\s*$(.*?)(?=^\1\s|\Z)", readme_text, re.M | re.S)
    return match.group(2) if match else ""


def stage(app_id, version, conf, modules, work):
    root = os.path.join(work, "stage")
    if os.path.exists(root):
        shutil.rmtree(root)
    app = os.path.join(root, app_id)
    os.makedirs(app)
    for relative in source_files():
        target = os.path.join(app, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(REPO, relative), target)
    for module in modules:
        shutil.copyfile(module, os.path.join(app, "splunk_app", os.path.basename(module)))
    vendor(app, vendor_install(work))
    with open(os.path.join(app, "app.manifest"), "w", encoding="utf-8") as handle:
        json.dump(app_manifest(app_id, version, conf), handle, indent=4)
        handle.write("\n")
    # Every binary shipped (ours, or one in a library folder) must be named in the README's
    # Binary File Declaration, and must load on the oldest supported host.
    sys.path.insert(0, os.path.join(REPO, "packaging"))
    import check_portability
    binaries = check_portability.elf_files([app])
    with open(os.path.join(app, "README.md"), encoding="utf-8") as handle:
        declaration = binary_declaration(handle.read())
    undeclared = [os.path.relpath(b, app) for b in binaries if os.path.basename(b) not in declaration]
    if undeclared:
        raise PackageError("README.md's Binary File Declaration does not list %s" % ", ".join(undeclared))
    if binaries:
        run([sys.executable, os.path.join(REPO, "packaging", "check_portability.py"), "--glibc", GLIBC_FLOOR,
             app], stdout=subprocess.DEVNULL)
    for folder in ("LICENSE", "metadata/default.meta", "README.md", "default/app.conf"):
        if not os.path.isfile(os.path.join(app, folder)):
            raise PackageError("the package has no %s" % folder)
    return app


def _mode(relative, is_dir):
    if is_dir:
        return 0o755
    return 0o755 if EXECUTABLE.match(relative) else 0o644


def write_archive(app, path):
    """A reproducible .tar.gz of the staged app folder."""
    top = os.path.basename(app)
    entries = []
    for current, dirs, names in os.walk(app):
        dirs.sort()
        relative_dir = os.path.relpath(current, app).replace(os.sep, "/")
        entries.append((relative_dir, True))
        for name in sorted(names):
            entries.append(((relative_dir + "/" + name) if relative_dir != "." else name, False))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for relative, is_dir in sorted(entries):
            name = top if relative == "." else top + "/" + relative
            info = tarfile.TarInfo(name)
            info.mtime = SOURCE_DATE_EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = _mode(relative, is_dir)
            if is_dir:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                with open(os.path.join(app, relative), "rb") as handle:
                    data = handle.read()
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed:
            compressed.write(buffer.getvalue())
    os.replace(temporary, path)
    return path


# ---------------------------------------------------------------------------------------------
# AppInspect
# ---------------------------------------------------------------------------------------------

STATUSES = ("success", "failure", "error", "warning", "manual_check", "not_applicable", "skipped", "future_failure")


def summarize_report(path):
    """(counts per status, [(status, check name, [messages])] for everything not success/n.a.)."""
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    counts = dict.fromkeys(STATUSES, 0)
    notable = []
    for group_report in report.get("reports", []):
        for group in group_report.get("groups", []):
            for check in group.get("checks", []):
                result = check.get("result")
                counts[result] = counts.get(result, 0) + 1
                if result not in ("success", "not_applicable"):
                    messages = ["%s%s" % (m.get("message", "").strip(),
                                          " (%s)" % m["message_filename"] if m.get("message_filename") else "")
                                for m in check.get("messages", [])]
                    notable.append((result, check.get("name"), messages))
    return counts, notable


# The one failure accepted, and only on the declared native modules: check_aarch64_compatibility
# (tag aarch64_compatibility, not in the cloud set) fails every file that is not an AArch64
# binary, so no package that ships an x86-64 module can pass it. Linux aarch64 hosts use the
# pure-Python engine instead (README: Packaging and AppInspect).
ACCEPTED_FAILURES = ("check_aarch64_compatibility",)


def _accepted(name, messages, declared):
    return name in ACCEPTED_FAILURES and messages and all(
        any(binary in message for binary in declared) for message in messages)


def appinspect(package, work, declared):
    """Runs AppInspect twice; `declared` are the file names of the shipped native modules."""
    binary = os.path.join(work, "venv-appinspect", "bin", "splunk-appinspect")
    failed = False
    for label, extra in (("precert", []), ("precert+cloud", ["--included-tags", "cloud"])):
        output = os.path.join(work, "appinspect-%s.json" % label.replace("+", "-"))
        if os.path.exists(output):
            os.remove(output)
        # AppInspect exits non-zero on failures; its JSON report is what we judge.
        subprocess.run([binary, "inspect", package, "--mode", "precert", "--data-format", "json",
                        "--output-file", output] + extra, stdout=subprocess.DEVNULL)
        if not os.path.exists(output):
            raise PackageError("AppInspect (%s) wrote no report" % label)
        counts, notable = summarize_report(output)
        log("AppInspect %s: %s (report: %s)" % (
            label, ", ".join("%s %d" % (status, counts[status]) for status in STATUSES if counts.get(status)),
            os.path.relpath(output, REPO)))
        for result, name, messages in notable:
            accepted = result == "failure" and _accepted(name, messages, declared)
            log("  %s%s %s%s" % (result, " (accepted: x86-64 native module)" if accepted else "", name,
                                 "".join("\n      - " + m for m in messages)))
            if result == "error" or (result == "failure" and not accepted):
                failed = True
    if failed:
        raise PackageError("AppInspect reported failures or errors")


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description="Build dist/<app id>-<version>.tar.gz and run AppInspect on it.")
    parser.add_argument("--skip-appinspect", action="store_true", help="build only (the install test uses this)")
    parser.add_argument("--dist", default=DIST, help="output folder (default: dist/)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    options = parser.parse_args(argv)
    try:
        app_id, version, conf = app_identity()
        log("%s %s" % (app_id, version))
        deps = [os.path.join(REPO, "packaging", "install-package-deps.sh")]
        if not options.skip_appinspect:
            deps.append("--appinspect")
        run(deps)
        modules = build_modules(WORK, options.jobs)
        app = stage(app_id, version, conf, modules, WORK)
        package = write_archive(app, os.path.join(options.dist, "%s-%s.tar.gz" % (app_id, version)))
        log("wrote %s (%d bytes)" % (os.path.relpath(package, REPO), os.path.getsize(package)))
        if not options.skip_appinspect:
            appinspect(package, WORK, [os.path.basename(m) for m in modules])
    except PackageError as err:
        print("package: FAILED: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
