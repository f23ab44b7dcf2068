#pragma once
// `tgi bench --speculate N`: decode speed through the engine with and without n-gram
// speculation, in the same run, on two workloads — a prompt that states a passage several times
// (its continuation copies the passage: induction, the case prompt lookup exists for) and a
// prompt of random tokens (no repetition to find) — at each batch size. Also reports acceptance,
// tokens per verifying step, and whether the outputs were identical (they must be: greedy).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/causal_lm.h"

namespace tgi::cli {

struct SpeculationBenchOptions {
  int speculate = 4;
  std::vector<int> batch_sizes{1};
  int passage_tokens = 48;  // the copy workload: a random passage of this length...
  int passage_repeats = 3;  // ...stated this many times
  int random_prompt_tokens = 128;
  int new_tokens = 96;
  uint32_t seed = 1;
};

struct SpeculationBenchCell {
  std::string workload;  // "copy" or "random"
  int batch_size = 0;
  double plain_tokens_per_second = 0;        // decode, without speculation
  double speculative_tokens_per_second = 0;  // decode, with --speculate N
  double acceptance = 0;                     // accepted / proposed proposals
  double tokens_per_step = 0;                // per verifying sequence-step (1 + accepted)
  bool identical = false;                    // the same tokens either way
};

using ModelLoader = std::function<Result<std::unique_ptr<model::CausalLm>>()>;
// `load` gives a fresh model each time (the engine owns the model it runs); `load_draft`, when
// set, a draft model for the speculative runs (else they use prompt lookup).
Result<std::vector<SpeculationBenchCell>> run_speculation_bench(const ModelLoader& load,
                                                                const SpeculationBenchOptions& options,
                                                                const ModelLoader& load_draft = nullptr);

}  // namespace tgi::cli
