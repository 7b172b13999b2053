// Hostile input to the core: what an attacker (or a broken forwarder) can put in an event, a
// chunk or a detection file. Each test asserts the documented outcome (README, "Hostile input").
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "ctdetect/conf.h"
#include "ctdetect/detection.h"
#include "ctdetect/engine.h"
#include "ctdetect/flattener.h"
#include "test_support.h"

namespace {

const std::string kConf = ctdetect_test::stanza("login", "eventName=ConsoleLogin", "medium");

std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') { out.push_back('"'); }
    out.push_back(c);
  }
  return out + "\"";
}

std::string chunk_of(const std::vector<std::string> &raws) {
  std::string body = "_raw,host\n";
  for (size_t i = 0; i < raws.size(); ++i) { body += quoted(raws[i]) + ",h" + std::to_string(i) + "\n"; }
  return body;
}

// A record with `count` keys that no other record has (k<base>_<i>).
std::string random_keys_record(size_t base, size_t count) {
  std::string raw = "{\"eventName\":\"ConsoleLogin\"";
  for (size_t i = 0; i < count; ++i) { raw += ",\"k" + std::to_string(base) + "_" + std::to_string(i) + "\":1"; }
  return raw + "}";
}

}  // namespace

// Gap B(1): the interned field names no longer grow with every distinct key ever seen. 1M
// distinct keys over 40 chunks: the table is reset between chunks once it passes its budget,
// the detections' own names keep their ids, and every chunk still gets its fields and matches.
TEST(Hostile, FieldNameTableStaysBoundedAcrossChunks) {
  auto engine = ctdetect_test::engine_for(kConf + ctdetect_test::stanza("deep", "requestParameters.a.b=1"));
  const size_t pinned = engine->paths().pinned();
  const ctdetect::path_id event_name = [&] {
    ctdetect::PathTable &paths = const_cast<ctdetect::PathTable &>(engine->paths());
    return paths.intern("eventName");  // already interned by the detections: no new name
  }();
  ASSERT_EQ(engine->paths().size(), pinned);
  size_t peak = 0;
  const size_t per_chunk = 25000;
  for (size_t chunk = 0; chunk < 40; ++chunk) {
    std::string body = chunk_of({random_keys_record(chunk, per_chunk), "{\"requestParameters\":{\"a\":{\"b\":1}}}"});
    std::string out, detail;
    ASSERT_EQ(engine->process_body(body, {}, out, detail), ctdetect::error_code::SUCCESS) << detail;
    peak = std::max(peak, engine->paths().size());
    // Both rows matched: ids held by the detections are still right after resets.
    EXPECT_NE(out.find("login,Title of login"), std::string::npos) << chunk;
    EXPECT_NE(out.find(",deep,Title of deep,"), std::string::npos) << chunk;
    EXPECT_NE(out.find("k" + std::to_string(chunk) + "_" + std::to_string(per_chunk - 1)), std::string::npos);
  }
  EXPECT_LE(peak, pinned + ctdetect::Engine::kFieldNameBudget + per_chunk + 16);
  EXPECT_EQ(engine->paths().name(event_name), "eventName");
  EXPECT_GE(engine->paths().pinned(), pinned);
}

TEST(Hostile, FieldNameTableStaysBoundedAcrossAnalyzeCalls) {
  auto engine = ctdetect_test::engine_for(kConf);
  const size_t pinned = engine->paths().pinned();
  for (size_t call = 0; call < 30; ++call) {
    auto analysis = engine->analyze(random_keys_record(call, 5000));
    ASSERT_EQ(analysis.error, "");
    ASSERT_EQ(analysis.fields.size(), 5001u);
    EXPECT_EQ(analysis.detections, std::vector<std::string>{"login"});
    EXPECT_EQ(analysis.fields.back().first, "k" + std::to_string(call) + "_4999");
  }
  EXPECT_LE(engine->paths().size(), pinned + ctdetect::Engine::kFieldNameBudget + 5000 + 16);
}

