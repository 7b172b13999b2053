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
    // Errors about one key point at the line that set it (local/ when it overrides default/).
    auto fail_at = [&](std::string_view key, const std::string &message) {
      const std::string &where = key.empty() ? stanza.origin : stanza.origin_of(key);
      return result<std::unique_ptr<RuleSet>>(error_code::DETECTION_INVALID,
                                              "detection " + stanza.name + " (" + where + "): " + message);
    };
    auto fail = [&](const std::string &message) { return fail_at({}, message); };
    if (!valid_id(stanza.name)) { return fail("the id must use only a-z, 0-9 and _"); }
    for (const auto &entry : stanza.keys) {
      if (std::find(std::begin(kKeys), std::end(kKeys), entry.first) == std::end(kKeys)) {
        return fail_at(entry.first, "unknown key '" + entry.first +
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
      return fail_at("severity", "severity '" + severity + "' is not one of informational, low, medium, high, critical");
    }
    detection->severity = static_cast<Severity>(known - std::begin(kSeverities));
    detection->mitre_attack = split_list(*stanza.find("mitre_attack"));
    for (const std::string &technique : detection->mitre_attack) {
      if (!valid_technique(technique)) { return fail_at("mitre_attack", "'" + technique + "' is not a MITRE ATT&CK technique id such as T1078 or T1078.004"); }
    }
    if (detection->mitre_attack.empty()) { return fail_at("mitre_attack", "mitre_attack lists no technique"); }
    detection->description = trimmed(*stanza.find("description"));
    if (const std::string *references = stanza.find("references")) { detection->references = split_list(*references); }
    detection->false_positives = trimmed(*stanza.find("false_positives"));
    if (const std::string *disabled = stanza.find("disabled")) {
      if (!parse_bool(*disabled, detection->disabled)) {
        return fail_at("disabled", "disabled = '" + trimmed(*disabled) + "' is not a boolean (true/false, t/f, 1/0, yes/no)");
      }
    }
    detection->condition_text = *stanza.find("condition");
    auto condition = parse_condition(detection->condition_text, paths, resolver);
    if (!condition) { return fail_at("condition", "condition " + condition.detail()); }
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
  set->build_dispatch(paths);
  return set;
}

namespace {

void collect_fields(const ConditionNode &node, std::vector<path_id> &fields) {
  switch (node.kind) {
  case NodeKind::EQUALS:
  case NodeKind::NOT_EQUALS:
  case NodeKind::COMPARE_NUMBER:
  case NodeKind::CIDR:
  case NodeKind::ANY: fields.push_back(node.field); break;
  case NodeKind::PORT_RANGE:
    fields.push_back(node.field);
    fields.push_back(node.to_field);
    fields.push_back(node.protocol_field);
    break;
  default: break;
  }
  for (const auto &child : node.children) { collect_fields(*child, fields); }
}

// Every name a selective walk must enter to reach `name`: each prefix ending before a "." or a
// "{}", each array element ("...{}"), and the name itself.
void add_with_prefixes(PathTable &paths, const std::string &name, std::vector<path_id> &out) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '.') {
      out.push_back(paths.intern(name.substr(0, i)));
    } else if (name.compare(i, 2, "{}") == 0) {
      out.push_back(paths.intern(name.substr(0, i)));
      out.push_back(paths.intern(name.substr(0, i + 2)));
    }
  }
  out.push_back(paths.intern(name));
}

}  // namespace

void RuleSet::build_dispatch(PathTable &paths) {
  std::vector<std::vector<path_id>> relevant(selected_.size());
  for (size_t i = 0; i < selected_.size(); ++i) {
    std::vector<path_id> fields;
    collect_fields(*selected_[i]->condition, fields);
    fields.push_back(event_name_path_);
    for (path_id field : fields) {
      std::string name = paths.name(field);
      add_with_prefixes(paths, name, relevant[i]);
    }
  }
  auto finish = [&](CandidateSet &set) {
    set.relevant.assign(paths.size(), 0);
    for (uint32_t index : set.detections) {
      for (path_id path : relevant[index]) { set.relevant[path] = 1; }
    }
  };

  std::map<std::string, std::vector<uint32_t>> indexed;
  for (uint32_t i = 0; i < selected_.size(); ++i) {
    all_.detections.push_back(i);
    std::set<std::string> names;
    if (fixed_event_names(*selected_[i]->condition, event_name_path_, names)) {
      for (const std::string &name : names) { indexed[name].push_back(i); }
      continue;
    }
    unindexed_.detections.push_back(i);
    // A requirement the DOM probe can check: a top-level conjunct field=value on a name without
    // arrays (so its value is one plain JSON member reached through object keys).
    const ConditionNode &root = *selected_[i]->condition;
    auto usable = [&](const ConditionNode &node) {
      return node.kind == NodeKind::EQUALS && paths.name(node.field).find("{}") == std::string::npos;
    };
    std::vector<const ConditionNode *> terms;
    if (usable(root)) { terms.push_back(&root); }
    if (root.kind == NodeKind::AND) {
      for (const auto &child : root.children) {
        if (usable(*child)) { terms.push_back(child.get()); }
      }
    }
    if (terms.empty()) {
      unindexed_always_.push_back(i);
      continue;
    }
    Prefilter prefilter{i, {}};
    for (const ConditionNode *term : terms) {
      Requirement requirement{{}, 0, term};
      const std::string &name = paths.name(term->field);
      for (size_t start = 0;;) {
        size_t dot = name.find('.', start);
        requirement.keys.push_back(name.substr(start, dot - start));
        if (dot == std::string::npos) { break; }
        start = dot + 1;
      }
      auto known = std::find(root_keys_.begin(), root_keys_.end(), requirement.keys[0]);
      requirement.root_slot = static_cast<uint32_t>(known - root_keys_.begin());
      if (known == root_keys_.end()) { root_keys_.push_back(requirement.keys[0]); }
      prefilter.requirements.push_back(std::move(requirement));
    }
    prefilters_.push_back(std::move(prefilter));
  }
  // root_keys_ no longer changes: the map's views stay valid.
  for (uint32_t slot = 0; slot < root_keys_.size(); ++slot) { root_slots_.emplace(root_keys_[slot], slot); }
  root_members_.resize(root_keys_.size());
  for (auto &entry : indexed) {
    CandidateSet merged;
    merged.indexed = entry.second;
    std::merge(entry.second.begin(), entry.second.end(), unindexed_.detections.begin(), unindexed_.detections.end(),
               std::back_inserter(merged.detections));
    finish(merged);
    by_event_.emplace(entry.first, std::move(merged));
  }
  finish(all_);
  finish(unindexed_);
}

