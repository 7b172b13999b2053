"""The condition language: tokenizer, recursive-descent parser to an AST, and evaluator.

The grammar is the one in README/cloudtrail_detections.conf.spec. Readings chosen where the
spec leaves room (checked against the native engine, which reads them the same way unless
noted):

* White space is space, tab, CR and LF; newlines from continued conf lines are ordinary white
  space. Columns in error messages are 1-based character (code point) offsets into the whole
  condition text, newlines counted as one character; an error at the end of the text points
  one past its last character. (The native engine counts bytes and restarts at each line.)
* A bare word is a maximal run of characters other than white space, ``"``, ``'``, ``(``,
  ``)``, ``,``, ``=``, ``<``, ``>`` and ``!``. ``AND``, ``OR``, ``NOT``, ``IN`` are keywords
  only in that exact upper case; they are never bare field names (quote them: ``'IN'``), but
  after an operator or inside ``IN (...)`` every word is a value. A bare word directly
  followed by ``(`` is a function call: any, cidrmatch, cidrlookup, portrange, or an error.
* A field is a bare word that matches ``[A-Za-z_@][A-Za-z0-9_.{}@:/-]*`` (ASCII letters) or a
  single-quoted name ``'...'`` (must not be empty).
* A value is a bare word or a double-quoted string. In quoted strings and quoted field names a
  backslash before the closing quote character, a backslash or ``*`` stands for that character
  (in a string ``\\*`` is a literal ``*``); a backslash before anything else is kept. Bare words
  have no escapes: every ``*`` is a wildcard and a backslash is an ordinary character. A value
  is numeric when it has no wildcard and its text is a number (see matching.py); quoting does
  not change that.
* ``<``, ``<=``, ``>``, ``>=`` need a finite numeric value (``1e400`` is refused);
  ``portrange``'s port must be a whole number from 0 to 65535 (it may be quoted).
  ``cidrmatch``'s range and ``cidrlookup``'s name are values without wildcards.
* Implicit AND: after a term, any token other than the end, ``)`` or ``OR`` starts the next
  AND-ed term (so a stray ``,`` is reported as "expected a condition").
* The IN list is exactly ``( value , value ... )``: no empty list, no trailing comma, commas
  required. (The native engine also accepts missing and trailing commas, and ``==``.)
* Parentheses and ``any()`` nest at most 64 deep; ``NOT NOT x`` is ``x``.
* ``portrange(N, f, t, p)``: p has the value ``-1`` (exact text) or ``all`` (ASCII case-
  insensitive), or f has a numeric value <= N and t a numeric value >= N (tested
  independently).
* ``any(P{}, c)``: field names inside, including a nested ``any``'s array, are relative and
  resolve to ``P{}.name`` (absolute names cannot be written inside). Let d be the number of
  ``{}`` in the resolved ``P{}``. An element is identified by the first d coordinates of a
  value; the candidate elements are the distinct such prefixes among the values (already
  restricted to the enclosing element, if any) of every field named anywhere inside ``c``.
  ``c`` is evaluated per element, seeing only the values of that element; ``any`` is true when
  one element satisfies it. An array with no value of a referenced field has no candidate, so
  ``any(P{}, NOT x=1)`` is false when no element has any referenced field.
"""
from .matching import Pattern, as_number, ascii_fold
from . import cidr

WHITESPACE = " \t\r\n"
KEYWORDS = ("AND", "OR", "NOT", "IN")
MAX_NESTING = 64  # parentheses and any() inside one another
_WORD_STOP = frozenset(WHITESPACE + "\"'(),=<>!")
_FIELD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_@")
_FIELD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.{}@:-/")
_FUNCTIONS = ("any", "cidrmatch", "cidrlookup", "portrange")

# Token kinds
WORD, STRING, NAME, LPAREN, RPAREN, COMMA, OP, END = "word", "string", "name", "(", ")", ",", "op", "end"


