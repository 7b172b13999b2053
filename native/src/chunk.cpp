// One protocol v2 execute chunk: decode splunkd's CSV, run every row, encode the reply.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "ctdetect/csv.h"
#include "ctdetect/engine.h"

namespace ctdetect {

namespace {

constexpr std::string_view kMvPrefix = "__mv_";
const char *const kResultFields[] = {"detection", "detection_title", "mitre_attack_id", "detection_severity",
                                     "cloudtrail_error"};
enum ResultField { DETECTION, DETECTION_TITLE, MITRE_ATTACK_ID, DETECTION_SEVERITY, CLOUDTRAIL_ERROR, NUM_RESULT_FIELDS };

constexpr char kSixteenSeparators[] = ",,,,,,,,,,,,,,,,";
constexpr size_t kStorePadding = 16;

constexpr int32_t kUnassigned = -1;
constexpr int32_t kNeverWritten = -2;


// Writes values as one plain cell and its __mv_ twin into `arena`: one value -> plain only;
// several -> joined by \n, and $v1$;$v2$ with $ doubled.
template <typename Iterator, typename Text>
ChunkOverride encode_values(std::string &arena, std::string &joined, uint32_t column, Iterator begin, Iterator end,
                            Text text_of) {
  ChunkOverride cell{column, arena.size(), 0, 0, 0};
  if (end - begin == 1) {
    csv_append_cell(arena, text_of(*begin));
    cell.plain_size = arena.size() - cell.plain_begin;
    cell.mv_begin = arena.size();
    return cell;
  }
  joined.clear();
  for (Iterator it = begin; it != end; ++it) {
    if (it != begin) { joined.push_back('\n'); }
    joined.append(text_of(*it));
  }
  csv_append_cell(arena, joined);
  cell.plain_size = arena.size() - cell.plain_begin;
  joined.clear();
  for (Iterator it = begin; it != end; ++it) {
    if (it != begin) { joined.push_back(';'); }
    joined.push_back('$');
    std::string_view text = text_of(*it);
    for (size_t start = 0;;) {
      size_t dollar = text.find('$', start);
      if (dollar == std::string_view::npos) {
        joined.append(text.substr(start));
        break;
      }
      joined.append(text.substr(start, dollar + 1 - start));
      joined.push_back('$');
      start = dollar + 1;
    }
    joined.push_back('$');
  }
  cell.mv_begin = arena.size();
  csv_append_cell(arena, joined);
  cell.mv_size = arena.size() - cell.mv_begin;
  return cell;
}

std::string_view as_text(std::string_view text) { return text; }

// Separator runs are short and many (a sparse row crosses hundreds of columns): the writers
// store 16 at a time, possibly past the run's end, into room the next writes overwrite; every
// buffer they write into has kStorePadding bytes more than its content.
inline char *store_separators(char *w, size_t count) {
  char *stop = w + count;
  for (char *p = w; p < stop; p += 16) { std::memcpy(p, kSixteenSeparators, 16); }
  return stop;
}

struct CountingWriter {
  size_t total = 0;
  bool ok = true;
  void put(const char *, size_t size) { total += size; }
  void put_char(char) { ++total; }
  void put_separators(size_t count) { total += count; }
};

struct DirectWriter {
  char *w;
  bool ok = true;
  void put(const char *data, size_t size) {
    if (size == 0) { return; }  // an empty cell's view may be null: memcpy(w, nullptr, 0) is UB (chunk fuzz target)
    std::memcpy(w, data, size);
    w += size;
  }
  void put_char(char c) { *w++ = c; }
  void put_separators(size_t count) { w = store_separators(w, count); }
};

// Fills a piece buffer (capacity bytes plus padding) and hands it to the sink when full; a cell
// longer than a piece goes to the sink directly.
class PieceWriter {
public:
  PieceWriter(ReplySink &sink, char *buffer, size_t capacity)
      : sink_(sink), begin_(buffer), w_(buffer), limit_(buffer + capacity) {}
  bool ok = true;
  void put(const char *data, size_t size) {
    if (size > static_cast<size_t>(limit_ - w_)) {
      flush();
      if (size > static_cast<size_t>(limit_ - begin_)) {
        ok = ok && sink_.write(data, size);
        return;
      }
    }
    if (size != 0) { std::memcpy(w_, data, size); }  // data may be null for an empty cell
    w_ += size;
  }
  void put_char(char c) {
    if (w_ == limit_) { flush(); }
    *w_++ = c;
  }
  void put_separators(size_t count) {
    while (count > 0) {
      if (w_ == limit_) { flush(); }
      size_t run = std::min(count, static_cast<size_t>(limit_ - w_));
      w_ = store_separators(w_, run);
      count -= run;
    }
  }
  void flush() {
    if (w_ > begin_ && ok) { ok = sink_.write(begin_, static_cast<size_t>(w_ - begin_)); }
    w_ = begin_;
  }

private:
  ReplySink &sink_;
  char *begin_;
  char *w_;
  char *limit_;
};

}  // namespace

error_code Engine::process_body(std::string_view body, const ChunkOptions &options, std::string &out,
                                std::string &detail) {
  out.clear();
  size_t size = 0;
  error_code error = prepare_reply(body, options, size, detail);
  if (error != error_code::SUCCESS) { return error; }
  // Written straight into `out`, sized once (with room for the writer's 16-byte stores).
  if (size + kStorePadding > out.capacity()) {
    out.reserve(std::max(size + kStorePadding, out.capacity() + out.capacity() / 4));
  }
  out.resize(size + kStorePadding);
  error = write_reply_into(out.data(), size);
  out.resize(size);
  return error;
}

error_code Engine::prepare_reply(std::string_view body, const ChunkOptions &options, size_t &size,
                                 std::string &detail) {
  size = 0;
  ChunkMemory &memory = *chunk_;
  memory.prepared = false;
  memory.columns.clear();
  memory.kept_cells.clear();
  memory.row_overrides.clear();
  memory.overrides.clear();
  memory.header.clear();
  if (body.empty()) {
    memory.prepared = true;
    return error_code::SUCCESS;
  }
  bound_memory();  // no path id or buffer of an earlier chunk is held past this point
  std::vector<std::string_view> &cells = memory.cells;
  CsvReader reader(body);
  bool has_row = false;
  if (reader.next_row(cells, has_row) != error_code::SUCCESS) {
    detail = "unterminated quoted value in the header row";
    return error_code::CSV_MALFORMED;
  }

  // Columns: the input's plain columns in order, each paired with its __mv_ twin.
  using Column = ChunkMemory::ReplyColumn;
  std::vector<Column> &columns = memory.columns;
  std::unordered_map<std::string, int32_t> column_by_name;
  std::vector<std::string> input_names;
  for (std::string_view cell : cells) { input_names.emplace_back(csv_unquote(cell, memory.scratch)); }
  std::unordered_map<std::string, int32_t> input_index;
  for (size_t i = 0; i < input_names.size(); ++i) { input_index.emplace(input_names[i], static_cast<int32_t>(i)); }
  std::vector<bool> is_twin(input_names.size(), false);
  for (size_t i = 0; i < input_names.size(); ++i) {
    const std::string &name = input_names[i];
    if (name.compare(0, kMvPrefix.size(), kMvPrefix) == 0 && input_index.count(name.substr(kMvPrefix.size())) != 0) {
      is_twin[i] = true;
    }
  }
  for (size_t i = 0; i < input_names.size(); ++i) {
    if (is_twin[i] || column_by_name.count(input_names[i]) != 0) { continue; }
    Column column{input_names[i], static_cast<int32_t>(i), -1, input_names[i].compare(0, kMvPrefix.size(), kMvPrefix) != 0};
    auto twin = input_index.find(std::string(kMvPrefix) + input_names[i]);
    if (twin != input_index.end()) { column.input_mv = twin->second; }
    column_by_name.emplace(input_names[i], static_cast<int32_t>(columns.size()));
    columns.push_back(std::move(column));
  }
  const size_t input_count = input_names.size();
  const auto input_columns = static_cast<uint32_t>(columns.size());
  auto field_at = input_index.find(options.field);
  const int32_t field_column = field_at == input_index.end() ? -1 : field_at->second;

  auto column_named = [&](const std::string &name) {
    auto found = column_by_name.find(name);
    if (found != column_by_name.end()) { return found->second; }
    auto index = static_cast<int32_t>(columns.size());
    // No twin when the input already has a column of that name (an __mv_x without x): the reply
    // would have two columns named __mv_x (chunk fuzz target). x is then written plain only.
    columns.push_back(Column{name, -1, -1, input_index.count(std::string(kMvPrefix) + name) == 0});
    column_by_name.emplace(name, index);
    return index;
  };
  int32_t result_columns[NUM_RESULT_FIELDS];
  std::fill(std::begin(result_columns), std::end(result_columns), kUnassigned);
  auto result_column = [&](ResultField field) {
    if (result_columns[field] == kUnassigned) { result_columns[field] = column_named(kResultFields[field]); }
    return static_cast<uint32_t>(result_columns[field]);
  };
  // Extracted fields never replace the record's own column, Splunk's internal fields (_time,
  // _raw, __mv_*...) or the result fields.
  // Only the entries the previous chunk set are cleared: the table can hold kFieldNameBudget
  // names, and a one-row chunk should not pay for all of them.
  std::vector<int32_t> &path_columns = memory.path_columns;
  std::vector<path_id> &assigned_paths = memory.assigned_paths;
  for (path_id path : assigned_paths) { path_columns[path] = kUnassigned; }
  assigned_paths.clear();
  auto path_column = [&](path_id path) {
    if (path >= path_columns.size()) { path_columns.resize(paths_.size(), kUnassigned); }
    int32_t &column = path_columns[path];
    if (column == kUnassigned) {
      const std::string &name = paths_.name(path);
      bool reserved = name.empty() || name[0] == '_' || name == options.field;
      for (const char *result_name : kResultFields) { reserved = reserved || name == result_name; }
      column = reserved ? kNeverWritten : column_named(name);
      assigned_paths.push_back(path);
    }
    return column;
  };

  std::vector<std::string_view> &kept_cells = memory.kept_cells;  // input_count per kept row
  std::vector<std::pair<size_t, size_t>> &row_overrides = memory.row_overrides;  // [begin, end) in overrides
  std::vector<ChunkOverride> &overrides = memory.overrides;
  std::string &arena = memory.arena;
  arena.clear();  // kept_cells, row_overrides and overrides were cleared on entry
  // Room for a chunk of ~1 KB rows up front (only what is written becomes resident): growing
  // these by doubling moved ~100 MB around in a search's first chunk.
  const size_t rows_estimate = body.size() / 1024 + 16;
  if (kept_cells.capacity() < rows_estimate * input_count) { kept_cells.reserve(rows_estimate * input_count); }
  if (row_overrides.capacity() < rows_estimate) { row_overrides.reserve(rows_estimate); }
  if (options.extract) {
    if (overrides.capacity() < rows_estimate * 64) { overrides.reserve(rows_estimate * 64); }
    if (arena.capacity() < body.size() + body.size() / 4) { arena.reserve(body.size() + body.size() / 4); }
  }

  while (true) {
    size_t row_start = reader.offset();
    if (reader.next_row(cells, has_row) != error_code::SUCCESS) {
      detail = "unterminated quoted value in the row starting on line " + std::to_string(reader.line_at(row_start));
      return error_code::CSV_MALFORMED;
    }
    if (!has_row) { break; }
    if (cells.size() == 1 && cells[0].empty() && input_count > 1) { continue; }  // blank line
    if (field_column >= 0 && static_cast<size_t>(field_column) < cells.size()) {
      flattener_.load_csv_cell(cells[static_cast<size_t>(field_column)]);
    } else {
      flattener_.load(std::string_view());
    }
    std::string_view error = run_loaded(options.extract);
    if (options.only_detections && matched_.empty() && error.empty()) { continue; }

    cells.resize(input_count);
    kept_cells.insert(kept_cells.end(), cells.begin(), cells.end());
    size_t first_override = overrides.size();
    if (!error.empty()) {
      overrides.push_back(encode_values(arena, memory.joined, result_column(CLOUDTRAIL_ERROR), &error, &error + 1, as_text));
    } else {
      if (options.extract) {
        for (path_id path : view_.fields_in_order()) {
          int32_t column = path_column(path);
          if (column < 0) { continue; }
          auto range = view_.values(path);
          overrides.push_back(encode_values(arena, memory.joined, static_cast<uint32_t>(column), range.first, range.second,
                                            [&](uint32_t index) { return record_.values[index].text; }));
        }
      }
      if (!matched_.empty()) {
        const auto &selected = rules_->selected();
        auto id_of = [&](uint32_t index) { return std::string_view(selected[index]->id); };
        auto title_of = [&](uint32_t index) { return std::string_view(selected[index]->title); };
        overrides.push_back(encode_values(arena, memory.joined, result_column(DETECTION), matched_.begin(), matched_.end(), id_of));
        overrides.push_back(
            encode_values(arena, memory.joined, result_column(DETECTION_TITLE), matched_.begin(), matched_.end(), title_of));
        std::vector<std::string_view> &texts = memory.texts;
        texts.clear();
        Severity highest = Severity::informational;
        for (uint32_t index : matched_) {
          highest = std::max(highest, selected[index]->severity);
          for (const std::string &technique : selected[index]->mitre_attack) {
            if (std::find(texts.begin(), texts.end(), technique) == texts.end()) { texts.emplace_back(technique); }
          }
        }
        overrides.push_back(encode_values(arena, memory.joined, result_column(MITRE_ATTACK_ID), texts.begin(), texts.end(), as_text));
        std::string_view severity = severity_name(highest);
        overrides.push_back(
            encode_values(arena, memory.joined, result_column(DETECTION_SEVERITY), &severity, &severity + 1, as_text));
      }
    }
    std::sort(overrides.begin() + static_cast<std::ptrdiff_t>(first_override), overrides.end(),
              [](const ChunkOverride &a, const ChunkOverride &b) { return a.column < b.column; });
    row_overrides.emplace_back(first_override, overrides.size());
  }

  // Header: plain columns, then the __mv_ twins in the same order.
  std::string &header = memory.header;
  bool first = true;
  for (const Column &column : columns) {
    if (!first) { header.push_back(','); }
    first = false;
    csv_append_cell(header, column.name);
  }
  for (const Column &column : columns) {
    if (!column.has_twin) { continue; }
    header.push_back(',');
    csv_append_cell(header, std::string(kMvPrefix) + column.name);
  }
  header.push_back('\n');

  // Where each new column's twin goes among the new twins (a new column without one takes none).
  const auto column_count = static_cast<uint32_t>(columns.size());
  memory.twin_slot.assign(column_count - input_columns, 0);
  uint32_t new_twins = 0;
  for (uint32_t c = input_columns; c < column_count; ++c) {
    memory.twin_slot[c - input_columns] = new_twins;
    new_twins += columns[c].has_twin ? 1 : 0;
  }
  memory.input_count = input_count;
  memory.input_columns = input_columns;
  memory.new_twins = new_twins;
  memory.prepared = true;
  CountingWriter counter;
  emit_reply(memory, counter);
  size = counter.total;
  return error_code::SUCCESS;
}

error_code Engine::write_reply_into(char *out, size_t size) {
  DirectWriter writer{out};
  emit_reply(*chunk_, writer);
  return static_cast<size_t>(writer.w - out) == size ? error_code::SUCCESS : error_code::CSV_MALFORMED;
}

error_code Engine::write_reply(ReplySink &sink, std::string &detail) {
  ChunkMemory &memory = *chunk_;
  if (!memory.prepared) {
    detail = "write_reply without a prepared reply";
    return error_code::IO_ERROR;
  }
  memory.prepared = false;
  if (memory.piece.size() != kReplyPiece + kStorePadding) { memory.piece.assign(kReplyPiece + kStorePadding, '\0'); }
  PieceWriter writer(sink, &memory.piece[0], kReplyPiece);
  emit_reply(memory, writer);
  writer.flush();
  if (!writer.ok) {
    detail = sink.detail();
    return error_code::IO_ERROR;
  }
  return error_code::SUCCESS;
}

// Rows: the input's columns cell by cell (copied verbatim, quoting included), then the new
// columns, which are sparse (a chunk of varied events has hundreds of fields, each row a few
// dozen): runs of empty cells are written as runs of separators. The same code counts the
// reply's size (CountingWriter), writes it into memory (DirectWriter) or streams it
// (PieceWriter), so the size announced is the size written.
template <typename Writer> void Engine::emit_reply(const ChunkMemory &memory, Writer &w) {
  if (memory.columns.empty()) { return; }  // an empty body: an empty reply
  w.put(memory.header.data(), memory.header.size());
  const auto &columns = memory.columns;
  const size_t input_count = memory.input_count;
  const uint32_t input_columns = memory.input_columns;
  const auto column_count = static_cast<uint32_t>(columns.size());
  const char *arena = memory.arena.data();
  for (size_t row = 0; row < memory.row_overrides.size() && w.ok; ++row) {
    const std::string_view *input = memory.kept_cells.data() + row * input_count;
    const ChunkOverride *begin = memory.overrides.data() + memory.row_overrides[row].first;
    const ChunkOverride *end = memory.overrides.data() + memory.row_overrides[row].second;
    const ChunkOverride *next = begin;
    for (uint32_t c = 0; c < input_columns; ++c) {
      if (c != 0) { w.put_char(','); }
      if (next != end && next->column == c) {
        w.put(arena + next->plain_begin, next->plain_size);
        ++next;
      } else {
        std::string_view cell = input[columns[c].input_plain];
        w.put(cell.data(), cell.size());
      }
    }
    const ChunkOverride *first_new = next;
    uint32_t position = input_columns;
    for (; next != end; ++next) {
      w.put_separators(next->column - position + 1);
      w.put(arena + next->plain_begin, next->plain_size);
      position = next->column + 1;
    }
    w.put_separators(column_count - position);

    next = begin;
    for (uint32_t c = 0; c < input_columns; ++c) {
      const ChunkOverride *own = nullptr;
      if (next != first_new && next->column == c) { own = next++; }
      if (!columns[c].has_twin) { continue; }
      w.put_char(',');
      if (own != nullptr) {
        w.put(arena + own->mv_begin, own->mv_size);
      } else if (columns[c].input_mv >= 0) {
        std::string_view cell = input[columns[c].input_mv];
        w.put(cell.data(), cell.size());
      }
    }
    position = 0;
    for (next = first_new; next != end; ++next) {
      if (!columns[next->column].has_twin) { continue; }
      const uint32_t slot = memory.twin_slot[next->column - input_columns];
      w.put_separators(slot - position + 1);
      w.put(arena + next->mv_begin, next->mv_size);
      position = slot + 1;
    }
    w.put_separators(memory.new_twins - position);
    w.put_char('\n');
  }
}

}  // namespace ctdetect
