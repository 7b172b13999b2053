#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ctdetect/error.h"

using ctdetect::error_code;

TEST(ErrorMessages, EveryCodeHasItsOwnMessage) {
  std::set<std::string> seen;
  for (int code = 0; code < static_cast<int>(error_code::NUM_ERROR_CODES); ++code) {
    std::string message = ctdetect::error_message(static_cast<error_code>(code));
    EXPECT_NE(message, "unknown error");
    EXPECT_TRUE(seen.insert(message).second) << "duplicate message " << message;
  }
  EXPECT_STREQ(ctdetect::error_message(error_code::NUM_ERROR_CODES), "unknown error");
}

TEST(ErrorMessages, EventErrorsReadAsTheContractSays) {
  EXPECT_STREQ(ctdetect::error_message(error_code::EMPTY_EVENT), "empty event");
  EXPECT_STREQ(ctdetect::error_message(error_code::INVALID_JSON), "invalid JSON");
  EXPECT_STREQ(ctdetect::error_message(error_code::NOT_AN_OBJECT), "not a JSON object");
}

TEST(Result, CarriesValueOrError) {
  ctdetect::result<int> good(42);
  EXPECT_TRUE(good);
  EXPECT_EQ(good.value(), 42);
  ctdetect::result<int> bad(error_code::CONF_SYNTAX, "file:3: oops");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), error_code::CONF_SYNTAX);
  EXPECT_EQ(bad.detail(), "file:3: oops");
}
