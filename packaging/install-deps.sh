#!/usr/bin/env bash
# Installs what building and testing CloudTrail Detect needs, from Debian's packages and PyPI.
# Idempotent and quiet when everything is already there; `make` runs it before every build.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
debian_packages=(cmake ninja-build g++ libsimdjson-dev pybind11-dev libgtest-dev)
# The fuzz targets (`make fuzz`, native/fuzz/): clang with libFuzzer and the sanitizer runtimes.
debian_packages+=(clang libclang-rt-dev)
# The dashboards' render test (tests/ui) drives Debian's chromium with Node.js; Node comes from
# Debian only where the machine has none (a NodeSource nodejs already carries npm).
debian_packages+=(chromium)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  debian_packages+=(nodejs npm)
fi

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Test-only npm packages of the dashboards' render test (pinned by tests/ui/package-lock.json;
# never shipped in the app).
ui_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/ui"
if [ -f "$ui_dir/package-lock.json" ] && [ ! -d "$ui_dir/node_modules/@splunk/dashboard-core" ]; then
  echo "install-deps: installing the dashboard render test's npm packages (tests/ui)"
  (cd "$ui_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if ! "$PYTHON" -c "import pytest" 2>/dev/null; then
  echo "install-deps: installing pytest for $PYTHON"
  "$PYTHON" -m pip install --quiet pytest
fi

# The modular input's tests: boto3 (S3 mode) and moto's standalone server, a real S3 API on
# loopback (tests/modinput). Test-only: the app package vendors boto3 itself, never moto.
if ! "$PYTHON" -c "import boto3, moto.server, flask" 2>/dev/null; then
  echo "install-deps: installing boto3 and moto[server] for $PYTHON"
  "$PYTHON" -m pip install --quiet boto3 "moto[server]"
fi
