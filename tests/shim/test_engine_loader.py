"""splunk_app.engine_loader: paths from __file__, engine choice, the fallback note."""
import os
import sys

import pytest

from splunk_app import engine_loader
from splunk_app.engine_loader import EngineLoadError, load_engine


def test_app_root_is_the_repository(repo_root):
    assert engine_loader.app_root() == str(repo_root)


def test_conf_paths_only_existing_default_then_local(tmp_path):
    assert engine_loader.conf_paths(str(tmp_path)) == []
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "cloudtrail_detections.conf").write_text("")
    assert engine_loader.conf_paths(str(tmp_path)) == [str(tmp_path / "local" / "cloudtrail_detections.conf")]
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "cloudtrail_detections.conf").write_text("")
    assert engine_loader.conf_paths(str(tmp_path)) == [
        str(tmp_path / "default" / "cloudtrail_detections.conf"),
        str(tmp_path / "local" / "cloudtrail_detections.conf"),
    ]
    assert engine_loader.lookup_dir(str(tmp_path)) == str(tmp_path / "lookups")


def test_config_root_override(tmp_path, monkeypatch, repo_root):
    monkeypatch.delenv("CTDETECT_CONF_DIR", raising=False)
    assert engine_loader.config_root() == str(repo_root)
    monkeypatch.setenv("CTDETECT_CONF_DIR", str(tmp_path))
    assert engine_loader.config_root() == str(tmp_path)


def _paths(detections_dir):
    return engine_loader.conf_paths(str(detections_dir)), engine_loader.lookup_dir(str(detections_dir))


def test_forced_python_engine(detections_dir):
    from splunk_app.pyengine import Engine
    engine, note = load_engine(*_paths(detections_dir), rules="*", environ={"CTDETECT_ENGINE": "python"})
    assert isinstance(engine, Engine)
    assert note is None
    assert engine.detection_ids == ["test_console_login_without_mfa", "test_cloudtrail_stopped",
                                    "test_known_attacker_ip"]


def test_fallback_note_when_native_missing(detections_dir, monkeypatch):
    from splunk_app.pyengine import Engine
    monkeypatch.setattr(engine_loader, "_import_native", lambda: (None, "No module named 'splunk_app._ctdetect'"))
    engine, note = load_engine(*_paths(detections_dir), rules="test_cloud*", environ={})
    assert isinstance(engine, Engine)
    assert engine.detection_ids == ["test_cloudtrail_stopped"]
    expected = "native engine not available for Python %d.%d on %s-" % (sys.version_info[0], sys.version_info[1],
                                                                        sys.platform)
    assert note.startswith(expected)
    assert note.endswith("(No module named 'splunk_app._ctdetect'); using the pure-Python engine, which is slower")
    assert os.uname().machine.lower() in note


def test_forced_native_missing_is_an_error(detections_dir, monkeypatch):
    monkeypatch.setattr(engine_loader, "_import_native", lambda: (None, "no .so for this platform"))
    with pytest.raises(EngineLoadError) as info:
        load_engine(*_paths(detections_dir), rules="*", environ={"CTDETECT_ENGINE": "native"})
    assert "CTDETECT_ENGINE=native but the native engine is not available" in str(info.value)
    assert "(no .so for this platform)" in str(info.value)


def test_native_used_when_it_imports(detections_dir, monkeypatch):
    made = []

    class FakeNative(object):
        def __init__(self, conf_paths, lookup_dir, rules):
            made.append((conf_paths, lookup_dir, rules))

    monkeypatch.setattr(engine_loader, "_import_native", lambda: (FakeNative, None))
    for environ in ({}, {"CTDETECT_ENGINE": "native"}, {"CTDETECT_ENGINE": "AUTO"}):
        engine, note = load_engine(*_paths(detections_dir), rules="x*", environ=environ)
        assert isinstance(engine, FakeNative) and note is None
    assert made[0] == (_paths(detections_dir)[0], _paths(detections_dir)[1], "x*")


def test_invalid_engine_choice(detections_dir):
    with pytest.raises(EngineLoadError) as info:
        load_engine(*_paths(detections_dir), environ={"CTDETECT_ENGINE": "rust"})
    assert "invalid CTDETECT_ENGINE='rust'; valid values: auto, native, python" in str(info.value)


def test_no_detection_file(tmp_path):
    with pytest.raises(EngineLoadError) as info:
        load_engine([], str(tmp_path / "lookups"), environ={"CTDETECT_CONF_DIR": str(tmp_path)})
    assert "no detections file" in str(info.value) and str(tmp_path) in str(info.value)


def test_bad_rules_names_valid_ids(detections_dir):
    with pytest.raises(ValueError) as info:
        load_engine(*_paths(detections_dir), rules="nope_*", environ={"CTDETECT_ENGINE": "python"})
    assert "nope_*" in str(info.value)
    assert "test_cloudtrail_stopped" in str(info.value)


