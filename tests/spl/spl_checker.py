"""A static checker for the app's SPL: saved searches, macros and dashboard searches.

It does not run Splunk. For every search it checks that:
- quotes, single quotes, parentheses, brackets (subsearches) and backticks are balanced;
- every macro it uses exists (default/macros.conf), with the right number of arguments;
- every command is a Splunk command (BUILTIN_COMMANDS, a curated list of SPL's built-in
  commands) or this app's (default/commands.conf);
- every lookup named by lookup/inputlookup/outputlookup is defined in default/transforms.conf;
- every field it reads exists: a field of CloudTrail records (KNOWN_FIELDS: every name the
  engine extracts from the shared records, the detections' samples, the demo events and the
  dashboard fixtures), a field the command adds, a Splunk default field, or a field the search
  itself made earlier (eval, stats ... as, rename, rex, iplocation, lookup OUTPUT, inputlookup).
- every detection it names exists: each entry of `cloudtraildetect rules=` (an id or a `*`
  wildcard) matches at least one shipped detection, as the command requires at run time, and
  each detection value a search or where clause compares `detection` with matches a shipped
  detection selected by the pipeline's rules= (a value the command never produces filters
  everything out);
- in dashboards, every `$token$` is closed (a literal dollar sign is written `$$`), names a
  token the dashboard defines, and a drill-down's `$row.<field>.value$` names a field of the
  panel's results.
Field checking is deliberately simple: it reads field names where SPL puts them (search terms
field=value, eval/where identifiers and 'quoted' names, stats functions and by clauses, table,
fields, sort, dedup, rename, mvexpand, convert, iplocation, rex field=...).
"""
import collections
import os
import re

BUILTIN_COMMANDS = frozenset("""
abstract accum addcoltotals addinfo addtotals analyzefields anomalies anomalousvalue append
appendcols appendpipe arules associate autoregress bin bucket bucketdir chart cluster cofilter
collect concurrency contingency convert correlate datamodel dbinspect dedup delete delta diff
erex eval eventcount eventstats extract kv fieldformat fields fieldsummary filldown fillnull
findtypes folderize foreach format from gauge gentimes geom geomfilter geostats head highlight
history iconify inputcsv inputlookup iplocation join kmeans kvform loadjob localize localop lookup
makecontinuous makemv makeresults map mcollect metadata metasearch meventcollect mpreview
msearch mstats multikv multisearch mvcombine mvexpand nomv outlier outputcsv outputlookup
outputtext overlap pivot predict rangemap rare redistribute regex reltime rename replace require
rest return reverse rex rtorder savedsearch script run scrub search searchtxn selfjoin sendalert
sendemail set setfields sichart sirare sistats sitimechart sitop sort spath stats strcat
streamstats table tags tail timechart timewrap tojson top transaction transpose trendline tscollect
tstats typeahead typelearner typer union uniq untable walklex where x11 xmlkv xmlunescape xpath
xyseries
""".split())

SPLUNK_DEFAULT_FIELDS = frozenset("""
_raw _time _indextime _cd _bkt _serial _si _sourcetype _subsecond host index source sourcetype
splunk_server linecount punct timestartpos timeendpos date_hour date_mday date_minute date_month
date_second date_wday date_year date_zone eventtype tag count
""".split())

COMMAND_RESULT_FIELDS = frozenset(["detection", "detection_title", "mitre_attack_id", "detection_severity", "cloudtrail_error"])
IPLOCATION_FIELDS = ("City", "Country", "Region", "lat", "lon")
EVAL_KEYWORDS = frozenset(["AND", "OR", "NOT", "XOR", "LIKE", "IN", "true", "false", "null", "TRUE", "FALSE", "NULL"])
STATS_FUNCTIONS = frozenset("""
avg c count dc distinct_count earliest earliest_time estdc estdc_error exactperc first last latest
latest_time list max mean median min mode p perc percentile range rate stdev stdevp sum sumsq
upperperc values var varp per_second per_minute per_hour per_day
""".split())
SPLIT_BY = re.compile(r"\s+(?:by|BY|By)\s+")


class SplError(Exception):
    pass


