"""The modular input tests' fixtures. They live in modinput_support.py with the helpers the tests
import; this folder is a package so that this conftest does not clash with tests/conftest.py."""
import pathlib
import sys

HERE = str(pathlib.Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from modinput_support import log_tree, moto_endpoint  # noqa: E402,F401
