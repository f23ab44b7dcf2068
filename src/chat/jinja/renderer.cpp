#include "chat/jinja/renderer.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja/access.h"
#include "chat/jinja/builtins.h"
#include "chat/jinja/python_ops.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

// Python ints do not overflow; ours are 64-bit, so overflow is an error rather than a wrap.
Value checked_int(int64_t a, int64_t b, char op) {
  int64_t r = 0;
  bool overflow = op == '+' ? __builtin_add_overflow(a, b, &r) : op == '-' ? __builtin_sub_overflow(a, b, &r) : __builtin_mul_overflow(a, b, &r);
  if (overflow) fail(ErrorType::kType, "integer overflow");
  return Value(r);
}

std::string binary_type_error(const std::string& op, const Value& a, const Value& b) {
  if (op == "+" && (a.is_string() || a.is_list())) {
    std::string kind = a.is_string() ? "str" : a.type_name();
    return "can only concatenate " + kind + " (not \"" + b.type_name() + "\") to " + kind;
  }
  return "unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'";
}

// A macro runs in the render that defined it (its values never leave that render).
class Macro : public Callable {
 public:
  Macro(const MacroStmt& stmt, Renderer& renderer) : stmt_(stmt), renderer_(renderer) {}
  Value call(EvalContext& context, CallArgs& args) override;
  std::string name() const override { return stmt_.name; }

 private:
  const MacroStmt& stmt_;
  Renderer& renderer_;
};

// The `loop` variable of a for loop: one object per loop, advanced in place each iteration, so
// iterating costs no allocation. It owns the items so previtem/nextitem stay valid.
class LoopState : public Callable {
 public:
  explicit LoopState(List items) : items_(std::move(items)) {}
  void advance(size_t index) { index_ = index; }
  const List& items() const { return items_; }

  Value call(EvalContext&, CallArgs&) override {
    fail(ErrorType::kRuntime, "recursive loops are not supported");
  }
  std::string name() const override { return "LoopContext"; }
  Value attribute(const std::string& name) override {
    const int64_t i = static_cast<int64_t>(index_);
    const int64_t n = static_cast<int64_t>(items_.size());
    if (name == "index") return Value(i + 1);
    if (name == "index0") return Value(i);
    if (name == "first") return Value(i == 0);
    if (name == "last") return Value(i == n - 1);
    if (name == "length") return Value(n);
    if (name == "revindex") return Value(n - i);
    if (name == "revindex0") return Value(n - i - 1);
    if (name == "depth") return Value(int64_t{1});
    if (name == "depth0") return Value(int64_t{0});
    if (name == "previtem") return i > 0 ? items_[index_ - 1] : Value::undefined("there is no previous item");
    if (name == "nextitem") return i + 1 < n ? items_[index_ + 1] : Value::undefined("there is no next item");
    if (name == "cycle") {
      size_t position = index_;
      return Value(std::shared_ptr<Callable>(std::make_shared<Cycle>(position)));
    }
    return Callable::attribute(name);
  }

 private:
  class Cycle : public Callable {
   public:
    explicit Cycle(size_t index) : index_(index) {}
    Value call(EvalContext&, CallArgs& args) override {
      if (args.args.empty()) fail(ErrorType::kType, "no items for cycling given");
      return args.args[index_ % args.args.size()];
    }
    std::string name() const override { return "cycle"; }

   private:
    size_t index_;
  };

  List items_;
  size_t index_ = 0;
};

}  // namespace

Value Macro::call(EvalContext&, CallArgs& args) {
  return Value(renderer_.call_macro(stmt_, args));
}

Renderer::Renderer(const Program& program, const Limits& limits, std::tm now)
    : program_(program), limits_(limits), now_(now) {
  frames_.emplace_back();
}

