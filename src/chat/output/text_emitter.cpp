#include "chat/output/text_emitter.h"

namespace tgi::chat {

size_t utf8_complete_prefix(std::string_view text) {
  // Look back over at most 3 continuation bytes for the lead byte of the last character.
  size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return back < need ? n - back : n;
  }
  return n;  // stray continuation bytes: nothing will complete them
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim_spaces(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return text.substr(b, e - b);
}

void TrimmedTextEmitter::trim_edges() {
  trim_edges_ = true;
  if (emitted_) return;
  // Nothing shown yet: what is held is leading whitespace now.
  size_t i = 0;
  while (i < held_.size() && is_space(held_[i])) ++i;
  held_.erase(0, i);
  started_ = !held_.empty();
}

void TrimmedTextEmitter::add(std::string_view text, std::vector<OutputDelta>& out) {
  if (!started_ && trim_edges_) {
    // Leading whitespace of the whole text is never shown.
    size_t i = 0;
    while (i < text.size() && is_space(text[i])) ++i;
    text.remove_prefix(i);
    if (text.empty()) return;
  }
  if (text.empty()) return;
  started_ = true;
  held_.append(text);
  // Emit up to the last non-space, complete character; keep the rest.
  size_t end = utf8_complete_prefix(held_);
  size_t last = end;
  while (last > 0 && is_space(held_[last - 1])) --last;
  if (last == 0) return;
  emitted_ = true;
  if (!out.empty() && out.back().kind == kind_) {
    out.back().text.append(held_, 0, last);
  } else {
    out.push_back({kind_, 0, held_.substr(0, last)});
  }
  held_.erase(0, last);
}

void TrimmedTextEmitter::finish(std::vector<OutputDelta>& out) {
  std::string_view rest = held_;
  size_t last = rest.size();
  while (trim_edges_ && last > 0 && is_space(rest[last - 1])) --last;
  if (last > 0) {
    out.push_back({kind_, 0, std::string(rest.substr(0, last))});
    emitted_ = true;
  }
  held_.clear();
}

}  // namespace tgi::chat
