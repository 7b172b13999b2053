"""CloudTrail Detect's Python package: the code that bin/ scripts import.

It holds the Splunk protocol handling, option parsing, the loader that picks the native engine
(``_ctdetect``, built from native/) or the pure-Python fallback (``pyengine``), and nothing that
runs at import time beyond definitions: splunkd may start many command processes per search.

For tests only (Splunk never sets it): ``CTDETECT_NATIVE_DIR`` names a directory that
``splunk_app._ctdetect`` is then imported from instead of this folder, e.g. the ASan+UBSan build
of ``make test-sanitize-python``. The module is looked for there and nowhere else: when that
directory holds none for the running interpreter, the import fails (the engine loader then
falls back or, under ``CTDETECT_ENGINE=native``, fails) rather than silently using the module
built in place. Unset or empty, imports are untouched. Child processes (bin/ scripts started by
the tests) inherit the variable, so they load the same module.
"""
import os as _os
import sys as _sys

NATIVE_DIR_ENV = "CTDETECT_NATIVE_DIR"
NATIVE_MODULE = __name__ + "._ctdetect"


class NativeDirFinder(object):
    """A sys.meta_path finder that resolves ``splunk_app._ctdetect`` in one directory only."""

    def __init__(self, directory):
        self.directory = _os.path.abspath(directory)

    def find_spec(self, fullname, path=None, target=None):
        if fullname != NATIVE_MODULE:
            return None
        import importlib.machinery as machinery
        finder = machinery.FileFinder(self.directory,
                                      (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES))
        spec = finder.find_spec(fullname, target)
        if spec is None:
            # ImportError, not ModuleNotFoundError: ``from splunk_app import _ctdetect`` would
            # replace the latter's message with a bare "cannot import name".
            raise ImportError("no %s built for this Python in %s=%s"
                              % (NATIVE_MODULE, NATIVE_DIR_ENV, self.directory), name=fullname)
        return spec


def _use_native_dir(directory):
    if not any(isinstance(finder, NativeDirFinder) for finder in _sys.meta_path):
        _sys.meta_path.insert(0, NativeDirFinder(directory))


if _os.environ.get(NATIVE_DIR_ENV):
    _use_native_dir(_os.environ[NATIVE_DIR_ENV])
