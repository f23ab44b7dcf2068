#pragma once
// A model's vocabulary as a byte trie, built once per tokenizer and shared by every constrained
// sequence. The allowed-token mask for a grammar state is one depth-first walk of the trie that
// feeds each node's byte to the matcher and skips a whole subtree the moment a byte is refused,
// so tokens sharing a rejected prefix cost nothing (llguidance's insight; our own code).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/lexeme_dfa.h"

namespace tgi::grammar {

class GrammarMatcher;

// One bit per token id.
class TokenBitmask {
 public:
  explicit TokenBitmask(size_t size = 0) { resize(size); }
  void resize(size_t size) {
    size_ = size;
    words_.assign((size + 63) / 64, 0);
  }
  void clear() { std::fill(words_.begin(), words_.end(), 0); }
  void assign(const TokenBitmask& other) { words_ = other.words_; }
  void merge(const TokenBitmask& other) {
    for (size_t i = 0; i < words_.size(); ++i) words_[i] |= other.words_[i];
  }
  void set(size_t i) { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  void reset(size_t i) { words_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  bool test(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  size_t size() const { return size_; }
  size_t count() const;
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  size_t size_ = 0;
  std::vector<uint64_t> words_;
};

// What the vocabulary looks like from inside one lexeme in one DFA state: the tokens whose bytes
// all stay inside the lexeme (a function of the DFA from that state on, nothing else), and the
// trie nodes on paths along which the lexeme may end, where only the matcher can decide.
struct LexemeMask {
  bool dense = false;
  TokenBitmask inside_bits;            // when dense
  std::vector<int32_t> inside_ids;     // when not dense
  std::vector<uint32_t> ending_nodes;  // preorder trie nodes for the matcher to check
};

// The lexeme masks one grammar has used, by (lexeme, state): one per compiled grammar, shared by
// its sequences on the engine thread (not thread-safe). The masks themselves are shared across
// grammars by the trie, keyed by the automaton they depend on, so the body of a JSON string is
// learned once per process whatever schema it is in.
class LexemeMaskCache {
 public:
  static constexpr size_t kMaxEntries = 4096;
  // More distinct lexeme states than this at one position: walk the whole trie instead.
  static constexpr size_t kMaxStatesPerMask = 16;

 private:
  friend class TokenTrie;
  // A state's masks: the main one and, for a long counted string, one for the longest tokens.
  using Masks = std::pair<std::shared_ptr<const LexemeMask>, std::shared_ptr<const LexemeMask>>;
  std::unordered_map<uint64_t, Masks> entries_;  // lexeme << 32 | state
  // Scratch for one mask.
  std::vector<uint64_t> states_;
  std::vector<uint32_t> merged_nodes_;
};

class TokenTrie {
 public:
  // token_bytes[id]: the bytes token `id` adds to the output. An empty string marks a token a
  // grammar never allows (special tokens, and tokens that decode to nothing).
  explicit TokenTrie(const std::vector<std::string>& token_bytes);

  size_t vocab_size() const { return vocab_size_; }
  size_t node_count() const { return nodes_.size(); }

  // Sets exactly the bits of the tokens whose bytes the matcher can take next (other bits are
  // cleared) by walking the whole trie with the matcher. The matcher ends as it began.
  void fill_allowed(GrammarMatcher& matcher, TokenBitmask& allowed) const;
  // The same mask from the lexeme masks of the matcher's scanning states (learned on first use)
  // plus the matcher's verdict on their ending nodes. `cache` belongs to the matcher's grammar.
  // Thread-safe as far as the trie goes (its shared masks are behind a lock).
  void fill_allowed(GrammarMatcher& matcher, TokenBitmask& allowed, LexemeMaskCache& cache) const;

 private:
  struct Node {
    uint8_t byte;
    uint32_t depth;         // bytes from the root to this node, inclusive
    uint32_t subtree_end;   // the first node (in preorder) outside this node's subtree
    uint32_t tokens_begin;  // tokens ending here: token_order_[tokens_begin, tokens_end)
    uint32_t tokens_end;
  };
  // Tokens longer than this many bytes (a few hundred of a large vocabulary) are left out of the
  // masks shared by counted strings; see lexeme_masks().
  static constexpr uint32_t kSharedDepth = 32;
  enum class TokenLengths { kAll, kShort, kLong };  // all tokens, up to kSharedDepth bytes, longer
  LexemeMaskCache::Masks lexeme_masks(const LexemeDfa& dfa, uint32_t state) const;
  // Walks the trie with the DFA alone from `state`, for the tokens of the given lengths.
  std::shared_ptr<LexemeMask> learn(const LexemeDfa& dfa, uint32_t state, TokenLengths lengths) const;
  // Checks the nodes listed (a preorder subset of nodes_) with the matcher.
  void walk_nodes(GrammarMatcher& matcher, const std::vector<uint32_t>& listed, TokenBitmask& allowed) const;

  size_t vocab_size_ = 0;
  uint32_t max_depth_ = 0;            // bytes in the longest token
  std::vector<Node> nodes_;           // preorder
  std::vector<uint32_t> long_nodes_;  // preorder: nodes on paths to tokens over kSharedDepth bytes
  std::vector<int32_t> token_order_;
  // Lexeme masks by the canonical spelling of the automaton they were learned from.
  mutable std::mutex shared_mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const LexemeMask>> shared_masks_;
  mutable size_t shared_bytes_ = 0;
};

}  // namespace tgi::grammar
