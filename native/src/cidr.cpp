#include "ctdetect/cidr.h"

#include <arpa/inet.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "ctdetect/csv.h"

namespace ctdetect {

bool parse_ip(std::string_view text, IpAddress &out) {
  if (text.empty() || text.size() > 45) { return false; }
  char buffer[64];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  out = IpAddress{};
  if (text.find(':') == std::string_view::npos) {
    // glibc's inet_pton accepts exactly four decimal parts and rejects leading zeros.
    return inet_pton(AF_INET, buffer, out.bytes.data()) == 1;
  }
  if (inet_pton(AF_INET6, buffer, out.bytes.data()) != 1) { return false; }
  static const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.bytes.data(), kMappedPrefix, 12) == 0) {
    std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
    std::memset(out.bytes.data() + 4, 0, 12);
    return true;
  }
  out.v6 = true;
  return true;
}

bool parse_cidr(std::string_view text, CidrRange &out) {
  size_t slash = text.find('/');
  std::string_view address_text = text.substr(0, slash);
  if (!parse_ip(address_text, out.network)) { return false; }
  uint32_t max_prefix = out.network.v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    out.prefix = max_prefix;
    return true;
  }
  std::string_view prefix_text = text.substr(slash + 1);
  if (prefix_text.empty() || prefix_text.size() > 3) { return false; }
  uint32_t prefix = 0;
  for (char c : prefix_text) {
    if (c < '0' || c > '9') { return false; }
    prefix = prefix * 10 + static_cast<uint32_t>(c - '0');
  }
  if (prefix > max_prefix) { return false; }
  out.prefix = prefix;
  for (uint32_t bit = prefix; bit < max_prefix; ++bit) {
    out.network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return true;
}

bool CidrRange::contains(const IpAddress &address) const {
  if (address.v6 != network.v6) { return false; }
  uint32_t full_bytes = prefix / 8;
  if (std::memcmp(address.bytes.data(), network.bytes.data(), full_bytes) != 0) { return false; }
  uint32_t rest = prefix % 8;
  if (rest == 0) { return true; }
  auto mask = static_cast<uint8_t>(0xffu << (8 - rest));
  return (address.bytes[full_bytes] & mask) == network.bytes[full_bytes];
}

bool CidrSet::contains(const IpAddress &address) const {
  for (const CidrRange &range : ranges_) {
    if (range.contains(address)) { return true; }
  }
  return false;
}

error_code load_cidr_lookup(const std::string &path, CidrSet &out, std::vector<std::string> &warnings,
                            std::string &detail) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    detail = "cannot read lookup file " + path;
    return error_code::IO_ERROR;
  }
  std::stringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) { text.erase(0, 3); }

  CsvReader reader(text);
  std::vector<std::string_view> cells;
  std::string scratch;
  bool has_row = false;
  if (reader.next_row(cells, has_row) != error_code::SUCCESS || !has_row) {
    detail = "lookup file " + path + " has no header row";
    return error_code::LOOKUP_INVALID;
  }
  size_t ip_column = cells.size();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (csv_unquote(cells[i], scratch) == "ip") { ip_column = i; }
  }
  if (ip_column == cells.size()) {
    detail = "lookup file " + path + " has no 'ip' column";
    return error_code::LOOKUP_INVALID;
  }
  while (true) {
    size_t row_start = reader.offset();
    auto line = [&] { return reader.line_at(row_start); };
    if (reader.next_row(cells, has_row) != error_code::SUCCESS) {
      warnings.push_back(path + " line " + std::to_string(line()) + ": unterminated quoted value; rest of file ignored");
      break;
    }
    if (!has_row) { break; }
    if (cells.size() == 1 && cells[0].empty()) { continue; }  // blank line
    std::string value = ip_column < cells.size() ? std::string(csv_unquote(cells[ip_column], scratch)) : std::string();
    size_t begin = value.find_first_not_of(" \t");
    size_t end = value.find_last_not_of(" \t");
    value = begin == std::string::npos ? std::string() : value.substr(begin, end - begin + 1);
    CidrRange range;
    if (!parse_cidr(value, range)) {
      warnings.push_back(path + " line " + std::to_string(line()) + ": '" + value +
                         "' is not an IP address or CIDR range; row ignored");
      continue;
    }
    out.add(range);
  }
  return error_code::SUCCESS;
}

}  // namespace ctdetect
