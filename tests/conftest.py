"""Shared pytest fixtures: where the repository and ../shared/data live."""
import os
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED_DATA = pathlib.Path(os.environ.get("CTDETECT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _require_shared_data():
    # The shared records are part of the test contract: their absence is a failure, never a skip.
    if not (SHARED_DATA / "cloudtrail").is_dir() or not (SHARED_DATA / "splunkd-recordings").is_dir():
        raise RuntimeError(
            "shared test data not found at %s (set CTDETECT_SHARED_DATA or clone next to ../shared)" % SHARED_DATA
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data():
    return _require_shared_data()