Renderer::~Renderer() {
  // Hold every surviving namespace first, so clearing one cannot free another mid-loop.
  std::vector<std::shared_ptr<Namespace>> alive;
  for (const auto& weak : namespaces_)
    if (auto ns = weak.lock()) alive.push_back(std::move(ns));
  for (const auto& ns : alive) ns->attributes = Dict{};
}

std::shared_ptr<Namespace> Renderer::new_namespace() {
  auto ns = std::make_shared<Namespace>();
  namespaces_.push_back(ns);
  return ns;
}

void Renderer::set_variable(std::string name, Value value) { bind(frames_[0], name, std::move(value)); }

std::string Renderer::render() {
  out_.clear();
  exec(program_.body);
  return std::move(out_);
}

void Renderer::check_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes) {
    fail(ErrorType::kLimit, "template output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
}

void Renderer::count_iterations(int64_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations) {
    fail(ErrorType::kLimit, "template exceeds the limit of " + std::to_string(limits_.max_loop_iterations) + " loop iterations");
  }
}

void Renderer::append_output(std::string_view text) {
  check_size(out_.size() + text.size());
  out_.append(text);
}

void Renderer::bind(Frame& frame, const std::string& name, Value value) {
  for (auto& [k, v] : frame) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  frame.emplace_back(name, std::move(value));
}

Value Renderer::lookup(const std::string& name) const {
  for (size_t f = frames_.size(); f-- > 0;) {
    if (f < scope_base_ && f != 0) f = 0;  // inside a macro: its own frames, then the top level
    for (const auto& [k, v] : frames_[f]) {
      if (k == name) return v;
    }
  }
  Value global = lookup_global(name);
  if (!global.is_undefined()) return global;
  return Value::undefined("'" + name + "' is undefined");
}

std::string Renderer::capture(const Body& body) {
  std::string saved = std::move(out_);
  out_.clear();
  exec(body);
  std::string captured = std::move(out_);
  out_ = std::move(saved);
  return captured;
}

// A macro body runs in its own scope directly above the template's top level: it sees top-level
// variables as they are at call time, never the caller's loop variables.
class Renderer::MacroScope {
 public:
  explicit MacroScope(Renderer& r) : r_(r), saved_base_(r.scope_base_) {
    if (++r_.call_depth_ > r_.limits_.max_call_depth) {
      --r_.call_depth_;
      fail(ErrorType::kLimit, "template exceeds the maximum macro call depth of " + std::to_string(r_.limits_.max_call_depth));
    }
    r_.frames_.emplace_back();
    r_.scope_base_ = r_.frames_.size() - 1;
  }
  ~MacroScope() {
    r_.frames_.pop_back();
    r_.scope_base_ = saved_base_;
    --r_.call_depth_;
  }

 private:
  Renderer& r_;
  size_t saved_base_;
};

// Bounds the evaluator's recursion (nested expressions and statements across macro calls) so a
// hostile template ends in an error, not a stack overflow.
class Renderer::DepthGuard {
 public:
  explicit DepthGuard(Renderer& r) : r_(r) {
    if (++r_.depth_ > kMaxDepth) {
      --r_.depth_;
      fail(ErrorType::kLimit, "template nesting exceeds the limit of " + std::to_string(kMaxDepth) + " levels");
    }
  }
  ~DepthGuard() { --r_.depth_; }

 private:
  static constexpr int kMaxDepth = 2000;
  Renderer& r_;
};

std::string Renderer::render_macro(const Body& body, std::vector<std::pair<std::string, Value>> locals) {
  MacroScope scope(*this);
  for (auto& [k, v] : locals) frames_.back().emplace_back(std::move(k), std::move(v));
  return capture(body);
}

