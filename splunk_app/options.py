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


RULES_FORM = 'detection ids or * wildcards, comma-separated, e.g. rules="aws_console_*,aws_s3_bucket_acl_public"'
FIELD_FORM = "the name of the field that holds the CloudTrail JSON record, e.g. field=_raw (the default)"


def _detection_list(detection_ids):
    """'valid detections: a, b, c' from the callable, or None when it is not given or fails (the
    detections file is missing or broken: that error is reported once the engine loads it)."""
    if detection_ids is None:
        return None
    try:
        ids = list(detection_ids())
    except Exception:
        return None
    return "valid detections: %s" % ", ".join(ids) if ids else None


def valid_choices(name, detection_ids=None):
    """What option ``name`` accepts ("valid values: ..."), for error messages."""
    if name in BOOLEAN_OPTIONS:
        return "valid values: %s" % ", ".join(TRUE_WORDS + FALSE_WORDS)
    if name == "rules":
        listed = _detection_list(detection_ids)
        return "valid values: %s%s" % (RULES_FORM, "; " + listed if listed else "")
    return "valid values: %s" % FIELD_FORM


def parse_args(args, detection_ids=None):
    """Parse ``searchinfo.args`` (a list of strings) into Options; raise OptionError.

    ``detection_ids``: an optional callable returning the ids of the defined detections. It is
    called only to write an error about ``rules=``, whose message then lists them.
    """
    if args is None:
        args = []
    if not isinstance(args, list):
        raise OptionError("searchinfo.args is not a list: %r" % (args,))
    values = dict(DEFAULTS)
    given = {}
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
        if name in given:
            raise OptionError(
                "option %s given more than once (%r, then %r); give it once; %s"
                % (name, given[name], arg, valid_choices(name, detection_ids))
            )
        given[name] = arg
        if name in BOOLEAN_OPTIONS:
            values[name] = parse_boolean(name, value)
            continue
        value = value.strip()
        if not value:
            raise OptionError("option %s needs a value; %s" % (name, valid_choices(name, detection_ids)))
        if name == "rules" and not any(entry.strip() for entry in value.split(",")):
            raise OptionError(
                "option rules names no detection: %r holds only commas and spaces; %s"
                % (arg, valid_choices(name, detection_ids))
            )
        values[name] = value
    return Options(**values)
