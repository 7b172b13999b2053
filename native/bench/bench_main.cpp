// ctdetect_bench: in-process figures for `make bench`, on one NDJSON corpus.
//   read         reading the corpus file (page cache), the I/O ceiling
//   dom          simdjson DOM parse_many over every record, the parsing ceiling
//   ondemand     simdjson On-Demand, reading only eventName of every record
//   extract      Engine::process_body on 50,000-row protocol v2 bodies, extract=true
//   detect       the same with extract=false (detections only)
// Prints one JSON object per measure: {"measure", "seconds", "json_mb_per_s", "events_per_s"}.
// MB/s always count the records' JSON bytes, so every figure compares with the ceilings.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "simdjson.h"

#include "ctdetect/csv.h"
#include "ctdetect/engine.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Corpus {
  std::string text;                  // the NDJSON file
  std::vector<std::string_view> records;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void report(const char *measure, double seconds, size_t bytes, size_t events) {
  std::printf("{\"measure\": \"%s\", \"seconds\": %.6f, \"json_mb_per_s\": %.1f, \"events_per_s\": %.0f}\n", measure,
              seconds, bytes / seconds / 1e6, events / seconds);
  std::fflush(stdout);
}

Corpus load(const std::string &path, double &read_seconds) {
  Corpus corpus;
  auto start = Clock::now();
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  corpus.text = content.str();
  read_seconds = seconds_since(start);
  size_t pos = 0;
  while (pos < corpus.text.size()) {
    size_t end = corpus.text.find('\n', pos);
    if (end == std::string::npos) { end = corpus.text.size(); }
    if (end > pos) { corpus.records.emplace_back(corpus.text.data() + pos, end - pos); }
    pos = end + 1;
  }
  return corpus;
}

// splunkd's layout: plain columns, then their __mv_ twins.
std::vector<std::string> chunk_bodies(const Corpus &corpus, size_t rows_per_chunk) {
  std::vector<std::string> bodies;
  const char *header =
      "_raw,_time,host,index,linecount,source,sourcetype,splunk_server,"
      "__mv__raw,__mv__time,__mv_host,__mv_index,__mv_linecount,__mv_source,__mv_sourcetype,__mv_splunk_server\n";
  for (size_t first = 0; first < corpus.records.size(); first += rows_per_chunk) {
    std::string body = header;
    size_t last = std::min(first + rows_per_chunk, corpus.records.size());
    for (size_t i = first; i < last; ++i) {
      ctdetect::csv_append_cell(body, corpus.records[i]);
      body += "," + std::to_string(1722500000 + i) + ".000,ip-10-0-0-1,aws,1,s3://trail/AWSLogs/x.json.gz,aws:cloudtrail,idx1,,,,,,,,\n";
    }
    bodies.push_back(std::move(body));
  }
  return bodies;
}

}  // namespace

int main(int argc, char **argv) {
  std::string corpus_path, conf = "default/cloudtrail_detections.conf", lookups = "lookups";
  size_t rows_per_chunk = 50000;
  std::vector<std::string> measures;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--corpus") {
      corpus_path = argv[i + 1];
    } else if (arg == "--conf") {
      conf = argv[i + 1];
    } else if (arg == "--lookups") {
      lookups = argv[i + 1];
    } else if (arg == "--chunk-rows") {
      rows_per_chunk = std::stoul(argv[i + 1]);
    } else if (arg == "--measure") {
      measures.push_back(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: ctdetect_bench --corpus FILE [--conf FILE] [--lookups DIR] [--chunk-rows N] [--measure M]...\n");
      return 2;
    }
  }
  if (corpus_path.empty()) {
    std::fprintf(stderr, "ctdetect_bench: --corpus is required\n");
    return 2;
  }
  if (measures.empty()) { measures = {"read", "dom", "ondemand", "extract", "detect"}; }
  auto wants = [&](const char *name) {
    for (const auto &m : measures) {
      if (m == name) { return true; }
    }
    return false;
  };

  double read_seconds = 0;
  Corpus corpus = load(corpus_path, read_seconds);
  size_t json_bytes = 0;
  for (auto record : corpus.records) { json_bytes += record.size(); }
  const size_t events = corpus.records.size();
  if (wants("read")) { report("read", read_seconds, json_bytes, events); }

  if (wants("dom")) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(corpus.text);
    auto start = Clock::now();
    simdjson::dom::document_stream stream;
    if (parser.parse_many(padded, 1 << 20).get(stream)) { return 1; }
    size_t parsed = 0;
    for (auto document : stream) {
      simdjson::dom::element element;
      if (!document.get(element)) { ++parsed; }
    }
    report("dom", seconds_since(start), json_bytes, parsed);
  }

  if (wants("ondemand")) {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(corpus.text);
    auto start = Clock::now();
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(padded, 1 << 20).get(stream)) { return 1; }
    size_t found = 0;
    for (auto document : stream) {
      std::string_view name;
      if (!document["eventName"].get_string().get(name)) { found += name.empty() ? 0 : 1; }
    }
    report("ondemand_eventname", seconds_since(start), json_bytes, found);
  }

  auto created = ctdetect::Engine::create({conf}, lookups, "*");
  if (!created) {
    std::fprintf(stderr, "ctdetect_bench: %s\n", created.detail().c_str());
    return 1;
  }
  auto engine = std::move(created).value();
  std::vector<std::string> bodies;
  if (wants("extract") || wants("detect")) { bodies = chunk_bodies(corpus, rows_per_chunk); }
  for (bool extract : {true, false}) {
    if (!wants(extract ? "extract" : "detect")) { continue; }
    ctdetect::ChunkOptions options;
    options.extract = extract;
    std::string out, detail;
    size_t out_bytes = 0;
    auto start = Clock::now();
    for (const std::string &body : bodies) {
      if (engine->process_body(body, options, out, detail) != ctdetect::error_code::SUCCESS) {
        std::fprintf(stderr, "ctdetect_bench: %s\n", detail.c_str());
        return 1;
      }
      out_bytes += out.size();
    }
    report(extract ? "engine_extract" : "engine_detect_only", seconds_since(start), json_bytes, events);
    std::fprintf(stderr, "%s: reply bodies %.1f MB\n", extract ? "extract" : "detect", out_bytes / 1e6);
  }
  return 0;
}
