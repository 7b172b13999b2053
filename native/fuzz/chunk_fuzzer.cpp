// libFuzzer target: protocol v2 execute bodies (CSV) through Engine::process_body, and the CSV
// helpers of csv.h.
//
// Input: one option byte (bit 0: the record column is "raw" instead of "_raw"; bit 1: a CSV
// round trip instead of a chunk), then the body.
//
// Invariants checked:
//  - the reply is CSV that CsvReader reads back; every row has as many cells as the header, and
//    the header names are distinct.
//  - a successful reply has one row per input row (blank lines of a multi-column body excepted)
//    when only_detections=false, and exactly the rows with a detection or an error otherwise.
//  - extract=true and extract=false agree on every row's detections and error kind, and with
//    extract=false the input columns (other than the result fields) are copied verbatim.
//  - whether a body is malformed CSV does not depend on the options.
//  - csv_append_cell then CsvReader/csv_unquote gives back every value (any bytes).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ctdetect/csv.h"
#include "ctdetect/engine.h"
#include "fuzz_support.h"

using namespace ctdetect;

namespace {

const char *const kResultFields[] = {"detection", "detection_title", "mitre_attack_id", "detection_severity",
                                     "cloudtrail_error"};

struct Table {
  std::vector<std::string> header;               // unquoted names
  std::vector<std::vector<std::string_view>> rows;  // raw cells
};

Table read_reply(const std::string &reply) {
  Table table;
  CsvReader reader(reply);
  std::vector<std::string_view> cells;
  bool has_row = false;
  FUZZ_CHECK(reader.next_row(cells, has_row) == error_code::SUCCESS, "the reply's header is not CSV");
  if (!has_row) { return table; }
  std::string scratch;
  std::unordered_set<std::string> names;
  for (std::string_view cell : cells) {
    table.header.emplace_back(csv_unquote(cell, scratch));
    FUZZ_CHECK(names.insert(table.header.back()).second, "column '%s' twice in the reply header", table.header.back().c_str());
  }
  while (true) {
    FUZZ_CHECK(reader.next_row(cells, has_row) == error_code::SUCCESS, "reply row %zu is not CSV", table.rows.size() + 1);
    if (!has_row) { break; }
    FUZZ_CHECK(cells.size() == table.header.size(), "reply row %zu has %zu cells under %zu columns", table.rows.size() + 1,
               cells.size(), table.header.size());
    table.rows.push_back(cells);
  }
  return table;
}

int column_of(const Table &table, std::string_view name) {
  for (size_t i = 0; i < table.header.size(); ++i) {
    if (table.header[i] == name) { return static_cast<int>(i); }
  }
  return -1;
}

std::string cell_value(const Table &table, size_t row, int column) {
  if (column < 0) { return std::string(); }
  std::string scratch;
  return std::string(csv_unquote(table.rows[row][static_cast<size_t>(column)], scratch));
}

std::string_view error_kind(std::string_view error) { return error.substr(0, error.find(':')); }

// csv_append_cell / CsvReader / csv_unquote round trip over values separated by \x01 bytes.
void csv_round_trip(std::string_view data) {
  std::vector<std::string_view> values;
  for (size_t start = 0;;) {
    size_t end = data.find('\x01', start);
    values.push_back(data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) { break; }
    start = end + 1;
  }
  static const char *const kEndings[] = {"\n", "\r\n", "\r", ""};
  for (const char *ending : kEndings) {
    std::string line;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i != 0) { line.push_back(','); }
      csv_append_cell(line, values[i]);
    }
    line += ending;
    if (line.empty()) { continue; }  // one empty value without a line ending: no row at all
    CsvReader reader(line);
    std::vector<std::string_view> cells;
    bool has_row = false;
    FUZZ_CHECK(reader.next_row(cells, has_row) == error_code::SUCCESS && has_row, "an encoded row does not read back");
    FUZZ_CHECK(cells.size() == values.size(), "%zu values read back as %zu cells", values.size(), cells.size());
    std::string scratch, appended;
    for (size_t i = 0; i < values.size(); ++i) {
      FUZZ_CHECK(csv_unquote(cells[i], scratch) == values[i], "value %zu changed in a round trip", i);
      appended.clear();
      csv_unquote_append(cells[i], appended);
      FUZZ_CHECK(appended == values[i], "csv_unquote_append disagrees on value %zu", i);
    }
    FUZZ_CHECK(reader.next_row(cells, has_row) == error_code::SUCCESS && !has_row, "an encoded row reads as two");
    FUZZ_CHECK(reader.offset() == line.size(), "the reader stopped at %zu of %zu", reader.offset(), line.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) { return 0; }
  const uint8_t flags = data[0];
  const std::string_view body(reinterpret_cast<const char *>(data + 1), size - 1);
  if (flags & 2) {
    csv_round_trip(body);
    return 0;
  }
  Engine &engine = ctdetect_fuzz::shipped_engine();
  ChunkOptions full, detect, only;
  full.field = detect.field = only.field = (flags & 1) ? "raw" : "_raw";
  detect.extract = false;
  only.extract = false;
  only.only_detections = true;

