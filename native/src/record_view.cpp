#include "ctdetect/record_view.h"

#include <algorithm>

namespace ctdetect {

void RecordView::build(const FlatRecord &record, size_t path_count) {
  record_ = &record;
  if (stamp_.size() < path_count) {
    stamp_.resize(path_count, 0);
    start_.resize(path_count, 0);
    count_.resize(path_count, 0);
  }
  if (++epoch_ == 0) {  // wrapped: forget every stamp once every 4 billion events
    std::fill(stamp_.begin(), stamp_.end(), 0);
    epoch_ = 1;
  }
  order_.clear();
  for (const FlatValue &value : record.values) {
    if (stamp_[value.path] != epoch_) {
      stamp_[value.path] = epoch_;
      count_[value.path] = 0;
      order_.push_back(value.path);
    }
    ++count_[value.path];
  }
  uint32_t running = 0;
  for (path_id path : order_) {
    start_[path] = running;
    running += count_[path];
    count_[path] = 0;  // reused as the fill cursor, restored below
  }
  sorted_.resize(record.values.size());
  for (uint32_t i = 0; i < record.values.size(); ++i) {
    path_id path = record.values[i].path;
    sorted_[start_[path] + count_[path]++] = i;
  }
}

std::pair<const uint32_t *, const uint32_t *> RecordView::values(path_id path) const {
  if (path >= stamp_.size() || stamp_[path] != epoch_) { return {nullptr, nullptr}; }
  const uint32_t *begin = sorted_.data() + start_[path];
  return {begin, begin + count_[path]};
}

std::pair<const uint32_t *, const uint32_t *> RecordView::values(path_id path, Scope scope) const {
  auto all = values(path);
  if (scope.size == 0 || all.first == all.second) { return all; }
  // Values of one field come in document order, hence in coordinate order: binary search.
  const FlatRecord &record = *record_;
  auto compare_prefix = [&](uint32_t index) {
    const FlatValue &value = record.values[index];
    const uint32_t *coords = record.coords_of(value);
    uint32_t n = std::min(value.coord_count, scope.size);
    for (uint32_t i = 0; i < n; ++i) {
      if (coords[i] != scope.coords[i]) { return coords[i] < scope.coords[i] ? -1 : 1; }
    }
    return value.coord_count < scope.size ? -1 : 0;
  };
  const uint32_t *begin = std::partition_point(all.first, all.second, [&](uint32_t i) { return compare_prefix(i) < 0; });
  const uint32_t *end = std::partition_point(begin, all.second, [&](uint32_t i) { return compare_prefix(i) == 0; });
  return {begin, end};
}

}  // namespace ctdetect
