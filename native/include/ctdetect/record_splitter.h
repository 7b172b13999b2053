// Splits one CloudTrail log file ({"Records":[...]}) into the byte ranges of its records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"

#include "ctdetect/error.h"

namespace ctdetect {

// One element of the top-level "Records" array.
struct RecordSpan {
  uint64_t offset = 0;  // first byte of the element's JSON text in the document
  uint64_t length = 0;  // its length in bytes: document.substr(offset, length) is the record as written
  // The record's string fields "eventTime" and "eventName", unescaped. Present only when the record
  // is an object whose (last) such key holds a string. The views point into the splitter and stay
  // valid until its next split().
  std::string_view event_time, event_name;
  bool has_event_time = false, has_event_name = false;
  int8_t read_only = -1;  // the record's boolean "readOnly": 1 true, 0 false, -1 absent or not a boolean
};

// Reusable: keeps its buffers between files, as a simdjson parser does.
class RecordSplitter {
public:
  // Splits `json` (the decompressed bytes of one log file) into `out`, in document order.
  // Returns SUCCESS; INVALID_JSON when the document does not parse (anywhere: every byte is
  // validated, UTF-8 included); NOT_A_LOG_FILE when it is valid JSON but not a CloudTrail log file
  // (empty, not an object, no "Records" key, "Records" not an array: a digest file, another
  // object). detail() says what went wrong. When "Records" appears more than once the first is used.
  error_code split(std::string_view json, std::vector<RecordSpan> &out);
  const std::string &detail() const { return detail_; }

private:
  error_code fail(simdjson::error_code error);
  error_code read_fields(std::vector<RecordSpan> &out);
  error_code find_spans(size_t size, std::vector<RecordSpan> &out);

  simdjson::dom::parser validator_;  // validates the whole file and reads the fields
  simdjson::dom::element root_;
  simdjson::ondemand::parser iterator_;  // finds each record's raw span
  std::string padded_;                   // the document followed by SIMDJSON_PADDING bytes
  std::string detail_;
};

}  // namespace ctdetect
