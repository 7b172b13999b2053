#!/usr/bin/env bash
# Installs what `make package` (packaging/build_package.py) needs beyond packaging/install-deps.sh,
# everything project-specific under build-package/ so the Python that runs the tests stays as it is:
# - build-package/venv-tools: zig (PyPI `ziglang`: the compiler with old-glibc targets and a
#   static libc++) and pybind11 headers recent enough for Python 3.13;
# - build-package/src: simdjson's source from Debian's source package (the version of the
#   libsimdjson-dev the developer build uses), fetched at build time and never committed;
# - with --appinspect, build-package/venv-appinspect: Splunk AppInspect from PyPI.
# Idempotent and quiet when everything is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$ROOT/build-package"
PYTHON="${PYTHON:-python3}"
ZIGLANG_VERSION=0.17.1
PYBIND11_VERSION=2.13.6
APPINSPECT_VERSION=4.3.1
SIMDJSON_DEBIAN_VERSION=3.0.1-1
SIMDJSON_UPSTREAM_VERSION=3.0.1
with_appinspect=0
[ "${1:-}" = "--appinspect" ] && with_appinspect=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian packages: dpkg-dev unpacks source packages, binutils gives objdump/readelf for
# check_portability.py, libmagic1 is what AppInspect's python-magic loads.
debian_packages=(cmake ninja-build dpkg-dev binutils libmagic1 python3-venv)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "install-package-deps: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$WORK"

venv_with() {  # venv_with <folder> <pip requirement>...
  local venv="$1"; shift
  if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
  fi
  if [ "$(cat "$venv/requirements.installed" 2>/dev/null)" = "$*" ]; then
    return 0
  fi
  echo "install-package-deps: installing $* into ${venv#$ROOT/}"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  echo "$*" > "$venv/requirements.installed"
}

venv_with "$WORK/venv-tools" "ziglang==$ZIGLANG_VERSION" "pybind11==$PYBIND11_VERSION"

# simdjson's source, from Debian's source package: needs a deb-src entry for the archive the
# machine already uses.
SRC="$WORK/src"
SIMDJSON_DIR="$SRC/simdjson-$SIMDJSON_UPSTREAM_VERSION"
if [ ! -f "$SIMDJSON_DIR/singleheader/simdjson.cpp" ]; then
  if ! apt-cache showsrc "simdjson=$SIMDJSON_DEBIAN_VERSION" 2>/dev/null | grep -q "^Package: simdjson"; then
    if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "install-package-deps: adding a deb-src entry for Debian's archive"
      printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    fi
    $SUDO apt-get update -qq
  fi
  rm -rf "$SRC"
  mkdir -p "$SRC"
  echo "install-package-deps: fetching simdjson $SIMDJSON_DEBIAN_VERSION source from Debian"
  (cd "$SRC" && apt-get source -qq "simdjson=$SIMDJSON_DEBIAN_VERSION" >/dev/null 2>&1)
  [ -f "$SIMDJSON_DIR/singleheader/simdjson.cpp" ] || { echo "install-package-deps: simdjson source missing" >&2; exit 1; }
fi
# The module must be built from the same simdjson as the developer build.
if [ -f /usr/include/simdjson.h ] && ! cmp -s /usr/include/simdjson.h "$SIMDJSON_DIR/singleheader/simdjson.h"; then
  echo "install-package-deps: $SIMDJSON_DIR differs from the installed libsimdjson-dev" >&2
  exit 1
fi
echo "$SIMDJSON_DIR/singleheader" > "$SRC/simdjson-singleheader.path"

if ((with_appinspect)); then
  venv_with "$WORK/venv-appinspect" "splunk-appinspect==$APPINSPECT_VERSION"
fi