std::string Renderer::call_macro(const MacroStmt& macro, CallArgs& args) {
  MacroScope scope(*this);
  const size_t n = macro.params.size();
  for (size_t i = 0; i < n; ++i) {
    const MacroParam& param = macro.params[i];
    const Value* supplied = args.get(i, param.name);
    Value v = supplied ? *supplied
              : param.default_value ? eval(*param.default_value)  // defaults see earlier parameters
                                    : Value::undefined("'" + param.name + "' is undefined");
    bind(frames_.back(), param.name, std::move(v));
  }
  List varargs;
  for (size_t i = n; i < args.args.size(); ++i) varargs.push_back(args.args[i]);
  Dict extra_kwargs;
  for (const auto& kwarg : args.kwargs) {
    const std::string& name = kwarg.first;
    bool known = std::any_of(macro.params.begin(), macro.params.end(), [&](const MacroParam& p) { return p.name == name; });
    if (!known && name != "caller") extra_kwargs.set(Value(name), kwarg.second);
  }
  if (const Value* caller = args.keyword("caller")) bind(frames_.back(), "caller", *caller);
  bind(frames_.back(), "varargs", Value(std::move(varargs)));
  bind(frames_.back(), "kwargs", Value(std::move(extra_kwargs)));
  return capture(macro.body);
}

Value Renderer::call(const Value& callee, CallArgs& args) {
  if (callee.is_callable()) return callee.as_callable().call(*this, args);
  if (callee.is_undefined()) fail_undefined(callee);
  fail(ErrorType::kType, "'" + callee.type_name() + "' object is not callable");
}

Value Renderer::filter(std::string_view name, const Value& operand, CallArgs& args) {
  return apply_filter(*this, name, operand, args);
}

bool Renderer::test(std::string_view name, const Value& operand, CallArgs& args) {
  return apply_test(*this, name, operand, args);
}

// ---------------------------------------------------------------- statements

