#pragma once
// Filters, tests, methods and globals of transformers' jinja2 environment, one builtins_<kind>.cpp
// per kind (builtins_internal.h lists them). They see the render only through EvalContext.
#include <optional>
#include <string>
#include <string_view>

#include "chat/jinja/eval_context.h"
#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

Value apply_filter(EvalContext& context, std::string_view name, const Value& operand, CallArgs& args);
bool apply_test(EvalContext& context, std::string_view name, const Value& operand, CallArgs& args);

// Python methods on str, list and dict (`message.get('x')`, `content.strip()`). Methods that
// mutate a container are refused, as ImmutableSandboxedEnvironment does.
bool has_method(const Value& self, std::string_view name);
Value call_method(EvalContext& context, const Value& self, const std::string& name, CallArgs& args);
// A method looked up but not called (`x.items`): a callable bound to `self`.
Value bound_method(const Value& self, const std::string& name);

// raise_exception, strftime_now, range, namespace, dict, cycler, joiner; undefined otherwise.
Value lookup_global(const std::string& name);

// markupsafe.escape of a plain string.
std::string html_escape(const std::string& s);

// Python's json.dumps(value, ensure_ascii=False, indent=..., separators=..., sort_keys=...).
struct JsonStyle {
  std::optional<std::string> indent;  // null: single line
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
std::string to_json(const Value& value, const JsonStyle& style);

}  // namespace tgi::chat::jinja
