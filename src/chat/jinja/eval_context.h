#pragma once
// What a callable, filter, test or method sees of the render that runs it: the arguments of one
// call and a narrow view of the evaluator. The renderer implements EvalContext; builtins and
// Callables depend on this header only, never on renderer.h.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;

  // The argument bound to parameter `name` at `position` (Python's binding), or null.
  const Value* get(size_t position, std::string_view name) const {
    if (position < args.size()) return &args[position];
    return keyword(name);
  }
  const Value* keyword(std::string_view name) const {
    for (const auto& [k, v] : kwargs) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

class EvalContext {
 public:
  // A filter or test by name, as the template would apply it (`map('upper')`, `select('odd')`).
  virtual Value filter(std::string_view name, const Value& operand, CallArgs& args) = 0;
  virtual bool test(std::string_view name, const Value& operand, CallArgs& args) = 0;
  // Fails with a limit error when a string being built would exceed the output limit.
  virtual void check_size(size_t bytes) const = 0;
  // Counts loop-like work (range()) against the render's iteration limit.
  virtual void count_iterations(int64_t n) = 0;
  // The render's clock (strftime_now).
  virtual const std::tm& now() const = 0;
  // namespace(): a new namespace owned by this render.
  virtual std::shared_ptr<Namespace> new_namespace() = 0;

 protected:
  ~EvalContext() = default;
};

}  // namespace tgi::chat::jinja
