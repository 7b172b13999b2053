#include "ctdetect/flattener.h"

#include <algorithm>
#include <cstring>

#include "ctdetect/csv.h"

namespace ctdetect {

namespace od = simdjson::ondemand;

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// On-Demand only looks at a number's first character when asked for its type, so the literal
// text we keep is checked here.
bool is_json_number(std::string_view text) {
  size_t i = 0, n = text.size();
  auto digits = [&](size_t &pos) {
    size_t start = pos;
    while (pos < n && text[pos] >= '0' && text[pos] <= '9') { ++pos; }
    return pos > start;
  };
  if (i < n && text[i] == '-') { ++i; }
  if (i < n && text[i] == '0') {
    ++i;
  } else if (!digits(i)) {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (!digits(i)) { return false; }
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) { ++i; }
    if (!digits(i)) { return false; }
  }
  return i == n;
}

// raw_json_token() runs to the next structural character; keep only the token itself.
std::string_view token_text(std::string_view raw) {
  size_t end = 0;
  while (end < raw.size() && !is_json_space(raw[end]) && raw[end] != ',' && raw[end] != ']' && raw[end] != '}') {
    ++end;
  }
  return raw.substr(0, end);
}

}  // namespace

error_code Flattener::fail(simdjson::error_code error) {
  detail_.assign(simdjson::error_message(error));
  return error_code::INVALID_JSON;
}

error_code Flattener::emit(path_id path, std::string_view text, FlatRecord &out) {
  out.values.push_back(FlatValue{path, text, static_cast<uint32_t>(out.coords.size()),
                                 static_cast<uint32_t>(index_stack_.size())});
  out.coords.insert(out.coords.end(), index_stack_.begin(), index_stack_.end());
  return error_code::SUCCESS;
}

error_code Flattener::walk(od::value value, path_id path, FlatRecord &out) {
  // On-Demand does not bound nesting by itself, and this walk recurses: refuse what DOM parsing
  // would refuse (simdjson's default maximum depth) before the stack does.
  if (++depth_ > kMaxDepth) {
    detail_ = "more than " + std::to_string(kMaxDepth) + " nested arrays and objects";
    return error_code::INVALID_JSON;
  }
  error_code result = walk_value(value, path, out);
  --depth_;
  return result;
}

error_code Flattener::walk_value(od::value value, path_id path, FlatRecord &out) {
  od::json_type type;
  if (auto err = value.type().get(type)) { return fail(err); }
  switch (type) {
  case od::json_type::object: {
    od::object object;
    if (auto err = value.get_object().get(object)) { return fail(err); }
    bool empty = true;
    for (auto field_result : object) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) { return fail(err); }
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) { return fail(err); }
      empty = false;
      path_id child = paths_.object_child(path, key);
      if (!wanted(child)) { continue; }
      if (auto err = walk(field.value(), child, out); err != error_code::SUCCESS) { return err; }
    }
    return empty ? emit(path, "{}", out) : error_code::SUCCESS;
  }
  case od::json_type::array: {
    od::array array;
    if (auto err = value.get_array().get(array)) { return fail(err); }
    path_id element_path = paths_.array_child(path);
    if (!wanted(element_path)) {
      // Only an empty array gives this path a value ("[]"); the elements are not wanted.
      for (auto element_result : array) {
        (void)element_result;
        return error_code::SUCCESS;
      }
      return emit(path, "[]", out);
    }
    index_stack_.push_back(0);
    for (auto element_result : array) {
      od::value element;
      if (auto err = std::move(element_result).get(element)) { return fail(err); }
      if (auto err = walk(element, element_path, out); err != error_code::SUCCESS) { return err; }
      ++index_stack_.back();
    }
    bool empty = index_stack_.back() == 0;
    index_stack_.pop_back();
    return empty ? emit(path, "[]", out) : error_code::SUCCESS;
  }
  case od::json_type::string: {
    std::string_view text;
    if (auto err = value.get_string().get(text)) { return fail(err); }
    return emit(path, text, out);
  }
  case od::json_type::number: {
    std::string_view text = token_text(value.raw_json_token());
    if (!is_json_number(text)) {
      detail_ = "malformed number '" + std::string(text.substr(0, 40)) + "'";
      return error_code::INVALID_JSON;
    }
    return emit(path, text, out);
  }
  case od::json_type::boolean: {
    bool flag;
    if (auto err = value.get_bool().get(flag)) { return fail(err); }
    return emit(path, flag ? "true" : "false", out);
  }
  case od::json_type::null: {
    bool is_null = false;
    if (auto err = value.is_null().get(is_null)) { return fail(err); }
    if (!is_null) { return fail(simdjson::N_ATOM_ERROR); }
    return emit(path, "null", out);
  }
  }
  return fail(simdjson::INCORRECT_TYPE);
}

