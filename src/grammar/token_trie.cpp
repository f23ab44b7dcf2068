#include "grammar/token_trie.h"

#include <algorithm>
#include <bit>
#include <numeric>
#include <unordered_map>

#include "grammar/grammar_matcher.h"

namespace tgi::grammar {

size_t TokenBitmask::count() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes) : vocab_size_(token_bytes.size()) {
  for (size_t id = 0; id < token_bytes.size(); ++id) {
    if (!token_bytes[id].empty()) token_order_.push_back(static_cast<int32_t>(id));
  }
  std::stable_sort(token_order_.begin(), token_order_.end(),
                   [&](int32_t a, int32_t b) { return token_bytes[a] < token_bytes[b]; });
  // Sorted strings insert in depth-first preorder: each token extends the path it shares with
  // the previous one.
  std::vector<uint32_t> path;  // node indices from the root's child down
  const std::string* previous = nullptr;
  for (uint32_t k = 0; k < token_order_.size(); ++k) {
    const std::string& s = token_bytes[token_order_[k]];
    size_t common = 0;
    if (previous != nullptr) {
      const size_t limit = std::min(previous->size(), s.size());
      while (common < limit && (*previous)[common] == s[common]) ++common;
    }
    path.resize(common);
    for (size_t j = common; j < s.size(); ++j) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back(Node{static_cast<uint8_t>(s[j]), static_cast<uint32_t>(j + 1), 0, k, k});
    }
    Node& end = nodes_[path.back()];
    if (end.tokens_begin == end.tokens_end) end.tokens_begin = k;
    end.tokens_end = k + 1;
    previous = &s;
  }
  // subtree_end: the next node whose depth is not greater.
  std::vector<uint32_t> open;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    while (!open.empty() && nodes_[open.back()].depth >= nodes_[i].depth) {
      nodes_[open.back()].subtree_end = i;
      open.pop_back();
    }
    open.push_back(i);
  }
  for (uint32_t i : open) nodes_[i].subtree_end = static_cast<uint32_t>(nodes_.size());
}

void TokenTrie::fill_allowed(GrammarMatcher& matcher, TokenBitmask& allowed) const {
  if (allowed.size() != vocab_size_) allowed.resize(vocab_size_);
  allowed.clear();
  const size_t base = matcher.position();
  const auto count = static_cast<uint32_t>(nodes_.size());
  for (uint32_t i = 0; i < count;) {
    const Node& node = nodes_[i];
    if (matcher.position() != base + node.depth - 1) matcher.pop_to(base + node.depth - 1);
    if (!matcher.push_byte(node.byte)) {
      i = node.subtree_end;
      continue;
    }
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) allowed.set(token_order_[t]);
    ++i;
  }
  matcher.pop_to(base);
}

}  // namespace tgi::grammar

namespace tgi::grammar {

namespace {

// Masks the trie keeps for all grammars at most (bytes; dense ones are ~19 KiB on 152k tokens).
constexpr size_t kSharedMaskBytes = size_t{256} << 20;
// Residual automata bigger than this are not spelled out: their masks stay per grammar.
constexpr uint32_t kMaxResidualStates = 512;

// The automaton reachable from `state`, numbered in the order a breadth-first search over bytes
// 0..255 meets the states, spelled as a string: equal spellings mean equal behaviour on every
// byte string, so the mask learned for one serves the other. Empty when it is too big.
std::string residual_spelling(const LexemeDfa& dfa, uint32_t state) {
  std::unordered_map<uint32_t, uint32_t> number{{state, 0}};
  std::vector<uint32_t> order{state};
  std::string out;
  auto put32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  for (size_t k = 0; k < order.size(); ++k) {
    const uint32_t s = order[k];
    out.push_back(dfa.accepting(s) ? 'A' : 'N');
    uint32_t run_target = UINT32_MAX - 1;
    for (int b = 0; b < 256; ++b) {
      const uint32_t next = dfa.next(s, static_cast<uint8_t>(b));
      uint32_t id = UINT32_MAX;
      if (next != LexemeDfa::kDead) {
        auto [it, fresh] = number.try_emplace(next, static_cast<uint32_t>(order.size()));
        if (fresh) {
          if (order.size() >= kMaxResidualStates) return {};
          order.push_back(next);
        }
        id = it->second;
      }
      if (id != run_target) {  // runs of bytes with one target
        out.push_back(static_cast<char>(b));
        put32(id);
        run_target = id;
      }
    }
  }
  return out;
}

size_t mask_bytes(const LexemeMask& m) {
  return sizeof(LexemeMask) + m.inside_bits.words().size() * 8 + m.inside_ids.size() * 4 +
         m.ending_nodes.size() * 4;
}

}  // namespace

std::shared_ptr<LexemeMask> TokenTrie::learn(const LexemeDfa& dfa, uint32_t state) const {
  auto mask = std::make_shared<LexemeMask>();
  // Per depth on the current path: the DFA state after that many bytes, whether the lexeme could
  // have ended before the byte at that depth, and whether the node is already listed.
  const size_t max_depth = 4096;
  std::vector<uint32_t> states(max_depth + 1), path(max_depth + 1);
  std::vector<uint8_t> ended_before(max_depth + 2), listed(max_depth + 1);
  states[0] = state;
  // Not even where `state` accepts can the lexeme end before the token's first byte here: the
  // matcher completed it when it reached `state`, so what may follow it is among the other
  // scanning states, whose masks cover those tokens.
  ended_before[1] = 0;
  auto list_with_ancestors = [&](uint32_t node, uint32_t depth) {
    for (uint32_t d = 1; d < depth; ++d) {
      if (!listed[d]) {
        mask->ending_nodes.push_back(path[d]);
        listed[d] = 1;
      }
    }
    mask->ending_nodes.push_back(node);
    listed[depth] = 1;
  };
  const auto count = static_cast<uint32_t>(nodes_.size());
  for (uint32_t i = 0; i < count;) {
    const Node& node = nodes_[i];
    const uint32_t d = node.depth;
    if (d > max_depth) {  // an absurdly long token: the matcher decides its whole subtree
      list_with_ancestors(i, static_cast<uint32_t>(max_depth));
      for (uint32_t j = i + 1; j < node.subtree_end; ++j) mask->ending_nodes.push_back(j);
      i = node.subtree_end;
      continue;
    }
    path[d] = i;
    listed[d] = 0;
    const uint32_t next = dfa.next(states[d - 1], node.byte);
    if (next == LexemeDfa::kDead) {
      if (ended_before[d]) {
        // The lexeme may end somewhere before this byte: the matcher checks the whole subtree.
        list_with_ancestors(i, d);
        for (uint32_t j = i + 1; j < node.subtree_end; ++j) mask->ending_nodes.push_back(j);
      }
      i = node.subtree_end;
      continue;
    }
    states[d] = next;
    ended_before[d + 1] = ended_before[d] || dfa.accepting(next);
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t)
      mask->inside_ids.push_back(token_order_[t]);
    ++i;
  }
  // Many tokens: a bitmask is cheaper to merge than a list.
  if (mask->inside_ids.size() * 32 > vocab_size_) {
    mask->dense = true;
    mask->inside_bits.resize(vocab_size_);
    for (int32_t id : mask->inside_ids) mask->inside_bits.set(static_cast<size_t>(id));
    mask->inside_ids.clear();
    mask->inside_ids.shrink_to_fit();
  }
  return mask;
}