TEST(Hostile, ResetKeepsPinnedIdsAndForgetsTheRest) {
  ctdetect::PathTable paths;
  ctdetect::path_id a = paths.intern("a.b{}.c");
  ctdetect::path_id b = paths.intern("x");
  paths.pin();
  ctdetect::path_id x = paths.object_child(ctdetect::kRootPath, "x");
  EXPECT_EQ(x, b);
  ctdetect::path_id y = paths.object_child(x, "y");
  ctdetect::path_id arr = paths.array_child(y);
  EXPECT_EQ(paths.name(arr), "x.y{}");
  paths.reset_to_pinned();
  EXPECT_EQ(paths.size(), paths.pinned());
  EXPECT_EQ(paths.name(a), "a.b{}.c");
  EXPECT_EQ(paths.array_depth(a), 1u);
  EXPECT_EQ(paths.object_child(ctdetect::kRootPath, "x"), b);
  // The walk from the root finds the pinned name again.
  ctdetect::path_id ab = paths.object_child(paths.object_child(ctdetect::kRootPath, "a"), "b");
  EXPECT_EQ(paths.object_child(paths.array_child(ab), "c"), a);
  EXPECT_EQ(paths.name(paths.object_child(b, "z")), "x.z");
}

// Numbers beyond double range and 100-digit integers keep their JSON text, as strings do.
TEST(Hostile, NumbersBeyondDoubleRangeKeepTheirText) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string big(100, '9');
  auto analysis = engine->analyze("{\"a\":1e400,\"b\":-1E-400,\"c\":" + big + ",\"d\":-" + big + ".5e+999}");
  ASSERT_EQ(analysis.error, "");
  ASSERT_EQ(analysis.fields.size(), 4u);
  EXPECT_EQ(analysis.fields[0].second, std::vector<std::string>{"1e400"});
  EXPECT_EQ(analysis.fields[1].second, std::vector<std::string>{"-1E-400"});
  EXPECT_EQ(analysis.fields[2].second, std::vector<std::string>{big});
  EXPECT_EQ(analysis.fields[3].second, std::vector<std::string>{"-" + big + ".5e+999"});
  // The same with extract=false (the DOM probe cannot hold them and hands over to flatten()).
  std::string out, detail;
  ctdetect::ChunkOptions options;
  options.extract = false;
  ASSERT_EQ(engine->process_body(chunk_of({"{\"eventName\":\"ConsoleLogin\",\"n\":1e400}"}), options, out, detail),
            ctdetect::error_code::SUCCESS);
  EXPECT_NE(out.find(",login,"), std::string::npos) << out;
}

