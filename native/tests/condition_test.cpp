#include <gtest/gtest.h>

#include "ctdetect/condition.h"
#include "test_support.h"

namespace {

bool fires(const std::string &condition, const std::string &json, const std::string &lookup_dir = "/nonexistent") {
  auto engine = ctdetect_test::engine_for(ctdetect_test::stanza("rule", condition), lookup_dir);
  if (!engine) { return false; }
  return !engine->analyze(json).detections.empty();
}

std::string parse_error(const std::string &condition) {
  ctdetect::PathTable paths;
  ctdetect::LookupResolver no_lookups = [](const std::string &name, std::string &error) -> const ctdetect::CidrSet * {
    error = "no lookup " + name;
    return nullptr;
  };
  auto parsed = ctdetect::parse_condition(condition, paths, no_lookups);
  return parsed ? std::string() : parsed.detail();
}

const char *const kLogin =
    R"({"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"userIdentity":{"type":"IAMUser"},"sourceIPAddress":"198.51.100.7","tags":["a","b"]})";

}  // namespace

TEST(Conditions, ImplicitAndExplicitAndOrNot) {
  EXPECT_TRUE(fires("eventName=ConsoleLogin responseElements.ConsoleLogin=Success", kLogin));
  EXPECT_TRUE(fires("eventName=ConsoleLogin AND additionalEventData.MFAUsed=no", kLogin));
  EXPECT_FALSE(fires("eventName=ConsoleLogin AND additionalEventData.MFAUsed=Yes", kLogin));
  EXPECT_TRUE(fires("eventName=RunInstances OR eventName=ConsoleLogin", kLogin));
  EXPECT_TRUE(fires("NOT eventName=RunInstances", kLogin));
  EXPECT_FALSE(fires("NOT (eventName=ConsoleLogin OR eventName=RunInstances)", kLogin));
  // OR binds looser than AND: a OR (b AND c)
  EXPECT_TRUE(fires("eventName=ConsoleLogin OR eventName=x eventName=y", kLogin));
  EXPECT_FALSE(fires("(eventName=ConsoleLogin OR eventName=x) eventName=y", kLogin));
}

TEST(Conditions, MissingFieldsFollowSpl) {
  EXPECT_FALSE(fires("errorCode=*", kLogin));
  EXPECT_TRUE(fires("NOT errorCode=*", kLogin));
  EXPECT_FALSE(fires("errorCode!=AccessDenied", kLogin));  // != needs the field
  EXPECT_TRUE(fires("NOT errorCode=AccessDenied", kLogin));
  EXPECT_TRUE(fires("eventName!=RunInstances", kLogin));
  EXPECT_FALSE(fires("eventName!=*", kLogin));
}

TEST(Conditions, MultivalueMatchesWhenAnyValueDoes) {
  EXPECT_TRUE(fires("tags{}=b", kLogin));
  EXPECT_FALSE(fires("tags{}=c", kLogin));
  EXPECT_FALSE(fires("tags{}!=a", kLogin));  // one value is a
  EXPECT_TRUE(fires("tags{}!=c", kLogin));
  EXPECT_TRUE(fires("tags{} IN (x, B)", kLogin));
}

TEST(Conditions, InListsQuotingAndWildcards) {
  EXPECT_TRUE(fires("eventName IN (RunInstances, \"ConsoleLogin\")", kLogin));
  EXPECT_TRUE(fires("eventName=Console*", kLogin));
  EXPECT_TRUE(fires("eventName=\"*login\"", kLogin));
  EXPECT_FALSE(fires("eventName=\"Console\\*\"", kLogin));
  EXPECT_TRUE(fires("'userIdentity.type'=iamuser", kLogin));
}

