#include "ctdetect/engine.h"

namespace ctdetect {

result<std::unique_ptr<Engine>> Engine::create(const std::vector<std::string> &conf_paths, const std::string &lookup_dir,
                                               std::string_view rules) {
  std::unique_ptr<Engine> engine(new Engine());
  engine->chunk_ = std::make_unique<ChunkMemory>();
  auto rule_set = RuleSet::load(conf_paths, lookup_dir, rules, engine->paths_);
  if (!rule_set) { return {rule_set.error(), rule_set.detail()}; }
  engine->rules_ = std::move(rule_set).value();
  engine->paths_.pin();  // the names the detections read keep their ids for good
  return engine;
}

std::vector<std::string> Engine::detection_ids() const {
  std::vector<std::string> ids;
  for (const Detection *detection : rules_->selected()) { ids.push_back(detection->id); }
  return ids;
}

std::string_view Engine::run(std::string_view raw) {
  flattener_.load(raw);
  return run_loaded(true);
}

std::string_view Engine::run_loaded(bool need_fields) {
  matched_.clear();
  error_text_.clear();
  const CandidateSet *candidates = nullptr;
  error_code error = error_code::SUCCESS;
  if (!need_fields) {
    // Validate with one DOM parse and look up which detections this eventName can match; when
    // none, the event is done; otherwise extract only the fields their conditions read.
    std::string_view event_name;
    bool decided = true;
    error = flattener_.probe("eventName", event_name, decided);
    if (error == error_code::SUCCESS && decided) {
      candidates = &rules_->candidates_for(event_name);
      rules_->narrow(*candidates, flattener_.probed(), narrowed_);
      if (narrowed_.empty()) {
        record_.clear();
        view_.build(record_, paths_.size());
        return error_text_;
      }
    }
  }
  if (error == error_code::SUCCESS) {
    error = flattener_.flatten(record_, candidates != nullptr ? &candidates->relevant : nullptr);
  }
  if (error != error_code::SUCCESS) {
    record_.clear();
    error_text_ = error_message(error);
    if (error == error_code::INVALID_JSON) { error_text_ += ": " + flattener_.detail(); }
  }
  view_.build(record_, paths_.size());
  if (error == error_code::SUCCESS) {
    if (candidates != nullptr) {
      rules_->evaluate(view_, narrowed_, matched_);
    } else {
      rules_->evaluate(view_, matched_);
    }
  }
  return error_text_;
}

Analysis Engine::analyze(std::string_view raw) {
  Analysis analysis;
  bound_memory();
  analysis.error = std::string(run(raw));
  for (path_id path : view_.fields_in_order()) {
    std::vector<std::string> values;
    auto range = view_.values(path);
    for (const uint32_t *it = range.first; it != range.second; ++it) { values.emplace_back(record_.values[*it].text); }
    analysis.fields.emplace_back(paths_.name(path), std::move(values));
  }
  for (uint32_t index : matched_) { analysis.detections.push_back(rules_->selected()[index]->id); }
  return analysis;
}

}  // namespace ctdetect
