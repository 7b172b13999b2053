import pytest

import pyengine_support  # noqa: F401  (import paths)
from splunk_app.pyengine import conf


def read(tmp_path, *texts):
    paths = []
    for number, text in enumerate(texts):
        path = tmp_path / ("f%d.conf" % number)
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return conf.read_conf_files(paths)


def values(keys):
    return dict((key, value.value) for key, value in keys.items())


def test_stanzas_keys_comments_and_blank_lines(tmp_path):
    defaults, stanzas = read(tmp_path, "# comment\n\n[a]\nx = 1\n  # indented comment\ny=two words  \n[b]\nz =\n")
    assert defaults == {}
    assert list(stanzas) == ["a", "b"]
    assert values(stanzas["a"]) == {"x": "1", "y": "two words"}
    assert values(stanzas["b"]) == {"z": ""}


def test_value_keeps_later_equals_signs(tmp_path):
    _, stanzas = read(tmp_path, "[a]\ncondition = a=b c!=d\n")
    assert stanzas["a"]["condition"].value == "a=b c!=d"


def test_continuation_lines_join_with_newline(tmp_path):
    text = "[a]\ncondition = eventName=X \\\n    b=c \\\n  d=e  \nnext = 1\n"
    _, stanzas = read(tmp_path, text)
    # each continued line is trimmed; the text before the backslash keeps its trailing space
    assert stanzas["a"]["condition"].value == "eventName=X \nb=c \nd=e"
    assert stanzas["a"]["next"].value == "1"
    assert stanzas["a"]["next"].line == 5


def test_continuation_takes_comment_like_line_verbatim(tmp_path):
    _, stanzas = read(tmp_path, "[a]\nx = 1\\\n# not a comment\ny = 2\n")
    assert stanzas["a"]["x"].value == "1\n# not a comment"
    assert stanzas["a"]["y"].value == "2"


def test_continuation_at_end_of_file_and_crlf(tmp_path):
    _, stanzas = read(tmp_path, "[a]\r\nx = 1 \\\r\n2\r\ny = end\\")
    assert stanzas["a"]["x"].value == "1 \n2"
    assert stanzas["a"]["y"].value == "end"


def test_default_stanza_and_keys_before_first_stanza(tmp_path):
    defaults, stanzas = read(tmp_path, "top = 1\n[default]\nsev = low\n[a]\nsev = high\n")
    assert values(defaults) == {"top": "1", "sev": "low"}
    assert list(stanzas) == ["a"]
    assert values(conf.with_defaults(defaults, stanzas["a"])) == {"top": "1", "sev": "high"}


def test_local_overrides_per_key_and_adds_stanzas_after(tmp_path):
    default = "[a]\nx = 1\ny = 2\n[b]\nx = 3\n"
    local = "[c]\nx = 9\n[a]\ny = 20\n[default]\nz = d\n"
    defaults, stanzas = read(tmp_path, default, local)
    assert list(stanzas) == ["a", "b", "c"]
    assert values(stanzas["a"]) == {"x": "1", "y": "20"}
    assert stanzas["a"]["y"].path.endswith("f1.conf")
    assert stanzas["a"]["y"].line == 4
    assert values(defaults) == {"z": "d"}


def test_last_key_in_one_file_wins(tmp_path):
    _, stanzas = read(tmp_path, "[a]\nx = 1\nx = 2\n")
    assert stanzas["a"]["x"].value == "2"


def test_empty_stanza_exists_with_its_position(tmp_path):
    _, stanzas = read(tmp_path, "\n[empty]\n")
    assert list(stanzas) == ["empty"]
    assert stanzas["empty"].where.endswith("f0.conf, line 2")


@pytest.mark.parametrize("text, message", [
    ("[a]\njust words\n", "f0.conf, line 2: expected '[stanza]' or 'key = value', found 'just words'"),
    ("[a\nx = 1\n", "f0.conf, line 1: a stanza header must look like [name], found '[a'"),
    ("[]\n", "f0.conf, line 1: a stanza header must look like [name], found '[]'"),
    ("[a]\n = 1\n", "f0.conf, line 2: a key is missing before '='"),
])
def test_errors_name_file_and_line(tmp_path, text, message):
    with pytest.raises(ValueError) as info:
        read(tmp_path, text)
    assert str(info.value).endswith(message)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the file"):
        conf.read_conf_files([str(tmp_path / "missing.conf")])
