// jinja2's tests (`x is defined`, `select('odd')`), looked up by name.
#include "chat/jinja/builtins.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>

#include "chat/jinja/access.h"
#include "chat/jinja/builtins_internal.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

bool test_value(EvalContext& context, std::string_view name, const Value& v, CallArgs& args) {
  auto arg0 = [&]() -> const Value& {
    if (args.args.empty()) fail(ErrorType::kType, "test '" + std::string(name) + "' needs an argument");
    return args.args[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "sequence")
    return v.is_string() || (v.is_list() && !v.is_generator()) || v.is_dict() || v.is_undefined();
  if (name == "callable") return v.is_callable();
  if (name == "sameas") {
    const Value& o = arg0();
    if (v.is_none() || v.is_bool() || v.is_undefined()) return v.type() == o.type() && equals(v, o);
    return v.type() == o.type() && equals(v, o) && (v.is_int() || v.is_string());
  }
  if (name == "escaped") return false;
  if (name == "in") return contains(arg0(), v);
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, arg0());
  if (name == "ne" || name == "!=") return !equals(v, arg0());
  if (name == "lt" || name == "lessthan" || name == "<") return less_than(v, arg0());
  if (name == "le" || name == "<=") return !less_than(arg0(), v);
  if (name == "gt" || name == "greaterthan" || name == ">") return less_than(arg0(), v);
  if (name == "ge" || name == ">=") return !less_than(v, arg0());
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int() && !v.is_bool())
      fail(ErrorType::kType, "test '" + std::string(name) + "' needs an integer");
    int64_t x = v.as_int();
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    int64_t d = arg0().as_int();
    if (d == 0) fail(ErrorType::kType, "integer division or modulo by zero");
    return x % d == 0;
  }
  if (name == "lower") return v.is_string() && is_lower_string(v.as_string());
  if (name == "upper") return v.is_string() && is_upper_string(v.as_string());
  if (name == "filter") return has_filter(soft_str(arg0()));
  if (name == "test") {
    static const char* const kTests[] = {
        "defined", "undefined",   "none",    "boolean",  "true",     "false",    "integer", "float",
        "number",  "string",      "mapping", "iterable", "sequence", "callable", "sameas",  "escaped",
        "in",      "eq",          "ne",      "lt",       "le",       "gt",       "ge",      "odd",
        "even",    "divisibleby", "lower",   "upper",    "filter",   "test"};
    std::string n = soft_str(arg0());
    return std::any_of(std::begin(kTests), std::end(kTests), [&](const char* t) { return n == t; });
  }
  (void)context;
  fail(ErrorType::kRuntime, "No test named '" + std::string(name) + "' found.");
}

}  // namespace

bool apply_test(EvalContext& context, std::string_view name, const Value& operand, CallArgs& args) {
  return test_value(context, name, operand, args);
}

}  // namespace tgi::chat::jinja
