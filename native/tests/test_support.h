// Small helpers shared by the GoogleTest topics.
#pragma once

#include <string>
#include <vector>

#include "ctdetect/engine.h"
#include "ctdetect/flat_record.h"
#include "ctdetect/path_table.h"

namespace ctdetect_test {

// Writes `text` to a fresh file under the test's temporary folder and returns its path.
std::string write_temp_file(const std::string &name, const std::string &text);

// A detection stanza with every required key and the given condition.
std::string stanza(const std::string &id, const std::string &condition, const std::string &severity = "high");

// An engine over the given conf text (and lookup folder); fails the test if it does not load.
std::unique_ptr<ctdetect::Engine> engine_for(const std::string &conf_text, const std::string &lookup_dir = "/nonexistent");

// The fields of one record as "name=v1|v2" strings, in first-seen order.
std::vector<std::string> flattened(const std::string &json);

}  // namespace ctdetect_test
