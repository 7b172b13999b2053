// libFuzzer target: CloudTrail log files (arbitrary bytes) through RecordSplitter::split.
//
// Invariants checked:
//  - the outcome agrees with simdjson's DOM parser: blank -> NOT_A_LOG_FILE; invalid JSON ->
//    INVALID_JSON; valid JSON -> SUCCESS exactly when it is an object whose first "Records" is an
//    array, with one span per element. Errors leave no spans and say why in detail().
//  - every span is a byte range inside the input, spans are in document order without overlap,
//    and each one is the JSON text of its element: it parses alone (simdjson DOM) to a value of
//    the element's type, whose eventTime/eventName/readOnly are those the splitter reported.
//  - a file rebuilt as {"Records":[span,span,...]} splits into the same records again.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"

#include "ctdetect/record_splitter.h"
#include "fuzz_support.h"

using namespace ctdetect;

namespace {

bool is_blank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') { return false; }
  }
  return true;
}

// The fields the splitter reports, read from the element's own DOM (last occurrence wins).
void expected_fields(simdjson::dom::element element, RecordSpan &span) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) { return; }
  for (auto field : object) {
    if (field.key == "eventTime") {
      span.has_event_time = field.value.get(span.event_time) == simdjson::SUCCESS;
    } else if (field.key == "eventName") {
      span.has_event_name = field.value.get(span.event_name) == simdjson::SUCCESS;
    } else if (field.key == "readOnly") {
      bool flag = false;
      span.read_only = field.value.get(flag) == simdjson::SUCCESS ? (flag ? 1 : 0) : -1;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  static RecordSplitter splitter, again;
  static std::vector<RecordSpan> spans, again_spans;
  static simdjson::dom::parser dom, element_dom;
  error_code error = splitter.split(input, spans);

  if (error != error_code::SUCCESS) {
    FUZZ_CHECK(spans.empty(), "an error (%d) left %zu spans", static_cast<int>(error), spans.size());
    FUZZ_CHECK(!splitter.detail().empty(), "an error (%d) without detail", static_cast<int>(error));
  }
  if (is_blank(input)) {
    FUZZ_CHECK(error == error_code::NOT_A_LOG_FILE, "a blank file gave %d", static_cast<int>(error));
    return 0;
  }
  simdjson::padded_string padded(input);
  simdjson::dom::element root;
  if (dom.parse(padded).get(root) != simdjson::SUCCESS) {
    FUZZ_CHECK(error == error_code::INVALID_JSON, "invalid JSON gave %d", static_cast<int>(error));
    return 0;
  }
  simdjson::dom::array records;
  bool is_log = false;
  simdjson::dom::object top;
  if (root.get(top) == simdjson::SUCCESS) {
    for (auto field : top) {
      if (field.key == "Records") {
        is_log = field.value.get(records) == simdjson::SUCCESS;
        break;
      }
    }
  }
  if (!is_log) {
    FUZZ_CHECK(error == error_code::NOT_A_LOG_FILE, "a file that is not a log file gave %d", static_cast<int>(error));
    return 0;
  }
  FUZZ_CHECK(error == error_code::SUCCESS, "a log file gave %d: %s", static_cast<int>(error), splitter.detail().c_str());
  FUZZ_CHECK(spans.size() == records.size(), "%zu spans for %zu records", spans.size(), records.size());

  std::string rebuilt = "{\"Records\":[";
  uint64_t previous_end = 0;
  size_t i = 0;
  for (simdjson::dom::element element : records) {
    const RecordSpan &span = spans[i];
    FUZZ_CHECK(span.offset <= size && span.length <= size - span.offset, "span %zu [%llu, +%llu) outside %zu bytes", i,
               static_cast<unsigned long long>(span.offset), static_cast<unsigned long long>(span.length), size);
    FUZZ_CHECK(span.offset >= previous_end && span.length > 0, "span %zu overlaps the previous one or is empty", i);
    previous_end = span.offset + span.length;
    std::string_view text = input.substr(span.offset, span.length);
    simdjson::padded_string alone(text);
    simdjson::dom::element parsed;
    FUZZ_CHECK(element_dom.parse(alone).get(parsed) == simdjson::SUCCESS, "span %zu is not JSON alone: %.*s", i,
               static_cast<int>(std::min<size_t>(text.size(), 200)), text.data());
    FUZZ_CHECK(parsed.type() == element.type(), "span %zu has another type than its element", i);
    RecordSpan expected;
    expected_fields(parsed, expected);
    FUZZ_CHECK(expected.has_event_time == span.has_event_time && (!span.has_event_time || expected.event_time == span.event_time),
               "span %zu: eventTime differs", i);
    FUZZ_CHECK(expected.has_event_name == span.has_event_name && (!span.has_event_name || expected.event_name == span.event_name),
               "span %zu: eventName differs", i);
    FUZZ_CHECK(expected.read_only == span.read_only, "span %zu: readOnly %d, expected %d", i, span.read_only, expected.read_only);
    if (i != 0) { rebuilt.push_back(','); }
    rebuilt.append(text);
    ++i;
  }
  rebuilt += "]}";
  FUZZ_CHECK(again.split(rebuilt, again_spans) == error_code::SUCCESS, "the rebuilt file does not split: %s",
             again.detail().c_str());
  FUZZ_CHECK(again_spans.size() == spans.size(), "the rebuilt file has %zu records, not %zu", again_spans.size(), spans.size());
  for (size_t k = 0; k < spans.size(); ++k) {
    FUZZ_CHECK(again_spans[k].length == spans[k].length &&
                   rebuilt.compare(again_spans[k].offset, again_spans[k].length, input.substr(spans[k].offset, spans[k].length)) == 0,
               "record %zu changed in the rebuilt file", k);
  }
  return 0;
}
