#include "ctdetect/conf.h"

#include <fstream>
#include <sstream>

#include "simdjson.h"

namespace ctdetect {

namespace {
std::string_view trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t')) { ++begin; }
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) { --end; }
  return text.substr(begin, end - begin);
}
}  // namespace

const std::string *ConfStanza::find(std::string_view key) const {
  for (const auto &entry : keys) {
    if (entry.first == key) { return &entry.second; }
  }
  return nullptr;
}

const std::string &ConfStanza::origin_of(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].first == key && i < key_origins.size() && !key_origins[i].empty()) { return key_origins[i]; }
  }
  return origin;
}

void ConfStanza::set(const std::string &key, std::string value, const std::string &where) {
  key_origins.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].first == key) {
      keys[i].second = std::move(value);
      key_origins[i] = where;
      return;
    }
  }
  keys.emplace_back(key, std::move(value));
  key_origins.push_back(where);
}

error_code ConfFile::merge(std::string_view text, const std::string &origin, std::string &detail) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") { text.remove_prefix(3); }
  ConfStanza *current = &defaults;
  size_t line_number = 0;
  size_t pos = 0;
  auto next_line = [&](std::string_view &line) {
    if (pos >= text.size()) { return false; }
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) { end = text.size(); }
    line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    return true;
  };
  // Names the stanza a bad line belongs to (none before the first header or in [default]).
  auto in_stanza = [&]() { return current == &defaults ? std::string() : " (in stanza [" + current->name + "])"; };
  std::string_view raw;
  while (next_line(raw)) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') { continue; }
    std::string where = origin + ":" + std::to_string(line_number);
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        detail = where + ": a stanza header must look like [name]";
        return error_code::CONF_SYNTAX;
      }
      std::string name(line.substr(1, line.size() - 2));
      if (name == "default") {
        current = &defaults;
        continue;
      }
      current = nullptr;
      for (auto &stanza : stanzas) {
        if (stanza.name == name) { current = &stanza; }
      }
      if (current == nullptr) {
        stanzas.push_back(ConfStanza{name, {}, where, {}});
        current = &stanzas.back();
      }
      continue;
    }
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      detail = where + ": expected 'key = value' or a [stanza] header" + in_stanza();
      return error_code::CONF_SYNTAX;
    }
    std::string key(trim(line.substr(0, equals)));
    if (key.empty()) {
      detail = where + ": a key is missing before '='" + in_stanza();
      return error_code::CONF_SYNTAX;
    }
    std::string value(trim(line.substr(equals + 1)));
    // A trailing backslash continues the value on the next line (the line break is kept).
    while (!value.empty() && value.back() == '\\') {
      value.pop_back();
      std::string_view continuation;
      if (!next_line(continuation)) { break; }
      value.push_back('\n');
      value.append(trim(continuation));
    }
    current->set(key, std::move(value), where);
  }
  return error_code::SUCCESS;
}

error_code ConfFile::merge_file(const std::string &path, std::string &detail) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    detail = "cannot read " + path;
    return error_code::IO_ERROR;
  }
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  // As the pure-Python engine: a detection file is UTF-8 text (a value with stray bytes would
  // otherwise load here and stop the search there).
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    detail = path + ": not UTF-8 text";
    return error_code::CONF_SYNTAX;
  }
  return merge(text, path, detail);
}

void ConfFile::apply_defaults() {
  for (auto &stanza : stanzas) {
    for (size_t i = 0; i < defaults.keys.size(); ++i) {
      const auto &entry = defaults.keys[i];
      if (stanza.find(entry.first) == nullptr) {
        stanza.set(entry.first, entry.second, i < defaults.key_origins.size() ? defaults.key_origins[i] : std::string());
      }
    }
  }
}

}  // namespace ctdetect
