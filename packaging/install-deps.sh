#!/usr/bin/env bash
# Installs what building and testing CloudTrail Detect needs, from Debian's packages and PyPI.
# Idempotent and quiet when everything is already there; `make` runs it before every build.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
debian_packages=(cmake ninja-build g++ libsimdjson-dev pybind11-dev libgtest-dev)

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

if ! "$PYTHON" -c "import pytest" 2>/dev/null; then
  echo "install-deps: installing pytest for $PYTHON"
  "$PYTHON" -m pip install --quiet pytest
fi
