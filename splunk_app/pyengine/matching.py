"""Value comparison rules of the condition language: numbers, ASCII case folding, wildcards.

* A text is a number when it matches ``[+-]?(D+(.D*)?|.D+)([eE][+-]?D+)?`` over the whole text,
  D being an ASCII digit (no surrounding white space, no ``nan``/``inf``, no hex). Numbers are
  compared as Python floats (IEEE doubles, like ``strtod``): ``22`` equals ``22.0`` and
  ``1e400`` is infinity.
* Case-insensitive means ASCII only: ``A``-``Z`` fold to ``a``-``z``; every other character,
  ``É`` included, must be equal as is.
* A pattern is a list of literal segments separated by wildcards; a wildcard matches any run
  of characters, including none, and a pattern is anchored at both ends.
"""
import re

NUMBER_RE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")

_FOLD = dict((code, code + 32) for code in range(ord("A"), ord("Z") + 1))


def ascii_fold(text):
    """Lower-case A-Z only (str.lower() would also fold non-ASCII letters)."""
    return text.translate(_FOLD)


def as_number(text):
    """The float value of ``text`` if it is a number, else None."""
    if NUMBER_RE.fullmatch(text) is None:
        return None
    return float(text)


class Pattern(object):
    """A value of the condition language: literal segments joined by wildcards.

    ``segments`` holds the literal text between wildcards (one segment means no wildcard).
    ``number`` is the float value when the pattern has no wildcard and its text is a number.
    """

    __slots__ = ("segments", "text", "number", "_folded")

    def __init__(self, segments):
        self.segments = list(segments)
        self.text = "*".join(self.segments)
        self.number = as_number(self.segments[0]) if len(self.segments) == 1 else None
        self._folded = [ascii_fold(segment) for segment in self.segments]

    @property
    def has_wildcard(self):
        return len(self.segments) > 1

    def matches(self, value):
        """True when ``value`` (a string) matches: numerically, else as ASCII-folded text."""
        if self.number is not None:
            number = as_number(value)
            if number is not None:
                return number == self.number
        folded = ascii_fold(value)
        segments = self._folded
        if len(segments) == 1:
            return folded == segments[0]
        first, last = segments[0], segments[-1]
        if len(folded) < len(first) + len(last):
            return False
        if not folded.startswith(first) or not folded.endswith(last):
            return False
        position = len(first)
        limit = len(folded) - len(last)
        for middle in segments[1:-1]:
            found = folded.find(middle, position, limit)
            if found < 0:
                return False
            position = found + len(middle)
        return True

    def __repr__(self):
        return "Pattern(%r)" % (self.segments,)
