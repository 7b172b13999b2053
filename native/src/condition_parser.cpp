// Tokenizer and recursive-descent parser for detection conditions.
#include <cmath>
#include <stdexcept>

#include "ctdetect/condition.h"

namespace ctdetect {

namespace {

enum class Tok { END, LPAREN, RPAREN, COMMA, OP, WORD, STRING, QUOTED_FIELD };

struct Token {
  Tok kind = Tok::END;
  std::string text;
  std::vector<bool> wildcard;  // per character of text: an unescaped "*"
  size_t offset = 0;
};

struct ParseError {
  size_t offset;
  std::string message;
};

constexpr int kMaxNesting = 64;
const char *const kFunctions = "any, cidrmatch, cidrlookup, portrange";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool ends_bare_word(char c) {
  return is_space(c) || c == '"' || c == '\'' || c == '(' || c == ')' || c == ',' || c == '=' || c == '<' ||
         c == '>' || c == '!';
}
bool is_field_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '@'; }
bool is_field_char(char c) {
  return is_field_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '{' || c == '}' || c == ':' || c == '-' ||
         c == '/';
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < text.size() && is_space(text[i])) { ++i; }
    Token token;
    token.offset = i;
    if (i == text.size()) {
      tokens.push_back(token);
      return tokens;
    }
    char c = text[i];
    if (c == '(' || c == ')' || c == ',') {
      token.kind = c == '(' ? Tok::LPAREN : (c == ')' ? Tok::RPAREN : Tok::COMMA);
      token.text.assign(1, c);
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      token.kind = Tok::OP;
      token.text.assign(1, c);
      ++i;
      if (i < text.size() && text[i] == '=') {
        token.text.push_back('=');
        ++i;
      }
      if (token.text == "!") { throw ParseError{token.offset, "'!' must be followed by '=' (use NOT to negate)"}; }
    } else if (c == '"' || c == '\'') {
      token.kind = c == '"' ? Tok::STRING : Tok::QUOTED_FIELD;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char d = text[i];
        if (d == c) {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < text.size() && (text[i + 1] == c || text[i + 1] == '\\' || text[i + 1] == '*')) {
          token.text.push_back(text[i + 1]);
          token.wildcard.push_back(false);
          i += 2;
          continue;
        }
        token.text.push_back(d);
        token.wildcard.push_back(d == '*' && token.kind == Tok::STRING);
        ++i;
      }
      if (!closed) {
        throw ParseError{token.offset, std::string("unterminated ") + (c == '"' ? "quoted value" : "quoted field name")};
      }
    } else {
      token.kind = Tok::WORD;
      while (i < text.size() && !ends_bare_word(text[i])) {
        token.text.push_back(text[i]);
        token.wildcard.push_back(text[i] == '*');
        ++i;
      }
    }
    tokens.push_back(std::move(token));
  }
}

class Parser {
public:
  Parser(std::string_view text, PathTable &paths, const LookupResolver &lookups)
      : tokens_(tokenize(text)), paths_(paths), lookups_(lookups) {}

  std::unique_ptr<ConditionNode> parse() {
    if (peek().kind == Tok::END) { throw ParseError{0, "the condition is empty"}; }
    auto node = parse_or();
    if (peek().kind != Tok::END) { throw ParseError{peek().offset, "unexpected " + describe(peek())}; }
    return node;
  }

private:
  const Token &peek() const { return tokens_[position_]; }
  const Token &take() { return tokens_[position_ < tokens_.size() - 1 ? position_++ : position_]; }
  bool is_word(const Token &token, const char *word) const { return token.kind == Tok::WORD && token.text == word; }

  static std::string describe(const Token &token) {
    switch (token.kind) {
    case Tok::END: return "end of condition";
    case Tok::STRING: return "quoted value \"" + token.text + "\"";
    case Tok::QUOTED_FIELD: return "field '" + token.text + "'";
    default: return "'" + token.text + "'";
    }
  }

  void expect(Tok kind, const char *what) {
    if (peek().kind != kind) { throw ParseError{peek().offset, std::string("expected ") + what + ", got " + describe(peek())}; }
    take();
  }

  std::unique_ptr<ConditionNode> make(NodeKind kind) {
    auto node = std::make_unique<ConditionNode>();
    node->kind = kind;
    return node;
  }

  std::unique_ptr<ConditionNode> parse_or() {
    auto left = parse_and();
    if (!is_word(peek(), "OR")) { return left; }
    auto node = make(NodeKind::OR);
    node->children.push_back(std::move(left));
    while (is_word(peek(), "OR")) {
      take();
      node->children.push_back(parse_and());
    }
    return node;
  }

