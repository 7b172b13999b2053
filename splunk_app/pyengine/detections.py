"""Load and check the detections of cloudtrail_detections.conf.

Rules (README/cloudtrail_detections.conf.spec), with the readings chosen where it leaves room:

* Every stanza except ``[default]`` is a detection, in first-appearance order across the files
  (default/ stanzas, then stanzas only in local/). Its keys are the defaults overridden by its
  own keys.
* The id must match ``[a-z0-9_]+``.
* Valid keys: title, severity, mitre_attack, description, references, false_positives,
  condition, disabled. Any other key is an error (it usually is a typo).
* Required keys must be present with a value that is not empty after trimming white space
  (space, tab, CR, LF): title, severity, mitre_attack, description, false_positives, condition.
  The title is used trimmed.
* ``severity`` is one of informational, low, medium, high, critical, in any ASCII case
  (written in lower case).
* ``mitre_attack`` is split at commas, entries trimmed, empty entries ignored; each must look
  like ``T1234`` or ``T1234.567`` and there must be at least one. Repeated ids are kept once.
* ``disabled`` accepts true/false, t/f, 1/0, yes/no in any ASCII case; default false.
* ``references`` is not checked.
* Every detection is checked, disabled or not and selected by ``rules=`` or not; conditions are
  parsed (and their lookups read) at load time.

Errors are ValueError("detection <id>: <file>, line <n>: <problem>").
"""
import re

from . import conf
from .condition import ConditionError, parse_condition
from .matching import ascii_fold

ID_RE = re.compile(r"[a-z0-9_]+")
TECHNIQUE_RE = re.compile(r"T[0-9]{4}(\.[0-9]{3})?")
SEVERITIES = ("informational", "low", "medium", "high", "critical")
REQUIRED_KEYS = ("title", "severity", "mitre_attack", "description", "false_positives", "condition")
VALID_KEYS = ("title", "severity", "mitre_attack", "description", "references", "false_positives",
              "condition", "disabled")
_BOOLEANS = {"true": True, "t": True, "1": True, "yes": True,
             "false": False, "f": False, "0": False, "no": False}


class Detection(object):
    """One checked detection; ``condition`` is the parsed AST."""

    __slots__ = ("id", "title", "severity", "severity_rank", "mitre_attack", "condition", "disabled")

    def __init__(self, detection_id, title, severity, mitre_attack, condition, disabled):
        self.id = detection_id
        self.title = title
        self.severity = severity
        self.severity_rank = SEVERITIES.index(severity)
        self.mitre_attack = mitre_attack
        self.condition = condition
        self.disabled = disabled

    def matches(self, index):
        return self.condition.evaluate(index)

    def __repr__(self):
        return "Detection(%r)" % self.id


def parse_boolean(text):
    """True/False for the spec's boolean words, None for anything else."""
    return _BOOLEANS.get(ascii_fold(text.strip(conf.WHITESPACE)))


def _error(detection_id, value, problem):
    if value is None:
        return ValueError("detection %s: %s" % (detection_id, problem))
    return ValueError("detection %s: %s: %s" % (detection_id, value.where(), problem))


def build_detection(detection_id, keys, lookup=None, stanza_where=None):
    """Check one stanza (defaults already applied) and return a Detection or raise ValueError."""
    if ID_RE.fullmatch(detection_id) is None:
        raise ValueError("detection %s: the id must match [a-z0-9_]+ (lower-case letters, digits, underscores)"
                         % detection_id)
    for key, value in keys.items():
        if key not in VALID_KEYS:
            raise _error(detection_id, value, "unknown key '%s' (valid keys: %s)" % (key, ", ".join(VALID_KEYS)))
    for key in REQUIRED_KEYS:
        value = keys.get(key)
        if value is None:
            raise _error(detection_id, None, "the required key '%s' is missing%s"
                         % (key, " (stanza at %s)" % stanza_where if stanza_where else ""))
        if value.value.strip(conf.WHITESPACE) == "":
            raise _error(detection_id, value, "the required key '%s' is empty" % key)
    severity_value = keys["severity"]
    severity = ascii_fold(severity_value.value.strip(conf.WHITESPACE))
    if severity not in SEVERITIES:
        raise _error(detection_id, severity_value, "severity '%s' is not one of %s"
                     % (severity_value.value, ", ".join(SEVERITIES)))
    techniques = []
    for entry in keys["mitre_attack"].value.split(","):
        technique = entry.strip(conf.WHITESPACE)
        if not technique:
            continue
        if TECHNIQUE_RE.fullmatch(technique) is None:
            raise _error(detection_id, keys["mitre_attack"],
                         "'%s' is not a MITRE ATT&CK technique id such as T1078 or T1078.004" % technique)
        if technique not in techniques:
            techniques.append(technique)
    if not techniques:
        raise _error(detection_id, keys["mitre_attack"], "mitre_attack lists no technique")
    disabled = False
    if "disabled" in keys:
        disabled = parse_boolean(keys["disabled"].value)
        if disabled is None:
            raise _error(detection_id, keys["disabled"],
                         "disabled '%s' is not a boolean (true/false, t/f, 1/0, yes/no)" % keys["disabled"].value)
    condition = keys["condition"]
    try:
        node = parse_condition(condition.value, lookup)
    except ConditionError as error:
        raise _error(detection_id, condition, "condition: %s" % error)
    return Detection(detection_id, keys["title"].value.strip(conf.WHITESPACE), severity, techniques, node, disabled)


def load_detections(conf_paths, lookup=None):
    """All detections of the files, in definition order (disabled ones included)."""
    defaults, stanzas = conf.read_conf_files(conf_paths)
    detections = []
    for detection_id, keys in stanzas.items():
        detections.append(build_detection(detection_id, conf.with_defaults(defaults, keys), lookup, keys.where))
    return detections


def select(detections, rules="*"):
    """The enabled detections selected by ``rules``, in definition order.

    ``rules`` is a comma-separated list of ids or ``*`` wildcard patterns (case-sensitive),
    white space around entries ignored, empty entries ignored. Each entry must match at least
    one defined detection (disabled ones count: naming a disabled detection is not an error,
    it is just not evaluated). A list with no entry at all, or one that selects only disabled
    detections, is an error. The messages are word for word the native engine's
    (native/src/detection.cpp), so the job inspector says the same with either engine.
    """
    entries = [entry.strip(conf.WHITESPACE) for entry in rules.split(",")]
    entries = [entry for entry in entries if entry]
    ids = [detection.id for detection in detections]
    if not entries:
        raise ValueError('rules is empty; give detection ids or wildcards, e.g. rules="aws_console_*"')
    chosen = set()
    for entry in entries:
        pattern = re.compile("(?s)" + ".*".join(re.escape(part) for part in entry.split("*")))
        found = [detection_id for detection_id in ids if pattern.fullmatch(detection_id)]
        if not found:
            raise ValueError("rules: '%s' matches no detection; valid detections: %s" % (entry, ", ".join(ids)))
        chosen.update(found)
    selected = [detection for detection in detections if detection.id in chosen and not detection.disabled]
    if not selected:
        raise ValueError("rules: '%s' selects only disabled detections" % rules)
    return selected