def split_top(text, separator="|"):
    """Split at `separator` outside quotes, brackets, parentheses; checks their balance."""
    parts, current, stack, index = [], [], [], 0
    pairs = {"(": ")", "[": "]"}
    while index < len(text):
        char = text[index]
        if char == '"' or char == "'" or char == "`":
            end = index + 1
            while end < len(text) and text[end] != char:
                end += 2 if text[end] == "\\" and char != "`" else 1
            if end >= len(text):
                raise SplError("unbalanced %s at position %d" % (char, index))
            current.append(text[index:end + 1])
            index = end + 1
            continue
        if char in pairs:
            stack.append(pairs[char])
        elif char in ")]":
            if not stack or stack.pop() != char:
                raise SplError("unbalanced %r at position %d" % (char, index))
        if char == separator and not stack:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if stack:
        raise SplError("unclosed %r" % stack[-1])
    parts.append("".join(current))
    return parts


MACRO_CALL = re.compile(r"`([^`]*)`")


def expand_macros(text, macros, depth=0):
    """Replace `name` and `name(args)` by their definitions (recursively)."""
    if depth > 20:
        raise SplError("macro expansion too deep")

    def replace(match):
        call = match.group(1).strip()
        name, args = call, []
        if "(" in call and call.endswith(")"):
            name = call[:call.index("(")]
            args = [a.strip() for a in split_top(call[call.index("(") + 1:-1], ",")]
        key = "%s(%d)" % (name, len(args)) if args else name
        if key not in macros:
            raise SplError("unknown macro `%s`" % key)
        definition, params = macros[key]
        for param, value in zip(params, args):
            definition = definition.replace("$%s$" % param, value)
        return expand_macros(definition, macros, depth + 1)

    if text.count("`") % 2:
        raise SplError("unbalanced backtick")
    return MACRO_CALL.sub(replace, text)


def _strip_quotes(text):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


