// libFuzzer target: detection conditions (arbitrary text) through parse_condition, and every
// condition that parses evaluated against fixed CloudTrail records.
//
// Invariants checked:
//  - a refused condition has a message that starts with its position ("column N" or "line L,
//    column N") inside the text.
//  - a parsed condition evaluates the same twice, "( c )" evaluates as c, "NOT ( c )" as !c, and
//    "( c ) AND ( c )" / "( c ) OR ( c )" as c, on every fixed record (the wrapped forms parse
//    whenever c does, unless the extra parenthesis passes the nesting limit).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ctdetect/condition.h"
#include "ctdetect/flattener.h"
#include "fuzz_support.h"

using namespace ctdetect;
using ctdetect_fuzz::starts_with;

namespace {

const char *const kRecords[] = {
    R"({"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},
"eventTime":"2024-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress",
"sourceIPAddress":"10.1.2.3","userAgent":"aws-cli/2.0 kali","readOnly":false,"errorCode":null,
"requestParameters":{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,
"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{}},{"ipProtocol":"-1","fromPort":0,"toPort":65535,
"ipRanges":{"items":[{"cidrIp":"192.168.0.0/16"},{"cidrIp":"2001:db8::/32"}]}}]}},
"responseElements":{"_return":true,"list":[],"n":1.50,"big":123456789012345678901234567890},
"resources":[{"ARN":"arn:aws:s3:::b*","type":"AWS::S3::Bucket"},{"ARN":"x$y","type":"AWS::IAM::Role"}],
"a.b":"dotted","weird key":"v\u00e9","nested":[[1,2],[3,[4,"*"]]]})",
    R"({"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","sourceIPAddress":"2001:db8::1",
"userIdentity":{"type":"IAMUser","userName":"Alice"},"additionalEventData":{"MFAUsed":"No"},
"responseElements":{"ConsoleLogin":"Failure"},"eventTime":"2024-01-01T00:00:00Z"})",
    R"({})",
};

struct Fixture {
  PathTable paths;
  FlatRecord records[sizeof(kRecords) / sizeof(kRecords[0])];
  RecordView views[sizeof(kRecords) / sizeof(kRecords[0])];
  CidrSet lookup;
  LookupResolver resolver = [this](const std::string &name, std::string &error) -> const CidrSet * {
    if (name == "known_attacker_ips") { return &lookup; }
    error = "unknown lookup '" + name + "'";
    return nullptr;
  };
  size_t uses = 0;

  Fixture() {
    for (const char *text : {"10.0.0.0/8", "2001:db8::/32", "203.0.113.7"}) {
      CidrRange range;
      if (!parse_cidr(text, range)) { std::abort(); }
      lookup.add(range);
    }
    for (size_t i = 0; i < sizeof(kRecords) / sizeof(kRecords[0]); ++i) {
      // Each record needs its own flattener buffers: the values point into them.
      flatteners.emplace_back(std::make_unique<Flattener>(paths));
      if (flatteners.back()->flatten(kRecords[i], records[i]) != error_code::SUCCESS) { std::abort(); }
    }
  }
  void build_views() {
    for (size_t i = 0; i < sizeof(kRecords) / sizeof(kRecords[0]); ++i) { views[i].build(records[i], paths.size()); }
  }
  std::vector<std::unique_ptr<Flattener>> flatteners;
};

// The fixture interns every field name a condition mentions: start afresh now and then so the
// table does not grow for the whole run.
Fixture &fixture() {
  static std::unique_ptr<Fixture> current;
  if (!current || ++current->uses > 20000) { current = std::make_unique<Fixture>(); }
  return *current;
}

bool valid_position(std::string_view text, const std::string &detail) {
  size_t line = 1, column = 0;
  if (sscanf(detail.c_str(), "line %zu, column %zu: ", &line, &column) != 2 &&
      sscanf(detail.c_str(), "column %zu: ", &column) != 1) {
    return false;
  }
  // Lines and columns of the text, plus one past its end.
  size_t l = 1, c = 1;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (l == line && c == column) { return true; }
    if (i < text.size() && text[i] == '\n') {
      ++l;
      c = 1;
    } else {
      ++c;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  Fixture &fx = fixture();
  auto parsed = parse_condition(text, fx.paths, fx.resolver);
  if (!parsed) {
    FUZZ_CHECK(parsed.error() == error_code::DETECTION_INVALID, "error code %d", static_cast<int>(parsed.error()));
    FUZZ_CHECK(valid_position(text, parsed.detail()), "message without a position in the text: %s", parsed.detail().c_str());
    return 0;
  }
  const ConditionNode &condition = *parsed.value();
  const std::string body(text);
  auto parse_wrapped = [&](const std::string &wrapped) -> std::unique_ptr<ConditionNode> {
    auto result = parse_condition(wrapped, fx.paths, fx.resolver);
    if (!result) {
      FUZZ_CHECK(result.detail().find("nested too deeply") != std::string::npos, "'%s' parses but '%s' does not: %s",
                 body.c_str(), wrapped.c_str(), result.detail().c_str());
      return nullptr;
    }
    return std::move(result).value();
  };
  auto same = parse_wrapped("(" + body + "\n)");
  auto negated = parse_wrapped("NOT (" + body + "\n)");
  auto both = parse_wrapped("(" + body + "\n) AND (" + body + "\n)");
  auto either = parse_wrapped("(" + body + "\n) OR (" + body + "\n)");
  fx.build_views();
  for (const RecordView &view : fx.views) {
    bool value = evaluate_condition(condition, view);
    FUZZ_CHECK(evaluate_condition(condition, view) == value, "two evaluations differ");
    if (same) { FUZZ_CHECK(evaluate_condition(*same, view) == value, "(c) differs from c"); }
    if (negated) { FUZZ_CHECK(evaluate_condition(*negated, view) == !value, "NOT (c) is not the negation of c"); }
    if (both) { FUZZ_CHECK(evaluate_condition(*both, view) == value, "(c) AND (c) differs from c"); }
    if (either) { FUZZ_CHECK(evaluate_condition(*either, view) == value, "(c) OR (c) differs from c"); }
  }
  return 0;
}
