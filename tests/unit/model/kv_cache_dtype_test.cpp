// `--kv-cache-dtype`: K and V stored as bf16, f16 or int8 keep the model the same function. The
// f32 cache is exact (what the goldens check); the narrower ones must stay close to it, take the
// memory they promise, and actually be used (int8 results differ from f32 in the last bits).
#include <cmath>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "golden.h"
#include "model/causal_lm.h"

namespace tgi::model::testing {
namespace {

struct KvCase {
  std::string model;
  kernels::KvDtype dtype;
};

// What gtest prints for GetParam(): "llama3, int8 KV cache".
void PrintTo(const KvCase& c, std::ostream* os) {
  *os << c.model << ", " << kernels::to_string(c.dtype) << " KV cache";
}

class KvCacheDtype : public ::testing::TestWithParam<KvCase> {};

std::unique_ptr<CausalLm> load(const std::string& name, kernels::KvDtype dtype) {
  LoadOptions options;
  options.num_threads = 2;
  options.kv_cache_dtype = dtype;
  auto model = load_causal_lm(kModelsDir / name, options);
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? std::move(*model) : nullptr;
}

TEST_P(KvCacheDtype, StaysCloseToTheExactCache) {
  const KvCase& c = GetParam();
  auto exact = load(c.model, kernels::KvDtype::kF32);
  auto narrow = load(c.model, c.dtype);
  ASSERT_TRUE(exact && narrow);
  const double ratio = static_cast<double>(narrow->kv_bytes_per_token()) / exact->kv_bytes_per_token();
  // int8: a quarter, plus one f32 scale per head vector of `width` elements (for K and for V).
  const ModelConfig& config = exact->config();
  const double width = static_cast<double>(
      config.kv_lora_rank > 0 ? config.kv_lora_rank + config.qk_rope_head_dim : config.head_dim);
  EXPECT_DOUBLE_EQ(ratio, c.dtype == kernels::KvDtype::kInt8 ? 0.25 + 1.0 / width : 0.5)
      << "bytes per token vs f32";

  double largest_change = 0, scale = 0;
  for (const GoldenPrompt& g : load_golden(c.model).prompts) {
    // Prefill in chunks so later rows read K/V that earlier steps stored.
    const PromptRun a = run_prompt(*exact, g.ids, 3, 4, 3);
    const PromptRun b = run_prompt(*narrow, g.ids, 3, 4, 3);
    ASSERT_EQ(a.prompt_logits.size(), b.prompt_logits.size());
    for (size_t row = 0; row < a.prompt_logits.size(); ++row) {
      EXPECT_GT(correlation(a.prompt_logits[row], b.prompt_logits[row]), 0.999) << "prompt row " << row;
      for (size_t i = 0; i < a.prompt_logits[row].size(); ++i) {
        largest_change =
            std::max(largest_change, double{std::fabs(a.prompt_logits[row][i] - b.prompt_logits[row][i])});
        scale = std::max(scale, double{std::fabs(a.prompt_logits[row][i])});
      }
    }
  }
  EXPECT_LE(largest_change, 0.02 * scale) << "largest logit change against the f32 cache";
  EXPECT_GT(largest_change, 0.0) << "the narrower cache was not used";
}

INSTANTIATE_TEST_SUITE_P(
    Models, KvCacheDtype,
    ::testing::Values(KvCase{"llama3", kernels::KvDtype::kBF16}, KvCase{"llama3", kernels::KvDtype::kF16},
                      KvCase{"llama3", kernels::KvDtype::kInt8}, KvCase{"qwen3", kernels::KvDtype::kInt8},
                      KvCase{"gemma2", kernels::KvDtype::kInt8},
                      KvCase{"deepseek_v3", kernels::KvDtype::kInt8},
                      KvCase{"gpt_oss", kernels::KvDtype::kBF16}),
    [](const auto& info) { return info.param.model + "_" + kernels::to_string(info.param.dtype); });

}  // namespace
}  // namespace tgi::model::testing
