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

}  // namespace tgi::model::testing
