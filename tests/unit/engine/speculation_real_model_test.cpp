// Speculative decoding over every golden architecture (tests/data/models, random weights): greedy
// tokens with n-gram speculation, several requests sharing each step, equal the tokens without
// it. This holds only because a row's logits do not depend on how many rows its sequence has in
// the step (the batch-invariance contract in DESIGN.md), which verification relies on.
#include <cctype>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "event_collector.h"
#include "model/causal_lm.h"

namespace tgi::engine {
namespace {

using testing::EventCollector;

const std::string kModelDir = std::string(TGI_TEST_DATA_DIR) + "/models/";
constexpr int32_t kNewTokens = 40;

struct Outcome {
  std::vector<std::vector<int32_t>> tokens;
  EngineStats stats;
};

// `draft`: a golden model proposing by its greedy tokens ("": prompt lookup).
Outcome generate(const std::string& name, const std::vector<std::vector<int32_t>>& prompts, int32_t speculate,
                 const std::string& draft = "") {
  Outcome out;
  model::LoadOptions options;
  options.num_threads = 1;
  auto model = model::load_causal_lm(kModelDir + name, options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  if (!model.ok()) return out;
  std::unique_ptr<model::CausalLm> draft_model;
  if (!draft.empty()) {
    auto loaded = model::load_causal_lm(kModelDir + draft, options);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    if (!loaded.ok()) return out;
    draft_model = std::move(*loaded);
  }
  EngineConfig config;
  config.max_batch_total_tokens = 4096;
  config.max_batch_prefill_tokens = 512;
  config.block_size = 4;
  config.speculation.max_tokens = speculate;
  config.speculation.max_batch = 64;
  config.speculation.cost_aware = false;  // every proposal verified: deterministic
  config.sliding_window = 0;              // keep every block, so a draft model may be used
  auto engine = Engine::create(std::move(*model), nullptr, config, std::move(draft_model));
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return out;
  std::vector<std::unique_ptr<EventCollector>> events;
  for (const auto& prompt : prompts) {
    GenerationRequest r;
    r.input_ids = prompt;
    r.stopping.max_new_tokens = kNewTokens;
    r.stopping.ignore_eos = true;
    events.push_back(std::make_unique<EventCollector>());
    EXPECT_TRUE((*engine)->submit(r, events.back()->sink()).ok());
  }
  for (auto& e : events) {
    EXPECT_TRUE(e->wait());
    out.tokens.push_back(e->token_ids());
  }
  out.stats = (*engine)->stats();
  return out;
}

class SpeculationOnGoldenModels : public ::testing::TestWithParam<std::string> {};

// Test names: the parameter with every character gtest does not allow in a name made '_'.
std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

TEST_P(SpeculationOnGoldenModels, GreedyTokensAreTheSameWithAndWithoutSpeculation) {
  std::ifstream file(kModelDir + GetParam() + "/golden.json");
  ASSERT_TRUE(file.good());
  const auto golden = nlohmann::json::parse(file);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& prompt : golden["prompts"]) {
    auto ids = prompt["ids"].get<std::vector<int32_t>>();
    prompts.push_back(ids);
    // The prompt said twice: a continuation that copies it is proposed from the first copy.
    std::vector<int32_t> twice = ids;
    twice.insert(twice.end(), ids.begin(), ids.end());
    prompts.push_back(std::move(twice));
  }
  const Outcome plain = generate(GetParam(), prompts, 0);
  const Outcome spec = generate(GetParam(), prompts, 5);
  ASSERT_EQ(plain.tokens.size(), prompts.size());
  EXPECT_EQ(spec.tokens, plain.tokens);
  EXPECT_GT(spec.stats.speculative_proposed_tokens, 0);
  std::cout << GetParam() << ": " << spec.stats.speculative_accepted_tokens << " of "
            << spec.stats.speculative_proposed_tokens << " proposed tokens accepted, " << spec.stats.steps
            << " steps (" << plain.stats.steps << " without speculation)\n";
}

// The golden models share one 512-token vocabulary, so any of them can draft for any other.
TEST_P(SpeculationOnGoldenModels, GreedyTokensAreTheSameWithADraftModel) {
  std::ifstream file(kModelDir + GetParam() + "/golden.json");
  ASSERT_TRUE(file.good());
  const auto golden = nlohmann::json::parse(file);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& prompt : golden["prompts"]) prompts.push_back(prompt["ids"].get<std::vector<int32_t>>());
  const Outcome plain = generate(GetParam(), prompts, 0);
  if (GetParam().ends_with("-tok")) GTEST_SKIP() << "a real tokenizer's vocabulary, not the shared one";
  // Itself as the draft: every proposal is what the model picks.
  const Outcome self = generate(GetParam(), prompts, 4, GetParam());
  EXPECT_EQ(self.tokens, plain.tokens);
  EXPECT_GT(self.stats.speculative_proposed_tokens, 0);
  EXPECT_EQ(self.stats.speculative_accepted_tokens, self.stats.speculative_proposed_tokens);
  // Another architecture as the draft: mostly wrong proposals, the same tokens.
  const Outcome other = generate(GetParam(), prompts, 3, GetParam() == "llama3" ? "qwen3" : "llama3");
  EXPECT_EQ(other.tokens, plain.tokens);
  EXPECT_GT(other.stats.speculative_proposed_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, SpeculationOnGoldenModels,
                         ::testing::Values("llama3", "llama2-tok", "qwen3-tok", "mistral", "qwen2", "qwen3",
                                           "gemma", "mixtral", "qwen2_moe", "qwen3_moe", "gpt_oss",
                                           "llama4_text", "deepseek_v3", "gemma2", "gemma3", "phi3", "phi",
                                           "gpt2", "starcoder2", "granite", "olmo2", "smollm3", "cohere"),
                         param_name);

}  // namespace
}  // namespace tgi::engine
