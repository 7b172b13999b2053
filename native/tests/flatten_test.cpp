#include <gtest/gtest.h>

#include "ctdetect/flattener.h"
#include "test_support.h"

using ctdetect::error_code;
using ctdetect_test::flattened;
using Lines = std::vector<std::string>;

TEST(Flatten, NamesFieldsTheWaySpathDoes) {
  EXPECT_EQ(flattened(R"({"eventName":"RunInstances","userIdentity":{"type":"IAMUser","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}}})"),
            (Lines{"eventName=RunInstances", "userIdentity.type=IAMUser", "userIdentity.sessionContext.attributes.mfaAuthenticated=false"}));
}

TEST(Flatten, ArraysBecomeBracesAndMultivalues) {
  EXPECT_EQ(flattened(R"({"requestParameters":{"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"},{"cidrIp":"0.0.0.0/0"}]}},{"ipRanges":{"items":[{"cidrIp":"::/0"}]}}]}}})"),
            (Lines{"requestParameters.ipPermissions.items{}.ipRanges.items{}.cidrIp=10.0.0.0/8|0.0.0.0/0|::/0"}));
  EXPECT_EQ(flattened(R"({"m":[[1,2],[3]],"s":["a","b"]})"), (Lines{"m{}{}=1|2|3", "s{}=a|b"}));
}

TEST(Flatten, ScalarsKeepTheirJsonText) {
  EXPECT_EQ(flattened(R"({"n":1.50,"e":-1e3,"z":0,"t":true,"f":false,"nil":null,"big":123456789012345678901234567890})"),
            (Lines{"n=1.50", "e=-1e3", "z=0", "t=true", "f=false", "nil=null", "big=123456789012345678901234567890"}));
}

TEST(Flatten, EmptyContainersAreValuesOfTheirOwnName) {
  EXPECT_EQ(flattened(R"({"requestParameters":{"ipPermissions":{}},"resources":[],"x":{"y":[]}})"),
            (Lines{"requestParameters.ipPermissions={}", "resources=[]", "x.y=[]"}));
  EXPECT_EQ(flattened("{}"), Lines{});
}

TEST(Flatten, StringsAreUnescaped) {
  EXPECT_EQ(flattened(R"({"a":"caf\u00e9 \"q\" \\ \n end","k\u00e9y":"\ud83d\ude00"})"),
            (Lines{"a=café \"q\" \\ \n end", "kéy=😀"}));
}

TEST(Flatten, DuplicateKeysKeepEveryValueInOrder) {
  EXPECT_EQ(flattened(R"({"a":1,"b":2,"a":3})"), (Lines{"a=1|3", "b=2"}));
}

TEST(Flatten, NoSizeCutOff) {
  std::string big = R"({"eventName":"PutBucketPolicy","requestParameters":{"items":[)";
  for (int i = 0; i < 10000; ++i) { big += (i ? "," : "") + std::string(R"({"k":"value-)") + std::to_string(i) + R"("})"; }
  big += "]},\"last\":\"seen\"}";
  ASSERT_GT(big.size(), 100000u);
  auto lines = flattened(big);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "last=seen");
  EXPECT_NE(lines[1].find("|value-9999"), std::string::npos);
}

TEST(Flatten, CoordinatesIdentifyArrayElements) {
  ctdetect::PathTable paths;
  ctdetect::Flattener flattener(paths);
  ctdetect::FlatRecord record;
  ASSERT_EQ(flattener.flatten(R"({"p":[{"r":[{"c":"a"}]},{"r":[{"c":"b"},{"c":"c"}]}]})", record), error_code::SUCCESS);
  ASSERT_EQ(record.values.size(), 3u);
  const auto &last = record.values[2];
  ASSERT_EQ(last.coord_count, 2u);
  EXPECT_EQ(record.coords_of(last)[0], 1u);
  EXPECT_EQ(record.coords_of(last)[1], 1u);
  EXPECT_EQ(paths.name(last.path), "p{}.r{}.c");
  EXPECT_EQ(paths.array_depth(last.path), 2u);
}

TEST(Flatten, ErrorsAreClassified) {
  ctdetect::PathTable paths;
  ctdetect::Flattener flattener(paths);
  ctdetect::FlatRecord record;
  EXPECT_EQ(flattener.flatten("", record), error_code::EMPTY_EVENT);
  EXPECT_EQ(flattener.flatten(" \r\n", record), error_code::EMPTY_EVENT);
  EXPECT_EQ(flattener.flatten("[1,2]", record), error_code::NOT_AN_OBJECT);
  EXPECT_EQ(flattener.flatten("\"text\"", record), error_code::NOT_AN_OBJECT);
  EXPECT_EQ(flattener.flatten("42", record), error_code::NOT_AN_OBJECT);
  for (const char *bad : {"{", "{\"a\":}", "{\"a\":1} x", "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}", "{\"a\":nul}",
                          "[1,2", "not json", "{\"a\":\"\xff\"}", "{\"a\":1}{\"b\":2}"}) {
    EXPECT_EQ(flattener.flatten(bad, record), error_code::INVALID_JSON) << bad;
    EXPECT_FALSE(flattener.detail().empty()) << bad;
  }
  EXPECT_EQ(flattener.flatten("{\"a\":1}  \n", record), error_code::SUCCESS);
}

TEST(Flatten, ParserIsReusedAcrossRecordsOfAnySize) {
  ctdetect::PathTable paths;
  ctdetect::Flattener flattener(paths);
  ctdetect::FlatRecord record;
  std::string large = "{\"a\":\"" + std::string(300000, 'x') + "\"}";
  EXPECT_EQ(flattener.flatten(large, record), error_code::SUCCESS);
  EXPECT_EQ(record.values[0].text.size(), 300000u);
  EXPECT_EQ(flattener.flatten("{\"b\":2}", record), error_code::SUCCESS);
  EXPECT_EQ(record.values.size(), 1u);
  EXPECT_EQ(record.values[0].text, "2");
}

TEST(Flatten, DeepNestingIsAnErrorNotACrash) {
  ctdetect::PathTable paths;
  ctdetect::Flattener flattener(paths);
  ctdetect::FlatRecord record;
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(flattener.flatten(deep, record), error_code::INVALID_JSON);
  EXPECT_EQ(flattener.detail(), "more than 1024 nested arrays and objects");
  std::string fits = "{\"a\":" + std::string(1022, '[') + "1" + std::string(1022, ']') + "}";
  EXPECT_EQ(flattener.flatten(fits, record), error_code::SUCCESS) << flattener.detail();
  std::string over = "{\"a\":" + std::string(1024, '[') + "1" + std::string(1024, ']') + "}";
  EXPECT_EQ(flattener.flatten(over, record), error_code::INVALID_JSON);
}
