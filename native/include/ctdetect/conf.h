// Splunk .conf files: [stanza] headers, key = value, # comments, "\" line continuations, a
// [default] stanza whose keys every other stanza inherits, and later files overriding earlier
// ones key by key (default/ first, then local/).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctdetect/error.h"

namespace ctdetect {

struct ConfStanza {
  std::string name;
  std::vector<std::pair<std::string, std::string>> keys;  // first-set order; values overridden in place
  std::string origin;                                     // "file:line" where the stanza first appears

  std::vector<std::string> key_origins;                    // per key: "file:line" where it was last set
  const std::string *find(std::string_view key) const;
  // Where `key` was last set ("file:line"), or the stanza's origin when it is not set.
  const std::string &origin_of(std::string_view key) const;
  void set(const std::string &key, std::string value, const std::string &where = {});
};

struct ConfFile {
  std::vector<ConfStanza> stanzas;  // in order of first appearance, [default] excluded
  ConfStanza defaults;

  // Merges the text of one file (named `origin` in messages) on top of what is already there.
  error_code merge(std::string_view text, const std::string &origin, std::string &detail);
  error_code merge_file(const std::string &path, std::string &detail);
  // Fills every stanza with the [default] keys it does not set itself.
  void apply_defaults();
};

}  // namespace ctdetect
