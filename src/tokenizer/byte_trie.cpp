#include "tokenizer/byte_trie.h"

#include <algorithm>

namespace tgi::tokenizer {

void PatternTrie::insert(std::string_view pattern, int32_t id) {
  if (pattern.empty()) return;
  first_[static_cast<unsigned char>(pattern[0])] = true;
  size_t node = 0;
  for (unsigned char b : pattern) {
    auto& ch = nodes_[node].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, unsigned char v) { return p.first < v; });
    if (it != ch.end() && it->first == b) {
      node = static_cast<size_t>(it->second);
    } else {
      const auto next = static_cast<int32_t>(nodes_.size());
      ch.insert(it, {b, next});
      nodes_.emplace_back();
      node = static_cast<size_t>(next);
    }
  }
  nodes_[node].id = id;
}

size_t PatternTrie::child(size_t node, unsigned char b) const {
  const auto& ch = nodes_[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, unsigned char v) { return p.first < v; });
  return (it == ch.end() || it->first != b) ? 0 : static_cast<size_t>(it->second);
}

std::pair<size_t, int32_t> PatternTrie::longest_at(std::string_view text, size_t pos) const {
  std::pair<size_t, int32_t> best{0, -1};
  size_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    const auto& ch = nodes_[node].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, unsigned char v) { return p.first < v; });
    if (it == ch.end() || it->first != b) break;
    node = static_cast<size_t>(it->second);
    if (nodes_[node].id >= 0) best = {i + 1 - pos, nodes_[node].id};
  }
  return best;
}

}  // namespace tgi::tokenizer
