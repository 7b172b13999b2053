"""Regressions found by the native fuzz targets (native/fuzz/), checked on the pure-Python engine
too: both engines implement one contract (docs/engine-contract.md)."""
from pyengine_support import engine_for

CONF = """\
[login]
title = Title of login
severity = medium
mitre_attack = T1078.004
description = d
false_positives = f
condition = eventName=ConsoleLogin
"""


def test_new_field_twin_named_like_an_input_column(tmp_path):
    # chunk_fuzzer: an input column __mv_x without x, then a field x from the record: the reply
    # named two columns __mv_x. The field now has no twin (native: ChunkRegression test).
    engine = engine_for(tmp_path, CONF)
    body = (b'_raw,__mv_eventName,__mv_detection\n'
            b'"{""eventName"":""A"",""t"":[""x"",""y""]}",old,d\n'
            b'"{""eventName"":""ConsoleLogin""}",,\n')
    assert engine.process_body(body) == (
        b'_raw,__mv_eventName,__mv_detection,eventName,t{},detection,detection_title,mitre_attack_id,'
        b'detection_severity,__mv__raw,__mv_t{},__mv_detection_title,__mv_mitre_attack_id,__mv_detection_severity\n'
        b'"{""eventName"":""A"",""t"":[""x"",""y""]}",old,d,A,"x\ny",,,,,,$x$;$y$,,,\n'
        b'"{""eventName"":""ConsoleLogin""}",,,ConsoleLogin,,login,Title of login,T1078.004,medium,,,,,\n')


def test_long_not_chain(tmp_path):
    # condition_fuzzer: the native parser recursed once per NOT; both read chains in a loop.
    chain = "NOT " * 20000
    assert engine_for(tmp_path, CONF.replace("condition = eventName=ConsoleLogin",
                                             "condition = " + chain + "eventName=ConsoleLogin"))
