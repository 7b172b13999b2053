#include "ctdetect/path_table.h"

#include <cstring>

namespace ctdetect {

namespace {
uint32_t count_array_markers(std::string_view name) {
  uint32_t count = 0;
  for (size_t pos = name.find("{}"); pos != std::string_view::npos; pos = name.find("{}", pos + 2)) { ++count; }
  return count;
}
}  // namespace

PathTable::PathTable() {
  names_.emplace_back();
  depths_.push_back(0);
  array_children_.push_back(kRootPath);
  recent_children_.emplace_back();
}

path_id PathTable::intern_name(std::string name) {
  auto found = by_name_.find(name);
  if (found != by_name_.end()) { return found->second; }
  auto id = static_cast<path_id>(names_.size());
  key_storage_.push_back(name);
  by_name_.emplace(std::string_view(key_storage_.back()), id);
  depths_.push_back(count_array_markers(name));
  names_.push_back(std::move(name));
  array_children_.push_back(kRootPath);
  recent_children_.emplace_back();
  return id;
}

path_id PathTable::object_child(path_id parent, std::string_view key) {
  for (const Child &child : recent_children_[parent]) {
    if (child.key.size() == key.size() && std::memcmp(child.key.data(), key.data(), key.size()) == 0) { return child.id; }
  }
  auto found = edges_.find(EdgeKey{parent, key});
  if (found != edges_.end()) { return found->second; }
  std::string name;
  if (parent == kRootPath) {
    name.assign(key);
  } else {
    name.reserve(names_[parent].size() + 1 + key.size());
    name.append(names_[parent]).append(1, '.').append(key);
  }
  path_id id = intern_name(std::move(name));
  key_storage_.emplace_back(key);
  std::string_view stored(key_storage_.back());
  edges_.emplace(EdgeKey{parent, stored}, id);
  if (recent_children_[parent].size() < kRecentChildren) { recent_children_[parent].push_back(Child{stored, id}); }
  return id;
}

path_id PathTable::array_child(path_id parent) {
  path_id existing = array_children_[parent];
  if (existing != kRootPath) { return existing; }
  path_id id = intern_name(names_[parent] + "{}");
  array_children_[parent] = id;
  return id;
}

path_id PathTable::intern(std::string_view full_name) { return intern_name(std::string(full_name)); }

void PathTable::reset_to_pinned() {
  if (names_.size() <= pinned_) { return; }
  // Rebuilt rather than trimmed: the maps and key_storage_ then give their memory back. Pinned
  // names are interned again in id order, so they get their ids back; edges and array children
  // are found again on first use.
  PathTable fresh;
  for (path_id id = 1; id < pinned_; ++id) { fresh.intern_name(std::move(names_[id])); }
  fresh.pinned_ = pinned_;
  *this = std::move(fresh);  // a deque's move keeps its elements in place: the views stay valid
}

}  // namespace ctdetect
