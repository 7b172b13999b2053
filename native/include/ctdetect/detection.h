// Detections loaded from cloudtrail_detections.conf files, checked, compiled and indexed by
// eventName so that an event only meets the conditions that can match it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  const std::vector<uint32_t> &candidates_for(std::string_view event_name) const;
  void evaluate(const RecordView &view, const std::vector<uint32_t> &candidates, std::vector<uint32_t> &matched) const;

private:
  void build_dispatch();
  const std::vector<uint32_t> &candidates(const RecordView &view) const;

  std::vector<std::unique_ptr<Detection>> detections_;  // every detection, in definition order
  std::vector<const Detection *> selected_;             // enabled and selected by rules=
  std::map<std::string, std::unique_ptr<CidrSet>> lookups_;
  std::vector<std::string> warnings_;
  path_id event_name_path_ = kRootPath;
  std::vector<uint32_t> all_;                                         // every selected index
  std::vector<uint32_t> unindexed_;                                   // conditions without a fixed eventName
  std::unordered_map<std::string, std::vector<uint32_t>> by_event_;   // lower-cased eventName -> sorted indexes
  mutable std::string lowered_;
};

}  // namespace ctdetect
