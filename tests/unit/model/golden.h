#pragma once
// Test support: the golden reference outputs of tests/data/models/<name> (transformers, float64)
// and a small greedy driver over the real CausalLm interface.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/causal_lm.h"

namespace tgi::model::testing {

inline const std::filesystem::path kModelsDir = std::filesystem::path(TGI_TEST_DATA_DIR) / "models";

struct GoldenPrompt {
  std::vector<int32_t> ids;
  std::vector<std::optional<double>> prompt_logprobs;
  std::vector<std::vector<int32_t>> top5_ids;
  std::vector<std::vector<double>> top5_logprobs;
  std::vector<int32_t> greedy_ids;
  std::vector<double> greedy_margins;
  std::vector<double> greedy_logprobs;
  std::vector<float> last_logits;
};

struct Golden {
  std::vector<GoldenPrompt> prompts;
  std::vector<std::vector<float>> p0_hidden_states;  // [layer + 1][hidden] of prompt 0's last row
};

Golden load_golden(const std::string& name);

// log_softmax of one row, in double.
std::vector<double> log_softmax(const float* logits, int64_t n);

// Runs one prompt alone: prefill (chunked by `chunk`, 0 = whole prompt) with every row's logits,
// then greedy decoding of `new_tokens` tokens.
struct PromptRun {
  std::vector<std::vector<float>> prompt_logits;  // per prompt row
  std::vector<int32_t> generated;
  std::vector<double> generated_logprobs;
  std::vector<double> generated_margins;
};
PromptRun run_prompt(CausalLm& model, const std::vector<int32_t>& ids, int new_tokens, int32_t block_size = 16,
                     int32_t chunk = 0);

// How far one prompt's run strays from its golden reference: the last prompt row's logits, every
// prompt logprob, and the greedy continuation's logprobs up to the first divergence (a divergence
// counts only where the reference's margin exceeded `margin_floor`: near-ties may go either way).
struct Deviation {
  double logit = 0, logprob = 0, logit_scale = 0;  // logit_scale: the reference logits' largest |value|
  bool greedy_diverged_with_margin = false;
  double greedy_margin_at_divergence = 0;
};
Deviation compare(const GoldenPrompt& g, const PromptRun& run, int64_t vocab, double margin_floor);

// Pearson correlation of two logit rows (unrelated rows score near 0).
double correlation(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace tgi::model::testing
