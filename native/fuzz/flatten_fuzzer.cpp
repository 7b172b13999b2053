// libFuzzer target: one CloudTrail record (arbitrary bytes) through the record extractor and the
// detections, on both of the engine's paths.
//
// Invariants checked on every input:
//  - Engine::run gives "" or one of the cloudtrail_error texts, and agrees with a full simdjson DOM
//    parse: blank -> "empty event"; a valid JSON object -> no error; other valid JSON -> "not a
//    JSON object"; invalid JSON -> "invalid JSON: ..." (numbers DOM parsing cannot hold excepted:
//    the extractor keeps them as text).
//  - the flattened record is well formed: every value's path exists, its array coordinates lie
//    inside FlatRecord::coords and are never more than the "{}" its name holds; the view lists
//    each field once and covers every value.
//  - the selective path of a chunk with extract=false (one DOM probe, candidate detections by
//    eventName, narrowing, partial extraction) reports the same detections and the same kind of
//    error as the full extraction.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"

#include "ctdetect/csv.h"
#include "ctdetect/engine.h"
#include "fuzz_support.h"

using namespace ctdetect;
using ctdetect_fuzz::starts_with;

namespace {

bool is_blank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') { return false; }
  }
  return true;
}

std::string_view error_kind(std::string_view error) { return error.substr(0, error.find(':')); }

std::string join(const std::vector<std::string> &values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) { out.push_back('\n'); }
    out += values[i];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  Engine &engine = ctdetect_fuzz::shipped_engine();

  // Full extraction.
  const std::string error(engine.run(input));
  const RecordView &view = engine.view();
  const FlatRecord &record = view.record();
  const PathTable &paths = engine.paths();
  for (const FlatValue &value : record.values) {
    FUZZ_CHECK(value.path != kRootPath && value.path < paths.size(), "value with path id %u", value.path);
    FUZZ_CHECK(static_cast<size_t>(value.coord_begin) + value.coord_count <= record.coords.size(), "coordinates out of range");
    FUZZ_CHECK(value.coord_count <= paths.array_depth(value.path), "%u coordinates for '%s'", value.coord_count,
               paths.name(value.path).c_str());
  }
  size_t listed = 0;
  std::vector<char> seen(paths.size(), 0);
  for (path_id path : view.fields_in_order()) {
    FUZZ_CHECK(path < paths.size() && !seen[path], "field %u listed twice or unknown", path);
    seen[path] = 1;
    auto range = view.values(path);
    FUZZ_CHECK(range.first != range.second, "field '%s' listed without values", paths.name(path).c_str());
    for (const uint32_t *it = range.first; it != range.second; ++it) {
      FUZZ_CHECK(*it < record.values.size() && record.values[*it].path == path, "view index out of place");
    }
    listed += static_cast<size_t>(range.second - range.first);
  }
  FUZZ_CHECK(listed == record.values.size(), "view covers %zu of %zu values", listed, record.values.size());
  if (!error.empty()) {
    FUZZ_CHECK(record.values.empty() && engine.matched().empty(), "an event with an error kept values or detections");
  }
  std::vector<std::string> full_ids;
  for (uint32_t index : engine.matched()) { full_ids.push_back(engine.rules().selected()[index]->id); }

  // Agreement with simdjson's DOM parser (the same depth limit: 1024 levels below the record).
  static simdjson::dom::parser dom = [] {
    simdjson::dom::parser parser;
    if (parser.allocate(1 << 16, simdjson::DEFAULT_MAX_DEPTH + 1) != simdjson::SUCCESS) { std::abort(); }
    return parser;
  }();
  if (is_blank(input)) {
    FUZZ_CHECK(error == "empty event", "blank input gave '%s'", error.c_str());
  } else {
    simdjson::padded_string padded(input);
    simdjson::dom::element root;
    auto dom_error = dom.parse(padded).get(root);
    if (dom_error == simdjson::SUCCESS) {
      if (root.is_object()) {
        FUZZ_CHECK(error.empty(), "a valid JSON object gave '%s'", error.c_str());
      } else {
        FUZZ_CHECK(error == "not a JSON object", "valid JSON that is not an object gave '%s'", error.c_str());
      }
    } else if (dom_error != simdjson::NUMBER_ERROR && dom_error != simdjson::NUMBER_OUT_OF_RANGE) {
      FUZZ_CHECK(starts_with(error, "invalid JSON: "), "DOM parsing fails (%s) but the extractor gave '%s'",
                 simdjson::error_message(dom_error), error.c_str());
    }
  }

  // The same record as the only row of a chunk, detections only (the probe/narrowing path).
  static std::string body, reply, detail;
  body.assign("_raw\n");
  csv_append_cell(body, input);
  body.push_back('\n');
  ChunkOptions options;
  options.extract = false;
  FUZZ_CHECK(engine.process_body(body, options, reply, detail) == error_code::SUCCESS, "chunk failed: %s", detail.c_str());
  CsvReader reader(reply);
  std::vector<std::string_view> header, row;
  bool has_row = false;
  FUZZ_CHECK(reader.next_row(header, has_row) == error_code::SUCCESS && has_row, "reply without header");
  FUZZ_CHECK(reader.next_row(row, has_row) == error_code::SUCCESS && has_row, "reply without the row");
  FUZZ_CHECK(row.size() == header.size(), "row of %zu cells under %zu columns", row.size(), header.size());
  std::string scratch, cell_scratch, detections, chunk_error;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name(csv_unquote(header[i], scratch));
    if (name == "detection") { detections.assign(csv_unquote(row[i], cell_scratch)); }
    if (name == "cloudtrail_error") { chunk_error.assign(csv_unquote(row[i], cell_scratch)); }
  }
  FUZZ_CHECK(detections == join(full_ids), "extract=false found [%s], full extraction [%s]", detections.c_str(),
             join(full_ids).c_str());
  FUZZ_CHECK(error_kind(chunk_error) == error_kind(error), "extract=false error '%s', full extraction '%s'",
             chunk_error.c_str(), error.c_str());
  FUZZ_CHECK(reader.next_row(row, has_row) == error_code::SUCCESS && !has_row, "reply with an extra row");
  return 0;
}
