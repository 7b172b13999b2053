// simdjson On-Demand walk of one record into a FlatRecord.
#pragma once

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
  explicit Flattener(PathTable &paths) : paths_(paths) {}

  // Flattens `json` (one record; trailing white space allowed) into `out`. On error `out` may hold
  // a prefix of the values and `detail()` says what went wrong.
  error_code flatten(std::string_view json, FlatRecord &out);
  const std::string &detail() const { return detail_; }

private:
  error_code walk(simdjson::ondemand::value value, path_id path, FlatRecord &out);
  error_code walk_value(simdjson::ondemand::value value, path_id path, FlatRecord &out);
  error_code emit(path_id path, std::string_view text, FlatRecord &out);
  error_code fail(simdjson::error_code error);
  error_code classify_non_object(std::string_view json);

  PathTable &paths_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;  // only for records that are not objects (rare)
  std::string padded_;               // the record copied with SIMDJSON_PADDING after it
  std::vector<uint32_t> index_stack_;
  std::string detail_;
  size_t depth_ = 0;
  static constexpr size_t kMaxDepth = simdjson::DEFAULT_MAX_DEPTH;
};

}  // namespace ctdetect
