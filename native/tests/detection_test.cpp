#include <gtest/gtest.h>

#include "ctdetect/engine.h"
#include "test_support.h"

using ctdetect::Engine;
using ctdetect::error_code;
using ctdetect_test::stanza;
using ctdetect_test::write_temp_file;

namespace {
std::string load_error(const std::string &conf_text, const std::string &rules = "*") {
  auto engine = Engine::create({write_temp_file("d.conf", conf_text)}, "/nonexistent", rules);
  return engine ? std::string() : engine.detail();
}
}  // namespace

TEST(DetectionLoading, ReportsTheDetectionAndTheProblem) {
  EXPECT_NE(load_error("[x]\ntitle = t\n").find("detection x (") , std::string::npos);
  EXPECT_NE(load_error("[x]\ntitle = t\n").find("the key 'severity' is missing or empty"), std::string::npos);
  EXPECT_NE(load_error(stanza("x", "a=1", "urgent")).find("severity 'urgent' is not one of informational, low, medium, high, critical"),
            std::string::npos);
  EXPECT_NE(load_error(stanza("Bad-Id", "a=1")).find("the id must use only a-z, 0-9 and _"), std::string::npos);
  EXPECT_NE(load_error(stanza("x", "a=1") + "[y]\ntitel = t\n").find("unknown key 'titel'; valid keys: title,"), std::string::npos);
  std::string bad_condition = load_error(stanza("x", "eventName=ConsoleLogin AND ("));
  EXPECT_NE(bad_condition.find("detection x ("), std::string::npos) << bad_condition;
  EXPECT_NE(bad_condition.find("): condition column 29: expected a field name, got end of condition"), std::string::npos)
      << bad_condition;
  std::string bad_mitre = "[x]\ntitle = t\nseverity = low\nmitre_attack = TA0001\ndescription = d\nfalse_positives = f\ncondition = a=1\n";
  EXPECT_NE(load_error(bad_mitre).find("'TA0001' is not a MITRE ATT&CK technique id"), std::string::npos);
}

TEST(DetectionLoading, RulesSelectByIdOrWildcardAndNameTheValidOnes) {
  std::string conf = stanza("aws_one", "a=1") + stanza("aws_two", "a=2") + stanza("gcp_three", "a=3");
  auto engine = Engine::create({write_temp_file("d.conf", conf)}, "/nonexistent", "aws_*, gcp_three");
  ASSERT_TRUE(engine) << engine.detail();
  EXPECT_EQ(engine.value()->detection_ids(), (std::vector<std::string>{"aws_one", "aws_two", "gcp_three"}));
  auto only = Engine::create({write_temp_file("d.conf", conf)}, "/nonexistent", "aws_two");
  EXPECT_EQ(only.value()->detection_ids(), (std::vector<std::string>{"aws_two"}));
  EXPECT_EQ(load_error(conf, "aws_one,azure_*"), "rules: 'azure_*' matches no detection; valid detections: aws_one, aws_two, gcp_three");
  EXPECT_NE(load_error(conf, " , ").find("rules is empty"), std::string::npos);
}

TEST(DetectionLoading, LocalOverridesDefaultAndDisables) {
  std::string defaults = write_temp_file("default.conf", stanza("aws_one", "a=1") + stanza("aws_two", "a=2"));
  std::string local = write_temp_file("local.conf", "[aws_one]\ncondition = a=9\n[aws_two]\ndisabled = true\n" + stanza("my_own", "b=1"));
  auto engine = Engine::create({defaults, local}, "/nonexistent", "*");
  ASSERT_TRUE(engine) << engine.detail();
  EXPECT_EQ(engine.value()->detection_ids(), (std::vector<std::string>{"aws_one", "my_own"}));
  EXPECT_TRUE(engine.value()->analyze(R"({"a":9})").detections == std::vector<std::string>{"aws_one"});
  EXPECT_TRUE(engine.value()->analyze(R"({"a":1})").detections.empty());
  auto disabled_only = Engine::create({defaults, local}, "/nonexistent", "aws_two");
  EXPECT_FALSE(disabled_only);
  EXPECT_NE(disabled_only.detail().find("selects only disabled detections"), std::string::npos);
}

TEST(DetectionDispatch, IndexedAndUnindexedDetectionsBothRunInDefinitionOrder) {
  std::string conf = stanza("first_any_event", "userIdentity.type=Root") + stanza("second_login", "eventName=ConsoleLogin") +
                     stanza("third_either", "eventName IN (ConsoleLogin, GetSessionToken) userIdentity.type=*") +
                     stanza("fourth_wild", "eventName=Console*");
  auto engine = ctdetect_test::engine_for(conf);
  ASSERT_TRUE(engine);
  auto hits = engine->analyze(R"({"eventName":"consolelogin","userIdentity":{"type":"Root"}})").detections;
  EXPECT_EQ(hits, (std::vector<std::string>{"first_any_event", "second_login", "third_either", "fourth_wild"}));
  hits = engine->analyze(R"({"eventName":"GetSessionToken","userIdentity":{"type":"IAMUser"}})").detections;
  EXPECT_EQ(hits, (std::vector<std::string>{"third_either"}));
  hits = engine->analyze(R"({"userIdentity":{"type":"Root"}})").detections;
  EXPECT_EQ(hits, (std::vector<std::string>{"first_any_event"}));
  // Duplicate eventName keys: every detection is considered.
  hits = engine->analyze(R"({"eventName":"x","eventName":"ConsoleLogin"})").detections;
  EXPECT_EQ(hits, (std::vector<std::string>{"second_login", "fourth_wild"}));
}