  static std::string reply_full, reply_detect, reply_only, detail;
  error_code e_full = engine.process_body(body, full, reply_full, detail);
  error_code e_detect = engine.process_body(body, detect, reply_detect, detail);
  error_code e_only = engine.process_body(body, only, reply_only, detail);
  FUZZ_CHECK(e_full == e_detect && e_detect == e_only, "options change the outcome: %d %d %d", static_cast<int>(e_full),
             static_cast<int>(e_detect), static_cast<int>(e_only));
  if (e_full != error_code::SUCCESS) {
    FUZZ_CHECK(e_full == error_code::CSV_MALFORMED && !detail.empty(), "process_body failed with %d", static_cast<int>(e_full));
    return 0;
  }
  if (body.empty()) {
    FUZZ_CHECK(reply_full.empty() && reply_detect.empty() && reply_only.empty(), "an empty body got a reply");
    return 0;
  }

  // The input's rows, as process_body counts them.
  CsvReader reader(body);
  std::vector<std::string_view> input_header, cells;
  std::vector<std::vector<std::string_view>> input_rows;
  bool has_row = false;
  FUZZ_CHECK(reader.next_row(input_header, has_row) == error_code::SUCCESS && has_row, "header vanished");
  while (true) {
    FUZZ_CHECK(reader.next_row(cells, has_row) == error_code::SUCCESS, "a row that process_body read fails here");
    if (!has_row) { break; }
    if (cells.size() == 1 && cells[0].empty() && input_header.size() > 1) { continue; }
    input_rows.push_back(cells);
  }

  Table t_full = read_reply(reply_full), t_detect = read_reply(reply_detect), t_only = read_reply(reply_only);
  FUZZ_CHECK(t_full.rows.size() == input_rows.size(), "%zu input rows, %zu reply rows (extract=true)", input_rows.size(),
             t_full.rows.size());
  FUZZ_CHECK(t_detect.rows.size() == input_rows.size(), "%zu input rows, %zu reply rows (extract=false)", input_rows.size(),
             t_detect.rows.size());
  const int det_full = column_of(t_full, "detection"), det_detect = column_of(t_detect, "detection");
  const int err_full = column_of(t_full, "cloudtrail_error"), err_detect = column_of(t_detect, "cloudtrail_error");
  size_t flagged = 0;
  for (size_t r = 0; r < input_rows.size(); ++r) {
    std::string d_full = cell_value(t_full, r, det_full), d_detect = cell_value(t_detect, r, det_detect);
    std::string x_full = cell_value(t_full, r, err_full), x_detect = cell_value(t_detect, r, err_detect);
    FUZZ_CHECK(d_full == d_detect, "row %zu: detections '%s' with extract=true, '%s' with extract=false", r + 1,
               d_full.c_str(), d_detect.c_str());
    FUZZ_CHECK(error_kind(x_full) == error_kind(x_detect), "row %zu: error '%s' with extract=true, '%s' with extract=false",
               r + 1, x_full.c_str(), x_detect.c_str());
    if (!d_detect.empty() || !x_detect.empty()) { ++flagged; }
  }
  // (An input that has detection or cloudtrail_error columns itself keeps their cells where the
  // command writes none, so the count is checked without them.)
  std::string name_scratch;
  bool has_result_columns = false;
  for (std::string_view cell : input_header) {
    std::string name(csv_unquote(cell, name_scratch));
    has_result_columns = has_result_columns || name == "detection" || name == "cloudtrail_error" ||
                         name == "__mv_detection" || name == "__mv_cloudtrail_error";
  }
  if (!has_result_columns) {
    FUZZ_CHECK(t_only.rows.size() == flagged, "only_detections kept %zu rows of %zu flagged", t_only.rows.size(), flagged);
  }

  // extract=false: every input column that is not a result field is copied cell for cell.
  std::string scratch;
  std::unordered_set<std::string> done;
  for (size_t c = 0; c < input_header.size(); ++c) {
    std::string name(csv_unquote(input_header[c], scratch));
    std::string_view plain = ctdetect_fuzz::starts_with(name, "__mv_") ? std::string_view(name).substr(5) : name;
    bool result_field = false;
    for (const char *field : kResultFields) { result_field = result_field || plain == field; }
    if (result_field || !done.insert(name).second) { continue; }
    int column = column_of(t_detect, name);
    if (column < 0) { continue; }  // the twin of a twin (__mv___mv_x) is not written
    for (size_t r = 0; r < input_rows.size(); ++r) {
      std::string_view expected = c < input_rows[r].size() ? input_rows[r][c] : std::string_view();
      FUZZ_CHECK(t_detect.rows[r][static_cast<size_t>(column)] == expected, "row %zu column '%s' not copied verbatim",
                 r + 1, name.c_str());
    }
  }
  return 0;
}