class ConditionError(ValueError):
    """A condition that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message, column, found=None):
        text = "%s at column %d" % (message, column)
        if found is not None:
            text += " (found %s)" % found
        ValueError.__init__(self, text)
        self.message = message
        self.column = column


class Token(object):
    __slots__ = ("kind", "text", "column", "segments")

    def __init__(self, kind, text, column, segments=None):
        self.kind = kind
        self.text = text  # source text for words, operators and punctuation; content for names
        self.column = column
        self.segments = segments  # STRING and WORD: literal segments between wildcards

    def describe(self):
        if self.kind == END:
            return "end of condition"
        if self.kind == STRING:
            return "\"%s\"" % self.text
        if self.kind == NAME:
            return "'%s'" % self.text
        return "'%s'" % self.text


def tokenize(text):
    tokens = []
    position = 0
    length = len(text)
    while True:
        while position < length and text[position] in WHITESPACE:
            position += 1
        if position >= length:
            tokens.append(Token(END, "", length + 1))
            return tokens
        char = text[position]
        column = position + 1
        if char == "(":
            tokens.append(Token(LPAREN, char, column))
            position += 1
        elif char == ")":
            tokens.append(Token(RPAREN, char, column))
            position += 1
        elif char == ",":
            tokens.append(Token(COMMA, char, column))
            position += 1
        elif char == "=":
            tokens.append(Token(OP, "=", column))
            position += 1
        elif char in "<>":
            if text.startswith("=", position + 1):
                tokens.append(Token(OP, char + "=", column))
                position += 2
            else:
                tokens.append(Token(OP, char, column))
                position += 1
        elif char == "!":
            if not text.startswith("=", position + 1):
                raise ConditionError("unexpected '!' (the operator is '!=')", column)
            tokens.append(Token(OP, "!=", column))
            position += 2
        elif char == "'" or char == '"':
            position = _read_quoted(text, position, tokens)
        else:
            start = position
            while position < length and text[position] not in _WORD_STOP:
                position += 1
            word = text[start:position]
            tokens.append(Token(WORD, word, column, word.split("*")))


def _read_quoted(text, position, tokens):
    """A "value" (STRING, wildcards split out) or a 'field name' (NAME, taken literally).

    In both, a backslash before the closing quote character, a backslash or ``*`` stands for
    that character (``\\*`` is a literal asterisk); any other backslash is kept as is.
    """
    column = position + 1
    closing = text[position]
    is_value = closing == '"'
    segments = [[]]
    raw = []
    position += 1
    length = len(text)
    while position < length:
        char = text[position]
        if char == closing:
            if is_value:
                tokens.append(Token(STRING, "".join(raw), column, ["".join(part) for part in segments]))
            else:
                tokens.append(Token(NAME, "".join(raw), column))
            return position + 1
        if char == "\\" and position + 1 < length and text[position + 1] in (closing, "\\", "*"):
            escaped = text[position + 1]
            segments[-1].append(escaped)
            raw.append(escaped)
            position += 2
            continue
        if char == "*" and is_value:
            segments.append([])
        else:
            segments[-1].append(char)
        raw.append(char)
        position += 1
    what = "quoted string" if is_value else "quoted field name"
    raise ConditionError("unterminated %s starting" % what, column)


# ----------------------------------------------------------------------------------------------
# AST. Every node has evaluate(values) -> bool, where ``values`` maps a resolved field name to
# a list of (value, coordinates); and fields(), the resolved names it reads.


class Or(object):
    __slots__ = ("children",)

    def __init__(self, children):
        self.children = children

    def evaluate(self, values):
        for child in self.children:
            if child.evaluate(values):
                return True
        return False

    def fields(self):
        return _union(child.fields() for child in self.children)

    def __repr__(self):
        return "Or(%r)" % (self.children,)


class And(object):
    __slots__ = ("children",)

    def __init__(self, children):
        self.children = children

    def evaluate(self, values):
        for child in self.children:
            if not child.evaluate(values):
                return False
        return True

    def fields(self):
        return _union(child.fields() for child in self.children)

    def __repr__(self):
        return "And(%r)" % (self.children,)


class Not(object):
    __slots__ = ("child",)

    def __init__(self, child):
        self.child = child

    def evaluate(self, values):
        return not self.child.evaluate(values)

    def fields(self):
        return self.child.fields()

    def __repr__(self):
        return "Not(%r)" % (self.child,)


class Match(object):
    """``field = p1 OR field = p2 ...`` (``=`` and ``IN``), or ``!=`` when ``negated``."""

    __slots__ = ("field", "patterns", "negated")

    def __init__(self, field, patterns, negated=False):
        self.field = field
        self.patterns = patterns
        self.negated = negated

    def evaluate(self, values):
        entries = values.get(self.field)
        if not entries:
            return False
        for value, _ in entries:
            for pattern in self.patterns:
                if pattern.matches(value):
                    return not self.negated
        return self.negated

    def fields(self):
        return [self.field]

    def __repr__(self):
        return "Match(%r, %r%s)" % (self.field, [p.text for p in self.patterns], ", negated" if self.negated else "")


class Compare(object):
    """``field < n`` and friends: a numeric value in that relation."""

    __slots__ = ("field", "op", "number")

    def __init__(self, field, op, number):
        self.field = field
        self.op = op
        self.number = number

    def evaluate(self, values):
        entries = values.get(self.field)
        if not entries:
            return False
        op, limit = self.op, self.number
        for value, _ in entries:
            number = as_number(value)
            if number is None:
                continue
            if op == "<":
                if number < limit:
                    return True
            elif op == "<=":
                if number <= limit:
                    return True
            elif op == ">":
                if number > limit:
                    return True
            elif number >= limit:
                return True
        return False

    def fields(self):
        return [self.field]

    def __repr__(self):
        return "Compare(%r %s %r)" % (self.field, self.op, self.number)


class CidrMatch(object):
    """cidrmatch(range, field) and cidrlookup(name, field): ``ranges`` has contains(address)."""

    __slots__ = ("field", "ranges", "label")

    def __init__(self, field, ranges, label):
        self.field = field
        self.ranges = ranges
        self.label = label

    def evaluate(self, values):
        entries = values.get(self.field)
        if not entries:
            return False
        for value, _ in entries:
            if self.ranges.contains(cidr.parse_ip(value)):
                return True
        return False

    def fields(self):
        return [self.field]

    def __repr__(self):
        return "CidrMatch(%r, %s)" % (self.field, self.label)


class PortRange(object):
    """portrange(N, from, to, protocol): protocol has the value ``-1`` (exact text) or ``all``
    (ASCII case-insensitive), or from has a numeric value <= N and to a numeric value >= N."""

    __slots__ = ("port", "from_field", "to_field", "protocol_field")

    def __init__(self, port, from_field, to_field, protocol_field):
        self.port = port
        self.from_field = from_field
        self.to_field = to_field
        self.protocol_field = protocol_field

    def evaluate(self, values):
        for value, _ in values.get(self.protocol_field, ()):
            if value == "-1" or ascii_fold(value) == "all":
                return True
        port = self.port
        if not any(number is not None and number <= port
                   for number in (as_number(value) for value, _ in values.get(self.from_field, ()))):
            return False
        return any(number is not None and number >= port
                   for number in (as_number(value) for value, _ in values.get(self.to_field, ())))

    def fields(self):
        return [self.from_field, self.to_field, self.protocol_field]

    def __repr__(self):
        return "PortRange(%r, %r, %r, %r)" % (self.port, self.from_field, self.to_field, self.protocol_field)


class Any(object):
    """any(P{}, condition) with P{} and every name inside already resolved."""

    __slots__ = ("array", "depth", "child", "referenced")

    def __init__(self, array, child):
        self.array = array
        self.depth = array.count("{}")
        self.child = child
        self.referenced = child.fields()

    def evaluate(self, values):
        depth = self.depth
        elements = {}  # element coordinates -> {field: [(value, coords), ...]}
        for name in self.referenced:
            for entry in values.get(name, ()):
                key = entry[1][:depth]
                element = elements.get(key)
                if element is None:
                    element = elements[key] = {}
                bucket = element.get(name)
                if bucket is None:
                    element[name] = [entry]
                else:
                    bucket.append(entry)
        for element in elements.values():
            if self.child.evaluate(element):
                return True
        return False

    def fields(self):
        return list(self.referenced)

    def __repr__(self):
        return "Any(%r, %r)" % (self.array, self.child)


def _union(lists):
    seen = {}
    for names in lists:
        for name in names:
            seen.setdefault(name, None)
    return list(seen)


# ----------------------------------------------------------------------------------------------
# Parser


class _Parser(object):
    def __init__(self, text, lookup):
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0
        self.lookup = lookup
        self.prefixes = []  # resolved array names of the enclosing any()s
        self.nesting = 0

    # token helpers
    def peek(self, offset=0):
        index = min(self.position + offset, len(self.tokens) - 1)
        return self.tokens[index]

    def take(self):
        token = self.tokens[self.position]
        if token.kind != END:
            self.position += 1
        return token

    def expect(self, kind, what):
        token = self.peek()
        if token.kind != kind:
            raise ConditionError("expected %s" % what, token.column, token.describe())
        return self.take()

    @staticmethod
    def is_word(token, word):
        return token.kind == WORD and token.text == word

    def enter(self, token, what):
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ConditionError("%s nested more than %d deep" % (what, MAX_NESTING), token.column)

    # grammar
    def parse(self):
        if self.peek().kind == END:
            raise ConditionError("expected a condition", self.peek().column, "an empty condition text")
        node = self.parse_or()
        token = self.peek()
        if token.kind != END:
            raise ConditionError("unexpected %s" % token.describe(), token.column)
        return node

    def parse_or(self, after=None):
        children = [self.parse_and(after)]
        while self.is_word(self.peek(), "OR"):
            self.take()
            children.append(self.parse_and("OR"))
        return children[0] if len(children) == 1 else Or(children)

    def parse_and(self, after=None):
        children = [self.parse_unary(after)]
        while True:
            token = self.peek()
            if token.kind in (END, RPAREN) or self.is_word(token, "OR"):
                break
            if self.is_word(token, "AND"):
                self.take()
                children.append(self.parse_unary("AND"))
            else:
                children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(children)

    def parse_unary(self, after=None):
        # NOT chains are read in a loop (no recursion); NOT NOT x is x.
        negations = 0
        while self.is_word(self.peek(), "NOT"):
            self.take()
            negations += 1
            after = "NOT"
        node = self.parse_atom(after)
        return Not(node) if negations % 2 else node

    def parse_atom(self, after):
        token = self.peek()
        if token.kind == LPAREN:
            self.enter(token, "parentheses")
            self.take()
            node = self.parse_or("(")
            closing = self.peek()
            if closing.kind != RPAREN:
                raise ConditionError(
                    "expected ')' to close the '(' of column %d" % token.column, closing.column, closing.describe())
            self.take()
            self.nesting -= 1
            return node
        if token.kind == WORD and self.peek(1).kind == LPAREN and token.text not in KEYWORDS:
            if token.text not in _FUNCTIONS:
                raise ConditionError(
                    "unknown function '%s' (valid functions: %s)" % (token.text, ", ".join(_FUNCTIONS)), token.column)
            return getattr(self, "parse_" + token.text)()
        if token.kind == NAME or (token.kind == WORD and token.text not in ("AND", "OR")):
            return self.parse_comparison()
        where = " after '%s'" % after if after else ""
        raise ConditionError("expected a condition%s" % where, token.column, token.describe())

    def parse_field(self, what="a field name"):
        token = self.peek()
        if token.kind == NAME:
            if token.text == "":
                raise ConditionError("empty field name", token.column)
        elif token.kind == WORD:
            if token.text in KEYWORDS:
                raise ConditionError("'%s' is a keyword, not a field name (write it in single quotes)" % token.text,
                                     token.column)
            if token.text[0] not in _FIELD_START or not all(char in _FIELD_CHARS for char in token.text):
                raise ConditionError(
                    "invalid field name '%s' (write names with other characters in single quotes)" % token.text,
                    token.column)
        else:
            raise ConditionError("expected %s" % what, token.column, token.describe())
        self.take()
        return token, self.resolve(token.text)

    def resolve(self, name):
        if self.prefixes:
            return self.prefixes[-1] + "." + name
        return name

    def parse_value(self, after):
        token = self.peek()
        if token.kind not in (WORD, STRING):
            raise ConditionError("expected a value after %s" % after, token.column, token.describe())
        self.take()
        return token, Pattern(token.segments)

    def parse_number(self, what):
        """A value that is a finite number; ``what`` describes it for the error message."""
        token = self.peek()
        number = Pattern(token.segments).number if token.kind in (WORD, STRING) else None
        if number is None or number in (float("inf"), float("-inf")):
            raise ConditionError("expected %s" % what, token.column, token.describe())
        self.take()
        return token, number

    def parse_comparison(self):
        field_token, field = self.parse_field()
        token = self.peek()
        if token.kind == OP:
            op = self.take().text
            if op in ("=", "!="):
                _, pattern = self.parse_value("'%s'" % op)
                return Match(field, [pattern], negated=(op == "!="))
            return Compare(field, op, self.parse_number("a number after '%s'" % op)[1])
        if self.is_word(token, "IN"):
            self.take()
            self.expect(LPAREN, "'(' after IN")
            patterns = [self.parse_value("'('")[1]]
            while self.peek().kind == COMMA:
                self.take()
                patterns.append(self.parse_value("','")[1])
            self.expect(RPAREN, "',' or ')' in the IN list")
            return Match(field, patterns)
        raise ConditionError(
            "expected an operator (=, !=, <, <=, >, >=) or IN after field '%s'" % field_token.text,
            token.column, token.describe())

    def open_call(self):
        name = self.take()
        self.take()  # "("
        return name

    def parse_any(self):
        self.enter(self.peek(), "any()")
        self.open_call()
        token, array = self.parse_field("an array field")
        if not array.endswith("{}"):
            raise ConditionError("any() needs an array field ending in '{}', found '%s'" % token.text, token.column)
        self.expect(COMMA, "',' after the array field of any()")
        self.prefixes.append(array)
        child = self.parse_or("','")
        self.prefixes.pop()
        self.expect(RPAREN, "')' to close any()")
        self.nesting -= 1
        return Any(array, child)

    def literal_value(self, function, what):
        token = self.peek()
        if token.kind not in (WORD, STRING):
            raise ConditionError("expected %s as the first argument of %s()" % (what, function),
                                 token.column, token.describe())
        self.take()
        if len(token.segments) != 1:
            raise ConditionError("%s() takes no wildcard in '%s'" % (function, token.text), token.column)
        return token, token.segments[0]

    def parse_cidrmatch(self):
        self.open_call()
        token, text = self.literal_value("cidrmatch", "a CIDR range")
        try:
            network = cidr.Network(text)
        except ValueError:
            raise ConditionError("invalid CIDR range '%s'" % text, token.column)
        self.expect(COMMA, "',' after the range of cidrmatch()")
        _, field = self.parse_field()
        self.expect(RPAREN, "')' to close cidrmatch()")
        return CidrMatch(field, network, "cidrmatch(%r)" % text)

    def parse_cidrlookup(self):
        self.open_call()
        token, name = self.literal_value("cidrlookup", "a lookup name")
        if cidr.LOOKUP_NAME_RE.fullmatch(name) is None:
            raise ConditionError("lookup name '%s' must match [A-Za-z0-9_]+" % name, token.column)
        if self.lookup is None:
            raise ConditionError("cidrlookup() is not available here", token.column)
        try:
            table = self.lookup(name)
        except ValueError as error:
            raise ConditionError(str(error), token.column)
        self.expect(COMMA, "',' after the lookup name of cidrlookup()")
        _, field = self.parse_field()
        self.expect(RPAREN, "')' to close cidrlookup()")
        return CidrMatch(field, table, "cidrlookup(%r)" % name)

    def parse_portrange(self):
        self.open_call()
        token, port = self.parse_number("a port number as the first argument of portrange()")
        if port < 0 or port > 65535 or port != int(port):
            raise ConditionError("port '%s' is not a whole number between 0 and 65535" % token.text, token.column)
        names = []
        for what in ("fromPort", "toPort", "protocol"):
            self.expect(COMMA, "',' before the %s field of portrange()" % what)
            names.append(self.parse_field("the %s field of portrange()" % what)[1])
        self.expect(RPAREN, "')' to close portrange()")
        return PortRange(port, names[0], names[1], names[2])


def parse_condition(text, lookup=None):
    """Parse ``text`` into an AST; ``lookup(name)`` returns a lookup's range set or raises ValueError.

    Raises ConditionError with a 1-based column.
    """
    return _Parser(text, lookup).parse()


def evaluate(node, index):
    """Evaluate a parsed condition on a flatten.index_fields() mapping."""
    return node.evaluate(index)
