"""The fallback engine's public class, with the API of docs/engine-contract.md.

Readings of the contract chosen here (checked against the native engine, which reads them the
same way):

* ``process_body`` reads the ``field`` column's cell (any column of that name, first one if
  repeated); a row whose cell is empty or only white space, a short row without it, or a chunk
  without that column gives ``cloudtrail_error=empty event``.
* Input cells are copied to the reply byte for byte, as they were quoted in the input; only
  the cells the command writes are quoted by the command (minimal quoting).
* Per row the command writes, in this order: the extracted fields (when ``extract``), then
  ``detection``, ``detection_title``, ``mitre_attack_id``, ``detection_severity`` when a
  detection matched; an error row gets only ``cloudtrail_error``. Extracted fields are never
  written over Splunk's own fields or the record: a field whose name is empty or starts with
  ``_`` (``_time``, ``_raw``, ``__mv_*``), is the ``field`` column, or is a result field name
  is left out of the reply (``analyze()`` still lists it).
* Columns: the input's columns in input order, except the ``__mv_x`` columns that are the twin
  of an input column ``x`` (an ``__mv_x`` without ``x`` is an ordinary column without a twin),
  and except repeated names; then new fields in the order first written in the rows that are
  kept (rows dropped by ``only_detections`` add no column; a new field ``x`` has no twin when
  the input has an ``__mv_x`` column); then ``__mv_<f>`` for every one of those columns that
  has a twin, in the same order.
* A blank line in a body with more than one column is skipped; in a one-column body it is a row
  with an empty cell. Short rows are padded with empty cells; cells beyond the header are
  ignored. A quoted cell without its closing quote makes the whole body an error
  (ValueError "malformed CSV body: ...").
* ``only_detections`` keeps a row when this command matched a detection or reported a
  ``cloudtrail_error`` for it (an input ``cloudtrail_error`` column does not count).
"""
from . import csvbody, flatten
from .cidr import LookupCache
from .detections import SEVERITIES, load_detections, select

RESULT_FIELDS = ("detection", "detection_title", "mitre_attack_id", "detection_severity")
ERROR_FIELD = "cloudtrail_error"


class Engine(object):
    """Evaluates the selected detections on CloudTrail records.

    ``Engine(conf_paths, lookup_dir, rules="*")`` reads and checks every detection of the conf
    files (precedence order: default first, then local) and raises ValueError naming the
    detection id, position and problem, or the valid ids for an unknown ``rules=`` entry.
    """

    def __init__(self, conf_paths, lookup_dir, rules="*"):
        self._lookups = LookupCache(lookup_dir)
        detections = load_detections(list(conf_paths), self._lookups.get)
        self._detections = select(detections, rules)
        self.detection_ids = [detection.id for detection in self._detections]
        self.warnings = list(self._lookups.warnings)

    # -- one record ---------------------------------------------------------------------------

    def _evaluate(self, raw):
        """(index name -> [(value, coords)], matched detections); raises flatten.RecordError."""
        index = flatten.index_fields(flatten.flatten(raw))
        matched = [detection for detection in self._detections if detection.matches(index)]
        return index, matched

    def analyze(self, raw):
        """{"fields": [[name, [values]]...], "detections": [ids], "error": str or None}."""
        if isinstance(raw, bytes):
            raw = csvbody.decode_text(raw)
        try:
            index, matched = self._evaluate(raw)
        except flatten.RecordError as error:
            return {"fields": [], "detections": [], "error": str(error)}
        return {
            "fields": [[name, [value for value, _ in entries]] for name, entries in index.items()],
            "detections": [detection.id for detection in matched],
            "error": None,
        }

    def _produce(self, raw, extract):
        """(extracted [(name, values)], results [(name, values)], keep-for-only_detections)."""
        try:
            index, matched = self._evaluate(raw)
        except flatten.RecordError as error:
            return [], [(ERROR_FIELD, [str(error)])], True
        extracted = []
        if extract:
            extracted = [(name, [value for value, _ in entries]) for name, entries in index.items()]
        if not matched:
            return extracted, [], False
        techniques = []
        for detection in matched:
            for technique in detection.mitre_attack:
                if technique not in techniques:
                    techniques.append(technique)
        results = [
            ("detection", [detection.id for detection in matched]),
            ("detection_title", [detection.title for detection in matched]),
            ("mitre_attack_id", techniques),
            ("detection_severity", [SEVERITIES[max(detection.severity_rank for detection in matched)]]),
        ]
        return extracted, results, True

    # -- one execute chunk --------------------------------------------------------------------

    def process_body(self, body, field="_raw", extract=True, only_detections=False):
        """One protocol v2 execute body in, the reply body out (both bytes).

        Raises ValueError("malformed CSV body: ...") for a quoted cell without its closing quote.
        """
        text = csvbody.decode_text(bytes(body))
        if not text:
            return b""
        rows = csvbody.iter_raw_rows(text)
        try:
            _, header_cells = next(rows)
            header = [csvbody.unquote(cell) for cell in header_cells]
            columns = _Columns(header)
            width = len(header)
            source = columns.input_index.get(field)
            reserved = set(RESULT_FIELDS)
            reserved.update((ERROR_FIELD, field))
            kept = []
            for _, cells in rows:
                if width > 1 and len(cells) == 1 and cells[0] == "":
                    continue  # a blank line
                raw = csvbody.unquote(cells[source]) if source is not None and source < len(cells) else ""
                extracted, results, keep = self._produce(raw, extract)
                if only_detections and not keep:
                    continue
                written = [(columns.column(name), values) for name, values in extracted
                           if not _reserved(name, reserved)]
                written += [(columns.column(name), values) for name, values in results]
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                kept.append(columns.render_row(cells, written))
        except csvbody.CsvError as error:
            raise ValueError("malformed CSV body: %s" % error)
        return csvbody.encode_text(columns.render(kept))


