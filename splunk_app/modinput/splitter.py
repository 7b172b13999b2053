"""The record splitter: native (splunk_app._ctdetect.split_records, simdjson) when it imports,
else the pure-Python one with identical results.

``CTDETECT_ENGINE`` chooses as it does for the search command: ``native`` requires the native
splitter, ``python`` forces the pure-Python one, ``auto`` (or unset) prefers the native one.
"""
import gzip
import os
import zlib

from splunk_app.modinput.pysplitter import INVALID_JSON, NOT_A_LOG_FILE, SplitError
from splunk_app.modinput.pysplitter import split_records as python_split_records

__all__ = ["SplitError", "INVALID_JSON", "NOT_A_LOG_FILE", "CorruptFile", "decompress", "load_splitter"]

GZIP_MAGIC = b"\x1f\x8b"


class CorruptFile(ValueError):
    """The file's compression is broken (truncated or corrupt gzip)."""


def decompress(data):
    """The log file's JSON bytes: gunzipped when the data is gzip (every member), else as is
    (a file saved uncompressed). Raises CorruptFile.

    Python's zlib is the same C library a native decompressor would call; measured on the shared
    records it runs at the same speed, so decompression stays in Python.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise CorruptFile("invalid gzip: %s" % (err,))


def _native_split(function):
    def split_records(data):
        error, detail, records = function(data)
        if error is not None:
            raise SplitError(error, detail)
        return records
    split_records.native = True
    return split_records


def load_splitter(environ=None):
    """(split_records, note): note is None or a one-line message saying the pure-Python splitter
    is used and why. Raises ValueError for CTDETECT_ENGINE=native without the native module."""
    environ = os.environ if environ is None else environ
    choice = (environ.get("CTDETECT_ENGINE") or "auto").strip().lower()
    if choice not in ("auto", "native", "python"):
        raise ValueError("invalid CTDETECT_ENGINE=%r; valid values: auto, native, python" % (choice,))
    if choice == "python":
        return python_split_records, None
    try:
        from splunk_app import _ctdetect
        native = _ctdetect.split_records
    except (ImportError, AttributeError) as err:
        if choice == "native":
            raise ValueError("CTDETECT_ENGINE=native but the native splitter is not available (%s)" % (err,))
        return python_split_records, ("native splitter not available (%s); using the pure-Python one, "
                                      "which is slower" % (err,))
    return _native_split(native), None
