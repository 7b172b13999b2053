// The engine: a rule set, a flattener and the chunk processor, reused for a whole search.
// Not thread-safe: one engine per thread (a search command process uses one).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctdetect/detection.h"
#include "ctdetect/error.h"
#include "ctdetect/flat_record.h"
#include "ctdetect/flattener.h"
#include "ctdetect/path_table.h"
#include "ctdetect/record_view.h"

namespace ctdetect {

// One cell the command writes into a reply row (a plain value and its __mv_ twin, both already
// CSV-encoded in the chunk's arena).
struct ChunkOverride {
  uint32_t column;
  size_t plain_begin, plain_size;
  size_t mv_begin, mv_size;
};

// Where write_reply sends a reply body, in order, in pieces. write() returns false to stop
// (detail() then says why, e.g. the reader went away).
class ReplySink {
public:
  virtual ~ReplySink() = default;
  virtual bool write(const char *data, size_t size) = 0;
  virtual std::string detail() const = 0;
};

struct ChunkOptions {
  std::string field = "_raw";    // the column holding the CloudTrail record
  bool extract = true;           // write the extracted fields
  bool only_detections = false;  // drop rows without a detection (rows with an error stay)
};

struct Analysis {
  std::string error;  // empty, or the cloudtrail_error text
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;  // first-seen order
  std::vector<std::string> detections;
};

class Engine {
public:
  static result<std::unique_ptr<Engine>> create(const std::vector<std::string> &conf_paths, const std::string &lookup_dir,
                                                std::string_view rules);

  std::vector<std::string> detection_ids() const;
  const std::vector<std::string> &warnings() const { return rules_->warnings(); }
  const RuleSet &rules() const { return *rules_; }

  Analysis analyze(std::string_view raw);

  // One execute chunk: splunkd's CSV body in, the reply's CSV body out (see docs/engine-contract.md).
  error_code process_body(std::string_view body, const ChunkOptions &options, std::string &out, std::string &detail);
  // The same in two steps, for a caller that streams the reply (it is often 2-3 x the chunk and
  // need never exist whole): prepare_reply runs every row and sets `size` to the reply's exact
  // length (a protocol header announces it first); write_reply then sends those bytes to `sink`
  // in pieces of at most kReplyPiece. `body` must stay alive and unchanged in between.
  error_code prepare_reply(std::string_view body, const ChunkOptions &options, size_t &size, std::string &detail);
  error_code write_reply(ReplySink &sink, std::string &detail);
  static constexpr size_t kReplyPiece = size_t(1) << 20;

  // Flattens and evaluates one record into record()/view()/matched(); returns the error text or "".
  std::string_view run(std::string_view raw);
  // The same on the record loaded in the flattener. Without `need_fields`, an event that no
  // detection can match (by its eventName) is validated but not flattened: view() is then empty.
  std::string_view run_loaded(bool need_fields);
  const RecordView &view() const { return view_; }
  const std::vector<uint32_t> &matched() const { return matched_; }
  const PathTable &paths() const { return paths_; }
  // Field names interned beyond the detections' own are forgotten between chunks (and between
  // analyze() calls) once there are more than this many, so hostile events with random keys
  // cannot grow the table without bound; within one chunk it grows with that chunk only.
  static constexpr size_t kFieldNameBudget = size_t(1) << 16;
  // Buffers sized by one record (its padded copy, the parsers' indexes and string copies) are
  // given back between chunks when a record made them larger than this: one 100 MB event would
  // otherwise keep ~2-3 x its size for the rest of the search.
  static constexpr size_t kRecordBufferBudget = size_t(16) << 20;
  // Called where no path id or record of earlier events is held any more: the start of a chunk.
  void bound_memory() {
    if (paths_.size() > paths_.pinned() + kFieldNameBudget) { paths_.reset_to_pinned(); }
    flattener_.release_buffers_over(kRecordBufferBudget);
    if (record_.values.capacity() * sizeof(FlatValue) > kRecordBufferBudget) { record_ = FlatRecord(); }
    // The arena still holds the previous chunk's cells: kept while chunks fill a good part of it
    // (steady state reuses it), freed when it is 4 x larger than the last chunk needed.
    if (chunk_ && chunk_->arena.capacity() > kRecordBufferBudget && chunk_->arena.size() < chunk_->arena.capacity() / 4) {
      std::string().swap(chunk_->arena);
    }
  }

private:
  Engine() : flattener_(paths_) {}

  PathTable paths_;
  std::unique_ptr<RuleSet> rules_;
  Flattener flattener_;
  FlatRecord record_;
  RecordView view_;
  std::vector<uint32_t> matched_;
  std::vector<uint32_t> narrowed_;
  std::string error_text_;

  // process_body's working memory, kept from chunk to chunk so steady state allocates nothing.
  struct ChunkMemory {
    // A column of the reply, in order: the input's plain columns, then the new ones.
    struct ReplyColumn {
      std::string name;
      int32_t input_plain = -1;  // index of the input column, if the input had it
      int32_t input_mv = -1;     // index of the input's __mv_ twin
      bool has_twin = true;      // false for a column named __mv_* or whose twin name is taken
    };
    // The prepared reply (prepare_reply), written by write_reply.
    std::vector<ReplyColumn> columns;
    std::vector<uint32_t> twin_slot;  // per new column: its place among the new twins
    size_t input_count = 0;
    uint32_t input_columns = 0;
    uint32_t new_twins = 0;
    std::string header;
    bool prepared = false;
    std::string piece;  // the pieces a streamed reply is written through
    std::vector<std::string_view> cells;
    std::vector<std::string_view> kept_cells;
    std::vector<std::pair<size_t, size_t>> row_overrides;
    std::vector<ChunkOverride> overrides;
    std::string arena;
    std::string scratch;
    std::string joined;
    std::vector<int32_t> path_columns;  // per path id: its reply column; kUnassigned between chunks
    std::vector<path_id> assigned_paths;  // the entries of path_columns this chunk set
    std::vector<std::string_view> texts;
  };
  std::unique_ptr<ChunkMemory> chunk_;
  error_code write_reply_into(char *out, size_t size);
  template <typename Writer> static void emit_reply(const ChunkMemory &memory, Writer &writer);
};

}  // namespace ctdetect