  bool starts_term(const Token &token) const {
    if (token.kind == Tok::LPAREN || token.kind == Tok::QUOTED_FIELD || token.kind == Tok::STRING) { return true; }
    return token.kind == Tok::WORD && token.text != "OR";
  }

  std::unique_ptr<ConditionNode> parse_and() {
    auto left = parse_unary();
    if (!starts_term(peek())) { return left; }
    auto node = make(NodeKind::AND);
    node->children.push_back(std::move(left));
    while (starts_term(peek())) {
      if (is_word(peek(), "AND")) { take(); }
      node->children.push_back(parse_unary());
    }
    return node;
  }

  std::unique_ptr<ConditionNode> parse_unary() {
    // A chain of NOTs is read in a loop, not by recursion: "NOT NOT ... x" (20,000 of them)
    // overflowed the stack (condition fuzz target). NOT NOT x is x, as in the pure-Python engine.
    bool negated = false;
    while (is_word(peek(), "NOT")) {
      take();
      negated = !negated;
    }
    auto operand = parse_atom();
    if (!negated) { return operand; }
    auto node = make(NodeKind::NOT);
    node->children.push_back(std::move(operand));
    return node;
  }

  std::unique_ptr<ConditionNode> parse_atom() {
    const Token &token = peek();
    if (token.kind == Tok::LPAREN) {
      if (++nesting_ > kMaxNesting) { throw ParseError{token.offset, "parentheses nested too deeply"}; }
      take();
      auto node = parse_or();
      expect(Tok::RPAREN, "')'");
      --nesting_;
      return node;
    }
    if (token.kind == Tok::WORD && tokens_[position_ + 1].kind == Tok::LPAREN) { return parse_function(); }
    if (token.kind == Tok::STRING) {
      throw ParseError{token.offset, "expected a field name, got " + describe(token) + " (field names are not quoted with \")"};
    }
    if (token.kind != Tok::WORD && token.kind != Tok::QUOTED_FIELD) {
      throw ParseError{token.offset, "expected a field name, got " + describe(token)};
    }
    size_t field_offset = token.offset;
    path_id field = parse_field();
    const Token &op = peek();
    if (is_word(op, "IN")) {
      take();
      expect(Tok::LPAREN, "'(' after IN");
      auto node = make(NodeKind::EQUALS);
      node->field = field;
      while (true) {
        node->patterns.push_back(parse_value("a value in the IN list"));
        if (peek().kind == Tok::RPAREN) { break; }
        expect(Tok::COMMA, "',' or ')' in the IN list");
      }
      take();
      return node;
    }
    if (op.kind != Tok::OP) {
      throw ParseError{op.kind == Tok::END ? field_offset : op.offset,
                       "expected an operator (=, !=, <, <=, >, >=) or IN after field '" + paths_.name(field) + "', got " +
                           describe(op)};
    }
    std::string op_text = take().text;
    if (op_text == "==") { throw ParseError{op.offset, "'==' is not an operator here; use '='"}; }
    if (op_text == "=" || op_text == "!=") {
      auto node = make(op_text == "!=" ? NodeKind::NOT_EQUALS : NodeKind::EQUALS);
      node->field = field;
      node->patterns.push_back(parse_value(("a value after '" + op_text + "'").c_str()));
      return node;
    }
    auto node = make(NodeKind::COMPARE_NUMBER);
    node->field = field;
    node->number_op = op_text == "<" ? NumberOp::LT : op_text == "<=" ? NumberOp::LE : op_text == ">" ? NumberOp::GT : NumberOp::GE;
    node->number = parse_number_argument(("a number after '" + op_text + "'").c_str());
    return node;
  }

  Pattern parse_value(const std::string &what) {
    const Token &token = peek();
    if (token.kind != Tok::WORD && token.kind != Tok::STRING) {
      throw ParseError{token.offset, "expected " + what + ", got " + describe(token)};
    }
    take();
    return Pattern(token.text, token.wildcard);
  }

  double parse_number_argument(const std::string &what) {
    const Token &token = peek();
    double number = 0;
    if ((token.kind != Tok::WORD && token.kind != Tok::STRING) || !parse_number(token.text, number) ||
        !std::isfinite(number)) {
      throw ParseError{token.offset, "expected " + what + ", got " + describe(token)};
    }
    take();
    return number;
  }

