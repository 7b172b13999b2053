#include <gtest/gtest.h>

#include "ctdetect/csv.h"
#include "ctdetect/engine.h"
#include "test_support.h"

namespace {

std::string run_chunk(ctdetect::Engine &engine, const std::string &body, ctdetect::ChunkOptions options = {}) {
  std::string out, detail;
  EXPECT_EQ(engine.process_body(body, options, out, detail), ctdetect::error_code::SUCCESS) << detail;
  return out;
}

const std::string kConf = ctdetect_test::stanza("login", "eventName=ConsoleLogin", "medium") +
                          ctdetect_test::stanza("root", "userIdentity.type=Root", "critical");

}  // namespace

TEST(Chunk, AddsFieldsAndResultsAndKeepsInputColumns) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string body =
      "_raw,_time,__mv__raw,__mv__time\n"
      "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\",\"\"userIdentity\"\":{\"\"type\"\":\"\"Root\"\"},\"\"r\"\":[\"\"a$\"\",\"\"b\"\"]}\",1.5,,\n"
      "\"{\"\"eventName\"\":\"\"Other\"\"}\",2,,\n";
  EXPECT_EQ(run_chunk(*engine, body),
            "_raw,_time,eventName,userIdentity.type,r{},detection,detection_title,mitre_attack_id,detection_severity,"
            "__mv__raw,__mv__time,__mv_eventName,__mv_userIdentity.type,__mv_r{},__mv_detection,__mv_detection_title,"
            "__mv_mitre_attack_id,__mv_detection_severity\n"
            "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\",\"\"userIdentity\"\":{\"\"type\"\":\"\"Root\"\"},\"\"r\"\":[\"\"a$\"\",\"\"b\"\"]}\","
            "1.5,ConsoleLogin,Root,\"a$\nb\",\"login\nroot\",\"Title of login\nTitle of root\",T1078.004,critical,"
            ",,,,$a$$$;$b$,$login$;$root$,$Title of login$;$Title of root$,,\n"
            "\"{\"\"eventName\"\":\"\"Other\"\"}\",2,Other,,,,,,,,,,,,,,,\n");
}

TEST(Chunk, BadEventsPassThroughWithAnError) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string out = run_chunk(*engine, "_raw,host\nnot json,h1\n,h2\n\"[1]\",h3\n");
  EXPECT_EQ(out,
            "_raw,host,cloudtrail_error,__mv__raw,__mv_host,__mv_cloudtrail_error\n"
            "not json,h1,invalid JSON: Problem while parsing an atom starting with the letter 'n',,,\n"
            ",h2,empty event,,,\n"
            "\"[1]\",h3,not a JSON object,,,\n");
}

TEST(Chunk, OnlyDetectionsKeepsErrorsAndExtractFalseWritesNoFields) {
  auto engine = ctdetect_test::engine_for(kConf);
  ctdetect::ChunkOptions options;
  options.only_detections = true;
  options.extract = false;
  std::string out = run_chunk(*engine,
                              "_raw\n\"{\"\"eventName\"\":\"\"Other\"\"}\"\n\"{\"\"eventName\"\":\"\"ConsoleLogin\"\"}\"\nnot json\n", options);
  EXPECT_EQ(out,
            "_raw,detection,detection_title,mitre_attack_id,detection_severity,cloudtrail_error,"
            "__mv__raw,__mv_detection,__mv_detection_title,__mv_mitre_attack_id,__mv_detection_severity,__mv_cloudtrail_error\n"
            "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\"}\",login,Title of login,T1078.004,medium,,,,,,,\n"
            "not json,,,,,invalid JSON: Problem while parsing an atom starting with the letter 'n',,,,,,\n");
  EXPECT_EQ(run_chunk(*engine, "_raw\n\"{\"\"eventName\"\":\"\"Other\"\"}\"\n", options), "_raw,__mv__raw\n");
}

TEST(Chunk, ExtractedFieldsReplaceInputColumnsOnlyWhereProduced) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string out = run_chunk(*engine,
                              "_raw,eventName,__mv_eventName,_time\n"
                              "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\",\"\"_time\"\":\"\"evil\"\",\"\"detection\"\":\"\"fake\"\"}\",\"a\nb\",$a$;$b$,1\n"
                              "\"{}\",kept,,2\n");
  EXPECT_EQ(out,
            "_raw,eventName,_time,detection,detection_title,mitre_attack_id,detection_severity,"
            "__mv__raw,__mv_eventName,__mv__time,__mv_detection,__mv_detection_title,__mv_mitre_attack_id,__mv_detection_severity\n"
            "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\",\"\"_time\"\":\"\"evil\"\",\"\"detection\"\":\"\"fake\"\"}\",ConsoleLogin,1,"
            "login,Title of login,T1078.004,medium,,,,,,,\n"
            "\"{}\",kept,2,,,,,,,,,,,\n");
}