std::shared_ptr<const LexemeMask> TokenTrie::lexeme_mask(const LexemeDfa& dfa, uint32_t state) const {
  std::string spelling = residual_spelling(dfa, state);
  if (spelling.empty()) return learn(dfa, state);
  {
    std::lock_guard lock(shared_mutex_);
    if (auto it = shared_masks_.find(spelling); it != shared_masks_.end()) return it->second;
  }
  std::shared_ptr<const LexemeMask> mask = learn(dfa, state);
  std::lock_guard lock(shared_mutex_);
  const size_t bytes = mask_bytes(*mask) + spelling.size();
  if (shared_bytes_ + bytes > kSharedMaskBytes) {  // full: start over rather than track recency
    shared_masks_.clear();
    shared_bytes_ = 0;
  }
  if (shared_masks_.emplace(std::move(spelling), mask).second) shared_bytes_ += bytes;
  return mask;
}

void TokenTrie::walk_nodes(GrammarMatcher& matcher, const std::vector<uint32_t>& listed,
                           TokenBitmask& allowed) const {
  const size_t base = matcher.position();
  for (size_t k = 0; k < listed.size();) {
    const Node& node = nodes_[listed[k]];
    if (matcher.position() != base + node.depth - 1) matcher.pop_to(base + node.depth - 1);
    if (!matcher.push_byte(node.byte)) {
      const uint32_t end = node.subtree_end;
      while (k < listed.size() && listed[k] < end) ++k;
      continue;
    }
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) allowed.set(token_order_[t]);
    ++k;
  }
  matcher.pop_to(base);
}

void TokenTrie::fill_allowed(GrammarMatcher& matcher, TokenBitmask& allowed, LexemeMaskCache& cache) const {
  // Every token a sentence allows starts inside one of the scanning lexemes and either stays in
  // it to its last byte (the mask's inside) or passes a point where that lexeme may end (its
  // ending nodes, which the matcher decides). So the mask is the union of the insides plus the
  // matcher's verdict on the union of the ending nodes.
  if (!matcher.scanning_states(cache.states_, LexemeMaskCache::kMaxStatesPerMask)) {
    return fill_allowed(matcher, allowed);
  }
  if (allowed.size() != vocab_size_) allowed.resize(vocab_size_);
  allowed.clear();
  if (cache.entries_.size() + cache.states_.size() > LexemeMaskCache::kMaxEntries) cache.entries_.clear();
  const std::vector<uint32_t>* ending = nullptr;
  for (uint64_t key : cache.states_) {
    auto [it, fresh] = cache.entries_.try_emplace(key);
    if (fresh)
      it->second =
          lexeme_mask(matcher.grammar().lexeme(static_cast<uint32_t>(key >> 32)), static_cast<uint32_t>(key));
    const LexemeMask& mask = *it->second;
    if (mask.dense) {
      allowed.merge(mask.inside_bits);
    } else {
      for (int32_t id : mask.inside_ids) allowed.set(static_cast<size_t>(id));
    }
    if (mask.ending_nodes.empty()) continue;
    if (ending == nullptr) {
      ending = &mask.ending_nodes;
      continue;
    }
    if (ending != &cache.merged_nodes_) {
      cache.merged_nodes_ = *ending;
      ending = &cache.merged_nodes_;
    }
    const auto middle = static_cast<ptrdiff_t>(cache.merged_nodes_.size());
    cache.merged_nodes_.insert(cache.merged_nodes_.end(), mask.ending_nodes.begin(), mask.ending_nodes.end());
    std::inplace_merge(cache.merged_nodes_.begin(), cache.merged_nodes_.begin() + middle,
                       cache.merged_nodes_.end());
    cache.merged_nodes_.erase(std::unique(cache.merged_nodes_.begin(), cache.merged_nodes_.end()),
                              cache.merged_nodes_.end());
  }
  if (ending) walk_nodes(matcher, *ending, allowed);
}

}  // namespace tgi::grammar
