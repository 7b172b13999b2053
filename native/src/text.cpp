#include "ctdetect/text.h"

#include <charconv>
#include <cstdlib>

namespace ctdetect {

std::string ascii_lowered(std::string_view text) {
  std::string out(text);
  for (char &c : out) { c = ascii_lower(c); }
  return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) { return false; }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) { return false; }
  }
  return true;
}

bool parse_number(std::string_view text, double &out) {
  size_t i = 0, n = text.size();
  auto digits = [&]() {
    size_t start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') { ++i; }
    return i - start;
  };
  if (i < n && (text[i] == '+' || text[i] == '-')) { ++i; }
  size_t integer_digits = digits();
  size_t fraction_digits = 0;
  if (i < n && text[i] == '.') {
    ++i;
    fraction_digits = digits();
  }
  if (integer_digits == 0 && fraction_digits == 0) { return false; }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) { ++i; }
    if (digits() == 0) { return false; }
  }
  if (i != n) { return false; }
  // from_chars rejects a leading '+'; the grammar above has already validated the rest.
  std::string_view body = text;
  if (!body.empty() && body[0] == '+') { body.remove_prefix(1); }
  auto result = std::from_chars(body.data(), body.data() + body.size(), out);
  if (result.ec == std::errc::result_out_of_range) {
    // Beyond double's range: infinity or zero, as strtod (and Python's float()) give.
    out = std::strtod(std::string(body).c_str(), nullptr);
    return true;
  }
  return result.ec == std::errc();
}

Pattern::Pattern(std::string text, const std::vector<bool> &wildcard) : text_(std::move(text)) {
  // k wildcards split the text into k + 1 literal segments (some possibly empty).
  segments_.emplace_back();
  bool any_literal = false;
  for (size_t i = 0; i < text_.size(); ++i) {
    if (i < wildcard.size() && wildcard[i]) {
      has_wildcard_ = true;
      segments_.emplace_back();
    } else {
      segments_.back().push_back(ascii_lower(text_[i]));
      any_literal = true;
    }
  }
  matches_everything_ = has_wildcard_ && !any_literal;
  if (!has_wildcard_) { is_number_ = parse_number(text_, number_); }
}

bool Pattern::matches(std::string_view value) const {
  if (matches_everything_) { return true; }
  if (!has_wildcard_) {
    if (is_number_) {
      double number;
      if (parse_number(value, number)) { return number == number_; }
    }
    return ascii_iequals(value, segments_.front());
  }
  // Anchored glob: the first segment is a prefix, the last a suffix, the others are found left
  // to right in between (an empty first or last segment is a leading or trailing "*").
  const std::string &prefix = segments_.front();
  const std::string &suffix = segments_.back();
  if (value.size() < prefix.size() + suffix.size()) { return false; }
  if (!ascii_iequals(value.substr(0, prefix.size()), prefix)) { return false; }
  if (!ascii_iequals(value.substr(value.size() - suffix.size()), suffix)) { return false; }
  size_t pos = prefix.size();
  size_t end = value.size() - suffix.size();
  for (size_t s = 1; s + 1 < segments_.size(); ++s) {
    const std::string &segment = segments_[s];
    bool found = false;
    while (pos + segment.size() <= end) {
      if (ascii_iequals(value.substr(pos, segment.size()), segment)) {
        found = true;
        break;
      }
      ++pos;
    }
    if (!found) { return false; }
    pos += segment.size();
  }
  return true;
}

bool Pattern::matches(std::string_view value, std::string_view lowered) const {
  if (matches_everything_) { return true; }
  if (!has_wildcard_) {
    if (is_number_) {
      double number;
      if (parse_number(value, number)) { return number == number_; }
    }
    return lowered == segments_.front();
  }
  const std::string &prefix = segments_.front();
  const std::string &suffix = segments_.back();
  if (lowered.size() < prefix.size() + suffix.size()) { return false; }
  if (lowered.compare(0, prefix.size(), prefix) != 0) { return false; }
  if (lowered.compare(lowered.size() - suffix.size(), suffix.size(), suffix) != 0) { return false; }
  size_t pos = prefix.size();
  const size_t end = lowered.size() - suffix.size();
  for (size_t s = 1; s + 1 < segments_.size(); ++s) {
    const std::string &segment = segments_[s];
    size_t found = lowered.substr(0, end).find(segment, pos);
    if (found == std::string_view::npos) { return false; }
    pos = found + segment.size();
  }
  return true;
}

}  // namespace ctdetect