TEST(Chunk, FieldOptionAndMissingColumn) {
  auto engine = ctdetect_test::engine_for(kConf);
  ctdetect::ChunkOptions options;
  options.field = "json";
  EXPECT_EQ(run_chunk(*engine, "json\n\"{\"\"eventName\"\":\"\"ConsoleLogin\"\"}\"\n", options).substr(0, 17), "json,eventName,de");
  std::string out = run_chunk(*engine, "other\nx\n", options);
  EXPECT_EQ(out, "other,cloudtrail_error,__mv_other,__mv_cloudtrail_error\nx,empty event,,\n");
}

TEST(Chunk, EmptyBodyAndMalformedCsv) {
  auto engine = ctdetect_test::engine_for(kConf);
  EXPECT_EQ(run_chunk(*engine, ""), "");
  EXPECT_EQ(run_chunk(*engine, "_raw\n"), "_raw,__mv__raw\n");
  std::string out, detail;
  EXPECT_EQ(engine->process_body("_raw\n\"unterminated\n", {}, out, detail), ctdetect::error_code::CSV_MALFORMED);
  EXPECT_EQ(detail, "unterminated quoted value in the row starting on line 2");
}

TEST(Chunk, CrLfLineEndsAndNonAscii) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string out = run_chunk(*engine, "_raw\r\n\"{\"\"eventName\"\":\"\"ConsoleLogin\"\",\"\"u\"\":\"\"Jos\xC3\xA9 \xF0\x9F\x98\x80\"\"}\"\r\n");
  EXPECT_NE(out.find(",Jos\xC3\xA9 \xF0\x9F\x98\x80,"), std::string::npos) << out;
}

namespace {
// The detection cell of each row, from a reply body whose first column is _raw.
std::vector<std::string> detection_cells(ctdetect::Engine &engine, const std::vector<std::string> &records, bool extract) {
  std::string body = "_raw\n";
  for (const auto &record : records) {
    ctdetect::csv_append_cell(body, record);
    body += "\n";
  }
  ctdetect::ChunkOptions options;
  options.extract = extract;
  std::vector<std::string> cells;
  for (const auto &record : records) {
    auto analysis = engine.analyze(record);
    std::string joined;
    for (const auto &id : analysis.detections) { joined += id + ";"; }
    cells.push_back(joined);
  }
  std::string out = run_chunk(engine, body, options);
  // Compare the chunk's detections with analyze(): same order, same ids.
  ctdetect::CsvReader reader(out);
  std::vector<std::string_view> row;
  bool has_row = false;
  reader.next_row(row, has_row);
  size_t detection_column = 0;
  std::string scratch;
  for (size_t i = 0; i < row.size(); ++i) {
    if (ctdetect::csv_unquote(row[i], scratch) == "detection") { detection_column = i; }
  }
  std::vector<std::string> from_chunk;
  while (reader.next_row(row, has_row) == ctdetect::error_code::SUCCESS && has_row) {
    std::string value(detection_column > 0 ? ctdetect::csv_unquote(row[detection_column], scratch) : "");
    std::string joined;
    size_t start = 0;
    while (!value.empty() && start <= value.size()) {
      size_t end = value.find('\n', start);
      if (end == std::string::npos) { end = value.size(); }
      joined += value.substr(start, end - start) + ";";
      start = end + 1;
    }
    from_chunk.push_back(joined);
  }
  EXPECT_EQ(from_chunk, cells) << (extract ? "extract=true" : "extract=false");
  return from_chunk;
}
}  // namespace

