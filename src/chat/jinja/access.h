#pragma once
// Attribute and item access with jinja2's sandboxed lookup rules, membership and iteration: the
// operations on values that both the renderer and the builtins need.
#include <string>

#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

// jinja2's UndefinedError for using `v`, with the hint the undefined value carries.
[[noreturn]] void fail_undefined(const Value& v);

Value get_attribute(const Value& object, const std::string& name);
Value get_item(const Value& object, const Value& index);
// Python's `a in b`.
bool contains(const Value& container, const Value& item);
// The items a for loop or filter iterates: list items, dict keys, string characters.
List iterate(const Value& value);

}  // namespace tgi::chat::jinja
