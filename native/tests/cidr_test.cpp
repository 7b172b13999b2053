#include <gtest/gtest.h>

#include "ctdetect/cidr.h"
#include "test_support.h"

using ctdetect::CidrRange;
using ctdetect::IpAddress;

namespace {
bool in(const char *cidr, const char *ip) {
  CidrRange range;
  IpAddress address;
  EXPECT_TRUE(ctdetect::parse_cidr(cidr, range)) << cidr;
  return ctdetect::parse_ip(ip, address) && range.contains(address);
}
}  // namespace

TEST(Cidr, Ipv4Ranges) {
  EXPECT_TRUE(in("10.0.0.0/8", "10.200.3.4"));
  EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
  EXPECT_TRUE(in("198.51.100.7", "198.51.100.7"));
  EXPECT_FALSE(in("198.51.100.7", "198.51.100.8"));
  EXPECT_TRUE(in("192.168.1.77/26", "192.168.1.65"));  // host bits in the range are ignored
  EXPECT_FALSE(in("192.168.1.77/26", "192.168.1.128"));
}

TEST(Cidr, Ipv6RangesAndMappedAddresses) {
  EXPECT_TRUE(in("2001:db8::/32", "2001:db8:1::1"));
  EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(in("::/0", "fe80::1"));
  EXPECT_FALSE(in("::/0", "1.2.3.4"));
  EXPECT_FALSE(in("0.0.0.0/0", "2001:db8::1"));
  EXPECT_TRUE(in("1.2.3.0/24", "::ffff:1.2.3.4"));
}

TEST(Cidr, RejectsWhatIsNotAnAddress) {
  IpAddress address;
  for (const char *bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "225.01.00.16", "abc", "1.2.3.4 ", "::g", "fe80::1%eth0"}) {
    EXPECT_FALSE(ctdetect::parse_ip(bad, address)) << bad;
  }
  CidrRange range;
  for (const char *bad : {"1.2.3.4/33", "::/129", "1.2.3.4/", "1.2.3.4/x", "1.2.3.4/-1", "/8"}) {
    EXPECT_FALSE(ctdetect::parse_cidr(bad, range)) << bad;
  }
}

TEST(CidrLookup, ReadsGoodRowsAndNamesBadOnes) {
  std::string path = ctdetect_test::write_temp_file(
      "ips.csv", "ip,description\n198.51.100.0/24,scanner\nnot-an-ip,oops\n\n\"2001:db8::/32\",\"v6, quoted\"\n,empty\n");
  ctdetect::CidrSet set;
  std::vector<std::string> warnings;
  std::string detail;
  ASSERT_EQ(ctdetect::load_cidr_lookup(path, set, warnings, detail), ctdetect::error_code::SUCCESS) << detail;
  EXPECT_EQ(set.size(), 2u);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("line 3: 'not-an-ip'"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("line 6"), std::string::npos) << warnings[1];
}

TEST(CidrLookup, MissingFileOrColumnIsAnError) {
  ctdetect::CidrSet set;
  std::vector<std::string> warnings;
  std::string detail;
  EXPECT_EQ(ctdetect::load_cidr_lookup("/nonexistent/x.csv", set, warnings, detail), ctdetect::error_code::IO_ERROR);
  std::string path = ctdetect_test::write_temp_file("noip.csv", "address,description\n1.2.3.4,x\n");
  EXPECT_EQ(ctdetect::load_cidr_lookup(path, set, warnings, detail), ctdetect::error_code::LOOKUP_INVALID);
  EXPECT_NE(detail.find("no 'ip' column"), std::string::npos);
}
