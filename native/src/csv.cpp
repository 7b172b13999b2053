#include "ctdetect/csv.h"

#include <cstring>

namespace ctdetect {

error_code CsvReader::next_row(std::vector<std::string_view> &cells, bool &has_row) {
  cells.clear();
  has_row = position_ < data_.size();
  if (!has_row) { return error_code::SUCCESS; }
  const char *data = data_.data();
  const size_t size = data_.size();
  size_t pos = position_;
  while (true) {
    size_t start = pos;
    if (pos < size && data[pos] == '"') {
      // Quoted: run to the closing quote (a doubled quote is content), then to the separator.
      ++pos;
      while (true) {
        const void *quote = std::memchr(data + pos, '"', size - pos);
        if (quote == nullptr) { return error_code::CSV_MALFORMED; }
        const char *q = static_cast<const char *>(quote);
        for (const char *p = data + pos; p < q; ++p) {
          if (*p == '\n') { ++line_; }
        }
        pos = static_cast<size_t>(q - data) + 1;
        if (pos < size && data[pos] == '"') {
          ++pos;
          continue;
        }
        break;
      }
    }
    while (pos < size && data[pos] != ',' && data[pos] != '\n' && data[pos] != '\r') { ++pos; }
    cells.emplace_back(data + start, pos - start);
    if (pos < size && data[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < size && data[pos] == '\r') { ++pos; }
    if (pos < size && data[pos] == '\n') { ++pos; }
    ++line_;
    break;
  }
  position_ = pos;
  return error_code::SUCCESS;
}

std::string_view csv_unquote(std::string_view raw, std::string &scratch) {
  if (raw.empty() || raw.front() != '"') { return raw; }
  // Common case: "text" with no doubled quote inside and nothing after the closing quote.
  std::string_view inner = raw.substr(1);
  size_t quote = inner.find('"');
  if (quote != std::string_view::npos && quote + 1 == inner.size()) { return inner.substr(0, quote); }
  scratch.clear();
  size_t i = 1;
  while (i < raw.size()) {
    char c = raw[i];
    if (c == '"') {
      if (i + 1 < raw.size() && raw[i + 1] == '"') {
        scratch.push_back('"');
        i += 2;
        continue;
      }
      // Closing quote: anything after it up to the separator is kept as it is.
      scratch.append(raw.substr(i + 1));
      break;
    }
    scratch.push_back(c);
    ++i;
  }
  return scratch;
}

void csv_append_cell(std::string &out, std::string_view value) {
  bool needs_quotes = false;
  for (char c : value) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') {
      needs_quotes = true;
      break;
    }
  }
  if (!needs_quotes) {
    out.append(value);
    return;
  }
  out.push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"') {
      out.append(value.substr(start, i + 1 - start));
      out.push_back('"');
      start = i + 1;
    }
  }
  out.append(value.substr(start));
  out.push_back('"');
}

}  // namespace ctdetect
