// Gemma 4: <|tool_call>call:NAME{key:<|"|>text<|"|>,n:1}<tool_call|>, one call per block.
#include "chat/output/block_scan.h"
#include "chat/output/literal_to_json.h"
#include "chat/output/marker_matcher.h"

namespace tgi::chat {
namespace {

using S = BlockScan::Status;
constexpr std::string_view kQuote = "<|\"|>";

// Position after the '}' closing the '{' at `open` (Gemma strings skipped), or npos.
size_t object_end(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text.substr(i, kQuote.size()) == kQuote) {
      size_t close = text.find(kQuote, i + kQuote.size());
      if (close == std::string_view::npos) return std::string_view::npos;
      i = close + kQuote.size() - 1;
    } else if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

BlockScan scan_gemma4_call_block(std::string_view text, const OutputFormat& format, bool at_end) {
  BlockScan scan;
  bool partial = false;
  if (!starts_with_marker(text, "call:", &partial))
    return partial ? undecided(scan, at_end, text.size()) : ended(scan, S::kInvalid, 0);
  size_t brace = text.find('{', 5);
  if (brace == std::string_view::npos) {
    return text.size() - 5 > kMaxNameLength ? ended(scan, S::kInvalid, 0)
                                            : undecided(scan, at_end, text.size());
  }
  std::string name(text.substr(5, brace - 5));
  if (name.empty() || name.size() > kMaxNameLength || name.find_first_of(" \n<>") != std::string::npos) {
    return ended(scan, S::kInvalid, 0);
  }
  scan.calls.push_back({name, "", false});
  size_t end = object_end(text, brace);
  if (end == std::string_view::npos) return undecided(scan, at_end, text.size());
  auto arguments = gemma4_object_to_json(text.substr(brace, end - brace));
  scan.calls.back().arguments = arguments ? *arguments : std::string(text.substr(brace, end - brace));
  scan.calls.back().arguments_complete = true;
  return finish_block(std::move(scan), text, end, format.block_close, at_end);
}

}  // namespace tgi::chat
