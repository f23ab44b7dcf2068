#include "chat/output/json_scan.h"

#include <string>

#include <nlohmann/json.hpp>

namespace tgi::chat {
namespace {

bool is_literal_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
         c == '.';
}

}  // namespace

JsonScan scan_json_value(std::string_view text, size_t pos) {
  using S = JsonScan::Status;
  if (pos >= text.size()) return {S::kNeedMore, text.size()};
  char first = text[pos];
  if (first != '{' && first != '[' && first != '"') {
    size_t i = pos;
    while (i < text.size() && is_literal_char(text[i])) ++i;
    if (i == pos) return {S::kInvalid, pos};
    // A literal ends only at a delimiter: "12" may still become "123".
    return i == text.size() ? JsonScan{S::kNeedMore, i} : JsonScan{S::kDone, i};
  }
  std::string closers;  // expected closing brackets, innermost last
  bool in_string = false, escaped = false;
  for (size_t i = pos; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        if (closers.empty()) return {S::kDone, i + 1};
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      closers.push_back('}');
    } else if (c == '[') {
      closers.push_back(']');
    } else if (c == '}' || c == ']') {
      if (closers.empty() || closers.back() != c) return {S::kInvalid, i};
      closers.pop_back();
      if (closers.empty()) return {S::kDone, i + 1};
    }
  }
  return {S::kNeedMore, text.size()};
}

std::string decode_json_string(std::string_view literal) {
  auto value = nlohmann::json::parse(literal, nullptr, false);
  return value.is_string() ? value.get<std::string>() : std::string();
}

}  // namespace tgi::chat
