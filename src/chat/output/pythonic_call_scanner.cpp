// Pythonic calls: Llama 4 ([get_weather(city="SF"), other()] maybe inside <|python_start|>..
// <|python_end|>), Gemma's ```tool_code fences. A call is shown when its parentheses close.
#include "chat/output/block_scan.h"
#include "chat/output/literal_to_json.h"
#include "chat/output/marker_matcher.h"

namespace tgi::chat {
namespace {

using S = BlockScan::Status;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// Position of the ')' closing the '(' at `open`, or npos while the text is unfinished; Python
// strings are skipped so brackets inside them do not count.
size_t matching_paren(std::string_view text, size_t open) {
  int depth = 0;
  char quote = 0;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '\'' || c == '"')
      quote = c;
    else if (c == '(' || c == '[' || c == '{')
      ++depth;
    else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) return c == ')' ? i : std::string_view::npos - 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

BlockScan scan_pythonic_call_block(std::string_view text, const OutputFormat& format, bool at_end) {
  BlockScan scan;
  size_t pos = skip_spaces(text, 0);
  if (pos >= text.size()) return undecided(scan, at_end, pos);
  bool list = text[pos] == '[';
  if (list) ++pos;
  while (true) {
    pos = skip_spaces(text, pos);
    if (pos >= text.size()) return undecided(scan, at_end, pos);
    if (list && text[pos] == ']' && !scan.calls.empty()) {
      ++pos;
      break;
    }
    size_t name_begin = pos;
    while (pos < text.size() && is_name_char(text[pos])) ++pos;
    if (pos >= text.size())
      return pos - name_begin > kMaxNameLength ? ended(scan, S::kInvalid, name_begin)
                                               : undecided(scan, at_end, pos);
    if (pos == name_begin || text[pos] != '(') return ended(scan, S::kInvalid, name_begin);
    size_t close = matching_paren(text, pos);
    if (close == std::string_view::npos) return undecided(scan, at_end, text.size());
    if (close == std::string_view::npos - 1) return ended(scan, S::kInvalid, name_begin);
    auto arguments = python_kwargs_to_json(text.substr(pos + 1, close - pos - 1));
    if (!arguments) return ended(scan, S::kInvalid, name_begin);
    scan.calls.push_back({std::string(text.substr(name_begin, pos - name_begin)), *arguments, true});
    pos = skip_spaces(text, close + 1);
    if (!list) break;
    if (pos >= text.size()) return undecided(scan, at_end, pos);
    if (text[pos] == ',') {
      ++pos;
      continue;
    }
    if (text[pos] == ']') {
      ++pos;
      break;
    }
    return ended(scan, S::kInvalid, pos);
  }
  return finish_block(std::move(scan), text, pos, format.block_close, at_end);
}

}  // namespace tgi::chat
