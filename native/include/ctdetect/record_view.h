// A per-event index over a FlatRecord: the values of each field, in document order, and the
// fields in the order they first appear. Built once per event that needs it and reused.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ctdetect/flat_record.h"
#include "ctdetect/path_table.h"

namespace ctdetect {

// A scope is the array coordinates that values must start with (empty: the whole record).
struct Scope {
  const uint32_t *coords = nullptr;
  uint32_t size = 0;
};

class RecordView {
public:
  void build(const FlatRecord &record, size_t path_count);

  const FlatRecord &record() const { return *record_; }
  const std::vector<path_id> &fields_in_order() const { return order_; }

  // Indices (into record().values) of the values of `path`, in document order.
  std::pair<const uint32_t *, const uint32_t *> values(path_id path) const;
  // The same, restricted to values whose coordinates start with the scope's.
  std::pair<const uint32_t *, const uint32_t *> values(path_id path, Scope scope) const;

private:
  const FlatRecord *record_ = nullptr;
  uint32_t epoch_ = 0;
  std::vector<uint32_t> stamp_;  // per path: the epoch in which start_/count_ are valid
  std::vector<uint32_t> start_;
  std::vector<uint32_t> count_;
  std::vector<uint32_t> sorted_;  // value indices grouped by path
  std::vector<path_id> order_;
};

}  // namespace ctdetect
