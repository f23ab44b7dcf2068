#pragma once
// Tree-walking evaluator: renders a parsed Program against a context, with jinja2's scoping
// (per-iteration loop scopes, macros that see the template's top level) and hard limits.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/eval_context.h"
#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

struct Limits {
  size_t max_output_bytes = 16u << 20;   // rendered text and any string built on the way
  int max_call_depth = 64;               // nested macro calls
  int64_t max_loop_iterations = 500000;  // all loop iterations of one render together
};

class Renderer final : public EvalContext {
 public:
  Renderer(const Program& program, const Limits& limits, std::tm now);
  // Empties every namespace this render created: a template may store a namespace inside itself
  // (`{% set ns.me = ns %}`), a shared_ptr cycle that would otherwise outlive the render.
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // Variables visible to the whole template (messages, tools, add_generation_prompt, ...).
  void set_variable(std::string name, Value value);
  std::string render();

  Value call(const Value& callee, CallArgs& args);

  // EvalContext, what builtins and callables see of this render.
  Value filter(std::string_view name, const Value& operand, CallArgs& args) override;
  bool test(std::string_view name, const Value& operand, CallArgs& args) override;
  void check_size(size_t bytes) const override;
  void count_iterations(int64_t n) override;
  const std::tm& now() const override { return now_; }
  // Namespaces are emptied when the render ends (see ~Renderer).
  std::shared_ptr<Namespace> new_namespace() override;

  // Macros and call-block callers: render a body in a fresh scope above the top level.
  std::string call_macro(const MacroStmt& macro, CallArgs& args);
  std::string render_macro(const Body& body, std::vector<std::pair<std::string, Value>> locals);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  class MacroScope;
  class DepthGuard;
  using Frame = std::vector<std::pair<std::string, Value>>;

  Flow exec(const Body& body);
  Flow exec_stmt(const Stmt& stmt);
  Flow exec_for(const ForStmt& stmt);
  void assign(const Target& target, Value value);
  void bind(Frame& frame, const std::string& name, Value value);
  std::string capture(const Body& body);

  Value eval(const Expr& expr);
  Value eval_call(const CallExpr& expr);
  Value eval_filter(const FilterExpr& expr, const Value* operand_override);
  Value eval_binary(const BinaryExpr& expr);
  Value eval_compare(const CompareExpr& expr);
  Value lookup(const std::string& name) const;
  void collect_args(const std::vector<ExprPtr>& args, const std::vector<KeywordArg>& kwargs, CallArgs& out);
  void append_output(std::string_view text);

  const Program& program_;
  Limits limits_;
  std::tm now_;
  std::vector<Frame> frames_;  // frames_[0] is the template's top level
  std::string out_;
  size_t scope_base_ = 0;      // first frame of the innermost macro call (0: none)
  int call_depth_ = 0;
  int depth_ = 0;
  int64_t iterations_ = 0;
  std::vector<std::weak_ptr<Namespace>> namespaces_;
};

}  // namespace tgi::chat::jinja