TEST(Chunk, DetectionsOnlyPathAgreesWithFullFlattening) {
  // Unindexed detections (no fixed eventName) are narrowed with the DOM before flattening;
  // records that the DOM cannot judge (dotted keys, repeated keys, numbers) must still match.
  std::string conf = ctdetect_test::stanza("kali", "userAgent IN (*kali*, *parrot*) NOT errorCode=*") +
                     ctdetect_test::stanza("root_use", "userIdentity.type=Root NOT eventName=ConsoleLogin") +
                     ctdetect_test::stanza("numeric", "requestParameters.port=22") +
                     ctdetect_test::stanza("login", "eventName=ConsoleLogin responseElements.ConsoleLogin=Success");
  auto engine = ctdetect_test::engine_for(conf);
  std::vector<std::string> records = {
      R"({"eventName":"ListBuckets","userAgent":"aws-cli/2 Linux/6.1 kali","userIdentity":{"type":"IAMUser"}})",
      R"({"eventName":"ListBuckets","userAgent":"aws-cli/2","userIdentity":{"type":"Root"}})",
      R"({"eventName":"ConsoleLogin","userIdentity":{"type":"Root"},"responseElements":{"ConsoleLogin":"Success"}})",
      R"({"eventName":"ListBuckets","userIdentity.type":"Root"})",
      R"({"eventName":"ListBuckets","userIdentity":{"type":"IAMUser"},"userIdentity":{"type":"Root"}})",
      R"({"eventName":"ListBuckets","userAgent":"boto3","userAgent":"PARROT os"})",
      R"({"eventName":"ListBuckets","userIdentity":{"type":["Root"]}})",
      R"({"eventName":"ListBuckets","userIdentity":[{"type":"Root"}]})",
      R"({"eventName":"ListBuckets","requestParameters":{"port":22.0}})",
      R"({"eventName":"ListBuckets","requestParameters":{"port":"22"}})",
      R"({"eventName":"ListBuckets","requestParameters":{"port":123456789012345678901234567890}})",
      R"({"eventName":"ListBuckets","userAgent":true})",
      R"({"eventName":"ListBuckets","userAgent":"kali","errorCode":"AccessDenied"})",
      R"({"eventName":"consolelogin","responseElements":{"ConsoleLogin":"Success"}})",
      R"({"eventName":17,"userIdentity":{"type":"Root"}})",
      R"({"userIdentity":{"type":"Root"}})",
  };
  auto with_fields = detection_cells(*engine, records, true);
  auto detections_only = detection_cells(*engine, records, false);
  EXPECT_EQ(with_fields, detections_only);
  EXPECT_EQ(detections_only[0], "kali;");
  EXPECT_EQ(detections_only[3], "root_use;");
  EXPECT_EQ(detections_only[4], "root_use;");
  EXPECT_EQ(detections_only[5], "kali;");
  EXPECT_EQ(detections_only[6], "");
  EXPECT_EQ(detections_only[8], "numeric;");
  EXPECT_EQ(detections_only[13], "login;");
}

// Found by the chunk fuzz target (native/fuzz/chunk_fuzzer.cpp): an input column __mv_x without
// a column x is an ordinary column; when the command then added a field x, its twin was named
// __mv_x too, and the reply had two columns of that name. Such a field now has no twin (its
// values go in the plain column only), in both engines.
TEST(ChunkRegression, NewFieldTwinNamedLikeAnInputColumn) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string body =
      "_raw,__mv_eventName,__mv_detection\n"
      "\"{\"\"eventName\"\":\"\"A\"\",\"\"t\"\":[\"\"x\"\",\"\"y\"\"]}\",old,d\n"
      "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\"}\",,\n";
  EXPECT_EQ(run_chunk(*engine, body),
            "_raw,__mv_eventName,__mv_detection,eventName,t{},detection,detection_title,mitre_attack_id,detection_severity,"
            "__mv__raw,__mv_t{},__mv_detection_title,__mv_mitre_attack_id,__mv_detection_severity\n"
            "\"{\"\"eventName\"\":\"\"A\"\",\"\"t\"\":[\"\"x\"\",\"\"y\"\"]}\",old,d,A,\"x\ny\",,,,,"
            ",$x$;$y$,,,\n"
            "\"{\"\"eventName\"\":\"\"ConsoleLogin\"\"}\",,,ConsoleLogin,,login,Title of login,T1078.004,medium,"
            ",,,,\n");
}