def _names_in_expression(expression):
    """Field names an eval/where expression reads: 'quoted' names and bare identifiers."""
    names = re.findall(r"'([^']+)'", expression)
    bare = re.sub(r"'[^']*'", " ", _strip_quotes(expression))
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_][\w]*)(?![\w(])(\s*\()?", bare):
        word = match.group(1)
        if match.group(2) or word in EVAL_KEYWORDS:
            continue
        names.append(word)
    return names


def _split_assignments(text):
    """eval a=..., b=...: [(name, expression)]."""
    out = []
    for part in split_top(text, ","):
        if "=" not in part:
            raise SplError("eval without an assignment: %r" % part.strip())
        name, expression = part.split("=", 1)
        out.append((name.strip().strip("'\""), expression))
    return out


def _field_list(text):
    return [f.strip().strip('"') for f in re.split(r"[\s,]+", text.strip()) if f.strip() and f.strip() not in ("-", "+", "0")]


def wildcard_matches(pattern, ids):
    """The ids a `*` wildcard pattern (case-sensitive, whole id) matches, as the command does."""
    regex = re.compile("(?s)" + ".*".join(re.escape(part) for part in pattern.split("*")))
    return [i for i in ids if regex.fullmatch(i)]


def dashboard_tokens(search):
    """(search with each $token$ replaced by TOKEN and $$ by $, [token names], [problems])."""
    out, names, problems, index = [], [], [], 0
    while index < len(search):
        char = search[index]
        if char != "$":
            out.append(char)
            index += 1
            continue
        if search.startswith("$$", index):
            out.append("$")
            index += 2
            continue
        match = re.compile(r"\$([\w.:-]+)(?:\|\w+)?\$").match(search, index)
        if not match:
            problems.append("unclosed token at %r (a literal $ is written $$)" % search[index:index + 30])
            out.append("TOKEN")
            index += 1
            continue
        names.append(match.group(1))
        out.append("TOKEN")
        index = match.end()
    return "".join(out), names, problems


class Checker(object):
    def __init__(self, macros, commands, lookups, known_fields, detection_ids=None):
        self.macros = macros                # {name or name(n): (definition, [params])}
        self.commands = BUILTIN_COMMANDS | set(commands)
        self.lookups = lookups              # {lookup name: [columns]}
        self.known_fields = set(known_fields) | SPLUNK_DEFAULT_FIELDS | COMMAND_RESULT_FIELDS
        self.detection_ids = list(detection_ids) if detection_ids is not None else None
        self._selected = None               # the ids the pipeline's cloudtraildetect rules= select

    def check(self, search, dashboard=False, tokens=None, row_fields=None):
        """Problems of one search (a list of messages); empty when it is fine.

        dashboard: the search is a dashboard query ($token$ references, $$ for a literal $).
        tokens: the token names the dashboard defines (input tokens), besides row.* and click.*;
        None skips that check. row_fields: the fields of the results a drill-down's $row.X.value$
        refers to; None skips that check.
        """
        problems = []
        try:
            if dashboard:
                search, names, problems = dashboard_tokens(search)
                problems.extend(self._token_problems(names, tokens, row_fields))
            self._selected = None
            expanded = expand_macros(search, self.macros)
            self._check_pipeline(expanded, set(self.known_fields), problems)
            return problems
        except SplError as error:
            return problems + [str(error)]

    def output_fields(self, search, dashboard=False):
        """The fields a search's results have, as far as the checker tracks them."""
        if dashboard:
            search = dashboard_tokens(search)[0]
        fields = set(self.known_fields)
        self._selected = None
        self._check_pipeline(expand_macros(search, self.macros), fields, [])
        return fields

    @staticmethod
    def _token_problems(names, tokens, row_fields):
        problems = []
        for name in names:
            parts = name.split(".")
            if parts[0] == "row":
                if len(parts) != 3 or parts[2] != "value":
                    problems.append("token $%s$: a row token is $row.<field>.value$" % name)
                elif row_fields is not None and parts[1] not in row_fields:
                    problems.append("token $%s$: the panel's results have no field %r" % (name, parts[1]))
            elif parts[0] == "click":
                if name not in ("click.value", "click.value2", "click.name", "click.name2"):
                    problems.append("token $%s$: unknown click token" % name)
            elif tokens is not None and parts[0] not in tokens:
                problems.append("token $%s$: the dashboard defines no token %r" % (name, parts[0]))
        return problems

    def _check_detection_values(self, values, problems, where):
        if self.detection_ids is None:
            return
        for value in values:
            value = value.strip().strip('"')
            if not value or value == "TOKEN":
                continue
            if not wildcard_matches(value, self.detection_ids):
                problems.append("%s: detection %r matches no shipped detection" % (where, value))
            elif self._selected is not None and not wildcard_matches(value, self._selected):
                problems.append("%s: detection %r is not among the detections rules= selects, so it never matches" % (where, value))

    def _detection_comparisons(self, text):
        """The values `detection` is compared with: detection=v, detection!=v, detection IN (a, b)."""
        values = []
        for match in re.finditer(r'(?<![\w.\'"])detection\s*(?:==?|!=)\s*("[^"]*"|[^\s()|]+)', text):
            values.append(match.group(1))
        for match in re.finditer(r'(?<![\w.\'"])detection\s+IN\s*\(([^)]*)\)', text, re.I):
            values.extend(v for v in re.split(r"\s*,\s*|\s+", match.group(1).strip()) if v)
        return values

    def _check_pipeline(self, text, fields, problems):
        stages = split_top(text.strip())
        for position, stage in enumerate(stages):
            stage = stage.strip()
            if not stage:
                if position == 0:
                    continue  # a search starting with "|" (a generating command)
                problems.append("empty pipeline stage")
                continue
            word = stage.split(None, 1)[0]
            if position == 0 and word.lower() not in self.commands:
                word, stage = "search", "search " + stage
            command = word.lower()
            if command not in self.commands:
                problems.append("unknown command %r" % word)
                continue
            rest = stage[len(word):].strip()
            for subsearch in re.findall(r"\[(.*?)\]", _strip_quotes(rest)):
                if subsearch.strip() and not re.match(r"^[\w\s,]*$", subsearch):
                    self._check_pipeline(subsearch, set(fields), problems)
            handler = getattr(self, "_cmd_" + command, None)
            if handler is not None:
                handler(rest, fields, problems)

    def _need(self, names, fields, problems, where):
        for name in names:
            name = name.strip().strip('"')
            if not name or "*" in name or name == "TOKEN" or re.match(r"^-?\d+(\.\d+)?$", name):
                continue
            if name not in fields:
                problems.append("%s: unknown field %r" % (where, name))

    # ---- commands that read or make fields
    def _cmd_search(self, rest, fields, problems):
        text = re.sub(r"\[.*?\]", " ", rest)
        self._check_detection_values(self._detection_comparisons(text), problems, "search")
        for match in re.finditer(r'(?<![\w.{}"\'-])("?[A-Za-z_][\w.{}:-]*"?)\s*(?:!=|=|<=|>=|<|>|\s+IN\s*\()', _strip_quotes_keep_names(text)):
            self._need([match.group(1)], fields, problems, "search")

    def _cmd_where(self, rest, fields, problems):
        self._need(_names_in_expression(rest), fields, problems, "where")
        self._check_detection_values(self._detection_comparisons(rest), problems, "where")

    def _cmd_eval(self, rest, fields, problems):
        for name, expression in _split_assignments(rest):
            self._need(_names_in_expression(expression), fields, problems, "eval " + name)
            fields.add(name)

    def _stats(self, rest, fields, problems, where):
        functions, by = (SPLIT_BY.split(rest, 1) + [""])[:2]
        for match in re.finditer(r"(\w+)\(((?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\)(?:\s+(?:as|AS)\s+(\"[^\"]+\"|[\w.{}-]+))?|(\bcount\b|\bc\b)(?:\s+(?:as|AS)\s+([\w.]+))?", functions):
            if match.group(4):
                fields.add(match.group(5) or "count")
                continue
            function, argument, alias = match.group(1), match.group(2), match.group(3)
            if function.lower() not in STATS_FUNCTIONS and not re.match(r"^(p|perc|exactperc|upperperc)\d+$", function):
                problems.append("%s: unknown function %s()" % (where, function))
            if argument.startswith("eval("):
                self._need(_names_in_expression(argument[5:-1]), fields, problems, where)
            elif argument:
                self._need([argument], fields, problems, where)
            fields.add((alias or "%s(%s)" % (function, argument)).strip('"'))
        self._need(_field_list(by), fields, problems, where + " by")

    def _cmd_stats(self, rest, fields, problems):
        by = (SPLIT_BY.split(rest, 1) + [""])[1]
        self._stats(rest, fields, problems, "stats")
        # stats keeps only its outputs and by-fields
        kept = set(f for f in fields if f in SPLUNK_DEFAULT_FIELDS)
        kept |= set(_field_list(by))
        kept |= self._outputs_of(rest)
        fields.intersection_update(kept | set(_field_list(by)))
        fields.update(kept)

    def _outputs_of(self, rest):
        functions = SPLIT_BY.split(rest, 1)[0]
        outs = set(a.strip('"') for a in re.findall(r"\)\s+(?:as|AS)\s+(\"[^\"]+\"|[\w.{}-]+)", functions))
        outs |= set(re.findall(r"\bcount\s+(?:as|AS)\s+([\w.]+)", functions))
        if re.search(r"(^|\s)count(\s|$)", functions):
            outs.add("count")
        return outs

    def _cmd_eventstats(self, rest, fields, problems):
        self._stats(rest, fields, problems, "eventstats")

    def _cmd_streamstats(self, rest, fields, problems):
        self._stats(rest, fields, problems, "streamstats")

    def _cmd_timechart(self, rest, fields, problems):
        rest = re.sub(r"\b(span|limit|useother|usenull)=\S+", "", rest)
        by = (SPLIT_BY.split(rest, 1) + [""])[1]
        self._stats(rest, fields, problems, "timechart")
        fields.clear()
        fields.update(["_time", "count"])

    def _cmd_table(self, rest, fields, problems):
        names = _field_list(rest)
        self._need(names, fields, problems, "table")
        fields.intersection_update(set(names))

    def _cmd_fields(self, rest, fields, problems):
        names = _field_list(rest.lstrip("+- "))
        self._need(names, fields, problems, "fields")

    def _cmd_sort(self, rest, fields, problems):
        self._need([n.lstrip("+-") for n in _field_list(rest) if not n.isdigit()], fields, problems, "sort")

    def _cmd_dedup(self, rest, fields, problems):
        self._need([n for n in _field_list(rest) if not n.isdigit() and "=" not in n], fields, problems, "dedup")

    def _cmd_mvexpand(self, rest, fields, problems):
        self._need(_field_list(rest)[:1], fields, problems, "mvexpand")

    def _cmd_head(self, rest, fields, problems):
        pass

    def _cmd_rename(self, rest, fields, problems):
        for old, new in re.findall(r'("[^"]+"|\S+)\s+(?:as|AS)\s+("[^"]+"|[^\s,]+)', rest):
            self._need([old], fields, problems, "rename")
            fields.discard(old.strip('"'))
            fields.add(new.strip('"'))

    def _cmd_convert(self, rest, fields, problems):
        for function, name, alias in re.findall(r"(\w+)\(([^)]*)\)(?:\s+(?:as|AS)\s+(\w+))?", rest):
            self._need([name], fields, problems, "convert " + function)
            if alias:
                fields.add(alias)

    def _cmd_fillnull(self, rest, fields, problems):
        names = [n for n in _field_list(re.sub(r'value=("[^"]*"|\S+)', "", rest))]
        fields.update(names)

    def _cmd_iplocation(self, rest, fields, problems):
        names = [n for n in _field_list(rest) if "=" not in n]
        self._need(names[-1:], fields, problems, "iplocation")
        fields.update(IPLOCATION_FIELDS)

    def _cmd_rex(self, rest, fields, problems):
        match = re.search(r"field=(\S+)", rest)
        if match:
            self._need([match.group(1)], fields, problems, "rex")
        fields.update(re.findall(r"\(\?<(\w+)>", rest))

    def _cmd_cloudtraildetect(self, rest, fields, problems):
        for option in re.findall(r"(\w+)=", rest):
            if option not in ("rules", "extract", "only_detections", "field"):
                problems.append("cloudtraildetect: unknown option %s" % option)
        if self.detection_ids is None:
            return
        match = re.search(r'\brules=("[^"]*"|\S+)', rest)
        if not match:
            self._selected = list(self.detection_ids)
            return
        entries = [e.strip() for e in match.group(1).strip('"').split(",") if e.strip()]
        if not entries:
            problems.append("cloudtraildetect: rules= is empty")
        selected = set()
        for entry in entries:
            found = wildcard_matches(entry, self.detection_ids)
            if not found:
                problems.append("cloudtraildetect: rules entry %r matches no shipped detection" % entry)
            selected.update(found)
        self._selected = sorted(selected)

    def _lookup_name(self, name, problems, command):
        if name not in self.lookups:
            problems.append("%s: unknown lookup %r" % (command, name))
            return []
        return self.lookups[name]

    def _cmd_lookup(self, rest, fields, problems):
        words = rest.split()
        words = [w for w in words if not re.match(r"^(local|update|event_time_field)=", w)]
        if not words:
            problems.append("lookup: no lookup name")
            return
        columns = self._lookup_name(words[0], problems, "lookup")
        body = " ".join(words[1:])
        parts = re.split(r"\b(?:OUTPUTNEW|OUTPUT)\b", body, 1)
        inputs, outputs = parts[0], (parts[1] if len(parts) > 1 else "")
        for match in re.finditer(r"([\w.{}]+)(?:\s+(?:AS|as)\s+([\w.{}]+))?", inputs):
            column, event_field = match.group(1), match.group(2) or match.group(1)
            if columns and column not in columns:
                problems.append("lookup: %r is not a column of %s" % (column, words[0]))
            self._need([event_field], fields, problems, "lookup")
        for match in re.finditer(r"([\w.{}]+)(?:\s+(?:AS|as)\s+([\w.{}]+))?", outputs):
            column, event_field = match.group(1), match.group(2) or match.group(1)
            if columns and column not in columns:
                problems.append("lookup: %r is not a column of %s" % (column, words[0]))
            fields.add(event_field)

    def _cmd_inputlookup(self, rest, fields, problems):
        names = [w for w in rest.split() if "=" not in w]
        if not names:
            problems.append("inputlookup: no lookup name")
            return
        fields.update(self._lookup_name(names[0], problems, "inputlookup"))

    def _cmd_outputlookup(self, rest, fields, problems):
        names = [w for w in rest.split() if "=" not in w]
        if not names:
            problems.append("outputlookup: no lookup name")
            return
        self._lookup_name(names[0], problems, "outputlookup")


def _strip_quotes_keep_names(text):
    """Remove quoted values but keep quoted field names followed by an operator."""
    return re.sub(r'"(?:[^"\\]|\\.)*"(?!\s*(?:!=|=|<|>))', '""', text)


# ---- loading the app's configuration

def macros_from(stanzas):
    macros = {}
    for name, keys in stanzas.items():
        params = [p.strip() for p in (keys.get("args") or "").split(",") if p.strip()]
        macros[name] = (keys.get("definition", ""), params)
    return macros


def lookup_columns(transforms, lookups_dir):
    lookups = {}
    for name, keys in transforms.items():
        columns = []
        filename = keys.get("filename")
        if filename and os.path.exists(os.path.join(lookups_dir, filename)):
            with open(os.path.join(lookups_dir, filename), encoding="utf-8") as handle:
                columns = [c.strip() for c in handle.readline().strip().split(",")]
        lookups[name] = columns
    return lookups
