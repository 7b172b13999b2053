// Text rules shared by conditions and options: ASCII case folding, SPL numbers, "*" wildcards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ctdetect {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string ascii_lowered(std::string_view text);
bool ascii_iequals(std::string_view a, std::string_view b);

// A number as conditions understand it: [+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?
// (no spaces, no "inf"/"nan", no hex). Returns false for anything else.
bool parse_number(std::string_view text, double &out);

// A value pattern from a condition: literal text and "*" wildcards, matched case-insensitively
// against the whole value.
class Pattern {
public:
  Pattern() = default;
  // `wildcard[i]` says whether text[i] is a wildcard "*" (false for an escaped literal "*").
  Pattern(std::string text, const std::vector<bool> &wildcard);

  bool matches(std::string_view value) const;
  // The same, given the value and its ASCII-lowered copy: when one value meets many patterns
  // (IN lists of wildcards), it is lowered once and searched with memchr-based find.
  bool matches(std::string_view value, std::string_view lowered) const;
  bool matches_everything() const { return matches_everything_; }
  bool has_wildcard() const { return has_wildcard_; }
  bool is_number() const { return is_number_; }
  double number() const { return number_; }
  const std::string &text() const { return text_; }  // as written, for messages and dispatch

private:
  std::string text_;
  std::vector<std::string> segments_;  // lower-cased literal runs between wildcards
  bool has_wildcard_ = false;
  bool matches_everything_ = false;
  bool is_number_ = false;
  double number_ = 0;
};

}  // namespace ctdetect
