#include "chat/jinja/parser.h"

#include <initializer_list>

#include "chat/jinja/lexer.h"
#include "chat/jinja/template_error.h"

namespace tgi::chat::jinja {
namespace {

// Nesting bound so a hostile template cannot overflow the parser's stack.
constexpr int kMaxNesting = 200;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_all() {
    Body body = parse_body({});
    if (peek().kind != TokenKind::kEof) error("unexpected tag");
    return body;
  }

 private:
  // ---- token helpers
  const Token& peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& next() {
    const Token& t = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool is_op(const char* op, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == TokenKind::kOperator && t.text == op;
  }
  bool is_name(const char* name, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == TokenKind::kName && t.text == name;
  }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }
  [[noreturn]] void error(const std::string& message) const {
    const Token& t = peek();
    std::string near = t.kind == TokenKind::kEof ? "end of template" : t.text.empty() ? "tag delimiter" : "'" + t.text + "'";
    fail(ErrorType::kSyntax, message + " near " + near + " on line " + std::to_string(t.line));
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(std::string("expected '") + op + "'");
  }
  std::string expect_name() {
    if (peek().kind != TokenKind::kName) error("expected a name");
    return next().text;
  }
  void expect_block_end() {
    if (peek().kind != TokenKind::kBlockEnd) error("expected end of statement block");
    next();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxNesting) parser.error("template nesting too deep");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  // ---- statements
  // Parses statements until a block tag whose first name is in `end_tags` (left unconsumed).
  Body parse_body(std::initializer_list<const char*> end_tags) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = peek();
      if (t.kind == TokenKind::kEof) {
        if (end_tags.size() != 0) error(std::string("missing {% ") + *(end_tags.end() - 1) + " %}");
        return body;
      }
      if (t.kind == TokenKind::kText) {
        body.push_back(std::make_unique<TextStmt>(t.text, t.line));
        next();
      } else if (t.kind == TokenKind::kVarBegin) {
        next();
        auto out = std::make_unique<OutputStmt>(StmtKind::kOutput, t.line);
        out->value = parse_tuple(true);
        if (peek().kind != TokenKind::kVarEnd) error("expected '}}'");
        next();
        body.push_back(std::move(out));
      } else if (t.kind == TokenKind::kBlockBegin) {
        const Token& name = peek(1);
        if (name.kind != TokenKind::kName) {
          next();
          error("expected a statement name");
        }
        for (const char* end : end_tags) {
          if (name.text == end) return body;
        }
        next();
        body.push_back(parse_statement());
      } else {
        error("unexpected token");
      }
    }
  }

  // Consumes `{% name` of a closing/intermediate tag.
  void expect_tag(const char* name) {
    if (peek().kind != TokenKind::kBlockBegin || !is_name(name, 1)) error(std::string("expected {% ") + name + " %}");
    next();
    next();
  }

  StmtPtr parse_statement() {
    const Token& name_token = next();
    const std::string& name = name_token.text;
    int line = name_token.line;
    if (name == "if") return parse_if(line);
    if (name == "for") return parse_for(line);
    if (name == "set") return parse_set(line);
    if (name == "macro") return parse_macro(line);
    if (name == "call") return parse_call_block(line);
    if (name == "filter") return parse_filter_block(line);
    if (name == "with") return parse_with(line);
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error("'" + name + "' outside of a loop");
      expect_block_end();
      return std::make_unique<Stmt>(name == "break" ? StmtKind::kBreak : StmtKind::kContinue, line);
    }
    if (name == "generation") {  // transformers' AssistantTracker: renders its body unchanged
      expect_block_end();
      auto scope = std::make_unique<ScopeStmt>(StmtKind::kScope, line);
      scope->body = parse_body({"endgeneration"});
      expect_tag("endgeneration");
      expect_block_end();
      return scope;
    }
    pos_ -= 1;
    error("unknown or unsupported statement '" + name + "'");
  }

  StmtPtr parse_if(int line) {
    auto stmt = std::make_unique<IfStmt>(StmtKind::kIf, line);
    while (true) {
      ExprPtr condition = parse_tuple(false);
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"});
      stmt->branches.emplace_back(std::move(condition), std::move(body));
      if (peek().kind == TokenKind::kBlockBegin && is_name("elif", 1)) {
        next();
        next();
        continue;
      }
      if (peek().kind == TokenKind::kBlockBegin && is_name("else", 1)) {
        next();
        next();
        expect_block_end();
        stmt->else_body = parse_body({"endif"});
      }
      expect_tag("endif");
      expect_block_end();
      return stmt;
    }
  }

  Target parse_target(bool allow_attribute) {
    Target target;
    bool parenthesized = skip_op("(");
    target.names.push_back(expect_name());
    if (allow_attribute && !parenthesized && skip_op(".")) {
      target.attribute = expect_name();
      return target;
    }
    while (skip_op(",")) {
      target.unpack = true;
      if (peek().kind != TokenKind::kName) break;
      target.names.push_back(expect_name());
    }
    if (parenthesized) {
      target.unpack = true;
      expect_op(")");
    }
    return target;
  }

  StmtPtr parse_for(int line) {
    auto stmt = std::make_unique<ForStmt>(StmtKind::kFor, line);
    stmt->target = parse_target(false);
    if (!skip_name("in")) error("expected 'in'");
    stmt->iterable = parse_tuple(false, /*stop_at_recursive=*/true);
    if (skip_name("if")) stmt->filter = parse_expression(false);
    if (skip_name("recursive")) stmt->recursive = true;
    expect_block_end();
    ++loop_depth_;
    stmt->body = parse_body({"else", "endfor"});
    --loop_depth_;
    if (peek().kind == TokenKind::kBlockBegin && is_name("else", 1)) {
      next();
      next();
      expect_block_end();
      stmt->else_body = parse_body({"endfor"});
    }
    expect_tag("endfor");
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_set(int line) {
    Target target = parse_target(true);
    if (skip_op("=")) {
      auto stmt = std::make_unique<SetStmt>(StmtKind::kSet, line);
      stmt->target = std::move(target);
      stmt->value = parse_tuple(true);
      expect_block_end();
      return stmt;
    }
    auto stmt = std::make_unique<SetBlockStmt>(StmtKind::kSetBlock, line);
    stmt->target = std::move(target);
    while (skip_op("|")) stmt->filters.push_back(parse_filter_call(nullptr));
    expect_block_end();
    stmt->body = parse_body({"endset"});
    expect_tag("endset");
    expect_block_end();
    return stmt;
  }

  std::vector<MacroParam> parse_params() {
    std::vector<MacroParam> params;
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam param;
      param.name = expect_name();
      if (skip_op("=")) param.default_value = parse_expression(true);
      params.push_back(std::move(param));
    }
    expect_op(")");
    return params;
  }

  StmtPtr parse_macro(int line) {
    auto stmt = std::make_unique<MacroStmt>(StmtKind::kMacro, line);
    stmt->name = expect_name();
    stmt->params = parse_params();
    expect_block_end();
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    stmt->body = parse_body({"endmacro"});
    loop_depth_ = saved_loop_depth;
    expect_tag("endmacro");
    if (peek().kind == TokenKind::kName) next();  // {% endmacro name %}
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_call_block(int line) {
    auto stmt = std::make_unique<CallBlockStmt>(StmtKind::kCallBlock, line);
    if (is_op("(")) stmt->caller_params = parse_params();
    ExprPtr call = parse_expression(true);
    if (call->kind != ExprKind::kCall) error("expected a macro call in {% call %}");
    stmt->call.reset(static_cast<CallExpr*>(call.release()));
    expect_block_end();
    stmt->body = parse_body({"endcall"});
    expect_tag("endcall");
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_filter_block(int line) {
    auto stmt = std::make_unique<FilterBlockStmt>(StmtKind::kFilterBlock, line);
    do {
      stmt->filters.push_back(parse_filter_call(nullptr));
    } while (skip_op("|"));
    expect_block_end();
    stmt->body = parse_body({"endfilter"});
    expect_tag("endfilter");
    expect_block_end();
    return stmt;
  }

  StmtPtr parse_with(int line) {
    auto stmt = std::make_unique<WithStmt>(StmtKind::kWith, line);
    while (peek().kind != TokenKind::kBlockEnd) {
      if (!stmt->assignments.empty()) expect_op(",");
      Target target = parse_target(false);
      expect_op("=");
      stmt->assignments.emplace_back(std::move(target), parse_expression(true));
    }
    expect_block_end();
    stmt->body = parse_body({"endwith"});
    expect_tag("endwith");
    expect_block_end();
    return stmt;
  }

  // ---- expressions
  // A comma-separated list becomes a tuple (as in `{{ a, b }}` or `set x = 1, 2`).
  ExprPtr parse_tuple(bool with_condition, bool stop_at_recursive = false) {
    int line = peek().line;
    ExprPtr first = parse_expression(with_condition);
    if (!is_op(",")) return first;
    auto tuple = std::make_unique<SequenceExpr>(ExprKind::kTuple, line);
    tuple->items.push_back(std::move(first));
    while (skip_op(",")) {
      if (peek().kind == TokenKind::kBlockEnd || peek().kind == TokenKind::kVarEnd || is_op(")") ||
          is_name("if") || (stop_at_recursive && is_name("recursive")))
        break;
      tuple->items.push_back(parse_expression(with_condition));
    }
    return tuple;
  }

  ExprPtr parse_expression(bool with_condition) {
    DepthGuard guard(*this);
    if (!with_condition) return parse_or();
    ExprPtr value = parse_or();
    while (is_name("if")) {
      int line = next().line;
      auto cond = std::make_unique<ConditionExpr>(ExprKind::kCondition, line);
      cond->then_value = std::move(value);
      cond->condition = parse_or();
      if (skip_name("else")) cond->else_value = parse_expression(true);
      value = std::move(cond);
    }
    return value;
  }

  ExprPtr make_binary(ExprKind kind, std::string op, ExprPtr left, ExprPtr right, int line) {
    auto e = std::make_unique<BinaryExpr>(kind, line);
    e->op = std::move(op);
    e->left = std::move(left);
    e->right = std::move(right);
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      int line = next().line;
      left = make_binary(ExprKind::kOr, "or", std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      int line = next().line;
      left = make_binary(ExprKind::kAnd, "and", std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      int line = next().line;
      auto e = std::make_unique<UnaryExpr>(ExprKind::kNot, line);
      e->operand = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = peek().line;
    ExprPtr first = parse_math1();
    std::vector<std::pair<std::string, ExprPtr>> rest;
    while (true) {
      const Token& t = peek();
      if (t.kind == TokenKind::kOperator &&
          (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=")) {
        std::string op = next().text;
        rest.emplace_back(op, parse_math1());
      } else if (is_name("in")) {
        next();
        rest.emplace_back("in", parse_math1());
      } else if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        rest.emplace_back("notin", parse_math1());
      } else {
        break;
      }
    }
    if (rest.empty()) return first;
    auto e = std::make_unique<CompareExpr>(ExprKind::kCompare, line);
    e->first = std::move(first);
    e->rest = std::move(rest);
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& t = next();
      std::string op = t.text;
      left = make_binary(ExprKind::kBinary, op, std::move(left), parse_concat(), t.line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      int line = next().line;
      left = make_binary(ExprKind::kBinary, "~", std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& t = next();
      std::string op = t.text;
      left = make_binary(ExprKind::kBinary, op, std::move(left), parse_pow(), t.line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      int line = next().line;
      left = make_binary(ExprKind::kBinary, "**", std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const Token& t = next();
      auto e = std::make_unique<UnaryExpr>(t.text == "-" ? ExprKind::kNeg : ExprKind::kPos, t.line);
      e->operand = parse_unary(false);
      node = std::move(e);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_chain(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    int line = t.line;
    switch (t.kind) {
      case TokenKind::kName: {
        std::string name = next().text;
        if (name == "true" || name == "True") return std::make_unique<LiteralExpr>(Value(true), line);
        if (name == "false" || name == "False") return std::make_unique<LiteralExpr>(Value(false), line);
        if (name == "none" || name == "None") return std::make_unique<LiteralExpr>(Value::none(), line);
        return std::make_unique<NameExpr>(std::move(name), line);
      }
      case TokenKind::kString: {
        std::string s = next().text;
        while (peek().kind == TokenKind::kString) s += next().text;  // adjacent literals concatenate
        return std::make_unique<LiteralExpr>(Value(std::move(s)), line);
      }
      case TokenKind::kInt: return std::make_unique<LiteralExpr>(Value(next().int_value), line);
      case TokenKind::kFloat: return std::make_unique<LiteralExpr>(Value(next().float_value), line);
      case TokenKind::kOperator:
        if (t.text == "(") {
          next();
          if (skip_op(")")) return std::make_unique<SequenceExpr>(ExprKind::kTuple, line);
          ExprPtr inner = parse_expression(true);
          if (is_op(",")) {
            auto tuple = std::make_unique<SequenceExpr>(ExprKind::kTuple, line);
            tuple->items.push_back(std::move(inner));
            while (skip_op(",")) {
              if (is_op(")")) break;
              tuple->items.push_back(parse_expression(true));
            }
            inner = std::move(tuple);
          }
          expect_op(")");
          return inner;
        }
        if (t.text == "[") {
          next();
          auto list = std::make_unique<SequenceExpr>(ExprKind::kList, line);
          while (!is_op("]")) {
            if (!list->items.empty()) expect_op(",");
            if (is_op("]")) break;
            list->items.push_back(parse_expression(true));
          }
          expect_op("]");
          return list;
        }
        if (t.text == "{") {
          next();
          auto dict = std::make_unique<DictExpr>(ExprKind::kDict, line);
          while (!is_op("}")) {
            if (!dict->items.empty()) expect_op(",");
            if (is_op("}")) break;
            ExprPtr key = parse_expression(true);
            expect_op(":");
            dict->items.emplace_back(std::move(key), parse_expression(true));
          }
          expect_op("}");
          return dict;
        }
        break;
      default: break;
    }
    error("unexpected token in expression");
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".")) {
        int line = next().line;
        auto e = std::make_unique<AttrExpr>(ExprKind::kAttr, line);
        e->object = std::move(node);
        if (peek().kind == TokenKind::kName) {
          e->name = next().text;
          node = std::move(e);
        } else if (peek().kind == TokenKind::kInt) {  // foo.0 is foo[0]
          auto item = std::make_unique<ItemExpr>(ExprKind::kItem, line);
          item->object = std::move(e->object);
          item->index = std::make_unique<LiteralExpr>(Value(next().int_value), line);
          node = std::move(item);
        } else {
          error("expected an attribute name");
        }
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    int line = next().line;
    ExprPtr parts[3];
    int colons = 0;
    while (!is_op("]")) {
      if (skip_op(":")) {
        if (++colons > 2) error("too many ':' in slice");
        continue;
      }
      if (parts[colons]) error("expected ']'");
      parts[colons] = parse_expression(true);
      if (colons == 0 && is_op(",")) {  // foo[a, b]: a tuple key
        auto tuple = std::make_unique<SequenceExpr>(ExprKind::kTuple, line);
        tuple->items.push_back(std::move(parts[0]));
        while (skip_op(",")) {
          if (is_op("]")) break;
          tuple->items.push_back(parse_expression(true));
        }
        parts[0] = std::move(tuple);
      }
    }
    next();
    if (colons == 0) {
      if (!parts[0]) error("empty subscript");
      auto e = std::make_unique<ItemExpr>(ExprKind::kItem, line);
      e->object = std::move(object);
      e->index = std::move(parts[0]);
      return e;
    }
    auto e = std::make_unique<SliceExpr>(ExprKind::kSlice, line);
    e->object = std::move(object);
    e->start = std::move(parts[0]);
    e->stop = std::move(parts[1]);
    e->step = std::move(parts[2]);
    return e;
  }

  void parse_call_args(std::vector<ExprPtr>& args, std::vector<KeywordArg>& kwargs) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (peek().kind == TokenKind::kName && is_op("=", 1)) {
        std::string name = next().text;
        next();
        kwargs.push_back(KeywordArg{std::move(name), parse_expression(true)});
      } else {
        if (is_op("*") || is_op("**")) error("*args and **kwargs are not supported");
        if (!kwargs.empty()) error("positional argument after keyword argument");
        args.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = std::make_unique<CallExpr>(ExprKind::kCall, peek().line);
    e->callee = std::move(callee);
    parse_call_args(e->args, e->kwargs);
    return e;
  }

  // After '|': name(.name)* [(args)]
  std::unique_ptr<FilterExpr> parse_filter_call(ExprPtr operand) {
    auto e = std::make_unique<FilterExpr>(ExprKind::kFilter, peek().line);
    e->operand = std::move(operand);
    e->name = expect_name();
    while (skip_op(".")) e->name += "." + expect_name();
    if (is_op("(")) parse_call_args(e->args, e->kwargs);
    return e;
  }

  ExprPtr parse_filter_chain(ExprPtr node) {
    while (true) {
      if (skip_op("|")) {
        node = parse_filter_call(std::move(node));
      } else if (is_name("is")) {
        int line = next().line;
        auto test = std::make_unique<TestExpr>(ExprKind::kTest, line);
        test->negated = skip_name("not");
        test->name = expect_name();
        while (skip_op(".")) test->name += "." + expect_name();
        test->operand = std::move(node);
        const Token& t = peek();
        if (is_op("(")) {
          std::vector<KeywordArg> kwargs;
          parse_call_args(test->args, kwargs);
          if (!kwargs.empty()) error("keyword arguments to tests are not supported");
        } else if ((t.kind == TokenKind::kName || t.kind == TokenKind::kString || t.kind == TokenKind::kInt ||
                    t.kind == TokenKind::kFloat || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if") && !is_name("in") &&
                   !is_name("not") && !is_name("recursive")) {
          if (is_name("is")) error("cannot chain tests with 'is'");
          test->args.push_back(parse_postfix(parse_primary()));
        }
        node = std::move(test);
      } else if (is_op("(") || is_op("[") || is_op(".")) {
        node = parse_postfix(std::move(node));
      } else {
        return node;
      }
    }
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::unique_ptr<Program> parse_template(std::string source) {
  auto program = std::make_unique<Program>();
  Parser parser(tokenize(source));
  program->body = parser.parse_all();
  program->source = std::move(source);
  return program;
}

}  // namespace tgi::chat::jinja
