"""The options of ``| cloudtraildetect``, parsed from getinfo's ``searchinfo.args``.

splunkd passes the command's arguments as a list of strings with SPL quoting already removed:
``cloudtraildetect rules="aws_*" extract=f`` arrives as ``["rules=aws_*", "extract=f"]``.
"""

COMMAND = "cloudtraildetect"

# name -> default; the order is the order error messages list them in.
DEFAULTS = (
    ("rules", "*"),
    ("extract", True),
    ("only_detections", False),
    ("field", "_raw"),
)
VALID_OPTIONS = tuple(name for name, _ in DEFAULTS)
BOOLEAN_OPTIONS = ("extract", "only_detections")

TRUE_WORDS = ("true", "t", "1", "yes")
FALSE_WORDS = ("false", "f", "0", "no")
_BOOLEANS = dict([(w, True) for w in TRUE_WORDS] + [(w, False) for w in FALSE_WORDS])


class OptionError(ValueError):
    """An argument of the command is wrong; the message says which and what is valid."""


class Options(object):
    """The parsed options, with defaults for those not given."""

    __slots__ = VALID_OPTIONS

    def __init__(self, rules="*", extract=True, only_detections=False, field="_raw"):
        self.rules = rules
        self.extract = extract
        self.only_detections = only_detections
        self.field = field

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in VALID_OPTIONS)

    def __eq__(self, other):
        return isinstance(other, Options) and self.as_dict() == other.as_dict()

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "Options(%s)" % ", ".join("%s=%r" % (n, getattr(self, n)) for n in VALID_OPTIONS)


def parse_boolean(name, value):
    """true/false, t/f, 1/0, yes/no, case-insensitive."""
    try:
        return _BOOLEANS[value.strip().lower()]
    except KeyError:
        raise OptionError(
            "invalid value %r for option %s; valid values: %s"
            % (value, name, ", ".join(TRUE_WORDS + FALSE_WORDS))
        )


def _valid_list():
    return ", ".join(VALID_OPTIONS)


def parse_args(args):
    """Parse ``searchinfo.args`` (a list of strings) into Options; raise OptionError."""
    if args is None:
        args = []
    if not isinstance(args, list):
        raise OptionError("searchinfo.args is not a list: %r" % (args,))
    values = dict(DEFAULTS)
    seen = set()
    for arg in args:
        if not isinstance(arg, str):
            raise OptionError("argument %r is not a string" % (arg,))
        name, sep, value = arg.partition("=")
        if not sep:
            raise OptionError(
                "unexpected argument %r; %s takes only name=value options: %s"
                % (arg, COMMAND, _valid_list())
            )
        name = name.strip()
        if name not in values:
            raise OptionError("unknown option %r; valid options: %s" % (name, _valid_list()))
        if name in seen:
            raise OptionError("option %s given more than once" % name)
        seen.add(name)
        if name in BOOLEAN_OPTIONS:
            values[name] = parse_boolean(name, value)
        else:
            value = value.strip()
            if not value:
                raise OptionError(
                    "option %s needs a value (%s)"
                    % (name, "a comma-separated list of detection ids or wildcards"
                       if name == "rules" else "the name of the field holding the CloudTrail JSON")
                )
            values[name] = value
    return Options(**values)
