// Detections loaded from cloudtrail_detections.conf files, checked, compiled and indexed by
// eventName so that an event only meets the conditions that can match it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "simdjson.h"

#include "ctdetect/condition.h"
#include "ctdetect/error.h"
#include "ctdetect/path_table.h"
#include "ctdetect/record_view.h"

namespace ctdetect {

enum class Severity { informational = 0, low, medium, high, critical };
const char *severity_name(Severity severity);

struct Detection {
  std::string id;
  std::string title;
  Severity severity = Severity::informational;
  std::vector<std::string> mitre_attack;
  std::string description;
  std::vector<std::string> references;
  std::string false_positives;
  std::string condition_text;
  bool disabled = false;
  std::unique_ptr<ConditionNode> condition;
};

// The detections one kind of event can match, and the fields their conditions read (with every
// prefix of those names), so such an event can be flattened selectively.
struct CandidateSet {
  std::vector<uint32_t> detections;  // indexes into RuleSet::selected(), in order
  std::vector<uint32_t> indexed;     // those selected by this eventName (the rest: unindexed ones)
  std::vector<char> relevant;        // per path id: read by one of them, or a prefix of such a name
};

class RuleSet {
public:
  // Reads `conf_paths` in precedence order (default/ then local/), checks and compiles every
  // detection, and selects those named by `rules` (comma-separated ids or * wildcards).
  static result<std::unique_ptr<RuleSet>> load(const std::vector<std::string> &conf_paths,
                                               const std::string &lookup_dir, std::string_view rules,
                                               PathTable &paths);

  const std::vector<const Detection *> &selected() const { return selected_; }
  const std::vector<std::string> &warnings() const { return warnings_; }

  // Appends the indexes (into selected()) of the detections the event matches, in order.
  void evaluate(const RecordView &view, std::vector<uint32_t> &matched) const;
  // The detections an event with this single eventName can match (an empty name: an event
  // without eventName), in order. Often empty: the event then needs no flattening at all.
  const CandidateSet &candidates_for(std::string_view event_name) const;
  void evaluate(const RecordView &view, const std::vector<uint32_t> &candidates, std::vector<uint32_t> &matched) const;
  // Narrows a candidate set with the record's DOM (already parsed and validated): detections
  // without a fixed eventName usually still require one plain field to match (userAgent=*kali*,
  // userIdentity.type=Root); those whose requirement this record certainly fails are left out.
  // Exact: when the DOM cannot tell (a repeated key, a dotted key, a number), the detection stays.
  void narrow(const CandidateSet &set, const simdjson::dom::element &root, std::vector<uint32_t> &out) const;

private:
  void build_dispatch(PathTable &paths);
  const std::vector<uint32_t> &candidates(const RecordView &view) const;

  std::vector<std::unique_ptr<Detection>> detections_;  // every detection, in definition order
  std::vector<const Detection *> selected_;             // enabled and selected by rules=
  std::map<std::string, std::unique_ptr<CidrSet>> lookups_;
  std::vector<std::string> warnings_;
  path_id event_name_path_ = kRootPath;
  // The plain-field EQUALS terms that an unindexed detection's condition requires (its top-level
  // conjuncts), each with its field name split into object keys.
  struct Requirement {
    std::vector<std::string> keys;
    uint32_t root_slot;  // keys[0] in root_keys_
    const ConditionNode *term;
  };
  struct Prefilter {
    uint32_t detection;
    std::vector<Requirement> requirements;
  };
  // What one pass over the record's top-level members found for a key the requirements start
  // with: how often it occurs (0, 1, 2 = several), its value, and whether a dotted member key
  // ("key.more") may spell the same field name.
  struct RootMember {
    uint8_t count;
    bool dotted;
    simdjson::dom::element value;
  };
  void index_root(const simdjson::dom::element &root) const;
  bool requirement_may_hold(const Requirement &requirement) const;
  std::vector<Prefilter> prefilters_;       // unindexed detections with a requirement, in order
  std::vector<uint32_t> unindexed_always_;  // unindexed detections without one
  std::vector<std::string> root_keys_;      // distinct first keys of the requirements
  std::unordered_map<std::string_view, uint32_t> root_slots_;  // views into root_keys_
  mutable std::vector<RootMember> root_members_;  // per root_keys_ entry, for the current record
  mutable bool root_is_object_ = false;
  mutable std::string lowered_value_;
  mutable std::vector<uint32_t> passing_;
  CandidateSet all_;                                         // every selected detection
  CandidateSet unindexed_;                                   // conditions without a fixed eventName
  std::unordered_map<std::string, CandidateSet> by_event_;   // lower-cased eventName -> its candidates
  mutable std::string lowered_;
};

}  // namespace ctdetect
