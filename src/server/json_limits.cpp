#include "server/json_limits.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace tgi::server {

namespace {

bool starts_number(char c) {
  return c == '-' || (c >= '0' && c <= '9');
}

bool number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Whether the number token overflows a double. Only tokens with an exponent or more digits than
// a double's range can overflow, so the common case never calls strtod.
bool overflows_double(std::string_view token) {
  if (token.size() < 309 && token.find_first_of("eE") == std::string_view::npos) return false;
  const std::string copy(token);
  return std::isinf(std::strtod(copy.c_str(), nullptr));  // underflow is 0, as serde reads it
}

}  // namespace

std::optional<std::string> json_limit_violation(std::string_view text, int max_depth) {
  int depth = 0;
  size_t line = 1;
  size_t line_start = 0;
  auto at = [&](size_t i) { return fmt::format("at line {} column {}", line, i - line_start + 1); };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      // Skip the string; escapes may hide a quote. Newlines inside strings are invalid JSON, so
      // the line count only needs the ones outside.
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      continue;
    }
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return "recursion limit exceeded " + at(i);
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    } else if (starts_number(c)) {
      size_t end = i;
      while (end < text.size() && number_char(text[end])) ++end;
      if (overflows_double(text.substr(i, end - i))) return "number out of range " + at(end);
      i = end - 1;
    }
  }
  return std::nullopt;
}

}  // namespace tgi::server
