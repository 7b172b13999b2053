"""Engine.analyze() on text Python cannot encode strictly: a str holding a lone surrogate (what
json.loads makes of "\\ud800") and bytes that are not UTF-8. Both engines answer with an
"invalid JSON" error for that record instead of failing the call; bytes and str agree."""
import os

import pytest

from shared_records import shared_records

from .conftest import make_conf_dir


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    from splunk_app import _ctdetect  # the native engine is required here
    from splunk_app.pyengine import Engine as PythonEngine

    root = make_conf_dir(tmp_path_factory.mktemp("analyze-conf"))
    conf = [os.path.join(str(root), "default", "cloudtrail_detections.conf")]
    lookups = os.path.join(str(root), "lookups")
    return {"native": _ctdetect.Engine(conf, lookups), "python": PythonEngine(conf, lookups)}


@pytest.mark.parametrize("name", ["native", "python"])
@pytest.mark.parametrize("raw", [
    '{"eventName":"StopLogging","a":"\ud800"}',
    '{"eventName":"StopLogging","\udfff":1}',
    '{"a":"x\udc80y"}',  # what surrogateescape makes of the byte 0x80
])
def test_lone_surrogates_in_str_are_an_event_error(engines, name, raw):
    result = engines[name].analyze(raw)
    assert result["error"].startswith("invalid JSON: "), result
    assert result["fields"] == [] and result["detections"] == []


@pytest.mark.parametrize("name", ["native", "python"])
def test_bytes_that_are_not_utf8(engines, name):
    for raw in (b'{"a":"\xff"}', b'{"\xc3":1}', b'{"a":"\xed\xa0\x80"}', b"\xff"):
        result = engines[name].analyze(raw)
        assert result["error"].startswith("invalid JSON: "), (raw, result)


def test_bytes_and_str_agree_on_shared_records(engines):
    records = shared_records()[::7]
    assert len(records) > 100
    for origin, raw in records:
        for engine in engines.values():
            assert engine.analyze(raw.encode("utf-8")) == engine.analyze(raw), origin
    assert engines["native"].analyze('{"eventName":"StopLogging"}')["detections"] == ["hostile_stop_logging"]


def test_other_types_are_a_clear_type_error(engines):
    for value in (None, 12, ["{}"]):
        with pytest.raises(TypeError, match="analyze\\(\\) takes str or bytes"):
            engines["native"].analyze(value)