  // A field name, resolved against the enclosing any() elements and recorded in each of them.
  path_id parse_field() {
    const Token &token = peek();
    if (token.kind == Tok::WORD) {
      bool valid = !token.text.empty() && is_field_start(token.text[0]);
      for (char c : token.text) { valid = valid && is_field_char(c); }
      if (!valid || token.text == "AND" || token.text == "OR" || token.text == "NOT" || token.text == "IN") {
        throw ParseError{token.offset, "'" + token.text + "' is not a field name (quote unusual names with ')"};
      }
    } else if (token.kind != Tok::QUOTED_FIELD || token.text.empty()) {
      throw ParseError{token.offset, "expected a field name, got " + describe(token)};
    }
    take();
    std::string full = scopes_.empty() ? token.text : paths_.name(scopes_.back()) + "." + token.text;
    path_id id = paths_.intern(full);
    for (ConditionNode *scope : any_nodes_) { scope->referenced.push_back(id); }
    return id;
  }

  std::unique_ptr<ConditionNode> parse_function() {
    const Token name = take();
    take();  // (
    if (name.text == "any") {
      if (++nesting_ > kMaxNesting) { throw ParseError{name.offset, "any() nested too deeply"}; }
      size_t field_offset = peek().offset;
      auto node = make(NodeKind::ANY);
      node->field = parse_field();
      const std::string &array = paths_.name(node->field);
      if (array.size() < 2 || array.compare(array.size() - 2, 2, "{}") != 0) {
        throw ParseError{field_offset, "any() needs an array path ending in {}, got '" + array + "'"};
      }
      node->depth = paths_.array_depth(node->field);
      expect(Tok::COMMA, "',' after the array path of any()");
      scopes_.push_back(node->field);
      any_nodes_.push_back(node.get());
      node->children.push_back(parse_or());
      any_nodes_.pop_back();
      scopes_.pop_back();
      expect(Tok::RPAREN, "')' closing any()");
      --nesting_;
      return node;
    }
    if (name.text == "cidrmatch" || name.text == "cidrlookup") {
      const Token &argument = peek();
      if (argument.kind != Tok::WORD && argument.kind != Tok::STRING) {
        throw ParseError{argument.offset, "expected a " + std::string(name.text == "cidrmatch" ? "CIDR range" : "lookup name") +
                                              " as the first argument of " + name.text + "(), got " + describe(argument)};
      }
      take();
      auto node = make(NodeKind::CIDR);
      if (name.text == "cidrmatch") {
        CidrRange range;
        if (!parse_cidr(argument.text, range)) {
          throw ParseError{argument.offset, "'" + argument.text + "' is not an IP address or CIDR range"};
        }
        node->own_cidrs = std::make_unique<CidrSet>();
        node->own_cidrs->add(range);
        node->cidrs = node->own_cidrs.get();
      } else {
        bool valid = !argument.text.empty();
        for (char c : argument.text) {
          valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
        }
        if (!valid) {
          throw ParseError{argument.offset, "lookup name '" + argument.text + "' must use only letters, digits and _"};
        }
        std::string error;
        node->cidrs = lookups_(argument.text, error);
        if (node->cidrs == nullptr) { throw ParseError{argument.offset, error}; }
      }
      expect(Tok::COMMA, ("',' after the first argument of " + name.text + "()").c_str());
      node->field = parse_field();
      expect(Tok::RPAREN, ("')' closing " + name.text + "()").c_str());
      return node;
    }
    if (name.text == "portrange") {
      auto node = make(NodeKind::PORT_RANGE);
      const Token &port = peek();
      node->port = parse_number_argument("a port number as the first argument of portrange()");
      if (node->port < 0 || node->port > 65535 || node->port != std::floor(node->port)) {
        throw ParseError{port.offset, "port '" + port.text + "' is not between 0 and 65535"};
      }
      expect(Tok::COMMA, "',' after the port of portrange()");
      node->field = parse_field();
      expect(Tok::COMMA, "',' after the from-port field of portrange()");
      node->to_field = parse_field();
      expect(Tok::COMMA, "',' after the to-port field of portrange()");
      node->protocol_field = parse_field();
      expect(Tok::RPAREN, "')' closing portrange()");
      return node;
    }
    throw ParseError{name.offset, "unknown function '" + name.text + "'; valid functions: " + kFunctions};
  }

  std::vector<Token> tokens_;
  size_t position_ = 0;
  PathTable &paths_;
  const LookupResolver &lookups_;
  std::vector<path_id> scopes_;             // enclosing any() arrays, innermost last
  std::vector<ConditionNode *> any_nodes_;  // the same any() nodes
  int nesting_ = 0;
};

std::string position_of(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return line == 1 ? "column " + std::to_string(column) : "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

result<std::unique_ptr<ConditionNode>> parse_condition(std::string_view text, PathTable &paths,
                                                       const LookupResolver &lookups) {
  try {
    Parser parser(text, paths, lookups);
    return parser.parse();
  } catch (const ParseError &error) {
    return {error_code::DETECTION_INVALID, position_of(text, error.offset) + ": " + error.message};
  }
}

}  // namespace ctdetect
