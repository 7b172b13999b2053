#include <gtest/gtest.h>

#include <cmath>

#include "ctdetect/text.h"

using ctdetect::Pattern;

namespace {
Pattern glob(const std::string &text) {
  std::vector<bool> wildcard(text.size());
  for (size_t i = 0; i < text.size(); ++i) { wildcard[i] = text[i] == '*'; }
  return Pattern(text, wildcard);
}
}  // namespace

TEST(Numbers, AcceptsSplNumbersOnly) {
  double n = 0;
  EXPECT_TRUE(ctdetect::parse_number("22", n));
  EXPECT_EQ(n, 22);
  EXPECT_TRUE(ctdetect::parse_number("-1", n));
  EXPECT_EQ(n, -1);
  EXPECT_TRUE(ctdetect::parse_number("+1.5e3", n));
  EXPECT_EQ(n, 1500);
  EXPECT_TRUE(ctdetect::parse_number(".5", n));
  EXPECT_TRUE(ctdetect::parse_number("5.", n));
  EXPECT_TRUE(ctdetect::parse_number("1e999", n));
  EXPECT_TRUE(std::isinf(n));
  for (const char *bad : {"", "+", ".", "1e", "0x10", "inf", "nan", " 1", "1 ", "1_000", "--1", "e5"}) {
    EXPECT_FALSE(ctdetect::parse_number(bad, n)) << bad;
  }
}

TEST(Patterns, LiteralIsCaseInsensitiveAndWhole) {
  EXPECT_TRUE(glob("ConsoleLogin").matches("consolelogin"));
  EXPECT_FALSE(glob("ConsoleLogin").matches("ConsoleLogin2"));
  EXPECT_FALSE(glob("Login").matches("ConsoleLogin"));
}

TEST(Patterns, NumbersCompareNumerically) {
  EXPECT_TRUE(glob("22").matches("22.0"));
  EXPECT_TRUE(glob("-1").matches("-1"));
  EXPECT_FALSE(glob("22").matches("221"));
  EXPECT_TRUE(glob("1").matches("1"));
  EXPECT_FALSE(glob("1").matches("one"));
}

TEST(Patterns, Wildcards) {
  EXPECT_TRUE(glob("*").matches(""));
  EXPECT_TRUE(glob("*/0").matches("0.0.0.0/0"));
  EXPECT_TRUE(glob("*/0").matches("::/0"));
  EXPECT_FALSE(glob("*/0").matches("10.0.0.0/8"));
  EXPECT_FALSE(glob("*/0").matches("10.0.0.0/0 "));
  EXPECT_TRUE(glob("p3*").matches("P3DN.24xlarge"));
  EXPECT_TRUE(glob("a*b*c").matches("aXXbYYc"));
  EXPECT_TRUE(glob("a*b*c").matches("abc"));
  EXPECT_FALSE(glob("a*b*c").matches("acb"));
  EXPECT_FALSE(glob("a*a").matches("a"));
  EXPECT_TRUE(glob("*AllUsers").matches("http://acs.amazonaws.com/groups/global/AllUsers"));
  EXPECT_TRUE(glob("**x**").matches("x"));
}

TEST(Patterns, EscapedStarIsLiteral) {
  Pattern literal("a*b", {false, false, false});
  EXPECT_TRUE(literal.matches("A*B"));
  EXPECT_FALSE(literal.matches("axb"));
}

TEST(Patterns, LoweredMatchingAgreesWithPlainMatching) {
  const char *patterns[] = {"*", "*/0", "p3*", "a*b*c", "a*a", "*AllUsers", "**x**", "ConsoleLogin", "22", "*kali*", "Mozilla*Linux*"};
  const char *values[] = {"", "0.0.0.0/0", "P3DN.24xlarge", "aXXbYYc", "acb", "a", "aa", "x", "consolelogin", "22.0",
                          "aws-cli/2 Linux/6.1 KALI", "Mozilla/5.0 (X11; Linux x86_64)", "http://acs/groups/global/AllUsers"};
  for (const char *text : patterns) {
    Pattern pattern = glob(text);
    for (const char *value : values) {
      std::string lowered = ctdetect::ascii_lowered(value);
      EXPECT_EQ(pattern.matches(value), pattern.matches(value, lowered)) << text << " vs " << value;
    }
  }
}
