#pragma once
// Limits a request body must keep before it is parsed into a DOM, checked in one pass over the
// text: nesting depth (serde_json, which TGI parses with, stops at 128) and numbers that a double
// cannot hold (serde_json: "number out of range"). nlohmann's parser takes any depth, and every
// later walk of the tree (dump, templates, schema compilers) recurses, so a deep body would
// overflow an HTTP thread's stack; an overflowing number makes nlohmann throw a non-parse error.
#include <optional>
#include <string>
#include <string_view>

namespace tgi::server {

inline constexpr int kMaxJsonDepth = 128;

// nullopt when `text` keeps the limits; otherwise serde's message, with the 1-based line and
// column of the offending character ("recursion limit exceeded at line 1 column 130"). Text that
// is not JSON at all passes: the parser that follows reports its syntax errors.
std::optional<std::string> json_limit_violation(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace tgi::server