Renderer::Flow Renderer::exec(const Body& body) {
  for (const auto& stmt : body) {
    Flow flow = exec_stmt(*stmt);
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_stmt(const Stmt& stmt) {
  DepthGuard guard(*this);
  switch (stmt.kind) {
    case StmtKind::kText: append_output(static_cast<const TextStmt&>(stmt).text); return Flow::kNormal;
    case StmtKind::kOutput: {
      Value v = eval(*static_cast<const OutputStmt&>(stmt).value);
      if (v.is_string()) {
        append_output(v.as_string());
      } else {
        append_output(v.str());
      }
      return Flow::kNormal;
    }
    case StmtKind::kIf: {
      const auto& s = static_cast<const IfStmt&>(stmt);
      for (const auto& [condition, body] : s.branches) {
        if (eval(*condition).truthy()) return exec(body);
      }
      return exec(s.else_body);
    }
    case StmtKind::kFor: return exec_for(static_cast<const ForStmt&>(stmt));
    case StmtKind::kSet: {
      const auto& s = static_cast<const SetStmt&>(stmt);
      assign(s.target, eval(*s.value));
      return Flow::kNormal;
    }
    case StmtKind::kSetBlock: {
      const auto& s = static_cast<const SetBlockStmt&>(stmt);
      Value v(capture(s.body));
      for (const auto& f : s.filters) v = eval_filter(*f, &v);
      assign(s.target, std::move(v));
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      const auto& s = static_cast<const MacroStmt&>(stmt);
      bind(frames_.back(), s.name, Value(std::shared_ptr<Callable>(std::make_shared<Macro>(s, *this))));
      return Flow::kNormal;
    }
    case StmtKind::kCallBlock: {
      const auto& s = static_cast<const CallBlockStmt&>(stmt);
      Value callee = eval(*s.call->callee);
      CallArgs args;
      collect_args(s.call->args, s.call->kwargs, args);
      struct Caller : Callable {
        const CallBlockStmt& block;
        Renderer& r;
        Caller(const CallBlockStmt& b, Renderer& renderer) : block(b), r(renderer) {}
        Value call(EvalContext&, CallArgs& a) override {
          std::vector<std::pair<std::string, Value>> locals;
          for (size_t i = 0; i < block.caller_params.size(); ++i) {
            const Value* v = a.get(i, block.caller_params[i].name);
            locals.emplace_back(block.caller_params[i].name, v ? *v : Value::undefined());
          }
          return Value(r.render_macro(block.body, std::move(locals)));
        }
        std::string name() const override { return "caller"; }
      };
      args.kwargs.emplace_back("caller",
                               Value(std::shared_ptr<Callable>(std::make_shared<Caller>(s, *this))));
      Value v = call(callee, args);
      append_output(v.str());
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      const auto& s = static_cast<const FilterBlockStmt&>(stmt);
      Value v(capture(s.body));
      for (const auto& f : s.filters) v = eval_filter(*f, &v);
      append_output(v.str());
      return Flow::kNormal;
    }
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
    case StmtKind::kWith: {
      const auto& s = static_cast<const WithStmt&>(stmt);
      std::vector<Value> values;
      for (const auto& [target, expr] : s.assignments) values.push_back(eval(*expr));
      frames_.emplace_back();
      for (size_t i = 0; i < values.size(); ++i) assign(s.assignments[i].first, std::move(values[i]));
      Flow flow = exec(s.body);
      frames_.pop_back();
      return flow;
    }
    case StmtKind::kScope: return exec(static_cast<const ScopeStmt&>(stmt).body);
  }
  return Flow::kNormal;
}

void Renderer::assign(const Target& target, Value value) {
  if (!target.attribute.empty()) {
    Value ns = lookup(target.names[0]);
    if (!ns.is_namespace()) fail(ErrorType::kRuntime, "cannot assign attribute on non-namespace object");
    ns.as_namespace().attributes.set(Value(target.attribute), std::move(value));
    return;
  }
  if (!target.unpack) {
    bind(frames_.back(), target.names[0], std::move(value));
    return;
  }
  List items = iterate(value);
  if (items.size() != target.names.size()) {
    fail(ErrorType::kType, items.size() > target.names.size()
                               ? "too many values to unpack (expected " + std::to_string(target.names.size()) + ")"
                               : "not enough values to unpack (expected " + std::to_string(target.names.size()) + ", got " +
                                     std::to_string(items.size()) + ")");
  }
  for (size_t i = 0; i < items.size(); ++i) bind(frames_.back(), target.names[i], std::move(items[i]));
}

Renderer::Flow Renderer::exec_for(const ForStmt& stmt) {
  List items = iterate(eval(*stmt.iterable));
  frames_.emplace_back();
  if (stmt.filter) {
    List kept;
    for (auto& item : items) {
      count_iterations(1);
      frames_.back().clear();
      assign(stmt.target, item);
      if (eval(*stmt.filter).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const size_t n = items.size();
  auto loop = std::make_shared<LoopState>(std::move(items));
  const Value loop_value(std::static_pointer_cast<Callable>(loop));
  for (size_t i = 0; i < n; ++i) {
    count_iterations(1);
    Frame& frame = frames_.back();
    frame.clear();  // each iteration starts from a fresh scope, as in jinja2
    loop->advance(i);
    frame.emplace_back("loop", loop_value);
    assign(stmt.target, loop->items()[i]);
    Flow flow = exec(stmt.body);
    if (flow == Flow::kBreak) break;
  }
  frames_.pop_back();
  if (n == 0) return exec(stmt.else_body);
  return Flow::kNormal;
}

// ---------------------------------------------------------------- expressions

void Renderer::collect_args(const std::vector<ExprPtr>& args, const std::vector<KeywordArg>& kwargs, CallArgs& out) {
  out.args.reserve(args.size());
  for (const auto& a : args) out.args.push_back(eval(*a));
  for (const auto& k : kwargs) out.kwargs.emplace_back(k.name, eval(*k.value));
}

Value Renderer::eval_call(const CallExpr& expr) {
  Value callee;
  if (expr.callee->kind == ExprKind::kAttr) {
    const auto& attr = static_cast<const AttrExpr&>(*expr.callee);
    Value object = eval(*attr.object);
    if (object.is_undefined()) fail_undefined(object);
    if (has_method(object, attr.name)) {
      CallArgs args;
      collect_args(expr.args, expr.kwargs, args);
      return call_method(*this, object, attr.name, args);
    }
    callee = get_attribute(object, attr.name);
  } else {
    callee = eval(*expr.callee);
  }
  CallArgs args;
  collect_args(expr.args, expr.kwargs, args);
  return call(callee, args);
}

Value Renderer::eval_filter(const FilterExpr& expr, const Value* operand_override) {
  Value operand = operand_override ? *operand_override : eval(*expr.operand);
  CallArgs args;
  collect_args(expr.args, expr.kwargs, args);
  return apply_filter(*this, expr.name, operand, args);
}

Value Renderer::eval_binary(const BinaryExpr& expr) {
  Value a = eval(*expr.left);
  Value b = eval(*expr.right);
  const std::string& op = expr.op;
  if (op == "~") {
    std::string s = a.str();
    std::string t = b.str();
    check_size(s.size() + t.size());
    return Value(s + t);
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  bool numbers = a.is_number() && b.is_number();
  bool floats = numbers && (a.is_float() || b.is_float());
  switch (op[0]) {
    case '+':
      if (numbers) {
        if (floats) return Value(a.as_float() + b.as_float());
        return checked_int(a.as_int(), b.as_int(), '+');
      }
      if (a.is_string() && b.is_string()) {
        check_size(a.as_string().size() + b.as_string().size());
        if (a.is_markup() || b.is_markup()) {  // Markup + str escapes the plain side
          return Value::markup((a.is_markup() ? a.as_string() : html_escape(a.as_string())) +
                               (b.is_markup() ? b.as_string() : html_escape(b.as_string())));
        }
        return Value(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list() && !a.is_generator() && !b.is_generator() && a.is_tuple() == b.is_tuple()) {
        check_size((a.as_list().size() + b.as_list().size()) * sizeof(Value));
        List items = a.as_list();
        items.insert(items.end(), b.as_list().begin(), b.as_list().end());
        return Value(std::move(items), a.is_tuple());
      }
      break;
    case '-':
      if (numbers) {
        if (floats) return Value(a.as_float() - b.as_float());
        return checked_int(a.as_int(), b.as_int(), '-');
      }
      break;
    case '*':
      if (op == "**") {
        if (!numbers) break;
        if (!floats && b.as_int() >= 0) {  // exponentiation by squaring, overflow is an error
          int64_t result = 1, base = a.as_int();
          for (int64_t e = b.as_int(); e > 0; e >>= 1) {
            if ((e & 1) && __builtin_mul_overflow(result, base, &result)) fail(ErrorType::kType, "integer overflow");
            if (e > 1 && __builtin_mul_overflow(base, base, &base)) fail(ErrorType::kType, "integer overflow");
          }
          return Value(result);
        }
        return Value(std::pow(a.as_float(), b.as_float()));
      }
      if (numbers) {
        if (floats) return Value(a.as_float() * b.as_float());
        return checked_int(a.as_int(), b.as_int(), '*');
      }
      if ((a.is_string() && (b.is_int() || b.is_bool())) || ((a.is_int() || a.is_bool()) && b.is_string())) {
        const std::string& s = a.is_string() ? a.as_string() : b.as_string();
        int64_t times = a.is_string() ? b.as_int() : a.as_int();
        if (times <= 0 || s.empty()) return Value(std::string());
        if (static_cast<uint64_t>(times) > limits_.max_output_bytes / s.size()) check_size(SIZE_MAX);
        std::string out;
        out.reserve(s.size() * static_cast<size_t>(times));
        for (int64_t k = 0; k < times; ++k) out += s;
        return Value(std::move(out));
      }
      if (a.is_list() && !a.is_generator() && (b.is_int() || b.is_bool())) {
        int64_t times = b.as_int();
        List items;
        if (times > 0 && !a.as_list().empty()) {
          if (static_cast<uint64_t>(times) > limits_.max_output_bytes / (a.as_list().size() * sizeof(Value))) check_size(SIZE_MAX);
          for (int64_t k = 0; k < times; ++k) items.insert(items.end(), a.as_list().begin(), a.as_list().end());
        }
        return Value(std::move(items), a.is_tuple());
      }
      break;
    case '/':
      if (!numbers) break;
      if (op == "//") {
        if (b.as_float() == 0) fail(ErrorType::kType, "integer division or modulo by zero");
        if (floats) return Value(std::floor(a.as_float() / b.as_float()));
        int64_t x = a.as_int(), y = b.as_int();
        if (x == INT64_MIN && y == -1) fail(ErrorType::kType, "integer overflow");
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value(q);
      }
      if (b.as_float() == 0) fail(ErrorType::kType, "division by zero");
      return Value(a.as_float() / b.as_float());
    case '%':
      if (a.is_string()) {
        if (a.is_markup()) {  // Markup % args escapes the arguments
          auto escape = [](const Value& v) { return v.is_string() && !v.is_markup() ? Value(html_escape(v.as_string())) : v; };
          List escaped;
          if (b.is_tuple()) {
            for (const auto& item : b.as_list()) escaped.push_back(escape(item));
          }
          std::string s = percent_format(a.as_string(), b.is_tuple() ? Value(std::move(escaped), true) : escape(b));
          check_size(s.size());
          return Value::markup(std::move(s));
        }
        std::string s = percent_format(a.as_string(), b);
        check_size(s.size());
        return Value(std::move(s));
      }
      if (!numbers) break;
      if (b.as_float() == 0) fail(ErrorType::kType, "integer division or modulo by zero");
      if (floats) {
        double m = std::fmod(a.as_float(), b.as_float());
        if (m != 0 && ((m < 0) != (b.as_float() < 0))) m += b.as_float();
        return Value(m);
      } else {
        if (b.as_int() == -1) return Value(int64_t{0});
        int64_t m = a.as_int() % b.as_int();
        if (m != 0 && ((m < 0) != (b.as_int() < 0))) m += b.as_int();
        return Value(m);
      }
    default: break;
  }
  fail(ErrorType::kType, binary_type_error(op, a, b));
}

Value Renderer::eval_compare(const CompareExpr& expr) {
  Value left = eval(*expr.first);
  for (const auto& [op, right_expr] : expr.rest) {
    Value right = eval(*right_expr);
    bool result;
    if (op == "==") result = equals(left, right);
    else if (op == "!=") result = !equals(left, right);
    else if (op == "in") result = contains(right, left);
    else if (op == "notin") result = !contains(right, left);
    else {
      if (left.is_undefined()) fail_undefined(left);
      if (right.is_undefined()) fail_undefined(right);
      if (!((left.is_number() && right.is_number()) || (left.is_string() && right.is_string()) ||
            (left.is_list() && right.is_list()))) {
        fail(ErrorType::kType, "'" + op + "' not supported between instances of '" + left.type_name() + "' and '" + right.type_name() + "'");
      }
      if (op == "<") result = less_than(left, right);
      else if (op == "<=") result = !less_than(right, left);
      else if (op == ">") result = less_than(right, left);
      else result = !less_than(left, right);
    }
    if (!result) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Renderer::eval(const Expr& expr) {
  DepthGuard guard(*this);
  switch (expr.kind) {
    case ExprKind::kLiteral: return static_cast<const LiteralExpr&>(expr).value;
    case ExprKind::kName: return lookup(static_cast<const NameExpr&>(expr).name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      const auto& e = static_cast<const SequenceExpr&>(expr);
      List items;
      items.reserve(e.items.size());
      for (const auto& item : e.items) items.push_back(eval(*item));
      return Value(std::move(items), expr.kind == ExprKind::kTuple);
    }
    case ExprKind::kDict: {
      const auto& e = static_cast<const DictExpr&>(expr);
      Dict dict;
      for (const auto& [k, v] : e.items) {
        Value key = eval(*k);
        if (key.is_list() && !key.is_tuple()) fail(ErrorType::kType, "unhashable type: 'list'");
        if (key.is_dict()) fail(ErrorType::kType, "unhashable type: 'dict'");
        dict.set(std::move(key), eval(*v));
      }
      return Value(std::move(dict));
    }
    case ExprKind::kAttr: {
      const auto& e = static_cast<const AttrExpr&>(expr);
      return get_attribute(eval(*e.object), e.name);
    }
    case ExprKind::kItem: {
      const auto& e = static_cast<const ItemExpr&>(expr);
      Value object = eval(*e.object);
      return get_item(object, eval(*e.index));
    }
    case ExprKind::kSlice: {
      const auto& e = static_cast<const SliceExpr&>(expr);
      Value object = eval(*e.object);
      if (object.is_undefined()) fail_undefined(object);
      auto bound = [&](const ExprPtr& p) -> std::optional<int64_t> {
        if (!p) return std::nullopt;
        Value v = eval(*p);
        if (v.is_none()) return std::nullopt;
        if (!v.is_int() && !v.is_bool()) fail(ErrorType::kType, "slice indices must be integers or None");
        return v.as_int();
      };
      auto start = bound(e.start);
      auto stop = bound(e.stop);
      auto step = bound(e.step);
      return python_slice(object, start, stop, step);
    }
    case ExprKind::kCall: return eval_call(static_cast<const CallExpr&>(expr));
    case ExprKind::kFilter: return eval_filter(static_cast<const FilterExpr&>(expr), nullptr);
    case ExprKind::kTest: {
      const auto& e = static_cast<const TestExpr&>(expr);
      Value operand = eval(*e.operand);
      CallArgs args;
      for (const auto& a : e.args) args.args.push_back(eval(*a));
      bool result = apply_test(*this, e.name, operand, args);
      return Value(e.negated ? !result : result);
    }
    case ExprKind::kNot: return Value(!eval(*static_cast<const UnaryExpr&>(expr).operand).truthy());
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      Value v = eval(*static_cast<const UnaryExpr&>(expr).operand);
      if (v.is_undefined()) fail_undefined(v);
      bool neg = expr.kind == ExprKind::kNeg;
      if (v.is_float()) return Value(neg ? -v.as_float() : v.as_float());
      if (v.is_int() || v.is_bool()) {
        if (neg && v.as_int() == INT64_MIN) fail(ErrorType::kType, "integer overflow");
        return Value(neg ? -v.as_int() : v.as_int());
      }
      fail(ErrorType::kType, std::string("bad operand type for unary ") + (neg ? "-" : "+") + ": '" + v.type_name() + "'");
    }
    case ExprKind::kBinary: return eval_binary(static_cast<const BinaryExpr&>(expr));
    case ExprKind::kAnd: {
      const auto& e = static_cast<const BinaryExpr&>(expr);
      Value left = eval(*e.left);
      return left.truthy() ? eval(*e.right) : left;
    }
    case ExprKind::kOr: {
      const auto& e = static_cast<const BinaryExpr&>(expr);
      Value left = eval(*e.left);
      return left.truthy() ? left : eval(*e.right);
    }
    case ExprKind::kCompare: return eval_compare(static_cast<const CompareExpr&>(expr));
    case ExprKind::kCondition: {
      const auto& e = static_cast<const ConditionExpr&>(expr);
      if (eval(*e.condition).truthy()) return eval(*e.then_value);
      if (e.else_value) return eval(*e.else_value);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
  }
  return Value();
}

}  // namespace tgi::chat::jinja
