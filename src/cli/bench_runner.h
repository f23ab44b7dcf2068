#pragma once
// The measurements behind `tgi bench`: prefill and decode over a grid, driving the model directly
// (no HTTP, no scheduler) so the numbers are the forward pass and nothing else.
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "model/causal_lm.h"

namespace tgi::cli {

struct BenchGrid {
  std::vector<int> batch_sizes{1, 8, 32};
  std::vector<int> prompt_lengths{512};
  std::vector<int> context_lengths{0};  // tokens already in each sequence's KV cache before decoding
  int decode_steps = 32;
  int warmups = 1;  // untimed repetitions (prefill) / steps (decode) before measuring
  int runs = 3;     // timed prefill repetitions
  // > 0: also time decode steps in which every sequence verifies this many speculative proposals
  // (verify_tokens + 1 query rows with logits at each), the cost of one speculative step.
  int verify_tokens = 0;
  uint32_t seed = 1;
  bool show_progress = true;  // one tick per forward pass on stderr (core/progress.h), between timings
};

struct PrefillCell {
  int prompt_length = 0;
  std::vector<double> seconds;  // one per timed run
  double tokens_per_second = 0;  // prompt_length / median seconds
};

struct DecodeCell {
  int batch_size = 0;
  int context_length = 0;
  int rows_per_sequence = 1;         // > 1: a verification step (BenchGrid::verify_tokens + 1 rows)
  std::vector<double> step_seconds;  // one per timed step (every sequence gains one token)
  double tokens_per_second = 0;      // batch_size · steps / total seconds
  double p50_ms = 0, p90_ms = 0, p99_ms = 0;  // time per output token (= step time)
  double kv_bytes_read_per_step = 0;          // mean over the timed steps
};

struct BenchResults {
  std::vector<PrefillCell> prefill;
  std::vector<DecodeCell> decode;
  std::vector<DecodeCell> verify;  // BenchGrid::verify_tokens > 0: one per decode cell, same order
};

Result<BenchResults> run_bench(model::CausalLm& lm, const BenchGrid& grid);

// Nearest-rank percentile of `values` (q in [0, 1]); 0 for an empty list.
double percentile(std::vector<double> values, double q);

}  // namespace tgi::cli