TEST(Conditions, NumericComparisons) {
  const char *json = R"({"requestParameters":{"durationSeconds":129600,"fromPort":"22","name":"abc"}})";
  EXPECT_TRUE(fires("requestParameters.durationSeconds>43200", json));
  EXPECT_FALSE(fires("requestParameters.durationSeconds<=43200", json));
  EXPECT_TRUE(fires("requestParameters.fromPort>=22 requestParameters.fromPort<=22.0", json));
  EXPECT_TRUE(fires("requestParameters.fromPort=22.0", json));
  EXPECT_FALSE(fires("requestParameters.name>1", json));
}

TEST(Conditions, CidrMatch) {
  EXPECT_TRUE(fires("cidrmatch(\"198.51.100.0/24\", sourceIPAddress)", kLogin));
  EXPECT_FALSE(fires("cidrmatch(\"10.0.0.0/8\", sourceIPAddress)", kLogin));
  EXPECT_TRUE(fires("cidrmatch(\"2001:db8::/32\", sourceIPAddress)", R"({"sourceIPAddress":"2001:db8::5"})"));
  EXPECT_FALSE(fires("cidrmatch(\"0.0.0.0/0\", sourceIPAddress)", R"({"sourceIPAddress":"ec2.amazonaws.com"})"));
}

TEST(Conditions, CidrLookupUsesTheAppLookupFolder) {
  std::string file = ctdetect_test::write_temp_file("known.csv", "ip,description\n203.0.113.0/24,bad\n2001:db8:bad::/48,bad6\n");
  std::string dir = file.substr(0, file.rfind('/'));
  std::string name = file.substr(file.rfind('/') + 1);
  name = name.substr(0, name.size() - 4);
  EXPECT_TRUE(fires("cidrlookup(\"" + name + "\", sourceIPAddress)", R"({"sourceIPAddress":"203.0.113.50"})", dir));
  EXPECT_TRUE(fires("cidrlookup(" + name + ", sourceIPAddress)", R"({"sourceIPAddress":"2001:db8:bad::1"})", dir));
  EXPECT_FALSE(fires("cidrlookup(\"" + name + "\", sourceIPAddress)", kLogin, dir));
}

TEST(Conditions, PortRange) {
  const char *rule = "portrange(22, requestParameters.fromPort, requestParameters.toPort, requestParameters.ipProtocol)";
  EXPECT_TRUE(fires(rule, R"({"requestParameters":{"fromPort":22,"toPort":22,"ipProtocol":"tcp"}})"));
  EXPECT_TRUE(fires(rule, R"({"requestParameters":{"fromPort":0,"toPort":65535,"ipProtocol":"tcp"}})"));
  EXPECT_TRUE(fires(rule, R"({"requestParameters":{"ipProtocol":"-1"}})"));
  EXPECT_TRUE(fires(rule, R"({"requestParameters":{"ipProtocol":-1}})"));
  EXPECT_FALSE(fires(rule, R"({"requestParameters":{"fromPort":443,"toPort":443,"ipProtocol":"tcp"}})"));
  EXPECT_FALSE(fires(rule, R"({"requestParameters":{"fromPort":23,"toPort":1024,"ipProtocol":"tcp"}})"));
}

TEST(Conditions, AnyMatchesWithinOneElement) {
  const char *rule =
      "any(requestParameters.ipPermissions.items{}, portrange(22, fromPort, toPort, ipProtocol) "
      "(ipRanges.items{}.cidrIp=*/0 OR ipv6Ranges.items{}.cidrIpv6=*/0))";
  // Port 22 from 10.0.0.0/8 next to port 443 from the world: no permission opens 22 to the world.
  const char *trap =
      R"({"requestParameters":{"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}},{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}})";
  EXPECT_FALSE(fires(rule, trap));
  const char *open =
      R"({"requestParameters":{"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}},{"ipProtocol":"tcp","fromPort":20,"toPort":30,"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]},"ipRanges":{"items":[{"cidrIp":"10.1.0.0/16"}]}}]}}})";
  EXPECT_TRUE(fires(rule, open));
}

