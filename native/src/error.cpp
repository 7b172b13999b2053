#include "ctdetect/error.h"

namespace ctdetect {

namespace {
constexpr const char *kMessages[] = {
    "success",
    "empty event",
    "invalid JSON",
    "not a JSON object",
    "malformed CSV body",
    "configuration syntax error",
    "invalid detection",
    "invalid lookup",
    "unknown detection in rules",
    "cannot read file",
    "not a CloudTrail log file",
};
static_assert(sizeof(kMessages) / sizeof(kMessages[0]) == static_cast<size_t>(error_code::NUM_ERROR_CODES),
              "one message per error code");
}  // namespace

const char *error_message(error_code code) noexcept {
  auto index = static_cast<size_t>(code);
  if (index >= static_cast<size_t>(error_code::NUM_ERROR_CODES)) { return "unknown error"; }
  return kMessages[index];
}

}  // namespace ctdetect