TEST(Hostile, DuplicateKeysBecomeMultivalue) {
  auto engine = ctdetect_test::engine_for(kConf);
  auto analysis = engine->analyze("{\"eventName\":\"Other\",\"eventName\":\"ConsoleLogin\",\"a\":{\"b\":1},\"a\":{\"b\":2}}");
  ASSERT_EQ(analysis.error, "");
  EXPECT_EQ(analysis.fields[0].second, (std::vector<std::string>{"Other", "ConsoleLogin"}));
  EXPECT_EQ(analysis.fields[1].second, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(analysis.detections, std::vector<std::string>{"login"});  // multivalue: any value matches
}

TEST(Hostile, NulBytesInStringsAndRawNuls) {
  auto engine = ctdetect_test::engine_for(kConf);
  auto escaped = engine->analyze("{\"a\":\"x\\u0000y\"}");
  ASSERT_EQ(escaped.error, "");
  EXPECT_EQ(escaped.fields[0].second[0], std::string("x\0y", 3));
  auto raw = engine->analyze(std::string("{\"a\":\"x\0y\"}", 11));
  EXPECT_EQ(raw.error.rfind("invalid JSON: ", 0), 0u) << raw.error;
  // In a chunk: the NUL passes through the CSV untouched, the row keeps its cells.
  std::string out, detail;
  const std::string nul(1, '\0');
  std::string body = "_raw,host\n\"{\"\"a\"\":\"\"x" + nul + "y\"\"}\",h" + nul + "h\n";
  ASSERT_EQ(engine->process_body(body, {}, out, detail), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(out.rfind("_raw,host,cloudtrail_error,", 0), 0u) << out;
  EXPECT_NE(out.find("x" + nul + "y\"\"}\",h" + nul + "h,\"invalid JSON: "), std::string::npos) << out;
}

TEST(Hostile, InvalidUtf8IsAnEventError) {
  auto engine = ctdetect_test::engine_for(kConf);
  for (std::string raw : {std::string("{\"a\":\"\xff\"}"), std::string("{\"\xc3\":1}"), std::string("{\"a\":\"\xed\xa0\x80\"}"),
                          std::string("{\"a\":\"\xc0\xaf\"}")}) {
    auto analysis = engine->analyze(raw);
    EXPECT_EQ(analysis.error.rfind("invalid JSON: ", 0), 0u) << analysis.error;
    EXPECT_TRUE(analysis.fields.empty());
  }
}

TEST(Hostile, NestingAndHugeArrays) {
  auto engine = ctdetect_test::engine_for(kConf);
  const size_t depth = 100000;
  auto deep = engine->analyze("{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}");
  EXPECT_EQ(deep.error, "invalid JSON: more than 1024 nested arrays and objects");
  std::string objects;
  for (size_t i = 0; i < depth; ++i) { objects += "{\"a\":"; }
  objects += "1" + std::string(depth, '}');
  EXPECT_EQ(engine->analyze(objects).error, "invalid JSON: more than 1024 nested arrays and objects");
  std::string items = "{\"eventName\":\"ConsoleLogin\",\"a\":[0";
  for (size_t i = 1; i < 1000000; ++i) { items += ",1"; }
  auto wide = engine->analyze(items + "]}");
  ASSERT_EQ(wide.error, "");
  EXPECT_EQ(wide.fields[1].first, "a{}");
  EXPECT_EQ(wide.fields[1].second.size(), 1000000u);
  EXPECT_EQ(wide.detections, std::vector<std::string>{"login"});
}

TEST(Hostile, BrokenChunkBodies) {
  auto engine = ctdetect_test::engine_for(kConf);
  std::string out, detail;
  // Cut inside a quoted cell: the chunk is refused, naming the line.
  EXPECT_EQ(engine->process_body("_raw,host\n\"{}\",h\n\"{\"\"a", {}, out, detail), ctdetect::error_code::CSV_MALFORMED);
  EXPECT_EQ(detail, "unterminated quoted value in the row starting on line 3");
  // Without the input field: every row passes through with "empty event".
  ASSERT_EQ(engine->process_body("host,source\nh,s\n", {}, out, detail), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(out, "host,source,cloudtrail_error,__mv_host,__mv_source,__mv_cloudtrail_error\nh,s,empty event,,,\n");
  // Quotes, newlines and $ in multivalue cells are copied byte for byte.
  std::string mv = "_raw,tag,__mv__raw,__mv_tag\n{},\"a$b\nc\"\"d\",,\"$a$$b$;$c\"\"d$\"\n";
  ASSERT_EQ(engine->process_body(mv, {}, out, detail), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(out, mv);
  ASSERT_EQ(engine->process_body("", {}, out, detail), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(out, "");
}

// Errors about a key name the line that set it: the local/ override, not the default/ stanza.
TEST(Hostile, DetectionErrorsPointAtTheLocalOverride) {
  std::string base = ctdetect_test::stanza("login", "eventName=ConsoleLogin", "medium");
  std::string default_path = ctdetect_test::write_temp_file("default_detections.conf", "# header\n" + base);
  std::string local_path = ctdetect_test::write_temp_file(
      "local_detections.conf", "\n[login]\ncondition = eventName=ConsoleLogin AND (userIdentity.type=Root\n");
  auto engine = ctdetect::Engine::create({default_path, local_path}, "/nonexistent", "*");
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.detail(), "detection login (" + local_path + ":3): condition column 51: expected ')', got end of condition");

  std::string severity = ctdetect_test::write_temp_file("local_severity.conf", "[login]\nseverity = urgent\n");
  auto second = ctdetect::Engine::create({default_path, severity}, "/nonexistent", "*");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.detail().rfind("detection login (" + severity + ":2): severity 'urgent'", 0), 0u) << second.detail();

  std::string syntax = ctdetect_test::write_temp_file("local_syntax.conf", "[login]\ntitle = x\nno equals here\n");
  auto third = ctdetect::Engine::create({default_path, syntax}, "/nonexistent", "*");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.detail(), syntax + ":3: expected 'key = value' or a [stanza] header (in stanza [login])");
}

// A detection file must be UTF-8, as the pure-Python engine requires.
TEST(Hostile, DetectionFileThatIsNotUtf8IsRefused) {
  std::string path = ctdetect_test::write_temp_file(
      "latin1_detections.conf", ctdetect_test::stanza("login", "eventName=ConsoleLogin") + "[login]\ntitle = caf\xe9\n");
  auto engine = ctdetect::Engine::create({path}, "/nonexistent", "*");
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error(), ctdetect::error_code::CONF_SYNTAX);
  EXPECT_EQ(engine.detail(), path + ": not UTF-8 text");
}

TEST(Hostile, MalformedLookupRowsAreWarningsAndTheRestIsUsed) {
  std::string dir = ::testing::TempDir() + "/ctdetect_hostile_lookups_" + std::to_string(getpid());
  ::mkdir(dir.c_str(), 0700);
  std::ofstream(dir + "/known_attacker_ips.csv", std::ios::binary)
      << "ip,description\n10.0.0.0/33,bad\n203.0.113.0/24,ok\n300.1.1.1,bad\n::/129,bad\n";
  auto engine = ctdetect_test::engine_for(ctdetect_test::stanza("bad_ip", "cidrlookup(\"known_attacker_ips\", sourceIPAddress)"), dir);
  ASSERT_EQ(engine->warnings().size(), 3u);
  EXPECT_NE(engine->warnings()[0].find("line 2: '10.0.0.0/33' is not an IP address or CIDR range; row ignored"), std::string::npos);
  EXPECT_NE(engine->warnings()[1].find("line 4: '300.1.1.1'"), std::string::npos);
  EXPECT_NE(engine->warnings()[2].find("line 5: '::/129'"), std::string::npos);
  EXPECT_EQ(engine->analyze("{\"sourceIPAddress\":\"203.0.113.9\"}").detections, std::vector<std::string>{"bad_ip"});
  EXPECT_TRUE(engine->analyze("{\"sourceIPAddress\":\"10.0.0.1\"}").detections.empty());
}

// Gap B(3): one huge record no longer pins buffers of its size for the rest of the search.
TEST(Hostile, BuffersGrownByOneHugeRecordAreGivenBack) {
  ctdetect::PathTable paths;
  ctdetect::Flattener flattener(paths);
  ctdetect::FlatRecord record;
  std::string huge = "{\"eventName\":\"X\",\"big\":\"" + std::string(40 << 20, 'x') + "\",\"a\":[1,2]}";
  ASSERT_EQ(flattener.flatten(huge, record), ctdetect::error_code::SUCCESS);
  std::string_view name;
  bool decided = false;
  ASSERT_EQ(flattener.probe("eventName", name, decided), ctdetect::error_code::SUCCESS);
  EXPECT_GT(flattener.buffer_capacity(), size_t(40) << 20);
  flattener.release_buffers_over(size_t(16) << 20);
  EXPECT_LE(flattener.buffer_capacity(), size_t(16) << 20);
  ASSERT_EQ(flattener.flatten("{\"eventName\":\"Y\",\"b\":[true]}", record), ctdetect::error_code::SUCCESS);
  EXPECT_EQ(record.values.size(), 2u);
  EXPECT_EQ(record.values[1].text, "true");
  // Small buffers are kept (no reallocation per chunk in steady state).
  size_t small = flattener.buffer_capacity();
  flattener.release_buffers_over(size_t(16) << 20);
  EXPECT_EQ(flattener.buffer_capacity(), small);

  // Through the engine: a chunk with the huge record, then small chunks, all answered.
  auto engine = ctdetect_test::engine_for(kConf);
  std::string out, detail;
  ASSERT_EQ(engine->process_body(chunk_of({huge, "{\"eventName\":\"ConsoleLogin\"}"}), {}, out, detail),
            ctdetect::error_code::SUCCESS);
  EXPECT_NE(out.find("login,Title of login"), std::string::npos);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(engine->process_body(chunk_of({"{\"eventName\":\"ConsoleLogin\",\"n\":" + std::to_string(i) + "}"}), {}, out, detail),
              ctdetect::error_code::SUCCESS);
    EXPECT_NE(out.find("login,Title of login"), std::string::npos);
  }
}
