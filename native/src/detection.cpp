#include "ctdetect/detection.h"

#include <algorithm>
#include <set>

#include "ctdetect/conf.h"
#include "ctdetect/text.h"

namespace ctdetect {

namespace {

const char *const kSeverities[] = {"informational", "low", "medium", "high", "critical"};
const char *const kKeys[] = {"title", "severity", "mitre_attack", "description", "references",
                             "false_positives", "condition", "disabled"};
const char *const kRequiredKeys[] = {"title", "severity", "mitre_attack", "description", "false_positives", "condition"};

std::string trimmed(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) { return {}; }
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) { comma = text.size(); }
    std::string item = trimmed(text.substr(start, comma - start));
    if (!item.empty()) { items.push_back(std::move(item)); }
    start = comma + 1;
  }
  return items;
}

bool valid_id(std::string_view id) {
  if (id.empty()) { return false; }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) { return false; }
  }
  return true;
}

// T1234 or T1234.567
bool valid_technique(std::string_view id) {
  auto digits = [&](size_t from, size_t count) {
    if (id.size() < from + count) { return false; }
    for (size_t i = from; i < from + count; ++i) {
      if (id[i] < '0' || id[i] > '9') { return false; }
    }
    return true;
  };
  if (id.size() != 5 && id.size() != 9) { return false; }
  if (id[0] != 'T' || !digits(1, 4)) { return false; }
  return id.size() == 5 || (id[5] == '.' && digits(6, 3));
}

bool parse_bool(std::string_view text, bool &out) {
  std::string value = ascii_lowered(trimmed(text));
  if (value == "true" || value == "t" || value == "1" || value == "yes") {
    out = true;
    return true;
  }
  if (value == "false" || value == "f" || value == "0" || value == "no") {
    out = false;
    return true;
  }
  return false;
}

// The event names a condition is limited to, when it is: eventName=X, eventName IN (...), an
// AND holding one of those, or an OR of such terms. Wildcards and numbers disable the index.
bool fixed_event_names(const ConditionNode &node, path_id event_name, std::set<std::string> &names) {
  switch (node.kind) {
  case NodeKind::EQUALS:
    if (node.field != event_name) { return false; }
    for (const Pattern &pattern : node.patterns) {
      if (pattern.has_wildcard() || pattern.is_number()) { return false; }
    }
    for (const Pattern &pattern : node.patterns) { names.insert(ascii_lowered(pattern.text())); }
    return true;
  case NodeKind::AND:
    for (const auto &child : node.children) {
      std::set<std::string> child_names;
      if (fixed_event_names(*child, event_name, child_names)) {
        names.insert(child_names.begin(), child_names.end());
        return true;
      }
    }
    return false;
  case NodeKind::OR:
    for (const auto &child : node.children) {
      if (!fixed_event_names(*child, event_name, names)) { return false; }
    }
    return true;
  default: return false;
  }
}

}  // namespace

const char *severity_name(Severity severity) { return kSeverities[static_cast<int>(severity)]; }

