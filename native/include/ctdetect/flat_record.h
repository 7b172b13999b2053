// One CloudTrail record flattened into (field, value) pairs, the way spath names them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ctdetect/path_table.h"

namespace ctdetect {

struct FlatValue {
  path_id path;
  std::string_view text;   // unescaped string, literal number, true/false/null, {} or []
  uint32_t coord_begin;    // into FlatRecord::coords
  uint32_t coord_count;    // one array index per "{}" crossed on the way to this value
};

// Reused from event to event: clear() keeps the capacity, so steady state allocates nothing.
// The text views point into the parser's buffers and live until the next record is flattened.
struct FlatRecord {
  std::vector<FlatValue> values;  // document order
  std::vector<uint32_t> coords;

  void clear() {
    values.clear();
    coords.clear();
  }
  const uint32_t *coords_of(const FlatValue &value) const { return coords.data() + value.coord_begin; }
};

}  // namespace ctdetect
