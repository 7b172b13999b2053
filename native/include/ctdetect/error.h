// Error codes and result<T>: errors are values on every path that runs per event.
#pragma once

#include <string>
#include <utility>

namespace ctdetect {

enum class error_code {
  SUCCESS = 0,
  EMPTY_EVENT,        // the JSON field is empty or missing from the row
  INVALID_JSON,       // the field does not parse as JSON
  NOT_AN_OBJECT,      // valid JSON, but not an object
  CSV_MALFORMED,      // an execute body that is not CSV (unterminated quote...)
  CONF_SYNTAX,        // a .conf line that is neither a stanza, a comment nor key = value
  DETECTION_INVALID,  // a detection with a missing key, a bad severity, a bad condition...
  LOOKUP_INVALID,     // a lookup that cannot be read
  RULES_UNKNOWN,      // rules= names no detection
  IO_ERROR,           // a file that cannot be read
  NOT_A_LOG_FILE,     // valid JSON, but not a CloudTrail log file ({"Records":[...]}): a digest file...
  NUM_ERROR_CODES
};

// One message per code; tests keep it in step with the enum.
const char *error_message(error_code code) noexcept;

// A value or an error, as simdjson's simdjson_result: check `error()` before `value()`.
template <typename T> class result {
public:
  result(T value) : value_(std::move(value)), error_(error_code::SUCCESS) {}  // NOLINT: implicit on purpose
  result(error_code error, std::string detail = {}) : value_(), error_(error), detail_(std::move(detail)) {}

  error_code error() const noexcept { return error_; }
  explicit operator bool() const noexcept { return error_ == error_code::SUCCESS; }
  const std::string &detail() const noexcept { return detail_; }
  T &value() & { return value_; }
  T &&value() && { return std::move(value_); }

private:
  T value_;
  error_code error_;
  std::string detail_;  // human-readable context: file, line, detection id, position
};

}  // namespace ctdetect
