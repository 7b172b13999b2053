// Interned field names ("requestParameters.ipPermissions.items{}.fromPort" -> a small integer).
//
// A CloudTrail corpus has a few hundred distinct field names; interning them once lets the
// flattener, the conditions and the CSV writer work with integers instead of building strings
// per event. An id stands for a *name*: a key that itself contains a dot ("a.b") and the path
// a -> b share one id, exactly as they share one field name in Splunk.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ctdetect {

using path_id = uint32_t;
constexpr path_id kRootPath = 0;  // the record itself; it has no name and never holds a value

class PathTable {
public:
  PathTable();

  // The id of `parent.key` (or `key` under the root), created on first use.
  path_id object_child(path_id parent, std::string_view key);
  // The id of `parent{}`, created on first use.
  path_id array_child(path_id parent);
  // The id of a full field name as written in a condition, created on first use.
  path_id intern(std::string_view full_name);

  // Names that exist now (those the detections read) keep their ids across reset_to_pinned().
  void pin() { pinned_ = names_.size(); }
  // Forgets every name created since pin(): the field names of the events seen so far, which
  // hostile events (random keys) could grow without bound. Ids handed out since pin() are
  // invalid afterwards and are handed out again for other names; pinned ids stay valid.
  void reset_to_pinned();
  size_t pinned() const { return pinned_; }

  const std::string &name(path_id id) const { return names_[id]; }
  // How many "{}" the name holds: the length of its values' array coordinates.
  uint32_t array_depth(path_id id) const { return depths_[id]; }
  size_t size() const { return names_.size(); }

private:
  struct EdgeKey {
    path_id parent;
    std::string_view key;
    bool operator==(const EdgeKey &other) const { return parent == other.parent && key == other.key; }
  };
  struct EdgeHash {
    size_t operator()(const EdgeKey &k) const noexcept {
      return std::hash<std::string_view>()(k.key) * 31u + k.parent;
    }
  };

  path_id intern_name(std::string name);

  std::vector<std::string> names_;
  std::vector<uint32_t> depths_;
  std::vector<path_id> array_children_;              // per id; kRootPath when not created yet
  // Per id, its first object children: records of one kind repeat the same few keys, and a
  // short scan of this list beats hashing every key of every event.
  struct Child {
    std::string_view key;
    path_id id;
  };
  std::vector<std::vector<Child>> recent_children_;
  static constexpr size_t kRecentChildren = 32;
  std::unordered_map<std::string_view, path_id> by_name_;  // views into key_storage_
  std::unordered_map<EdgeKey, path_id, EdgeHash> edges_;    // views into key_storage_
  std::deque<std::string> key_storage_;                      // stable addresses for the views
  size_t pinned_ = 1;                                         // ids below this survive reset_to_pinned()
};

}  // namespace ctdetect