def _reserved(name, reserved):
    """Extracted fields never overwrite Splunk's own fields (_time, _raw, __mv_*, any name
    starting with "_"), the record's column, the result fields, or a column without a name."""
    return name == "" or name[0] == "_" or name in reserved


class _Columns(object):
    """The reply's columns: the input's plain columns, then new fields, each with a __mv_ twin.

    An input ``__mv_x`` column is the twin of input column ``x`` when that exists; otherwise it
    is an ordinary column of its own (kept in input order, without a twin of its own). Duplicate
    input names keep their first column.
    """

    def __init__(self, header):
        self.input_index = {}
        for position, name in enumerate(header):
            self.input_index.setdefault(name, position)
        self.names = []
        self.twin_of = []  # column -> its slot among the __mv_ columns, or -1
        self.twin_names = []
        self._by_name = {}
        self._copy_plain = []  # (input position, column)
        self._copy_mv = []  # (input position, twin slot)
        prefix = csvbody.MV_PREFIX
        for position, name in enumerate(header):
            is_twin = name.startswith(prefix) and name[len(prefix):] in self.input_index
            if is_twin or name in self._by_name:
                continue
            index = self._add(name, not name.startswith(prefix))
            self._copy_plain.append((position, index))
            twin_position = self.input_index.get(prefix + name)
            if twin_position is not None and self.twin_of[index] >= 0:
                self._copy_mv.append((twin_position, self.twin_of[index]))

    def _add(self, name, has_twin):
        index = len(self.names)
        self._by_name[name] = index
        self.names.append(name)
        if has_twin:
            self.twin_of.append(len(self.twin_names))
            self.twin_names.append(csvbody.MV_PREFIX + name)
        else:
            self.twin_of.append(-1)
        return index

    def column(self, name):
        index = self._by_name.get(name)
        if index is None:
            # No twin when the input has a column of that name already (an __mv_x without x):
            # the reply would name two columns __mv_x. x is then written plain only.
            index = self._add(name, csvbody.MV_PREFIX + name not in self.input_index)
        return index

    def render_row(self, cells, written):
        """One row as (plain cells text, columns then known, __mv_ cells text, twins then known).

        Columns only ever get appended, so a row rendered early is completed at the end with
        empty cells; keeping two strings per row (not lists of cells) keeps memory and the
        garbage collector's work small on 50,000-row chunks.
        """
        plain = [""] * len(self.names)
        multi = [""] * len(self.twin_names)
        for position, column in self._copy_plain:
            plain[column] = cells[position]
        for position, slot in self._copy_mv:
            multi[slot] = cells[position]
        quote, twin_of = csvbody.quote, self.twin_of
        for column, values in written:
            text, mv_text = csvbody.encode_values(values)
            plain[column] = quote(text)
            slot = twin_of[column]
            if slot >= 0:
                multi[slot] = quote(mv_text) if mv_text else ""
        return ",".join(plain), len(plain), ",".join(multi), len(multi)

    def render(self, rows):
        """The reply text: the header, then the rows of render_row() completed to full width."""
        columns, twins = len(self.names), len(self.twin_names)
        header = [csvbody.quote(name) for name in self.names + self.twin_names]
        out = [",".join(header), "\n"]
        for plain, plain_count, multi, multi_count in rows:
            out.append(plain)
            out.append("," * (columns - plain_count))
            if twins:
                out.append(",")
                out.append(multi)
                if multi_count:
                    out.append("," * (twins - multi_count))
                else:
                    out.append("," * (twins - 1))
            out.append("\n")
        return "".join(out)