namespace {

// Records what write_reply sends; fails after `fail_after` pieces when set.
class RecordingSink : public ctdetect::ReplySink {
public:
  bool write(const char *data, size_t size) override {
    if (fail_after >= 0 && static_cast<int>(pieces.size()) >= fail_after) { return false; }
    pieces.emplace_back(data, size);
    return true;
  }
  std::string detail() const override { return "the reader went away"; }
  std::vector<std::string> pieces;
  int fail_after = -1;
};

std::string joined(const std::vector<std::string> &pieces) {
  std::string all;
  for (const auto &piece : pieces) { all += piece; }
  return all;
}

// A chunk whose reply is several pieces long: wide sparse rows and one cell longer than a piece.
std::string large_body() {
  std::string body = "_raw,host,__mv__raw,__mv_host\n";
  for (int i = 0; i < 3000; ++i) {
    std::string raw = "{\"eventName\":\"ConsoleLogin\",\"k" + std::to_string(i % 300) + "\":\"v" + std::to_string(i) +
                      "\",\"userIdentity\":{\"type\":\"Root\"}}";
    ctdetect::csv_append_cell(body, raw);
    body += ",h" + std::to_string(i) + ",,\n";
  }
  std::string huge = "{\"eventName\":\"ConsoleLogin\",\"big\":\"" + std::string(3u << 20, 'x') + "\"}";
  ctdetect::csv_append_cell(body, huge);
  body += ",hbig,,\n";
  return body;
}

}  // namespace

TEST(ChunkStreaming, StreamedReplyIsTheSizeAnnouncedAndEqualsTheBuiltOne) {
  auto engine = ctdetect_test::engine_for(kConf);
  const std::string body = large_body();
  for (bool extract : {true, false}) {
    ctdetect::ChunkOptions options;
    options.extract = extract;
    const std::string built = run_chunk(*engine, body, options);
    size_t size = 0;
    std::string detail;
    ASSERT_EQ(engine->prepare_reply(body, options, size, detail), ctdetect::error_code::SUCCESS) << detail;
    EXPECT_EQ(size, built.size());
    RecordingSink sink;
    ASSERT_EQ(engine->write_reply(sink, detail), ctdetect::error_code::SUCCESS) << detail;
    EXPECT_EQ(joined(sink.pieces), built);
    EXPECT_GT(sink.pieces.size(), 2u);
    for (const auto &piece : sink.pieces) {
      EXPECT_TRUE(piece.size() <= ctdetect::Engine::kReplyPiece || piece.size() >= (3u << 20)) << piece.size();
    }
  }
}

TEST(ChunkStreaming, EmptyBodyMalformedBodyAndAFailingSink) {
  auto engine = ctdetect_test::engine_for(kConf);
  size_t size = 1;
  std::string detail;
  ASSERT_EQ(engine->prepare_reply("", {}, size, detail), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(size, 0u);
  RecordingSink empty;
  ASSERT_EQ(engine->write_reply(empty, detail), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(joined(empty.pieces), "");

  EXPECT_EQ(engine->prepare_reply("_raw\n\"unterminated\n", {}, size, detail), ctdetect::error_code::CSV_MALFORMED);
  RecordingSink unused;
  EXPECT_EQ(engine->write_reply(unused, detail), ctdetect::error_code::IO_ERROR);  // nothing prepared
  EXPECT_TRUE(unused.pieces.empty());

  const std::string body = large_body();  // alive until write_reply is done: the rows point into it
  ASSERT_EQ(engine->prepare_reply(body, {}, size, detail), ctdetect::error_code::SUCCESS);
  RecordingSink failing;
  failing.fail_after = 1;
  EXPECT_EQ(engine->write_reply(failing, detail), ctdetect::error_code::IO_ERROR);
  EXPECT_EQ(detail, "the reader went away");
  EXPECT_EQ(failing.pieces.size(), 1u);
}

// Found by the chunk fuzz target under UBSan: a short row is padded with empty cells whose views
// are null, and the reply writer passed them to memcpy (memcpy(w, nullptr, 0) is undefined).
// The sanitizer build (make test-sanitize) reports it; here the reply must also be right.
TEST(ChunkRegression, ShortRowPaddedWithNullCells) {
  auto engine = ctdetect_test::engine_for(kConf);
  ctdetect::ChunkOptions options;
  options.field = "raw";
  std::string out = run_chunk(*engine, std::string("raw,\x00\x8c\nf", 8), options);
  EXPECT_EQ(out.substr(0, out.find('\n') + 1),
            std::string("raw,\x00\x8c,cloudtrail_error,__mv_raw,__mv_\x00\x8c,__mv_cloudtrail_error\n", 63));
  EXPECT_EQ(out.compare(out.find('\n') + 1, 17, "f,,invalid JSON: "), 0) << out;
  EXPECT_EQ(out.substr(out.size() - 4), ",,,\n");
}
