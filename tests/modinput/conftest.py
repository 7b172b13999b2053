"""The modular input tests' fixtures. They live in modinput_support.py with the helpers the tests
import; this folder is a package so that this conftest does not clash with tests/conftest.py."""
import pathlib
import sys

HERE = str(pathlib.Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from modinput_support import KILL_FIGURES, LISTING_FIGURES  # noqa: E402
from modinput_support import fast_s3, huge_log, log_tree, moto_endpoint  # noqa: E402,F401


def pytest_terminal_summary(terminalreporter):
    """What the kill -9 tests measured, in every pytest run's output (also with -q, and without
    -s): kills, events expected and received, duplicates by eventID and their bound; and the
    ListObjectsV2 calls of the listing test."""
    if KILL_FIGURES:
        terminalreporter.section("modular input: kill -9 figures (duplicates counted by eventID)")
        for line in KILL_FIGURES:
            terminalreporter.write_line(line)
    if LISTING_FIGURES:
        terminalreporter.section("modular input: listing by date (ListObjectsV2 calls counted in the input)")
        for line in LISTING_FIGURES:
            terminalreporter.write_line(line)
