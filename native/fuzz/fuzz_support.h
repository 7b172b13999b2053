// Shared helpers of the libFuzzer targets (native/fuzz/*_fuzzer.cpp). Built only with
// -DCTDETECT_BUILD_FUZZ=ON (clang); see README.md, "Fuzzing".
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "ctdetect/engine.h"

// An invariant that must hold for every input: a violation is a finding (libFuzzer saves the
// input as crash-<sha1> and the run fails), exactly like a sanitizer report.
#define FUZZ_CHECK(condition, ...)                                                              \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, #condition); \
      std::fprintf(stderr, __VA_ARGS__);                                                        \
      std::fprintf(stderr, "\n");                                                               \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace ctdetect_fuzz {

// The engine over the app's own detections (default/cloudtrail_detections.conf and lookups/ of
// the checkout), created once per process.
inline ctdetect::Engine &shipped_engine() {
  static std::unique_ptr<ctdetect::Engine> engine = [] {
    std::string root = CTDETECT_SOURCE_DIR;
    auto created = ctdetect::Engine::create({root + "/default/cloudtrail_detections.conf"}, root + "/lookups", "*");
    if (!created) {
      std::fprintf(stderr, "cannot load the detections: %s\n", created.detail().c_str());
      std::abort();
    }
    return std::move(created).value();
  }();
  return *engine;
}

inline bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace ctdetect_fuzz
