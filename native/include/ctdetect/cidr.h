// IPv4 and IPv6 addresses and CIDR ranges, for cidrmatch() and cidrlookup().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctdetect/error.h"

namespace ctdetect {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // v4 uses the first 4
};

// Dotted-quad IPv4 (no leading zeros) or IPv6 text. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is returned as the IPv4 address it carries.
bool parse_ip(std::string_view text, IpAddress &out);

struct CidrRange {
  IpAddress network;  // host bits cleared
  uint32_t prefix = 0;
  bool contains(const IpAddress &address) const;
};

// "a.b.c.d/n", "x::y/n", or a single address (a /32 or /128 range). Host bits may be set.
bool parse_cidr(std::string_view text, CidrRange &out);

class CidrSet {
public:
  void add(const CidrRange &range) { ranges_.push_back(range); }
  bool contains(const IpAddress &address) const;
  size_t size() const { return ranges_.size(); }

private:
  std::vector<CidrRange> ranges_;
};

// Reads a lookup CSV with an `ip` column (one address or range per row). Rows whose `ip` cannot be
// read become warnings naming the file and line; a missing file or `ip` column is an error.
error_code load_cidr_lookup(const std::string &path, CidrSet &out, std::vector<std::string> &warnings,
                            std::string &detail);

}  // namespace ctdetect
