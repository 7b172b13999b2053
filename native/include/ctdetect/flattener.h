// simdjson On-Demand walk of one record into a FlatRecord.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"

#include "ctdetect/error.h"
#include "ctdetect/flat_record.h"
#include "ctdetect/path_table.h"

namespace ctdetect {

class Flattener {
public:
  explicit Flattener(PathTable &paths) : paths_(paths) {
    // DOM counts the record object as a level; flatten() allows 1024 levels below it.
    if (validator_.allocate(1 << 16, kMaxDepth + 1) != simdjson::SUCCESS) { validator_ = simdjson::dom::parser(); }
    // walk() stops at kMaxDepth levels itself; On-Demand's own depth bookkeeping must have room
    // for the levels it has entered by then (its development checks assert on it).
    if (parser_.allocate(1 << 16, kMaxDepth + 8) != simdjson::SUCCESS) { parser_ = simdjson::ondemand::parser(); }
  }

  // Loads the record to work on: a copy of `json`, or the value of a raw CSV cell (unquoted
  // straight into the padded buffer simdjson needs, so the record is copied once).
  void load(std::string_view json);
  void load_csv_cell(std::string_view raw_cell);

  // Flattens the loaded record (one JSON object; trailing white space allowed) into `out`. On
  // error `out` may hold a prefix of the values and `detail()` says what went wrong.
  // With `relevant` (per path id, as CandidateSet::relevant), only those fields are extracted:
  // the rest of the record is skipped, not walked. Call probe() first then, since skipped
  // parts are not checked.
  error_code flatten(FlatRecord &out, const std::vector<char> *relevant = nullptr);
  error_code flatten(std::string_view json, FlatRecord &out) {
    load(json);
    return flatten(out);
  }

  // Validates the loaded record completely (DOM parse, simdjson's fastest full check) and reads
  // the string value of one top-level key, without flattening: the path for events no
  // detection can match. `value` is empty when the key is missing. The errors are those
  // flatten() would report. `decided` is false when only flatten() can tell (a repeated or
  // non-string key, a number DOM parsing cannot hold): call flatten() then.
  error_code probe(std::string_view key, std::string_view &value, bool &decided);
  // After a successful, decided probe(): the record's DOM, valid until the next load.
  const simdjson::dom::element &probed() const { return probed_; }

  const std::string &detail() const { return detail_; }

  // Frees the record buffer and the parsers' buffers when a record grew them beyond `bytes`
  // (they are allocated again, small, on the next load). Invalidates probed().
  void release_buffers_over(size_t bytes);
  // The largest of those buffers now (for tests).
  size_t buffer_capacity() const { return std::max({capacity_, parser_.capacity(), validator_.capacity()}); }

private:
  error_code walk(simdjson::ondemand::value value, path_id path, FlatRecord &out);
  error_code walk_value(simdjson::ondemand::value value, path_id path, FlatRecord &out);
  error_code emit(path_id path, std::string_view text, FlatRecord &out);
  error_code fail(simdjson::error_code error);
  error_code classify_non_object();
  bool loaded_is_blank() const;

  PathTable &paths_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;  // probe(), and records that are not objects
  std::unique_ptr<char[]> padded_;   // the loaded record, with SIMDJSON_PADDING bytes after it
  size_t capacity_ = 0;              // padded_'s size, padding included
  size_t size_ = 0;                  // the record's length in padded_
  char *reserve(size_t size);        // room for `size` bytes plus padding (contents not kept)
  std::vector<uint32_t> index_stack_;
  std::string detail_;
  simdjson::dom::element probed_;
  size_t depth_ = 0;
  const std::vector<char> *relevant_ = nullptr;
  bool wanted(path_id path) const {
    return relevant_ == nullptr || (path < relevant_->size() && (*relevant_)[path] != 0);
  }
  static constexpr size_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;
};

}  // namespace ctdetect
