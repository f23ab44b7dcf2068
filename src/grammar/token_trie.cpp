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
  for (const Node& node : nodes_) max_depth_ = std::max(max_depth_, node.depth);
  // The nodes on paths to tokens longer than kSharedDepth, with their ancestors, in preorder.
  std::vector<uint8_t> on_long_path(nodes_.size(), 0);
  std::vector<uint32_t> ancestors;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    while (!ancestors.empty() && nodes_[ancestors.back()].depth >= nodes_[i].depth) ancestors.pop_back();
    ancestors.push_back(i);
    if (nodes_[i].depth > kSharedDepth && nodes_[i].tokens_begin != nodes_[i].tokens_end) {
      for (auto it = ancestors.rbegin(); it != ancestors.rend() && !on_long_path[*it]; ++it)
        on_long_path[*it] = 1;
    }
  }
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (on_long_path[i]) long_nodes_.push_back(i);
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
// Residual automata bigger than this are spelled unrolled to kSharedDepth bytes instead.
constexpr uint32_t kMaxResidualStates = 64;
// Unrolled automata bigger than this are not spelled either.
constexpr uint32_t kMaxUnrolledNodes = 8192;

// What a mask learned from `state` depends on, spelled as a string: the automaton reachable from
// `state`, numbered in the order a breadth-first search over bytes 0..255 meets it. With
// max_whole > 0 it is the whole reachable automaton (empty when it has more states than that);
// with 0 it is the automaton unrolled to max_depth bytes as (state, depth) nodes, which is all a
// mask of tokens up to max_depth bytes depends on -- and in which a count far from its bound (a
// string with a maxLength counts its characters in thousands of states) looks like any other.
// Empty when even that is too big.
std::string residual_spelling(const LexemeDfa& dfa, uint32_t state, uint32_t max_depth, uint32_t max_whole) {
  // Maximal byte runs within which the DFA cannot tell bytes apart.
  std::vector<int> run_starts{0};
  for (int b = 1; b < 256; ++b)
    if (dfa.byte_class(static_cast<uint8_t>(b)) != dfa.byte_class(static_cast<uint8_t>(b - 1)))
      run_starts.push_back(b);
  auto spell = [&](bool unrolled, size_t max_nodes) -> std::string {
    std::unordered_map<uint64_t, uint32_t> number;
    std::vector<std::pair<uint32_t, uint32_t>> order;  // (state, depth)
    auto key = [&](uint32_t s, uint32_t d) { return unrolled ? uint64_t{s} * (max_depth + 1) + d : s; };
    number.emplace(key(state, 0), 0);
    order.emplace_back(state, 0);
    std::string out(unrolled ? "U" : "F");
    auto put32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
    if (unrolled) put32(max_depth);
    for (size_t k = 0; k < order.size(); ++k) {
      const auto [s, d] = order[k];
      out.push_back(dfa.accepting(s) ? 'A' : 'N');
      if (unrolled && d == max_depth) continue;  // no token goes further
      uint32_t run_target = UINT32_MAX - 1;
      for (int b : run_starts) {
        const uint32_t next = dfa.next(s, static_cast<uint8_t>(b));
        uint32_t id = UINT32_MAX;
        if (next != LexemeDfa::kDead) {
          auto [it, fresh] = number.try_emplace(key(next, d + 1), static_cast<uint32_t>(order.size()));
          if (fresh) {
            if (order.size() >= max_nodes) return {};
            order.emplace_back(next, d + 1);
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
  };
  if (max_whole > 0) return spell(false, max_whole);
  return spell(true, kMaxUnrolledNodes);
}

size_t mask_bytes(const LexemeMask& m) {
  return sizeof(LexemeMask) + m.inside_bits.words().size() * 8 + m.inside_ids.size() * 4 +
         m.ending_nodes.size() * 4;
}

}  // namespace

std::shared_ptr<LexemeMask> TokenTrie::learn(const LexemeDfa& dfa, uint32_t state,
                                             TokenLengths lengths) const {
  auto mask = std::make_shared<LexemeMask>();
  // The nodes walked: all of them in preorder, or only those on paths to long tokens.
  const bool only_long = lengths == TokenLengths::kLong;
  const uint32_t count =
      only_long ? static_cast<uint32_t>(long_nodes_.size()) : static_cast<uint32_t>(nodes_.size());
  auto node_at = [&](uint32_t k) { return only_long ? long_nodes_[k] : k; };
  // The first position past the subtree of the node at position k.
  auto skip_subtree = [&](uint32_t k) {
    const uint32_t end = nodes_[node_at(k)].subtree_end;
    if (!only_long) return end;
    while (k < count && long_nodes_[k] < end) ++k;
    return k;
  };
  auto counts = [&](const Node& node) {
    return lengths == TokenLengths::kAll || (lengths == TokenLengths::kShort) == (node.depth <= kSharedDepth);
  };
  // Per depth on the current path: the DFA state after that many bytes, whether the lexeme could
  // have ended before the byte at that depth, and whether the node is already listed.
  const uint32_t max_depth = max_depth_;
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
  for (uint32_t k = 0; k < count;) {
    const uint32_t i = node_at(k);
    const Node& node = nodes_[i];
    const uint32_t d = node.depth;
    if (lengths == TokenLengths::kShort && d > kSharedDepth) {  // the long part's business
      k = skip_subtree(k);
      continue;
    }
    path[d] = i;
    listed[d] = 0;
    const uint32_t next = dfa.next(states[d - 1], node.byte);
    if (next == LexemeDfa::kDead) {
      if (ended_before[d]) {
        // The lexeme may end somewhere before this byte: the matcher checks the whole subtree.
        list_with_ancestors(i, d);
        const uint32_t end = skip_subtree(k);
        for (uint32_t j = k + 1; j < end; ++j) {
          if (lengths == TokenLengths::kShort && nodes_[node_at(j)].depth > kSharedDepth) continue;
          mask->ending_nodes.push_back(node_at(j));
        }
      }
      k = skip_subtree(k);
      continue;
    }
    states[d] = next;
    ended_before[d + 1] = ended_before[d] || dfa.accepting(next);
    if (counts(node)) {
      for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t)
        mask->inside_ids.push_back(token_order_[t]);
    }
    ++k;
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

LexemeMaskCache::Masks TokenTrie::lexeme_masks(const LexemeDfa& dfa, uint32_t state) const {
  // The whole automaton from `state` is small: one mask for every token, shared by spelling.
  // Otherwise (a long counted string) the tokens up to kSharedDepth bytes -- nearly all -- share a
  // mask through the automaton unrolled to that depth, and the few longer ones are learned for
  // this state alone with a walk of their paths only.
  std::string spelling = residual_spelling(dfa, state, max_depth_, kMaxResidualStates);
  TokenLengths lengths = TokenLengths::kAll;
  std::shared_ptr<const LexemeMask> longer;
  if (spelling.empty()) {
    lengths = TokenLengths::kShort;
    spelling = residual_spelling(dfa, state, std::min(max_depth_, kSharedDepth), 0);
    longer = learn(dfa, state, TokenLengths::kLong);
    if (spelling.empty()) return {learn(dfa, state, lengths), longer};
  }
  {
    std::lock_guard lock(shared_mutex_);
    if (auto it = shared_masks_.find(spelling); it != shared_masks_.end()) return {it->second, longer};
  }
  std::shared_ptr<const LexemeMask> mask = learn(dfa, state, lengths);
  std::lock_guard lock(shared_mutex_);
  const size_t bytes = mask_bytes(*mask) + spelling.size();
  if (shared_bytes_ + bytes > kSharedMaskBytes) {  // full: start over rather than track recency
    shared_masks_.clear();
    shared_bytes_ = 0;
  }
  if (shared_masks_.emplace(std::move(spelling), mask).second) shared_bytes_ += bytes;
  return {mask, longer};
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
  auto add = [&](const LexemeMask& mask) {
    if (mask.dense) {
      allowed.merge(mask.inside_bits);
    } else {
      for (int32_t id : mask.inside_ids) allowed.set(static_cast<size_t>(id));
    }
    if (mask.ending_nodes.empty()) return;
    if (ending == nullptr) {
      ending = &mask.ending_nodes;
      return;
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
  };
  for (uint64_t key : cache.states_) {
    auto [it, fresh] = cache.entries_.try_emplace(key);
    if (fresh) {
      it->second = lexeme_masks(matcher.grammar().lexeme(static_cast<uint32_t>(key >> 32)),
                                static_cast<uint32_t>(key));
    }
    add(*it->second.first);
    if (it->second.second) add(*it->second.second);
  }
  if (ending) walk_nodes(matcher, *ending, allowed);
}

}  // namespace tgi::grammar