result<std::unique_ptr<RuleSet>> RuleSet::load(const std::vector<std::string> &conf_paths, const std::string &lookup_dir,
                                               std::string_view rules, PathTable &paths) {
  auto set = std::unique_ptr<RuleSet>(new RuleSet());
  ConfFile conf;
  std::string detail;
  for (const std::string &path : conf_paths) {
    if (auto error = conf.merge_file(path, detail); error != error_code::SUCCESS) { return {error, detail}; }
  }
  conf.apply_defaults();

  LookupResolver resolver = [&](const std::string &name, std::string &error) -> const CidrSet * {
    auto found = set->lookups_.find(name);
    if (found != set->lookups_.end()) { return found->second.get(); }
    auto cidrs = std::make_unique<CidrSet>();
    std::string path = lookup_dir + "/" + name + ".csv";
    if (load_cidr_lookup(path, *cidrs, set->warnings_, error) != error_code::SUCCESS) { return nullptr; }
    const CidrSet *loaded = cidrs.get();
    set->lookups_.emplace(name, std::move(cidrs));
    return loaded;
  };

  for (const ConfStanza &stanza : conf.stanzas) {
    auto fail = [&](const std::string &message) {
      return result<std::unique_ptr<RuleSet>>(error_code::DETECTION_INVALID,
                                              "detection " + stanza.name + " (" + stanza.origin + "): " + message);
    };
    if (!valid_id(stanza.name)) { return fail("the id must use only a-z, 0-9 and _"); }
    for (const auto &entry : stanza.keys) {
      if (std::find(std::begin(kKeys), std::end(kKeys), entry.first) == std::end(kKeys)) {
        return fail("unknown key '" + entry.first +
                    "'; valid keys: title, severity, mitre_attack, description, references, false_positives, condition, disabled");
      }
    }
    for (const char *key : kRequiredKeys) {
      const std::string *value = stanza.find(key);
      if (value == nullptr || trimmed(*value).empty()) { return fail(std::string("the key '") + key + "' is missing or empty"); }
    }
    auto detection = std::make_unique<Detection>();
    detection->id = stanza.name;
    detection->title = trimmed(*stanza.find("title"));
    std::string severity = ascii_lowered(trimmed(*stanza.find("severity")));
    auto known = std::find(std::begin(kSeverities), std::end(kSeverities), severity);
    if (known == std::end(kSeverities)) {
      return fail("severity '" + severity + "' is not one of informational, low, medium, high, critical");
    }
    detection->severity = static_cast<Severity>(known - std::begin(kSeverities));
    detection->mitre_attack = split_list(*stanza.find("mitre_attack"));
    for (const std::string &technique : detection->mitre_attack) {
      if (!valid_technique(technique)) { return fail("'" + technique + "' is not a MITRE ATT&CK technique id such as T1078 or T1078.004"); }
    }
    if (detection->mitre_attack.empty()) { return fail("mitre_attack lists no technique"); }
    detection->description = trimmed(*stanza.find("description"));
    if (const std::string *references = stanza.find("references")) { detection->references = split_list(*references); }
    detection->false_positives = trimmed(*stanza.find("false_positives"));
    if (const std::string *disabled = stanza.find("disabled")) {
      if (!parse_bool(*disabled, detection->disabled)) {
        return fail("disabled = '" + trimmed(*disabled) + "' is not a boolean (true/false, t/f, 1/0, yes/no)");
      }
    }
    detection->condition_text = *stanza.find("condition");
    auto condition = parse_condition(detection->condition_text, paths, resolver);
    if (!condition) { return fail("condition " + condition.detail()); }
    detection->condition = std::move(condition).value();
    set->detections_.push_back(std::move(detection));
  }

  // rules=: every entry must name at least one detection; disabled ones are then left out.
  std::vector<std::string> entries = split_list(rules);
  if (entries.empty()) { return {error_code::RULES_UNKNOWN, "rules is empty; give detection ids or wildcards, e.g. rules=\"aws_console_*\""}; }
  std::vector<Pattern> patterns;
  for (const std::string &entry : entries) {
    std::vector<bool> wildcard(entry.size());
    for (size_t i = 0; i < entry.size(); ++i) { wildcard[i] = entry[i] == '*'; }
    patterns.emplace_back(entry, wildcard);
    bool any = false;
    for (const auto &detection : set->detections_) { any = any || patterns.back().matches(detection->id); }
    if (!any) {
      std::string valid;
      for (const auto &detection : set->detections_) { valid += (valid.empty() ? "" : ", ") + detection->id; }
      return {error_code::RULES_UNKNOWN, "rules: '" + entry + "' matches no detection; valid detections: " + valid};
    }
  }
  for (const auto &detection : set->detections_) {
    if (detection->disabled) { continue; }
    for (const Pattern &pattern : patterns) {
      if (pattern.matches(detection->id)) {
        set->selected_.push_back(detection.get());
        break;
      }
    }
  }
  if (set->selected_.empty()) { return {error_code::RULES_UNKNOWN, "rules: '" + std::string(rules) + "' selects only disabled detections"}; }
  set->event_name_path_ = paths.intern("eventName");
  set->build_dispatch();
  return set;
}

void RuleSet::build_dispatch() {
  std::map<std::string, std::vector<uint32_t>> indexed;
  for (uint32_t i = 0; i < selected_.size(); ++i) {
    all_.push_back(i);
    std::set<std::string> names;
    if (fixed_event_names(*selected_[i]->condition, event_name_path_, names)) {
      for (const std::string &name : names) { indexed[name].push_back(i); }
    } else {
      unindexed_.push_back(i);
    }
  }
  for (auto &entry : indexed) {
    std::vector<uint32_t> merged;
    std::merge(entry.second.begin(), entry.second.end(), unindexed_.begin(), unindexed_.end(), std::back_inserter(merged));
    by_event_.emplace(entry.first, std::move(merged));
  }
}

const std::vector<uint32_t> &RuleSet::candidates_for(std::string_view event_name) const {
  if (event_name.empty() || by_event_.empty()) { return unindexed_; }
  lowered_.assign(event_name);
  for (char &c : lowered_) { c = ascii_lower(c); }
  auto found = by_event_.find(lowered_);
  return found == by_event_.end() ? unindexed_ : found->second;
}

const std::vector<uint32_t> &RuleSet::candidates(const RecordView &view) const {
  auto values = view.values(event_name_path_);
  if (values.second - values.first > 1) { return all_; }  // duplicate eventName keys: check all
  if (values.first == values.second) { return unindexed_; }
  return candidates_for(view.record().values[*values.first].text);
}

void RuleSet::evaluate(const RecordView &view, std::vector<uint32_t> &matched) const {
  evaluate(view, candidates(view), matched);
}

void RuleSet::evaluate(const RecordView &view, const std::vector<uint32_t> &candidates,
                       std::vector<uint32_t> &matched) const {
  for (uint32_t index : candidates) {
    if (evaluate_condition(*selected_[index]->condition, view, Scope{})) { matched.push_back(index); }
  }
}

}  // namespace ctdetect
