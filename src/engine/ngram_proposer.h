#pragma once
// Prompt-lookup proposals for speculative decoding: when the last n tokens of a sequence (prompt
// and generated text together) occurred earlier, the tokens that followed that occurrence are a
// cheap guess at what comes next. Text that quotes its prompt, code that repeats identifiers and
// greedy output caught in a cycle all continue that way, and a wrong guess costs only the rows
// the target model verifies and rejects.
//
// The longest n in [min_ngram, max_ngram] with a match wins, and among its matches the most
// recent one (a cycle's latest turn predicts its next turn best). What followed the match is
// proposed, repeated with the match's period when it reaches the present, so a short cycle
// still yields a full proposal. The search looks back at most
// `max_lookback` tokens so a step's cost stays bounded on long contexts.
#include <cstdint>
#include <span>
#include <vector>

namespace tgi::engine {

struct NgramProposerConfig {
  int32_t min_ngram = 2;
  int32_t max_ngram = 4;
  int32_t max_lookback = 8192;
};

class NgramProposer {
 public:
  explicit NgramProposer(NgramProposerConfig config = {}) : config_(config) {}

  // Replaces `out` with up to `max_tokens` proposed continuations of `tokens`; returns how many.
  int32_t propose(std::span<const int32_t> tokens, int32_t max_tokens, std::vector<int32_t>& out) const;

 private:
  NgramProposerConfig config_;
};

}  // namespace tgi::engine
