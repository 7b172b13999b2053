// Evaluates a compiled condition against one event's RecordView.
#include <algorithm>
#include <cstring>

#include "ctdetect/condition.h"

namespace ctdetect {

namespace {

template <typename Predicate> bool any_value(const RecordView &view, path_id path, Scope scope, Predicate predicate) {
  auto range = view.values(path, scope);
  for (const uint32_t *it = range.first; it != range.second; ++it) {
    if (predicate(view.record().values[*it].text)) { return true; }
  }
  return false;
}

bool matches_any_pattern(const std::vector<Pattern> &patterns, std::string_view value) {
  if (patterns.size() == 1) { return patterns.front().matches(value); }
  thread_local std::string lowered;
  lowered.assign(value);
  for (char &c : lowered) { c = ascii_lower(c); }
  for (const Pattern &pattern : patterns) {
    if (pattern.matches(value, lowered)) { return true; }
  }
  return false;
}

bool compare_number(NumberOp op, double value, double limit) {
  switch (op) {
  case NumberOp::LT: return value < limit;
  case NumberOp::LE: return value <= limit;
  case NumberOp::GT: return value > limit;
  case NumberOp::GE: return value >= limit;
  }
  return false;
}

// any(): the candidate elements are the coordinate tuples (one index per "{}" down to the
// array) of the values of every field read inside; each distinct tuple is tried as a scope.
bool evaluate_any(const ConditionNode &node, const RecordView &view, Scope scope) {
  const FlatRecord &record = view.record();
  const uint32_t depth = node.depth;
  if (depth == 0) { return false; }
  std::vector<uint32_t> tuples;
  for (path_id path : node.referenced) {
    auto range = view.values(path, scope);
    for (const uint32_t *it = range.first; it != range.second; ++it) {
      const FlatValue &value = record.values[*it];
      if (value.coord_count < depth) { continue; }
      const uint32_t *coords = record.coords_of(value);
      tuples.insert(tuples.end(), coords, coords + depth);
    }
  }
  const size_t count = tuples.size() / depth;
  std::vector<uint32_t> order(count);
  for (uint32_t i = 0; i < count; ++i) { order[i] = i; }
  auto less = [&](uint32_t a, uint32_t b) {
    return std::lexicographical_compare(tuples.begin() + a * depth, tuples.begin() + (a + 1) * depth,
                                        tuples.begin() + b * depth, tuples.begin() + (b + 1) * depth);
  };
  std::sort(order.begin(), order.end(), less);
  const uint32_t *previous = nullptr;
  for (uint32_t index : order) {
    const uint32_t *tuple = tuples.data() + static_cast<size_t>(index) * depth;
    if (previous != nullptr && std::memcmp(previous, tuple, depth * sizeof(uint32_t)) == 0) { continue; }
    previous = tuple;
    if (evaluate_condition(*node.children.front(), view, Scope{tuple, depth})) { return true; }
  }
  return false;
}

}  // namespace

bool evaluate_condition(const ConditionNode &node, const RecordView &view, Scope scope) {
  switch (node.kind) {
  case NodeKind::AND:
    for (const auto &child : node.children) {
      if (!evaluate_condition(*child, view, scope)) { return false; }
    }
    return true;
  case NodeKind::OR:
    for (const auto &child : node.children) {
      if (evaluate_condition(*child, view, scope)) { return true; }
    }
    return false;
  case NodeKind::NOT: return !evaluate_condition(*node.children.front(), view, scope);
  case NodeKind::EQUALS:
    return any_value(view, node.field, scope, [&](std::string_view value) { return matches_any_pattern(node.patterns, value); });
  case NodeKind::NOT_EQUALS: {
    auto range = view.values(node.field, scope);
    if (range.first == range.second) { return false; }
    return !any_value(view, node.field, scope, [&](std::string_view value) { return matches_any_pattern(node.patterns, value); });
  }
  case NodeKind::COMPARE_NUMBER:
    return any_value(view, node.field, scope, [&](std::string_view value) {
      double number;
      return parse_number(value, number) && compare_number(node.number_op, number, node.number);
    });
  case NodeKind::CIDR:
    return any_value(view, node.field, scope, [&](std::string_view value) {
      IpAddress address;
      return parse_ip(value, address) && node.cidrs->contains(address);
    });
  case NodeKind::PORT_RANGE: {
    bool all_traffic = any_value(view, node.protocol_field, scope,
                                 [](std::string_view value) { return value == "-1" || ascii_iequals(value, "all"); });
    if (all_traffic) { return true; }
    double port = node.port;
    return any_value(view, node.field, scope, [&](std::string_view value) {
             double number;
             return parse_number(value, number) && number <= port;
           }) &&
           any_value(view, node.to_field, scope, [&](std::string_view value) {
             double number;
             return parse_number(value, number) && number >= port;
           });
  }
  case NodeKind::ANY: return evaluate_any(node, view, scope);
  }
  return false;
}

}  // namespace ctdetect
