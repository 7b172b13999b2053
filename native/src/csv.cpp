#include "ctdetect/csv.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ctdetect {

namespace {

// `pos` is just after the opening quote of a cell; returns the offset just after its closing
// quote ("" inside is content), or npos when the data ends first. JSON records are full of
// quotes (every "" in the cell), so quotes are found 16 bytes at a time.
size_t past_closing_quote(const char *data, size_t size, size_t pos) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  while (pos + 16 <= size) {
    auto mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(data + pos)), quote)));
    bool restart = false;
    while (mask != 0) {
      unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
      size_t q = pos + i;
      if (q + 1 < size && data[q + 1] == '"') {
        if (i == 15) {  // the pair straddles two blocks
          pos = q + 2;
          restart = true;
          break;
        }
        mask &= ~(3u << i);
        continue;
      }
      return q + 1;
    }
    if (!restart) { pos += 16; }
  }
#endif
  while (pos < size) {
    if (data[pos] == '"') {
      if (pos + 1 < size && data[pos + 1] == '"') {
        pos += 2;
        continue;
      }
      return pos + 1;
    }
    ++pos;
  }
  return std::string_view::npos;
}

}  // namespace

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
      pos = past_closing_quote(data, size, pos + 1);
      if (pos == std::string_view::npos) {
        error_position_ = start;
        return error_code::CSV_MALFORMED;
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
    break;
  }
  position_ = pos;
  return error_code::SUCCESS;
}

size_t CsvReader::line_at(size_t offset) const {
  size_t line = 1;
  const char *data = data_.data();
  const char *end = data + std::min(offset, data_.size());
  for (const char *p = data; (p = static_cast<const char *>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) != nullptr; ++p) {
    ++line;
  }
  return line;
}

std::string_view csv_unquote(std::string_view raw, std::string &scratch) {
  if (raw.empty() || raw.front() != '"') { return raw; }
  // Common case: "text" with no doubled quote inside and nothing after the closing quote.
  std::string_view inner = raw.substr(1);
  size_t quote = inner.find('"');
  if (quote != std::string_view::npos && quote + 1 == inner.size()) { return inner.substr(0, quote); }
  scratch.clear();
  csv_unquote_append(raw, scratch);
  return scratch;
}

void csv_unquote_append(std::string_view raw, std::string &out) {
  const size_t old_size = out.size();
  out.resize(old_size + raw.size());
  out.resize(old_size + csv_unquote_into(raw, &out[old_size]));
}

size_t csv_unquote_into(std::string_view raw, char *out) {
  if (raw.empty() || raw.front() != '"') {
    std::memcpy(out, raw.data(), raw.size());
    return raw.size();
  }
  // Copy 16 bytes at a time and fix up at quotes: each "" is one quote; the closing quote ends
  // the quoted part and anything after it (up to the separator) is kept as it is. The output
  // is never longer than the raw cell, so writing whole blocks stays inside the buffer.
  char *dst = out;
  const char *p = raw.data() + 1;
  const char *end = raw.data() + raw.size();
  bool closed = false;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  while (p + 16 <= end) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), block);
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, quote)));
    if (mask == 0) {
      p += 16;
      dst += 16;
      continue;
    }
    unsigned i = static_cast<unsigned>(__builtin_ctz(mask));
    if (p + i + 1 < end && p[i + 1] == '"') {  // "" -> the quote already written at dst[i]
      dst += i + 1;
      p += i + 2;
      continue;
    }
    dst += i;
    p += i + 1;
    closed = true;
    break;
  }
#endif
  while (!closed && p < end) {
    char c = *p++;
    if (c == '"') {
      if (p < end && *p == '"') {
        *dst++ = '"';
        ++p;
        continue;
      }
      closed = true;
      break;
    }
    *dst++ = c;
  }
  while (p < end) { *dst++ = *p++; }  // after the closing quote
  return static_cast<size_t>(dst - out);
}

namespace {
// Characters that force a cell to be quoted.
struct QuoteTable {
  bool needs[256] = {};
  QuoteTable() { needs[static_cast<unsigned char>(',')] = needs[static_cast<unsigned char>('"')] = needs['\n'] = needs['\r'] = true; }
};
const QuoteTable kQuoteTable;
}  // namespace

void csv_append_cell(std::string &out, std::string_view value) {
  const auto *bytes = reinterpret_cast<const unsigned char *>(value.data());
  size_t i = 0;
  const size_t n = value.size();
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  while (i + 16 <= n) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes + i));
    __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, comma), _mm_cmpeq_epi8(block, quote)),
                                _mm_or_si128(_mm_cmpeq_epi8(block, lf), _mm_cmpeq_epi8(block, cr)));
    if (_mm_movemask_epi8(hits) != 0) { break; }
    i += 16;
  }
#endif
  while (i < n && !kQuoteTable.needs[bytes[i]]) { ++i; }
  if (i == n) {
    out.append(value);
    return;
  }
  out.push_back('"');
  const char *p = value.data();
  const char *end = p + n;
  while (p < end) {
    const char *quote = static_cast<const char *>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    if (quote == nullptr) {
      out.append(p, static_cast<size_t>(end - p));
      break;
    }
    out.append(p, static_cast<size_t>(quote + 1 - p));
    out.push_back('"');
    p = quote + 1;
  }
  out.push_back('"');
}

}  // namespace ctdetect
