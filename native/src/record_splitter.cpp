#include "ctdetect/record_splitter.h"

#include <cstring>

namespace ctdetect {

namespace od = simdjson::ondemand;

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && is_json_space(text.back())) { text.remove_suffix(1); }
  return text;
}

constexpr std::string_view kRecords = "Records";

}  // namespace

error_code RecordSplitter::fail(simdjson::error_code error) {
  detail_.assign(simdjson::error_message(error));
  return error_code::INVALID_JSON;
}

// Pass 1 (DOM): validates every byte of the file, finds "Records" and reads each record's fields.
error_code RecordSplitter::read_fields(std::vector<RecordSpan> &out) {
  simdjson::dom::object top;
  if (root_.get(top) != simdjson::SUCCESS) {
    detail_ = "the file is not a JSON object";
    return error_code::NOT_A_LOG_FILE;
  }
  simdjson::dom::element records_value;
  bool found = false;
  for (auto field : top) {
    if (field.key == kRecords) {
      records_value = field.value;
      found = true;
      break;
    }
  }
  if (!found) {
    detail_ = "no \"Records\" key";
    return error_code::NOT_A_LOG_FILE;
  }
  simdjson::dom::array records;
  if (records_value.get(records) != simdjson::SUCCESS) {
    detail_ = "\"Records\" is not an array";
    return error_code::NOT_A_LOG_FILE;
  }
  out.reserve(records.size());
  for (simdjson::dom::element element : records) {
    RecordSpan span;
    simdjson::dom::object record;
    if (element.get(record) == simdjson::SUCCESS) {
      // The last occurrence of a key wins, as in a JSON object read into a dictionary.
      for (auto field : record) {
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
    if (!span.has_event_time) { span.event_time = {}; }
    if (!span.has_event_name) { span.event_name = {}; }
    out.push_back(span);
  }
  return error_code::SUCCESS;
}

// Pass 2 (On-Demand): the raw text of each element of the first "Records" array. The document is
// known to be valid, so any error here is unexpected but still reported.
error_code RecordSplitter::find_spans(size_t size, std::vector<RecordSpan> &out) {
  simdjson::padded_string_view input(padded_.data(), size, padded_.size());
  od::document document;
  if (auto err = iterator_.iterate(input).get(document)) { return fail(err); }
  od::object top;
  if (auto err = document.get_object().get(top)) { return fail(err); }
  const char *base = padded_.data();
  for (auto field_result : top) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) { return fail(err); }
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) { return fail(err); }
    if (key != kRecords) { continue; }
    od::array records;
    if (auto err = field.value().get_array().get(records)) { return fail(err); }
    size_t index = 0;
    for (auto element_result : records) {
      od::value element;
      if (auto err = std::move(element_result).get(element)) { return fail(err); }
      od::json_type type;
      if (auto err = element.type().get(type)) { return fail(err); }
      std::string_view raw;
      if (type == od::json_type::object) {
        od::object object;
        if (auto err = element.get_object().get(object)) { return fail(err); }
        if (auto err = object.raw_json().get(raw)) { return fail(err); }
      } else if (type == od::json_type::array) {
        od::array array;
        if (auto err = element.get_array().get(array)) { return fail(err); }
        if (auto err = array.raw_json().get(raw)) { return fail(err); }
      } else {
        raw = element.raw_json_token();  // a scalar is one token (strings included)
      }
      raw = trim_trailing_space(raw);  // the views run to the next structural character
      if (index >= out.size()) {
        detail_ = "internal error: more records in the second pass";
        return error_code::INVALID_JSON;
      }
      out[index].offset = static_cast<uint64_t>(raw.data() - base);
      out[index].length = raw.size();
      ++index;
    }
    if (index != out.size()) {
      detail_ = "internal error: fewer records in the second pass";
      return error_code::INVALID_JSON;
    }
    return error_code::SUCCESS;
  }
  detail_ = "internal error: no \"Records\" in the second pass";
  return error_code::INVALID_JSON;
}

error_code RecordSplitter::split(std::string_view json, std::vector<RecordSpan> &out) {
  out.clear();
  detail_.clear();
  size_t first = 0;
  while (first < json.size() && is_json_space(json[first])) { ++first; }
  if (first == json.size()) {
    detail_ = "empty file";
    return error_code::NOT_A_LOG_FILE;
  }
  if (json.size() > simdjson::SIMDJSON_MAXSIZE_BYTES) {
    detail_ = "larger than 4 GiB once decompressed";
    return error_code::INVALID_JSON;
  }
  if (padded_.size() < json.size() + simdjson::SIMDJSON_PADDING) {
    padded_.resize(json.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(padded_.data(), json.data(), json.size());
  std::memset(padded_.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);

  if (auto err = validator_.parse(padded_.data(), json.size(), false).get(root_)) { return fail(err); }
  if (auto err = read_fields(out); err != error_code::SUCCESS) {
    out.clear();
    return err;
  }
  if (auto err = find_spans(json.size(), out); err != error_code::SUCCESS) {
    out.clear();
    return err;
  }
  return error_code::SUCCESS;
}

}  // namespace ctdetect