TEST(Conditions, NestedAnyIsRelativeToTheOuterElement) {
  const char *rule = "any(a{}, name=x any(b{}, k=1 v=2))";
  EXPECT_TRUE(fires(rule, R"({"a":[{"name":"y","b":[{"k":1,"v":2}]},{"name":"x","b":[{"k":1,"v":3},{"k":1,"v":2}]}]})"));
  EXPECT_FALSE(fires(rule, R"({"a":[{"name":"y","b":[{"k":1,"v":2}]},{"name":"x","b":[{"k":1,"v":3},{"k":2,"v":2}]}]})"));
  EXPECT_FALSE(fires(rule, R"({"a":{"name":"x","b":[{"k":1,"v":2}]}})"));  // an object is not an array
}

TEST(ConditionErrors, SayWhereAndWhat) {
  EXPECT_EQ(parse_error("eventName="), "column 11: expected a value after '=', got end of condition");
  EXPECT_EQ(parse_error("eventName"), "column 1: expected an operator (=, !=, <, <=, >, >=) or IN after field 'eventName', got end of condition");
  EXPECT_EQ(parse_error("(a=1"), "column 5: expected ')', got end of condition");
  EXPECT_EQ(parse_error("a=1\n  OR b<x"), "line 2, column 8: expected a number after '<', got 'x'");
  EXPECT_EQ(parse_error("foo(a, b)"), "column 1: unknown function 'foo'; valid functions: any, cidrmatch, cidrlookup, portrange");
  EXPECT_EQ(parse_error("any(a, b=1)"), "column 5: any() needs an array path ending in {}, got 'a'");
  EXPECT_EQ(parse_error("cidrmatch(\"10.0.0.0/33\", ip)"), "column 11: '10.0.0.0/33' is not an IP address or CIDR range");
  EXPECT_EQ(parse_error("cidrlookup(\"../../etc/passwd\", ip)"), "column 12: lookup name '../../etc/passwd' must use only letters, digits and _");
  EXPECT_EQ(parse_error("cidrlookup(\"missing\", ip)"), "column 12: no lookup missing");
  EXPECT_EQ(parse_error("portrange(70000, a, b, c)"), "column 11: port '70000' is not between 0 and 65535");
  EXPECT_EQ(parse_error("a=\"open"), "column 3: unterminated quoted value");
  EXPECT_EQ(parse_error("a!1"), "column 2: '!' must be followed by '=' (use NOT to negate)");
  EXPECT_EQ(parse_error(""), "column 1: the condition is empty");
  EXPECT_EQ(parse_error("a=1 )"), "column 5: unexpected ')'");
  EXPECT_EQ(parse_error("a IN (1 2)"), "column 9: expected ',' or ')' in the IN list, got '2'");
  EXPECT_EQ(parse_error("a IN (1,)"), "column 9: expected a value in the IN list, got ')'");
  EXPECT_EQ(parse_error("a==1"), "column 2: '==' is not an operator here; use '='");
  EXPECT_EQ(parse_error("\"quoted\"=1"), "column 1: expected a field name, got quoted value \"quoted\" (field names are not quoted with \")");
  EXPECT_EQ(parse_error(std::string(100, '(') + "a=1" + std::string(100, ')')), "column 65: parentheses nested too deeply");
}

// Found by the condition fuzz target (native/fuzz/condition_fuzzer.cpp): each NOT recursed once
// in the parser, so a long chain of them overflowed the stack when the detections loaded.
TEST(ConditionRegression, LongNotChainOverflowedTheStack) {
  std::string chain;
  for (int i = 0; i < 100000; ++i) { chain += "NOT "; }
  EXPECT_EQ(parse_error(chain + "eventName=ConsoleLogin"), "");
  EXPECT_TRUE(fires(chain + "eventName=ConsoleLogin", kLogin));  // an even number of NOTs
  EXPECT_FALSE(fires("NOT " + chain + "eventName=ConsoleLogin", kLogin));
  EXPECT_EQ(parse_error(chain), "column 400001: expected a field name, got end of condition");
}
