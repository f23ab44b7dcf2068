#pragma once
// Python operations with more than a line of semantics: slicing, printf-style `%` formatting and
// str.format().
#include <cstdint>
#include <optional>
#include <string>

#include "chat/jinja/eval_context.h"
#include "chat/jinja/value.h"

namespace tgi::chat::jinja {

Value python_slice(const Value& object, std::optional<int64_t> start, std::optional<int64_t> stop,
                   std::optional<int64_t> step);
std::string percent_format(const std::string& format, const Value& args);
std::string brace_format(const std::string& format, const CallArgs& args);

}  // namespace tgi::chat::jinja