char *Flattener::reserve(size_t size) {
  if (capacity_ < size + simdjson::SIMDJSON_PADDING) {
    capacity_ = std::max(size + simdjson::SIMDJSON_PADDING, capacity_ * 2);
    padded_.reset(new char[capacity_]);
  }
  return padded_.get();
}

void Flattener::release_buffers_over(size_t bytes) {
  if (capacity_ > bytes + simdjson::SIMDJSON_PADDING) {
    padded_.reset();
    capacity_ = 0;
    size_ = 0;
  }
  // Fresh parsers: allocate() alone would keep the DOM document's tape and string buffer.
  if (parser_.capacity() > bytes) {
    parser_ = simdjson::ondemand::parser();
    if (parser_.allocate(1 << 16, kMaxDepth + 8) != simdjson::SUCCESS) { parser_ = simdjson::ondemand::parser(); }
  }
  if (validator_.capacity() > bytes) {
    probed_ = simdjson::dom::element();
    validator_ = simdjson::dom::parser();
    if (validator_.allocate(1 << 16, kMaxDepth + 1) != simdjson::SUCCESS) { validator_ = simdjson::dom::parser(); }
  }
}

void Flattener::load(std::string_view json) {
  char *buffer = reserve(json.size());
  if (!json.empty()) { std::memcpy(buffer, json.data(), json.size()); }
  size_ = json.size();
}

void Flattener::load_csv_cell(std::string_view raw_cell) {
  // The value is never longer than its raw cell: unquote straight into the padded buffer.
  size_ = csv_unquote_into(raw_cell, reserve(raw_cell.size()));
}

bool Flattener::loaded_is_blank() const {
  for (size_t i = 0; i < size_; ++i) {
    if (!is_json_space(padded_[i])) { return false; }
  }
  return true;
}

error_code Flattener::classify_non_object() {
  simdjson::dom::element ignored;
  if (auto err = validator_.parse(padded_.get(), size_, false).get(ignored)) { return fail(err); }
  detail_.clear();
  return error_code::NOT_AN_OBJECT;
}

error_code Flattener::probe(std::string_view key, std::string_view &value, bool &decided) {
  value = {};
  decided = true;
  detail_.clear();
  if (loaded_is_blank()) { return error_code::EMPTY_EVENT; }
  simdjson::dom::element root;
  if (auto err = validator_.parse(padded_.get(), size_, false).get(root)) {
    if (err == simdjson::DEPTH_ERROR) {
      detail_ = "more than " + std::to_string(kMaxDepth) + " nested arrays and objects";
      return error_code::INVALID_JSON;
    }
    if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
      // DOM parsing refuses numbers beyond 64-bit integers and doubles; the record may still be
      // valid JSON, which flatten() keeps as text. Let it decide.
      decided = false;
      return error_code::SUCCESS;
    }
    return fail(err);
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) { return error_code::NOT_AN_OBJECT; }
  probed_ = root;
  bool seen = false;
  for (auto field : object) {
    if (field.key != key) { continue; }
    std::string_view text;
    if (seen || field.value.get_string().get(text)) {
      decided = false;  // a repeated key or a non-string value: flatten() has the full picture
      return error_code::SUCCESS;
    }
    value = text;
    seen = true;
  }
  return error_code::SUCCESS;
}

error_code Flattener::flatten(FlatRecord &out, const std::vector<char> *relevant) {
  relevant_ = relevant;
  out.clear();
  index_stack_.clear();
  detail_.clear();
  depth_ = 0;  // scalars count as a level, the record object does not: 1024 levels of nesting in all
  if (loaded_is_blank()) { return error_code::EMPTY_EVENT; }
  simdjson::padded_string_view input(padded_.get(), size_, capacity_);

  od::document document;
  if (auto err = parser_.iterate(input).get(document)) { return fail(err); }
  od::json_type type;
  if (auto err = document.type().get(type)) { return fail(err); }
  if (type != od::json_type::object) { return classify_non_object(); }

  od::object object;
  if (auto err = document.get_object().get(object)) { return fail(err); }
  for (auto field_result : object) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) { return fail(err); }
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) { return fail(err); }
    path_id child = paths_.object_child(kRootPath, key);
    if (!wanted(child)) { continue; }
    if (auto err = walk(field.value(), child, out); err != error_code::SUCCESS) { return err; }
  }
  const char *trailing = nullptr;
  if (!document.current_location().get(trailing)) {
    detail_ = "unexpected content after the object";
    return error_code::INVALID_JSON;
  }
  return error_code::SUCCESS;
}

}  // namespace ctdetect
