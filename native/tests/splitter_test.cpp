#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ctdetect/record_splitter.h"

using ctdetect::error_code;
using ctdetect::RecordSpan;
using ctdetect::RecordSplitter;

namespace {

std::vector<std::string> texts(const std::string &json, const std::vector<RecordSpan> &spans) {
  std::vector<std::string> out;
  for (const auto &span : spans) { out.push_back(json.substr(span.offset, span.length)); }
  return out;
}

}  // namespace

TEST(Splitter, ReturnsEachRecordAsWritten) {
  std::string json = "{\"Records\":[{\"eventTime\":\"2024-01-02T03:04:05Z\",\"eventName\":\"RunInstances\","
                     "\"readOnly\":false} , {\"a\" : [1, 2.50, {\"b\":null}], \"readOnly\":true}\n,\r\n"
                     "{\"eventName\":\"caf\\u00e9\"}]}\n";
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  ASSERT_EQ(splitter.split(json, spans), error_code::SUCCESS) << splitter.detail();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(texts(json, spans),
            (std::vector<std::string>{
                "{\"eventTime\":\"2024-01-02T03:04:05Z\",\"eventName\":\"RunInstances\",\"readOnly\":false}",
                "{\"a\" : [1, 2.50, {\"b\":null}], \"readOnly\":true}", "{\"eventName\":\"caf\\u00e9\"}"}));
  EXPECT_TRUE(spans[0].has_event_time);
  EXPECT_EQ(spans[0].event_time, "2024-01-02T03:04:05Z");
  EXPECT_EQ(spans[0].event_name, "RunInstances");
  EXPECT_EQ(spans[0].read_only, 0);
  EXPECT_FALSE(spans[1].has_event_time);
  EXPECT_FALSE(spans[1].has_event_name);
  EXPECT_EQ(spans[1].read_only, 1);
  EXPECT_EQ(spans[2].event_name, "caf\xc3\xa9");  // unescaped
  EXPECT_EQ(spans[2].read_only, -1);
}

TEST(Splitter, KeepsPrettyPrintedRecordsByteForByte) {
  std::string json = "{\r\n  \"Records\": [\r\n    {\r\n      \"eventTime\": \"x\"\r\n    },\r\n    {}\r\n  ]\r\n}";
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  ASSERT_EQ(splitter.split(json, spans), error_code::SUCCESS) << splitter.detail();
  EXPECT_EQ(texts(json, spans), (std::vector<std::string>{"{\r\n      \"eventTime\": \"x\"\r\n    }", "{}"}));
}

TEST(Splitter, NonObjectElementsAreSpansWithoutFields) {
  std::string json = "{\"other\":{\"Records\":1},\"Records\":[\"a b\" , 12 ,[1, 2] ,null,true]}";
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  ASSERT_EQ(splitter.split(json, spans), error_code::SUCCESS) << splitter.detail();
  EXPECT_EQ(texts(json, spans), (std::vector<std::string>{"\"a b\"", "12", "[1, 2]", "null", "true"}));
  for (const auto &span : spans) {
    EXPECT_FALSE(span.has_event_time);
    EXPECT_EQ(span.read_only, -1);
  }
}

TEST(Splitter, EmptyRecordsArray) {
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  EXPECT_EQ(splitter.split("{\"Records\":[ ]}", spans), error_code::SUCCESS);
  EXPECT_TRUE(spans.empty());
}

TEST(Splitter, LastDuplicateFieldWinsAndFirstRecordsArrayIsUsed) {
  std::string json = "{\"Records\":[{\"eventName\":\"A\",\"eventName\":\"B\",\"eventTime\":\"t\",\"eventTime\":5}],"
                     "\"Records\":[{},{}]}";
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  ASSERT_EQ(splitter.split(json, spans), error_code::SUCCESS) << splitter.detail();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].event_name, "B");
  EXPECT_FALSE(spans[0].has_event_time);
}

TEST(Splitter, FilesThatAreNotCloudTrailLogs) {
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  const char *cases[][2] = {
      {"", "empty file"},
      {" \n", "empty file"},
      {"[1,2]", "the file is not a JSON object"},
      {"\"Records\"", "the file is not a JSON object"},
      {"{\"awsAccountId\":\"1\",\"digestStartTime\":\"x\",\"logFiles\":[]}", "no \"Records\" key"},
      {"{\"Records\":{}}", "\"Records\" is not an array"},
  };
  for (auto &c : cases) {
    EXPECT_EQ(splitter.split(c[0], spans), error_code::NOT_A_LOG_FILE) << c[0];
    EXPECT_EQ(splitter.detail(), c[1]) << c[0];
    EXPECT_TRUE(spans.empty());
  }
}

TEST(Splitter, MalformedJsonIsReportedWhereverItIs) {
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  const char *cases[] = {
      "{\"Records\":[{\"a\":1}",                 // truncated
      "{\"Records\":[{\"a\":tru}]}",             // bad literal inside a record
      "{\"Records\":[{\"a\":1}]} x",             // content after the object
      "{\"Records\":[{\"a\":1},]}",              // trailing comma
      "{\"Records\":[{\"a\":\"\xff\"}]}",        // invalid UTF-8
      "{\"x\":[1 2],\"Records\":[]}",            // error outside Records
      "{\"Records\":[{\"a\":01}]}",              // bad number
  };
  for (const char *c : cases) {
    EXPECT_EQ(splitter.split(c, spans), error_code::INVALID_JSON) << c;
    EXPECT_FALSE(splitter.detail().empty()) << c;
    EXPECT_TRUE(spans.empty());
  }
}

TEST(Splitter, LargeRecordsAndReuse) {
  RecordSplitter splitter;
  std::vector<RecordSpan> spans;
  std::string big(5 << 20, 'x');
  std::string json = "{\"Records\":[{\"eventName\":\"Big\",\"v\":\"" + big + "\"},{\"eventName\":\"Small\"}]}";
  ASSERT_EQ(splitter.split(json, spans), error_code::SUCCESS) << splitter.detail();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].length, big.size() + 26);  // {"eventName":"Big","v":"...."}
  EXPECT_EQ(spans[1].event_name, "Small");
  // The splitter is reused on a smaller file: no trace of the previous one.
  ASSERT_EQ(splitter.split("{\"Records\":[{\"eventName\":\"Again\"}]}", spans), error_code::SUCCESS);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].event_name, "Again");
  EXPECT_EQ(spans[0].offset, 12u);
}