void RuleSet::index_root(const simdjson::dom::element &root) const {
  for (RootMember &member : root_members_) { member = RootMember{0, false, {}}; }
  simdjson::dom::object object;
  root_is_object_ = !root.get_object().get(object);
  if (!root_is_object_ || root_slots_.empty()) { return; }
  for (auto member : object) {
    std::string_view key = member.key;
    size_t dot = key.find('.');
    auto found = root_slots_.find(dot == std::string_view::npos ? key : key.substr(0, dot));
    if (found == root_slots_.end()) { continue; }
    RootMember &slot = root_members_[found->second];
    if (dot != std::string_view::npos) {
      slot.dotted = true;
    } else {
      slot.count = static_cast<uint8_t>(slot.count < 2 ? slot.count + 1 : 2);
      slot.value = member.value;
    }
  }
}

bool RuleSet::requirement_may_hold(const Requirement &requirement) const {
  if (!root_is_object_) { return false; }  // no member of that name can exist
  const RootMember &first = root_members_[requirement.root_slot];
  if (first.dotted || first.count > 1) { return true; }  // let flattening decide (see below)
  if (first.count == 0) { return false; }
  simdjson::dom::element current = first.value;
  for (size_t level = 1; level < requirement.keys.size(); ++level) {
    const std::string &key = requirement.keys[level];
    simdjson::dom::object object;
    if (current.get_object().get(object)) { return false; }  // no member of that name can exist
    size_t count = 0;
    simdjson::dom::element next;
    for (auto member : object) {
      if (member.key == key) {
        ++count;
        next = member.value;
      } else if (member.key.size() > key.size() && member.key.compare(0, key.size(), key) == 0 &&
                 member.key[key.size()] == '.') {
        return true;  // a key with a dot may spell the same field name: let flattening decide
      }
    }
    if (count == 0) { return false; }
    if (count > 1) { return true; }  // repeated key: several values, flattening has them all
    current = next;
  }
  std::string_view text;
  switch (current.type()) {
  case simdjson::dom::element_type::STRING: text = current.get_string().value_unsafe(); break;
  case simdjson::dom::element_type::BOOL: text = current.get_bool().value_unsafe() ? "true" : "false"; break;
  case simdjson::dom::element_type::NULL_VALUE: text = "null"; break;
  case simdjson::dom::element_type::OBJECT: {
    simdjson::dom::object object = current.get_object().value_unsafe();
    if (object.begin() != object.end()) { return false; }  // its members have longer names
    text = "{}";
    break;
  }
  case simdjson::dom::element_type::ARRAY: {
    simdjson::dom::array array = current.get_array().value_unsafe();
    if (array.begin() != array.end()) { return false; }  // its elements are named ...{}
    text = "[]";
    break;
  }
  default: return true;  // a number: its literal text is not in the DOM
  }
  lowered_value_.assign(text);
  for (char &c : lowered_value_) { c = ascii_lower(c); }
  for (const Pattern &pattern : requirement.term->patterns) {
    if (pattern.matches(text, lowered_value_)) { return true; }
  }
  return false;
}

void RuleSet::narrow(const CandidateSet &set, const simdjson::dom::element &root, std::vector<uint32_t> &out) const {
  passing_.clear();
  if (!prefilters_.empty()) { index_root(root); }
  auto always = unindexed_always_.begin();
  for (const Prefilter &prefilter : prefilters_) {
    while (always != unindexed_always_.end() && *always < prefilter.detection) { passing_.push_back(*always++); }
    bool may_match = true;
    for (const Requirement &requirement : prefilter.requirements) {
      if (!requirement_may_hold(requirement)) {
        may_match = false;
        break;
      }
    }
    if (may_match) { passing_.push_back(prefilter.detection); }
  }
  passing_.insert(passing_.end(), always, unindexed_always_.end());
  out.clear();
  std::merge(set.indexed.begin(), set.indexed.end(), passing_.begin(), passing_.end(), std::back_inserter(out));
}

const CandidateSet &RuleSet::candidates_for(std::string_view event_name) const {
  if (event_name.empty() || by_event_.empty()) { return unindexed_; }
  lowered_.assign(event_name);
  for (char &c : lowered_) { c = ascii_lower(c); }
  auto found = by_event_.find(lowered_);
  return found == by_event_.end() ? unindexed_ : found->second;
}

const std::vector<uint32_t> &RuleSet::candidates(const RecordView &view) const {
  auto values = view.values(event_name_path_);
  if (values.second - values.first > 1) { return all_.detections; }  // duplicate eventName keys: check all
  if (values.first == values.second) { return unindexed_.detections; }
  return candidates_for(view.record().values[*values.first].text).detections;
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
