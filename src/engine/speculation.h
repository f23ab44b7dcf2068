#pragma once
// Speculative decoding's settings, and how many proposed tokens each sequence verifies per step
// (see DESIGN.md, "Speculation").
//
// A decode row may carry proposed tokens after its pending token; one forward computes logits at
// every one of them, and the engine samples row by row exactly as it would have step by step,
// keeping proposals while the sampled token equals the proposed one. That is rejection sampling
// with a proposal distribution concentrated on one token: a proposal d is kept with probability
// p(d), and on a rejection the token already drawn from p is the correction. Outputs therefore
// follow the target distribution exactly, and with a seed they are the very tokens a run without
// speculation draws (each token still takes one draw from the sequence's own generator).
#include <cstdint>
#include <span>
#include <vector>

#include "engine/ngram_proposer.h"
#include "engine/step_cost_model.h"

namespace tgi::engine {

struct SpeculationConfig {
  int32_t max_tokens = 0;  // --speculate N: proposals per sequence and step at most; 0: off
  NgramProposerConfig ngram;
  // Proposals are verified only while at most this many sequences decode: a large batch is bound
  // by arithmetic, where every rejected row costs its full price.
  int32_t max_batch = 4;
  // Verify only as many proposals as pay for themselves (choose_proposal_lengths, with step costs
  // measured as the engine runs). Off: every proposal up to max_tokens is verified (tests).
  bool cost_aware = true;
};

// How likely a sequence's next proposed token is to be kept, given the ones before it were: the
// kept / (kept + first-rejected) ratio over its recent proposals, starting from 1/2. Steps that
// verify nothing pull it back towards 1/2, so a sequence whose proposals stopped paying is tried
// again later (text that did not repeat may start to).
class AcceptanceEstimate {
 public:
  double rate() const { return (kept_ + 1) / (kept_ + rejected_ + 2); }
  void record(int32_t proposed, int32_t accepted);
  void on_step_without_proposal();

 private:
  double kept_ = 0, rejected_ = 0;
};

// Proposal lengths for one step that maximize expected tokens per second. `base_rows` rows run
// anyway; sequence i has `available[i]` proposed tokens, each kept (if all before it were) with
// probability `rates[i]`. Proposal j of sequence i adds rates[i]^j expected tokens and one row;
// rows are added, best first, while they raise (expected tokens) / (costs.estimate(rows) +
// seconds_per_depth · the longest proposal) -- the second term is what making the proposals
// costs (a draft model's batched step per token of depth; 0 for prompt lookup).
// Nothing is proposed before a step of base_rows rows alone has been measured.
std::vector<int32_t> choose_proposal_lengths(const StepCostModel& costs, int32_t base_rows,
                                             std::span<const double> rates,
                                             std::span<const int32_t> available,
                                             double seconds_per_depth = 0);

}  // namespace tgi::engine
