#pragma once
// Speculative decoding's settings and its per-sequence pace (see DESIGN.md, "Speculation").
//
// A decode row may carry proposed tokens after its pending token; one forward computes logits at
// every one of them, and the engine samples row by row exactly as it would have step by step,
// keeping proposals while the sampled token equals the proposed one. That is rejection sampling
// with a proposal distribution concentrated on one token: a proposal d is kept with probability
// p(d), and on a rejection the token already drawn from p is the correction. Outputs therefore
// follow the target distribution exactly, and with a seed they are the very tokens a run without
// speculation draws (each token still takes one draw from the sequence's own generator).
#include <cstdint>

#include "engine/ngram_proposer.h"

namespace tgi::engine {

struct SpeculationConfig {
  int32_t max_tokens = 0;  // --speculate N: proposals per sequence and step; 0: off
  NgramProposerConfig ngram;
  // Proposals are verified only while at most this many sequences decode. A batch-1 CPU step is
  // bound by reading the weights, so a few more rows are nearly free; a large batch is bound by
  // arithmetic, where every rejected row costs its full price.
  int32_t max_batch = 4;
};

// How many tokens one sequence proposes next. Full acceptance lengthens the proposal by one (up
// to the limit); a rejection shortens it to what was accepted plus one. When the recent
// acceptance rate falls below kMinAcceptance the sequence stops proposing for kCooldownSteps
// steps, so text that does not repeat itself costs nothing.
class SpeculationPacer {
 public:
  static constexpr double kMinAcceptance = 0.2;
  static constexpr int32_t kCooldownSteps = 16;

  explicit SpeculationPacer(int32_t max_tokens = 0) : max_(max_tokens), length_(max_tokens) {}

  // Tokens to propose at this step (0 while cooling down).
  int32_t next_length() const { return cooldown_ > 0 ? 0 : length_; }
  // A decode step ran without a proposal.
  void on_step_without_proposal() {
    if (cooldown_ > 0 && --cooldown_ == 0) acceptance_ = kInitialAcceptance;
  }
  void record(int32_t proposed, int32_t accepted);
  double acceptance() const { return acceptance_; }

 private:
  static constexpr double kInitialAcceptance = 0.5;
  int32_t max_ = 0;
  int32_t length_ = 0;
  int32_t cooldown_ = 0;
  double acceptance_ = kInitialAcceptance;  // exponential moving average of accepted / proposed
};

}  // namespace tgi::engine
