"""splunk_app.pipes: the command enlarges the pipes splunkd gives it (README, Performance)."""
import fcntl
import io
import os
import sys

import pytest

import splunkd
from splunk_app import pipes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")


def _size(fd):
    return fcntl.fcntl(fd, pipes.F_GETPIPE_SZ)


def test_the_setting_defaults_to_512_kb_and_names_valid_values_when_wrong():
    assert pipes.pipe_kb({}) == 512
    assert pipes.pipe_kb({"CTDETECT_PIPE_KB": " "}) == 512
    assert pipes.pipe_kb({"CTDETECT_PIPE_KB": "0"}) == 0
    assert pipes.pipe_kb({"CTDETECT_PIPE_KB": "1024"}) == 1024
    for bad in ("2048", "-1", "big", "1.5"):
        with pytest.raises(ValueError, match="valid values: an integer from 0 .* to 1024"):
            pipes.pipe_kb({"CTDETECT_PIPE_KB": bad})


def test_pipes_grow_never_shrink_and_other_streams_are_left_alone():
    read_end, write_end = os.pipe()
    try:
        default = _size(write_end)
        with os.fdopen(os.dup(write_end), "wb") as stream:
            pipes.widen([stream], 0)
            assert _size(write_end) == default
            pipes.widen([stream], 512)
            assert _size(write_end) == 512 * 1024
            pipes.widen([stream], 256)  # never smaller
            assert _size(write_end) == 512 * 1024
        pipes.widen([io.BytesIO(), object()], 512)  # not pipes: nothing happens, nothing raised
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize("setting,expected_kb", [(None, 512), ("0", None), ("128", 128)])
def test_the_command_widens_its_stdin_and_stdout(command_env, setting, expected_kb):
    env = dict(command_env)
    env["CTDETECT_PIPE_KB"] = setting
    process = splunkd.CommandProcess(env=env)
    try:
        default = _size(process.proc.stdin.fileno())
        process.proc.stdin.write(splunkd.frame(splunkd.getinfo_metadata([])))
        process.proc.stdin.flush()
        reply = process.replies.get(timeout=60)
        assert not isinstance(reply, Exception), reply
        want = default if expected_kb is None else expected_kb * 1024
        assert _size(process.proc.stdin.fileno()) == want
        assert _size(process.proc.stdout.fileno()) == want
    finally:
        process.proc.kill()
        process.proc.wait()


def test_a_bad_setting_is_an_error_in_the_job_inspector(command_env):
    env = dict(command_env)
    env["CTDETECT_PIPE_KB"] = "lots"
    run = splunkd.run_search([], [], env=env)
    messages = [text for level, text in run.getinfo.messages if level == "ERROR"]
    assert messages and "invalid CTDETECT_PIPE_KB='lots'; valid values: an integer from 0" in messages[0]
    assert run.exit_code != 0
