#pragma once
// Where one output stands in a Grammar: an Earley recognizer whose terminals are lexeme DFAs,
// advanced one byte at a time. An item waiting on a lexeme carries its DFA state, so a lexeme
// may end at any accepting state and the parse forks there the way Earley forks anywhere else:
// no lexer decisions (longest match or otherwise) can reject a valid output.
//
// Bytes can be pushed and popped again, which is how the token mask explores the vocabulary
// trie without copying the state (token_mask.h). Not thread-safe; one per sequence. The Grammar
// must outlive the matcher.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"

namespace tgi::grammar {

class GrammarMatcher {
 public:
  explicit GrammarMatcher(const Grammar& grammar);

  // Appends `byte` when some sentence continues the bytes so far with it; otherwise returns
  // false and leaves the state as it was.
  bool push_byte(uint8_t byte);
  // All of `bytes`, or (returning false) none of them.
  bool push_bytes(std::string_view bytes);
  // Back to the state after the first `position` bytes (position <= this->position()).
  void pop_to(size_t position);
  size_t position() const { return set_starts_.size() - 2; }

  // The bytes so far are a whole sentence.
  bool accepting() const { return accepting_.back() != 0; }
  // Some byte may follow.
  bool can_continue() const;

  const Grammar& grammar() const { return *grammar_; }

  // The distinct (lexeme, DFA state) pairs of the items that can take a byte now, packed as
  // lexeme << 32 | state, or false when there are more than `limit`. The token mask depends on
  // the parse only where one of these lexemes can end (token_trie.h uses this).
  bool scanning_states(std::vector<uint64_t>& out, size_t limit) const;

 private:
  struct Item {
    uint32_t pos;           // index into Grammar::flat_symbols(): the symbol after the dot
    uint32_t origin;        // the set where the item's production started
    uint32_t lexeme_state;  // DFA state of the lexeme after the dot (0 when it is not a lexeme)
  };

  uint32_t initial_lexeme_state(uint32_t pos) const;
  // Adds an item to the set being built unless it is there already.
  void add(uint32_t pos, uint32_t origin, uint32_t lexeme_state);
  // Predictions and completions until the set being built is closed.
  void close_set();
  void begin_set();
  bool contains(const Item& item) const;
  void rebuild_index();

  const Grammar* grammar_;
  const uint32_t* flat_;
  std::vector<Item> items_;
  std::vector<uint32_t> set_starts_;  // set k is items_[set_starts_[k], set_starts_[k + 1])
  std::vector<uint8_t> accepting_;    // per set
  // Set-local bookkeeping, valid while a set is being built.
  std::vector<uint32_t> predicted_stamp_;  // rule -> stamp of the set that predicted it
  uint32_t stamp_ = 0;
  bool building_accepting_ = false;
  std::vector<uint32_t> index_;  // open-addressing table of item indices, used for big sets
  uint32_t indexed_count_ = 0;
};

}  // namespace tgi::grammar
