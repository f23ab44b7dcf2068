#include "chat/output/block_scan.h"

#include "chat/output/marker_matcher.h"
#include "chat/output/text_emitter.h"

namespace tgi::chat {

BlockScan ended(BlockScan scan, BlockScan::Status status, size_t end) {
  scan.status = status;
  scan.end = end;
  return scan;
}

BlockScan undecided(BlockScan scan, bool at_end, size_t at) {
  return at_end ? ended(std::move(scan), BlockScan::Status::kInvalid, at) : scan;
}

size_t skip_spaces(std::string_view text, size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

bool skip_closing_fence(std::string_view text, size_t& pos, bool at_end) {
  const size_t p = skip_spaces(text, pos);
  bool partial = false;
  if (starts_with_marker(text.substr(p), "```", &partial)) {
    pos = p + 3;
    return true;
  }
  return !((partial || p == text.size()) && !at_end);
}

BlockScan finish_block(BlockScan scan, std::string_view text, size_t pos, std::string_view close,
                       bool at_end) {
  using S = BlockScan::Status;
  if (close.empty()) {
    scan.status = S::kComplete;
    scan.end = pos;
    return scan;
  }
  size_t p = skip_spaces(text, pos);
  bool partial = false;
  if (starts_with_marker(text.substr(p), close, &partial)) {
    scan.status = S::kComplete;
    scan.end = p + close.size();
  } else if ((p == text.size() || partial) && !at_end) {
    scan.status = S::kNeedMore;
  } else {
    // A missing close marker is forgiven: the calls are whole, what follows is content.
    scan.status = S::kComplete;
    scan.end = p;
  }
  return scan;
}

}  // namespace tgi::chat
