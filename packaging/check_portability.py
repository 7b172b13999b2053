#!/usr/bin/env python3
"""Checks that shipped native files load on every Linux x86-64 host the package supports.

For each ELF file given (or found under the folders given) it lists the GLIBC_ and GLIBCXX_
symbol versions the file needs (objdump -T) and its NEEDED libraries (readelf -d, and ldd
when it runs), and fails when:
- a GLIBC_ version is above the floor (--glibc, default 2.17: RHEL/CentOS 7, Amazon Linux 2,
  Ubuntu 20.04, RHEL/Oracle Linux 8 and everything newer have at least that);
- any GLIBCXX_/CXXABI_/GCC_ version is needed at all (the C++ runtime must be linked in: Splunk
  hosts have no matching libstdc++);
- a library outside libc/libm/libpthread/libdl/librt/ld-linux is needed;
- the file is not an x86-64 ELF shared object.

Usage: check_portability.py [--glibc 2.17] PATH...   (prints one report line per file)
"""
import argparse
import os
import re
import subprocess
import sys

ALLOWED_LIBRARIES = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-x86-64\.so\.2|linux-vdso\.so\.1)$")
VERSION_RE = re.compile(r"\b(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9][0-9.]*)\b")
ELF_MAGIC = b"\x7fELF"


def _version_tuple(text):
    return tuple(int(part) for part in text.split("."))


def _run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def elf_files(paths):
    found = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _dirs, names in os.walk(path):
                for name in sorted(names):
                    full = os.path.join(folder, name)
                    if _is_elf(full):
                        found.append(full)
        else:
            found.append(path)
    return sorted(found)


def _is_elf(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def symbol_versions(path):
    """{'GLIBC': {'2.2.5', ...}, 'GLIBCXX': {...}, ...} the file needs (undefined dynamic symbols)."""
    out = _run(["objdump", "-T", path])
    if out.returncode != 0:
        raise RuntimeError("objdump -T %s failed: %s" % (path, out.stderr.strip()))
    needed = {}
    for line in out.stdout.splitlines():
        if "*UND*" not in line:
            continue
        for family, version in VERSION_RE.findall(line):
            needed.setdefault(family, set()).add(version)
    return needed


def needed_libraries(path):
    out = _run(["readelf", "-d", path])
    if out.returncode != 0:
        raise RuntimeError("readelf -d %s failed: %s" % (path, out.stderr.strip()))
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout)


def ldd_libraries(path):
    """Library names ldd resolves (transitively); None when ldd is unavailable."""
    try:
        out = _run(["ldd", path])
    except OSError:
        return None
    names = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith("statically linked"):
            continue
        names.append(os.path.basename(line.split()[0]))
    return names


def check_file(path, floor):
    """Returns (report line, [problems])."""
    problems = []
    header = _run(["readelf", "-h", path]).stdout
    if "Advanced Micro Devices X86-64" not in header or "DYN" not in header:
        problems.append("not an x86-64 ELF shared object")
    versions = symbol_versions(path)
    glibc = sorted(versions.get("GLIBC", ()), key=_version_tuple)
    for version in glibc:
        if _version_tuple(version) > _version_tuple(floor):
            problems.append("needs GLIBC_%s, above the floor %s" % (version, floor))
    for family in ("GLIBCXX", "CXXABI", "GCC"):
        for version in sorted(versions.get(family, ()), key=_version_tuple):
            problems.append("needs %s_%s (the C++ runtime must be linked statically)" % (family, version))
    libraries = needed_libraries(path)
    resolved = ldd_libraries(path) or []
    for name in libraries + resolved:
        if not ALLOWED_LIBRARIES.match(name):
            problems.append("depends on %s" % name)
    report = "%s: GLIBC %s; NEEDED %s; ldd %s" % (
        path, " ".join(glibc) or "-", " ".join(libraries) or "-", " ".join(resolved) or "-")
    for family in ("GLIBCXX", "CXXABI", "GCC"):
        if versions.get(family):
            report += "; %s %s" % (family, " ".join(sorted(versions[family], key=_version_tuple)))
    return report, sorted(set(problems))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glibc", default="2.17", help="highest GLIBC_ symbol version allowed")
    parser.add_argument("paths", nargs="+", help="ELF files, or folders searched for ELF files")
    options = parser.parse_args(argv)
    files = elf_files(options.paths)
    if not files:
        print("check_portability: no ELF file found in %s" % " ".join(options.paths), file=sys.stderr)
        return 1
    failed = False
    for path in files:
        report, problems = check_file(path, options.glibc)
        print(report)
        for problem in problems:
            failed = True
            print("  FAIL: %s" % problem)
    print("check_portability: %d file(s), glibc floor %s: %s" % (len(files), options.glibc, "FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
