#pragma once
// What the builtins_*.cpp files share among themselves; nothing outside them includes this.
//   builtins_strings.cpp  argument and string helpers
//   builtins_json.cpp     json.dumps for tojson
//   builtins_filters.cpp  filters
//   builtins_tests.cpp    tests
//   builtins_methods.cpp  str, dict and list methods
//   builtins_globals.cpp  globals and the callables they return
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/builtins.h"
#include "chat/jinja/eval_context.h"
#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

// ---------------------------------------------------------------- argument and string helpers

// The argument bound to (`position`, `name`), or `fallback` when the call has none.
Value arg_or(const CallArgs& args, size_t position, std::string_view name, Value fallback);
// jinja2's soft_str: str() for everything; undefined is "".
std::string soft_str(const Value& v);
// Python's len(): code points of a str, items of a list or dict.
int64_t python_len(const Value& v);
// str.strip/lstrip/rstrip with Python's whitespace or the code points of `chars_value`.
std::string python_strip(const std::string& s, const Value* chars_value, bool left, bool right);
// str.split/rsplit: by a separator, or on runs of whitespace when `sep_value` is None.
List python_split(const std::string& s, const Value* sep_value, int64_t maxsplit, bool from_right);
// str.replace; `count` < 0 replaces all. The result is held to the render's size limit.
std::string python_replace(const std::string& s, const std::string& old, const std::string& replacement,
                           int64_t count, EvalContext& context);
// jinja2's title filter (not str.title).
std::string jinja_title(const std::string& s);
// str.splitlines() with Python's line boundaries.
std::vector<std::string> python_splitlines(const std::string& s);
// jinja2's environment.getattr with dotted paths ("function.name") and integer parts.
Value attribute_path(const Value& object, const std::string& path);
// The comparison key used by sort/unique/dictsort: lower-cased strings unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive);

// ---------------------------------------------------------------- json

// Appends `v` as json.dumps would print it at nesting `level`; `depth` bounds the recursion.
void json_dump(std::string& out, const Value& v, const JsonStyle& style, int level, int depth);

// ---------------------------------------------------------------- filters

// Whether a filter of that name exists (the `filter` test).
bool has_filter(std::string_view name);
// The items filter, also dict.items().
Value filter_items(EvalContext& context, const Value& v, CallArgs& args);

}  // namespace tgi::chat::jinja
