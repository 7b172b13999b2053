#include <gtest/gtest.h>

#include "ctdetect/csv.h"

using ctdetect::CsvReader;
using ctdetect::error_code;

namespace {
std::vector<std::vector<std::string>> read_all(std::string_view text) {
  CsvReader reader(text);
  std::vector<std::string_view> cells;
  std::vector<std::vector<std::string>> rows;
  std::string scratch;
  bool has_row = false;
  while (reader.next_row(cells, has_row) == error_code::SUCCESS && has_row) {
    std::vector<std::string> row;
    for (auto cell : cells) { row.emplace_back(ctdetect::csv_unquote(cell, scratch)); }
    rows.push_back(row);
  }
  return rows;
}
}  // namespace

TEST(CsvReader, QuotedCellsWithSeparatorsNewlinesAndQuotes) {
  auto rows = read_all("a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",,x\r\nlast,row,no-newline");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"multi\nline", "", "x"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"last", "row", "no-newline"}));
}

TEST(CsvReader, RawCellsKeepTheirQuotes) {
  CsvReader reader("\"a\"\"b\",c\n");
  std::vector<std::string_view> cells;
  bool has_row = false;
  ASSERT_EQ(reader.next_row(cells, has_row), error_code::SUCCESS);
  ASSERT_TRUE(has_row);
  EXPECT_EQ(cells[0], "\"a\"\"b\"");
  EXPECT_EQ(cells[1], "c");
}

TEST(CsvReader, UnterminatedQuoteIsAnError) {
  CsvReader reader("a,\"never closed\n");
  std::vector<std::string_view> cells;
  bool has_row = false;
  EXPECT_EQ(reader.next_row(cells, has_row), error_code::CSV_MALFORMED);
}

TEST(CsvReader, CountsLinesInsideQuotedCells) {
  CsvReader reader("h\n\"a\nb\"\nc\n");
  std::vector<std::string_view> cells;
  bool has_row = false;
  reader.next_row(cells, has_row);
  EXPECT_EQ(reader.line(), 2u);
  reader.next_row(cells, has_row);
  EXPECT_EQ(reader.line(), 4u);
}

TEST(CsvWriter, QuotesOnlyWhenNeeded) {
  std::string out;
  ctdetect::csv_append_cell(out, "plain value");
  out += '|';
  ctdetect::csv_append_cell(out, "a,b");
  out += '|';
  ctdetect::csv_append_cell(out, "say \"hi\"");
  out += '|';
  ctdetect::csv_append_cell(out, "two\nlines");
  out += '|';
  ctdetect::csv_append_cell(out, "");
  EXPECT_EQ(out, "plain value|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|");
}

TEST(CsvReader, QuotesAtEveryPositionOfA16ByteBlock) {
  // The quoted-cell scanner works 16 bytes at a time: put the doubled quote and the closing
  // quote at every offset, including across block boundaries.
  for (size_t prefix = 0; prefix < 40; ++prefix) {
    std::string value = std::string(prefix, 'x') + "\"" + std::string(prefix % 17, 'y') + "\"\"z";
    std::string cell;
    ctdetect::csv_append_cell(cell, value);
    std::string body = cell + ",next\n" + cell + "\n";
    auto rows = read_all(body);
    ASSERT_EQ(rows.size(), 2u) << prefix;
    EXPECT_EQ(rows[0][0], value) << prefix;
    EXPECT_EQ(rows[0][1], "next") << prefix;
    EXPECT_EQ(rows[1][0], value) << prefix;
    std::string appended = "keep:";
    ctdetect::csv_unquote_append(cell, appended);
    EXPECT_EQ(appended, "keep:" + value) << prefix;
  }
}

TEST(CsvReader, TextAfterTheClosingQuoteIsKept) {
  std::string out;
  ctdetect::csv_unquote_append("\"ab\"cd", out);
  EXPECT_EQ(out, "abcd");
  out.clear();
  ctdetect::csv_unquote_append("\"0123456789abcdef0123\"tail", out);
  EXPECT_EQ(out, "0123456789abcdef0123tail");
}
