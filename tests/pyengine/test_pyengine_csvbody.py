# -*- coding: utf-8 -*-
import pytest

import pyengine_support  # noqa: F401  (import paths)
from splunk_app.pyengine import csvbody


@pytest.mark.parametrize("text, rows", [
    ("a,b\n1,2\n", [["a", "b"], ["1", "2"]]),
    ("a,b\r\n1,2\r\n", [["a", "b"], ["1", "2"]]),
    ("a,b\n1,2", [["a", "b"], ["1", "2"]]),
    ("a,b\r1,2\r", [["a", "b"], ["1", "2"]]),
    ('a,b\n"x,y","he said ""hi"""\n', [["a", "b"], ["x,y", 'he said "hi"']]),
    ('a,b\n"line1\nline2\r\nline3",2\n', [["a", "b"], ["line1\nline2\r\nline3", "2"]]),
    ('a\n""\n\n', [["a"], [""], [""]]),
    ("a,b\n,\n", [["a", "b"], ["", ""]]),
    ("a,b\n1,", [["a", "b"], ["1", ""]]),
    ('a\nx"y\n', [["a"], ['x"y']]),
    ('a\n"x"y,z\n', [["a"], ["xy", "z"]]),
    ('a\n"x"""""\n', [["a"], ['x""']]),
    ("", []),
])
def test_parse_rows(text, rows):
    assert csvbody.parse_rows(text) == rows


def test_raw_cells_keep_their_quotes_and_rows_their_first_line():
    text = 'a,b\n"x",y\n"multi\nline""",z\nlast,"q"junk'
    assert list(csvbody.iter_raw_rows(text)) == [
        (1, ["a", "b"]), (2, ['"x"', "y"]), (3, ['"multi\nline"""', "z"]), (5, ["last", '"q"junk'])]
    assert [csvbody.unquote(cell) for cell in ['"x"', '"multi\nline"""', '"q"junk', "plain", '""']] == [
        "x", 'multi\nline"', "qjunk", "plain", ""]


@pytest.mark.parametrize("text, line", [
    ('a\n"unterminated\n', 2),
    ('a\n"x"\n"ends with a doubled quote""', 3),
    ('"header', 1),
])
def test_unterminated_quoted_cell_is_an_error(text, line):
    with pytest.raises(csvbody.CsvError) as info:
        list(csvbody.iter_raw_rows(text))
    assert info.value.line == line
    assert str(info.value) == "unterminated quoted value in the row starting on line %d" % line


def test_text_round_trips_non_utf8_bytes():
    text = csvbody.decode_text(b"a\n\xff\xfe\n")
    assert csvbody.encode_text(csvbody.parse_rows(text)[1][0]) == b"\xff\xfe"


@pytest.mark.parametrize("cell, encoded", [
    ("plain", "plain"),
    ("", ""),
    ("a,b", '"a,b"'),
    ('say "x"', '"say ""x"""'),
    ("a\nb", '"a\nb"'),
    ("a\rb", '"a\rb"'),
    ("tab\there; $ ' é", "tab\there; $ ' é"),
])
def test_quote(cell, encoded):
    assert csvbody.quote(cell) == encoded


def test_encode_row_and_values():
    assert csvbody.encode_row(["a", "b,c", ""]) == 'a,"b,c",\n'
    assert csvbody.encode_values(["one"]) == ("one", "")
    assert csvbody.encode_values(["a", "b$c", "$"]) == ("a\nb$c\n$", "$a$;$b$$c$;$$$$")
    assert csvbody.encode_values(["", ""]) == ("\n", "$$;$$")
