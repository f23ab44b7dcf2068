#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace tgi::tokenizer {

// Byte trie of patterns (added tokens, Unigram pieces): longest match or every prefix match.
class PatternTrie {
 public:
  void insert(std::string_view pattern, int32_t id);
  // Longest pattern at text[pos...]: (length, id), or length 0.
  std::pair<size_t, int32_t> longest_at(std::string_view text, size_t pos) const;
  // Calls fn(length, id) for every pattern that is a prefix of text[pos...], shortest first.
  template <typename Fn>
  void for_each_prefix(std::string_view text, size_t pos, Fn&& fn) const {
    size_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node == 0) return;
      if (nodes_[node].id >= 0) fn(i + 1 - pos, nodes_[node].id);
    }
  }
  bool empty() const { return nodes_.size() <= 1; }
  bool may_start(unsigned char b) const { return first_[b]; }

 private:
  size_t child(size_t node, unsigned char b) const;  // 0 when absent
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t id = -1;
  };
  std::vector<Node> nodes_{Node{}};
  bool first_[256] = {};
};

}  // namespace tgi::tokenizer
