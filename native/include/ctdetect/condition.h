// Detection conditions: a subset of SPL's search syntax plus any(), cidrmatch(), cidrlookup()
// and portrange() (see README/cloudtrail_detections.conf.spec). Compiled once when detections
// load: a bad condition fails there with its position, never on an event.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctdetect/cidr.h"
#include "ctdetect/error.h"
#include "ctdetect/path_table.h"
#include "ctdetect/record_view.h"
#include "ctdetect/text.h"

namespace ctdetect {

enum class NodeKind { AND, OR, NOT, EQUALS, NOT_EQUALS, COMPARE_NUMBER, ANY, CIDR, PORT_RANGE };
enum class NumberOp { LT, LE, GT, GE };

struct ConditionNode {
  NodeKind kind = NodeKind::AND;
  std::vector<std::unique_ptr<ConditionNode>> children;  // AND, OR, NOT, ANY (one child)
  path_id field = kRootPath;       // the field compared; for ANY the array; for PORT_RANGE "from"
  std::vector<Pattern> patterns;   // EQUALS / NOT_EQUALS: alternatives (IN gives several)
  NumberOp number_op = NumberOp::LT;
  double number = 0;               // COMPARE_NUMBER
  const CidrSet *cidrs = nullptr;  // CIDR: a lookup owned by the rule set, or own_cidrs
  std::unique_ptr<CidrSet> own_cidrs;
  double port = 0;                 // PORT_RANGE
  path_id to_field = kRootPath;
  path_id protocol_field = kRootPath;
  std::vector<path_id> referenced; // ANY: every field read inside, to find the array's elements
  uint32_t depth = 0;              // ANY: coordinates that identify one element ("{}" in the array path)
};

// Resolves cidrlookup("<name>", ...) to a loaded set, or returns nullptr with a message.
using LookupResolver = std::function<const CidrSet *(const std::string &name, std::string &error)>;

// Parses `text`. On error, `detail` says where ("line 2, column 14: ...") and what.
result<std::unique_ptr<ConditionNode>> parse_condition(std::string_view text, PathTable &paths,
                                                       const LookupResolver &lookups);

bool evaluate_condition(const ConditionNode &node, const RecordView &view, Scope scope = Scope{});

}  // namespace ctdetect
