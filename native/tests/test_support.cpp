#include "test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "ctdetect/flattener.h"
#include "ctdetect/record_view.h"

namespace ctdetect_test {

std::string write_temp_file(const std::string &name, const std::string &text) {
  static int counter = 0;
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/ctdetect_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string stanza(const std::string &id, const std::string &condition, const std::string &severity) {
  return "[" + id + "]\ntitle = Title of " + id + "\nseverity = " + severity +
         "\nmitre_attack = T1078.004\ndescription = d\nfalse_positives = f\ncondition = " + condition + "\n\n";
}

std::unique_ptr<ctdetect::Engine> engine_for(const std::string &conf_text, const std::string &lookup_dir) {
  auto engine = ctdetect::Engine::create({write_temp_file("detections.conf", conf_text)}, lookup_dir, "*");
  EXPECT_TRUE(engine) << engine.detail();
  if (!engine) { return nullptr; }
  return std::move(engine).value();
}

std::vector<std::string> flattened(const std::string &json) {
  ctdetect::PathTable paths;
  ctdetect::Flattener flattener(paths);
  ctdetect::FlatRecord record;
  EXPECT_EQ(flattener.flatten(json, record), ctdetect::error_code::SUCCESS) << flattener.detail();
  ctdetect::RecordView view;
  view.build(record, paths.size());
  std::vector<std::string> out;
  for (ctdetect::path_id path : view.fields_in_order()) {
    std::string line = paths.name(path) + "=";
    auto range = view.values(path);
    for (const uint32_t *it = range.first; it != range.second; ++it) {
      if (it != range.first) { line += "|"; }
      line += std::string(record.values[*it].text);
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace ctdetect_test
