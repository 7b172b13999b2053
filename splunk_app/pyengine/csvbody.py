"""The CSV bodies of the search command protocol v2 (docs/engine-contract.md, "One execute chunk").

Reading works on *raw* cells, the exact text of each cell in the body (quotes included), so
that input cells can be written back byte for byte; ``unquote`` gives a cell's value.

* ``,`` separates cells; a row ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` outside quotes; the
  last row may lack its line end, and a final line end does not start another row.
* A cell that starts with ``"`` is quoted: it runs to the next ``"`` that is not doubled, and
  then on to the next separator or line end (text after the closing quote is kept as it is).
  A quoted cell without its closing quote is an error (``CsvError``). A ``"`` inside an
  unquoted cell is an ordinary character.
* ``unquote``: an unquoted cell is its own value; a quoted one loses its quotes, ``""`` becomes
  ``"`` and any text after the closing quote is appended.
* Bytes are decoded as UTF-8 with ``surrogateescape``, so any byte passes through unchanged.

Writing (``quote``): a cell is quoted only when it holds ``,``, ``"``, ``\\r`` or ``\\n`` (quotes
doubled); rows end with ``\\n``. ``encode_values``: one value -> (value, ""); several ->
(values joined by ``\\n``, ``$v1$;$v2$`` with ``$`` doubled inside values).
"""
import re

MV_PREFIX = "__mv_"
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_UNQUOTED = re.compile(r'[^,\r\n]*')
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


class CsvError(ValueError):
    """A body that cannot be read: a quoted cell without its closing quote."""

    def __init__(self, message, line):
        ValueError.__init__(self, message)
        self.line = line


def decode_text(body):
    return body.decode("utf-8", "surrogateescape")


def encode_text(text):
    return text.encode("utf-8", "surrogateescape")


def iter_raw_rows(text):
    """Yield (line where the row starts, [raw cells]) for every row of ``text``.

    Line numbers count rows and the line ends inside quoted cells, from 1. Raises CsvError at
    a quoted cell that is never closed.
    """
    position = 0
    length = len(text)
    line = 1
    while position < length:
        start_line = line
        row = []
        while True:
            start = position
            if position < length and text[position] == '"':
                match = _QUOTED.match(text, position)
                # A match followed by '"' only exists when the regex backed off a doubled quote,
                # i.e. the cell has no closing quote of its own.
                if match is None or text.startswith('"', match.end()):
                    raise CsvError("unterminated quoted value in the row starting on line %d" % start_line, start_line)
                line += text.count("\n", position, match.end())
                position = match.end()
            position = _UNQUOTED.match(text, position).end()
            row.append(text[start:position])
            if position < length and text[position] == ",":
                position += 1
                continue
            if position < length and text[position] == "\r":
                position += 1
            if position < length and text[position] == "\n":
                position += 1
            line += 1
            break
        yield start_line, row


def unquote(raw):
    """The value of a raw cell."""
    if not raw.startswith('"'):
        return raw
    match = _QUOTED.match(raw)
    if match is None:  # not produced by iter_raw_rows; take the rest as the value
        return raw[1:].replace('""', '"')
    return raw[1:match.end() - 1].replace('""', '"') + raw[match.end():]


def parse_rows(text):
    """All rows of a CSV text as lists of values (convenience for tests and small files)."""
    return [[unquote(cell) for cell in row] for _, row in iter_raw_rows(text)]


def quote(cell):
    if _NEEDS_QUOTES.search(cell) is None:
        return cell
    return '"' + cell.replace('"', '""') + '"'


def encode_row(cells):
    return ",".join([quote(cell) for cell in cells]) + "\n"


def encode_values(values):
    """(plain cell, __mv_ cell) of a field's list of values, not yet quoted."""
    if len(values) == 1:
        return values[0], ""
    return "\n".join(values), ";".join(["$" + value.replace("$", "$$") + "$" for value in values])
