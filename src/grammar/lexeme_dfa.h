#pragma once
// A Regex compiled into a deterministic automaton over UTF-8 bytes. Immutable once built, so one
// compiled grammar serves many sequences on many threads.
//
// Contract the grammar matcher relies on: every state that is not kDead can still reach an
// accepting state (dead ends are pruned to kDead), so a byte that leads to a live state keeps the
// lexeme possible, and a lexeme can be abandoned the moment next() returns kDead.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "grammar/regex.h"

namespace tgi::grammar {

struct LexemeDfaLimits {
  uint32_t max_states = 20'000;  // past this, build() fails (kValidation) instead of growing
};

class LexemeDfa {
 public:
  static constexpr uint32_t kDead = UINT32_MAX;

  static Result<LexemeDfa> build(const Regex& regex, const LexemeDfaLimits& limits = {});

  uint32_t start() const { return start_; }  // kDead when the regex matches nothing
  uint32_t next(uint32_t state, uint8_t byte) const {
    return transitions_[static_cast<size_t>(state) * class_count_ + byte_class_[byte]];
  }
  bool accepting(uint32_t state) const { return accepting_[state] != 0; }
  // Bytes in one class behave alike in every state.
  uint8_t byte_class(uint8_t byte) const { return byte_class_[byte]; }
  // Whether any byte leads on from `state` to a live state.
  bool has_exits(uint32_t state) const { return has_exits_[state] != 0; }
  uint32_t state_count() const { return static_cast<uint32_t>(accepting_.size()); }
  // Heap bytes held, for the compiled-grammar cache's budget.
  size_t memory_bytes() const {
    return sizeof(LexemeDfa) + transitions_.size() * sizeof(uint32_t) + accepting_.size() + has_exits_.size();
  }
  // The whole of `bytes` is one match.
  bool matches(std::string_view bytes) const;

 private:
  static LexemeDfa build_literals(std::vector<std::string> strings);

  uint32_t start_ = kDead;
  uint32_t class_count_ = 1;
  uint8_t byte_class_[256] = {};       // bytes that behave alike share a column
  std::vector<uint32_t> transitions_;  // state * class_count_ + class -> state or kDead
  std::vector<uint8_t> accepting_;     // per state
  std::vector<uint8_t> has_exits_;     // per state
  friend class LexemeDfaBuilder;
};

}  // namespace tgi::grammar
