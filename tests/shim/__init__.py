"""Tests of the protocol v2 shim (a package, so its conftest does not shadow tests/conftest.py)."""
