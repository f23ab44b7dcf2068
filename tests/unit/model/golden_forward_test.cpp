// Every dense architecture against its transformers float64 reference, from both config layouts.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <ostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden.h"
#include "model/decoder_model.h"

namespace tgi::model::testing {
namespace {

// Reference: float64; we run f32 activations over the stored (mostly bf16) weights.
constexpr double kLogitTolerance = 1e-3;
constexpr double kLogprobTolerance = 1e-3;
constexpr double kGreedyMarginFloor = 1e-2;

struct Case {
  std::string model;
  std::string config_file;
};

// What gtest prints for GetParam(): "llama3, config.v4.json (transformers 4 style)".
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << ", " << c.config_file << " (transformers " << (c.config_file == "config.json" ? "5" : "4")
      << " style)";
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.model + (info.param.config_file == "config.json" ? "_v5" : "_v4");
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::unique_ptr<CausalLm> load(const Case& c) {
  std::ifstream in(kModelsDir / c.model / c.config_file);
  auto config = parse_model_config(nlohmann::json::parse(in));
  EXPECT_TRUE(config.ok()) << config.error().message;
  if (!config.ok()) return nullptr;
  LoadOptions options;
  options.num_threads = 2;
  auto model = load_causal_lm_with_config(*config, kModelsDir / c.model, options);
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? std::move(*model) : nullptr;
}

void expect_matches_prompt(const GoldenPrompt& g, const PromptRun& run, int64_t vocab) {
  ASSERT_EQ(run.prompt_logits.size(), g.ids.size());
  const auto& last = run.prompt_logits.back();
  ASSERT_EQ(g.last_logits.size(), last.size());
  double worst = 0.0;
  for (size_t i = 0; i < last.size(); ++i) worst = std::max(worst, std::abs(double{last[i]} - g.last_logits[i]));
  EXPECT_LE(worst, kLogitTolerance) << "max |logit - reference| at the last prompt position";

  for (size_t pos = 0; pos < g.ids.size(); ++pos) {
    const auto lp = log_softmax(run.prompt_logits[pos].data(), vocab);
    if (pos > 0 && g.prompt_logprobs[pos]) {
      EXPECT_NEAR(log_softmax(run.prompt_logits[pos - 1].data(), vocab)[g.ids[pos]], *g.prompt_logprobs[pos],
                  kLogprobTolerance)
          << "prompt logprob at " << pos;
    }
    const auto& ids = g.top5_ids[pos];
    const auto& lps = g.top5_logprobs[pos];
    std::vector<int64_t> order(static_cast<size_t>(vocab));
    for (int64_t i = 0; i < vocab; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 5, order.end(), [&](int64_t a, int64_t b) { return lp[a] > lp[b]; });
    for (size_t k = 0; k < ids.size(); ++k) {
      EXPECT_NEAR(lp[ids[k]], lps[k], kLogprobTolerance) << "top-5 logprob, position " << pos << " rank " << k;
      const bool separated_above = k == 0 || lps[k - 1] - lps[k] > 2 * kLogprobTolerance;
      const bool separated_below = k + 1 == ids.size() || lps[k] - lps[k + 1] > 2 * kLogprobTolerance;
      if (separated_above && separated_below) {
        EXPECT_EQ(order[k], ids[k]) << "top-5 id, position " << pos << " rank " << k;
      }
    }
  }

  for (size_t i = 0; i < g.greedy_ids.size() && i < run.generated.size(); ++i) {
    if (run.generated[i] != g.greedy_ids[i]) {
      EXPECT_LE(g.greedy_margins[i], kGreedyMarginFloor) << "greedy token " << i << " differs with a clear margin";
      break;  // the paths diverged on a near-tie; what follows is a different continuation
    }
    EXPECT_NEAR(run.generated_logprobs[i], g.greedy_logprobs[i], kLogprobTolerance) << "greedy logprob " << i;
  }
}

class GoldenForward : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenForward, MatchesReference) {
  auto model = load(GetParam());
  ASSERT_NE(model, nullptr);
  const Golden golden = load_golden(GetParam().model);
  ASSERT_EQ(golden.prompts.size(), 3u);
  for (size_t p = 0; p < golden.prompts.size(); ++p) {
    SCOPED_TRACE("prompt " + std::to_string(p));
    const auto& g = golden.prompts[p];
    const PromptRun run = run_prompt(*model, g.ids, static_cast<int>(g.greedy_ids.size()));
    expect_matches_prompt(g, run, model->vocab_size());
  }
}

TEST_P(GoldenForward, HiddenStatesOfFirstPromptMatchLayerByLayer) {
  auto model = load(GetParam());
  ASSERT_NE(model, nullptr);
  const Golden golden = load_golden(GetParam().model);
  if (golden.p0_hidden_states.empty()) GTEST_SKIP() << "this golden stores no hidden states";
  auto* decoder = dynamic_cast<DecoderModel*>(model.get());
  ASSERT_NE(decoder, nullptr);
  std::vector<std::vector<float>> seen;
  const int64_t hidden = model->config().hidden_size;
  decoder->set_hidden_state_observer([&](int64_t, std::span<const float> h, int64_t num_tokens) {
    seen.emplace_back(h.begin() + (num_tokens - 1) * hidden, h.begin() + num_tokens * hidden);
  });
  run_prompt(*model, golden.prompts[0].ids, 0);
  // transformers reports the last entry after the final norm; compare the pre-norm ones.
  const size_t layers = static_cast<size_t>(model->config().num_hidden_layers);
  ASSERT_GE(golden.p0_hidden_states.size(), layers);
  ASSERT_EQ(seen.size(), layers + 1);
  for (size_t l = 0; l < layers; ++l) {
    // The reference stores every prompt row; compare the last one.
    const auto& ref_all = golden.p0_hidden_states[l];
    ASSERT_EQ(ref_all.size() % static_cast<size_t>(hidden), 0u);
    const float* ref = ref_all.data() + ref_all.size() - static_cast<size_t>(hidden);
    double worst = 0.0, scale = 1e-6;
    for (int64_t i = 0; i < hidden; ++i) {
      worst = std::max(worst, std::abs(double{seen[l][i]} - ref[i]));
      scale = std::max(scale, std::abs(double{ref[i]}));
    }
    EXPECT_LE(worst, 1e-4 * scale + 1e-5) << "hidden state " << l << " (0 = embeddings) diverges";
  }
}

const char* const kDenseModels[] = {"llama3", "llama2-tok", "qwen3-tok", "mistral", "qwen2", "qwen3", "gemma", "mixtral", "qwen2_moe", "qwen3_moe", "gpt_oss", "llama4_text", "deepseek_v3",
                                    "gemma2", "gemma3", "phi3", "phi", "gpt2", "starcoder2", "granite", "olmo2",
                                    "smollm3", "cohere"};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* m : kDenseModels)
    for (const char* f : {"config.json", "config.v4.json"}) cases.push_back({m, f});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Dense, GoldenForward, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace tgi::model::testing
