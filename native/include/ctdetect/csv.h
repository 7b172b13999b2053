// The CSV dialect of splunkd's protocol v2 bodies and of lookup files: "," separators, '"'
// quoting with "" for a quote, rows ending in \n, \r\n or \r.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctdetect/error.h"

namespace ctdetect {

class CsvReader {
public:
  explicit CsvReader(std::string_view data) : data_(data) {}

  // Reads the next row as raw cells: each view is the cell's exact bytes in the input, quotes
  // included, so an unchanged cell can be copied to the output verbatim. `has_row` is false at
  // the end of the data. An unterminated quoted cell is CSV_MALFORMED.
  error_code next_row(std::vector<std::string_view> &cells, bool &has_row);
  size_t offset() const { return position_; }  // byte offset where the next row starts
  // The 1-based line of a byte offset (counted on demand: only error messages need it).
  size_t line_at(size_t offset) const;
  size_t line() const { return line_at(position_); }
  size_t error_line() const { return line_at(error_position_); }  // the cell that was not closed

private:
  std::string_view data_;
  size_t position_ = 0;
  size_t error_position_ = 0;
};

// The value of a raw cell: unquoted and with "" undoubled (written into `scratch` only when
// the cell needs it; otherwise a view into the cell).
std::string_view csv_unquote(std::string_view raw, std::string &scratch);
// Appends the value of a raw cell to `out` (always copies).
void csv_unquote_append(std::string_view raw, std::string &out);
// Writes the value of a raw cell to `out`, which has room for raw.size() bytes; returns its length.
size_t csv_unquote_into(std::string_view raw, char *out);

// Appends `value` as one cell, quoted only when it holds , " \r or \n.
void csv_append_cell(std::string &out, std::string_view value);

}  // namespace ctdetect
