"""Choose and build the detection engine: the native one when it imports, else pure Python.

Paths are computed from this file's location, never from an app name: on an indexer the app
runs from a knowledge bundle unpacked under a path that changes with every bundle.

Environment variables (both optional, neither set by Splunk):
- ``CTDETECT_ENGINE``: ``native`` or ``python`` forces that engine (``native`` fails when the
  native module does not import); ``auto`` or unset picks the native engine when available.
- ``CTDETECT_CONF_DIR``: a directory laid out like the app's configuration (``default/`` and
  ``local/`` holding ``cloudtrail_detections.conf``, ``lookups/``) used instead of the app root.
  Tests and demos use it to run the command against their own detections.

Tests may also set ``CTDETECT_NATIVE_DIR`` (see splunk_app/__init__.py): the native module is
then imported from that directory only, e.g. the ASan+UBSan build of ``make test-sanitize-python``.
"""
import os
import sys

CONF_NAME = "cloudtrail_detections.conf"
ENGINE_ENV = "CTDETECT_ENGINE"
CONF_DIR_ENV = "CTDETECT_CONF_DIR"
ENGINE_CHOICES = ("auto", "native", "python")


class EngineLoadError(ValueError):
    """The engine could not be chosen or built; the message says why."""


def app_root():
    """The app's folder: the parent of this package's folder."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_root(environ=None):
    """Where default/, local/ and lookups/ are read from: CTDETECT_CONF_DIR or the app root."""
    environ = os.environ if environ is None else environ
    override = environ.get(CONF_DIR_ENV)
    return os.path.abspath(override) if override else app_root()


def conf_paths(root=None):
    """The detection files that exist, in precedence order: default/ then local/."""
    root = config_root() if root is None else root
    candidates = [os.path.join(root, folder, CONF_NAME) for folder in ("default", "local")]
    return [path for path in candidates if os.path.isfile(path)]


def defined_detection_ids(root=None):
    """The ids of every detection the files define (disabled ones included), in definition
    order, read with the pure-Python conf reader. For error messages only (it is not called on
    the normal path); raises ValueError when the files are missing or cannot be read."""
    paths = conf_paths(root)
    if not paths:
        raise EngineLoadError("no detections file under %s" % (config_root() if root is None else root))
    from splunk_app.pyengine.conf import read_conf_files
    _defaults, stanzas = read_conf_files(paths)
    return list(stanzas)


def lookup_dir(root=None):
    root = config_root() if root is None else root
    return os.path.join(root, "lookups")


def platform_tag():
    """e.g. 'Python 3.9 on linux-x86_64' (for messages only)."""
    try:
        machine = os.uname().machine
    except AttributeError:  # Windows
        import platform
        machine = platform.machine()
    return "Python %d.%d on %s-%s" % (sys.version_info[0], sys.version_info[1], sys.platform,
                                      machine.lower() or "unknown")


def _engine_choice(environ):
    choice = (environ.get(ENGINE_ENV) or "auto").strip().lower()
    if choice not in ENGINE_CHOICES:
        raise EngineLoadError(
            "invalid %s=%r; valid values: %s" % (ENGINE_ENV, environ.get(ENGINE_ENV), ", ".join(ENGINE_CHOICES))
        )
    return choice


def _import_native():
    """Return (Engine class, None) or (None, reason)."""
    try:
        from splunk_app import _ctdetect
    except ImportError as err:
        return None, str(err) or err.__class__.__name__
    return _ctdetect.Engine, None


def load_engine(conf_paths, lookup_dir, rules="*", environ=None):
    """Build the engine once for a search process.

    Returns (engine, note): note is None, or a one-line message for the job inspector saying
    that the pure-Python engine is used because the native one is not available.
    Raises EngineLoadError when no engine can be chosen or no detection file exists, and lets
    the engine's ValueError (a wrong detection or rules= entry) through.
    """
    environ = os.environ if environ is None else environ
    choice = _engine_choice(environ)
    if not conf_paths:
        raise EngineLoadError(
            "no detections file: neither default/%s nor local/%s exists under %s"
            % (CONF_NAME, CONF_NAME, config_root(environ))
        )
    note = None
    engine_class = None
    if choice in ("auto", "native"):
        engine_class, reason = _import_native()
        if engine_class is None:
            if choice == "native":
                raise EngineLoadError(
                    "%s=native but the native engine is not available for %s (%s)"
                    % (ENGINE_ENV, platform_tag(), reason)
                )
            note = (
                "native engine not available for %s (%s); using the pure-Python engine, "
                "which is slower" % (platform_tag(), reason)
            )
    if engine_class is None:
        from splunk_app.pyengine import Engine as engine_class
    return engine_class(list(conf_paths), lookup_dir, rules), note
