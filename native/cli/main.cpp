// ctdetect: run the detections over NDJSON files (one CloudTrail record per line) and print a
// table of what fired. The same engine as the search command, without Splunk.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "ctdetect/engine.h"

namespace {

const char *const kUsage =
    "usage: ctdetect --conf FILE [--conf FILE]... [--lookups DIR] [--rules LIST] [--all] FILE...\n"
    "  --conf FILE     cloudtrail_detections.conf to load (repeat: default/ first, then local/)\n"
    "  --lookups DIR   folder of the CSV lookups used by cidrlookup() (default: lookups)\n"
    "  --rules LIST    detection ids or wildcards, comma-separated (default: *)\n"
    "  --all           list every event, not only those with a detection or an error\n"
    "  FILE            NDJSON file, one CloudTrail record per line ('-' reads standard input)\n";

std::string first_value(const ctdetect::Engine &engine, const char *name) {
  for (ctdetect::path_id path : engine.view().fields_in_order()) {
    if (engine.paths().name(path) == name) {
      auto range = engine.view().values(path);
      return std::string(engine.view().record().values[*range.first].text);
    }
  }
  return "-";
}

std::string clip(const std::string &text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> confs, files;
  std::string lookups = "lookups", rules = "*";
  bool list_all = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ctdetect: %s needs a value\n%s", name, kUsage);
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (arg == "--conf") {
      confs.push_back(value("--conf"));
    } else if (arg == "--lookups") {
      lookups = value("--lookups");
    } else if (arg == "--rules") {
      rules = value("--rules");
    } else if (arg == "--all") {
      list_all = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      std::fprintf(stderr, "ctdetect: unknown option %s\n%s", arg.c_str(), kUsage);
      return 2;
    } else {
      files.push_back(arg);
    }
  }
  if (confs.empty() || files.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  auto created = ctdetect::Engine::create(confs, lookups, rules);
  if (!created) {
    std::fprintf(stderr, "ctdetect: %s: %s\n", ctdetect::error_message(created.error()), created.detail().c_str());
    return 1;
  }
  auto engine = std::move(created).value();
  for (const std::string &warning : engine->warnings()) { std::fprintf(stderr, "ctdetect: warning: %s\n", warning.c_str()); }

  std::printf("%-22s %-30s %-34s %-16s %-9s %s\n", "eventTime", "eventName", "identity", "sourceIPAddress", "severity",
              "detection / error");
  std::printf("%s\n", std::string(140, '-').c_str());
  size_t events = 0, flagged = 0, errors = 0;
  std::map<std::string, size_t> counts;
  for (const std::string &name : files) {
    std::ifstream file;
    std::istream *input = &std::cin;
    if (name != "-") {
      file.open(name, std::ios::binary);
      if (!file) {
        std::fprintf(stderr, "ctdetect: cannot read %s\n", name.c_str());
        return 1;
      }
      input = &file;
    }
    std::string line;
    while (std::getline(*input, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) { continue; }
      ++events;
      std::string error(engine->run(line));
      const auto &matched = engine->matched();
      if (!error.empty()) { ++errors; }
      if (!matched.empty()) { ++flagged; }
      if (error.empty() && matched.empty() && !list_all) { continue; }
      std::string identity = first_value(*engine, "userIdentity.arn");
      if (identity == "-") { identity = first_value(*engine, "userIdentity.invokedBy"); }
      std::string severity = "-", what;
      if (!error.empty()) { what = "cloudtrail_error: " + error; }
      ctdetect::Severity highest = ctdetect::Severity::informational;
      for (uint32_t index : matched) {
        const ctdetect::Detection *detection = engine->rules().selected()[index];
        highest = std::max(highest, detection->severity);
        what += (what.empty() ? "" : ", ") + detection->id;
        ++counts[detection->id];
      }
      if (!matched.empty()) { severity = ctdetect::severity_name(highest); }
      std::printf("%-22s %-30s %-34s %-16s %-9s %s\n", clip(first_value(*engine, "eventTime"), 22).c_str(),
                  clip(first_value(*engine, "eventName"), 30).c_str(), clip(identity, 34).c_str(),
                  clip(first_value(*engine, "sourceIPAddress"), 16).c_str(), severity.c_str(), clip(what, 90).c_str());
    }
  }
  std::printf("\n%zu events, %zu with detections, %zu not readable as CloudTrail JSON\n", events, flagged, errors);
  for (const auto &entry : counts) { std::printf("  %-50s %zu\n", entry.first.c_str(), entry.second); }
  return 0;
}