def test_loader_does_not_import_engines_at_module_import():
    # engine_loader must stay cheap to import: no engine module is imported until load_engine.
    import subprocess
    code = ("import sys; sys.path.insert(0, %r); import splunk_app.command, splunk_app.engine_loader; "
            "print(sorted(m for m in sys.modules if m.startswith('splunk_app')))" % engine_loader.app_root())
    out = subprocess.check_output([sys.executable, "-c", code]).decode()
    assert "pyengine" not in out and "_ctdetect" not in out


# CTDETECT_NATIVE_DIR (splunk_app/__init__.py): tests point splunk_app._ctdetect at another build,
# e.g. the ASan+UBSan one of `make test-sanitize-python`. Each case runs in a fresh interpreter:
# the variable is read once, when the package is imported.

def _python(code, env_extra=None):
    """Run code in a child interpreter that finds splunk_app from the app root, as bin/ scripts
    do; the child inherits this process's environment (sanitizer runtimes included), plus
    env_extra (None values remove the variable). Returns (exit code, stdout, stderr)."""
    import subprocess
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    for key, value in (env_extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    code = "import sys; sys.path.insert(0, %r)\n%s" % (engine_loader.app_root(), code)
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd="/", capture_output=True, timeout=120)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def _importable_native_module():
    """The path of the _ctdetect this process imports (honouring CTDETECT_NATIVE_DIR), or None."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("splunk_app._ctdetect")
    except ImportError:
        return None
    return spec.origin if spec is not None else None


_ORIGIN = ("import importlib.util; spec = importlib.util.find_spec('splunk_app._ctdetect'); "
           "print(spec.origin if spec else None)")


def test_native_dir_unset_leaves_imports_alone(repo_root):
    code, out, err = _python(_ORIGIN + "\nimport splunk_app; print(any(isinstance(f, splunk_app.NativeDirFinder) "
                             "for f in sys.meta_path))", {"CTDETECT_NATIVE_DIR": None})
    assert code == 0, err
    origin, finder_installed = out.split()
    assert finder_installed == "False"
    assert origin == "None" or os.path.dirname(origin) == str(repo_root / "splunk_app")


def test_native_dir_without_a_module_fails_the_import(tmp_path, detections_dir):
    paths = _paths(detections_dir)
    code, out, err = _python(
        "from splunk_app.engine_loader import load_engine, EngineLoadError\n"
        "try:\n    from splunk_app import _ctdetect\nexcept ImportError as err:\n    print('import:', err)\n"
        "engine, note = load_engine(%r, %r, environ={})\nprint('auto:', type(engine).__module__, note)\n"
        "try:\n    load_engine(%r, %r, environ={'CTDETECT_ENGINE': 'native'})\n"
        "except EngineLoadError as err:\n    print('native:', err)\n" % (paths + paths),
        {"CTDETECT_NATIVE_DIR": str(tmp_path)})
    assert code == 0, err
    missing = "no splunk_app._ctdetect built for this Python in CTDETECT_NATIVE_DIR=%s" % tmp_path
    lines = out.splitlines()
    assert lines[0] == "import: " + missing
    assert lines[1].startswith("auto: splunk_app.pyengine") and "native engine not available" in lines[1]
    assert missing in lines[1]
    assert lines[2].startswith("native: CTDETECT_ENGINE=native but") and missing in lines[2]


def test_native_dir_module_is_imported_from_there(tmp_path, detections_dir):
    import shutil
    module = _importable_native_module()
    if module is None:
        if os.environ.get("CTDETECT_REQUIRE_NATIVE") == "1":
            pytest.fail("the native module is not built (CTDETECT_REQUIRE_NATIVE=1)")
        pytest.skip("the native module is not built")
    shutil.copy(module, str(tmp_path))
    code, out, err = _python(
        "from splunk_app import _ctdetect\nprint(_ctdetect.__file__)\n"
        "from splunk_app.engine_loader import load_engine\n"
        "engine, note = load_engine(%r, %r, environ={'CTDETECT_ENGINE': 'native'})\n"
        "print(type(engine).__module__, note)\n" % _paths(detections_dir),
        {"CTDETECT_NATIVE_DIR": str(tmp_path)})
    assert code == 0, err
    assert out.splitlines() == [str(tmp_path / os.path.basename(module)), "splunk_app._ctdetect None"]


def test_child_processes_import_the_same_native_module():
    # The command processes the tests start (tests/harness/splunkd.py) inherit the environment,
    # so under `make test-sanitize-python` they load the sanitized build too.
    import splunkd  # tests/harness, on sys.path through tests/shim/conftest.py
    import subprocess
    out = subprocess.check_output(
        [sys.executable, "-c", "import sys; sys.path.insert(0, %r)\n%s" % (engine_loader.app_root(), _ORIGIN)],
        env=splunkd.command_env(), cwd="/").decode()
    assert out.strip() == str(_importable_native_module())
    native_dir = os.environ.get("CTDETECT_NATIVE_DIR")
    if native_dir and _importable_native_module() is not None:
        assert os.path.dirname(_importable_native_module()) == os.path.abspath(native_dir)
