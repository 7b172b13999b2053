#include <gtest/gtest.h>

#include "ctdetect/conf.h"

using ctdetect::ConfFile;
using ctdetect::error_code;

TEST(Conf, StanzasKeysCommentsAndContinuations) {
  ConfFile conf;
  std::string detail;
  ASSERT_EQ(conf.merge("# comment\n[one]\nkey = value\nlong = first \\\n   second\\\nthird\n\n[two]\n  k2=v2  \n", "f", detail),
            error_code::SUCCESS)
      << detail;
  ASSERT_EQ(conf.stanzas.size(), 2u);
  EXPECT_EQ(*conf.stanzas[0].find("key"), "value");
  EXPECT_EQ(*conf.stanzas[0].find("long"), "first \nsecond\nthird");
  EXPECT_EQ(*conf.stanzas[1].find("k2"), "v2");
  EXPECT_EQ(conf.stanzas[1].origin, "f:8");
}

TEST(Conf, LaterFilesOverrideKeyByKeyAndAddStanzas) {
  ConfFile conf;
  std::string detail;
  conf.merge("[a]\nx = 1\ny = 2\n", "default", detail);
  conf.merge("[a]\ny = 3\n[b]\nz = 4\n", "local", detail);
  ASSERT_EQ(conf.stanzas.size(), 2u);
  EXPECT_EQ(*conf.stanzas[0].find("x"), "1");
  EXPECT_EQ(*conf.stanzas[0].find("y"), "3");
  EXPECT_EQ(conf.stanzas[1].name, "b");
}

TEST(Conf, DefaultStanzaAppliesToEveryStanza) {
  ConfFile conf;
  std::string detail;
  conf.merge("top = t\n[default]\ndisabled = 1\n[a]\n[b]\ndisabled = 0\n", "f", detail);
  conf.apply_defaults();
  EXPECT_EQ(*conf.stanzas[0].find("disabled"), "1");
  EXPECT_EQ(*conf.stanzas[0].find("top"), "t");
  EXPECT_EQ(*conf.stanzas[1].find("disabled"), "0");
}

TEST(Conf, SyntaxErrorsNameFileAndLine) {
  ConfFile conf;
  std::string detail;
  EXPECT_EQ(conf.merge("[a]\nthis line has no equals\n", "local.conf", detail), error_code::CONF_SYNTAX);
  EXPECT_EQ(detail, "local.conf:2: expected 'key = value' or a [stanza] header (in stanza [a])");
  EXPECT_EQ(conf.merge("[unclosed\n", "x.conf", detail), error_code::CONF_SYNTAX);
  EXPECT_EQ(conf.merge("= value\n", "y.conf", detail), error_code::CONF_SYNTAX);
}

TEST(Conf, MissingFileIsAnIoError) {
  ConfFile conf;
  std::string detail;
  EXPECT_EQ(conf.merge_file("/nonexistent/detections.conf", detail), error_code::IO_ERROR);
}
