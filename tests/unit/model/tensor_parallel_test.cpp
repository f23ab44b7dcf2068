// Tensor parallelism against the unsharded model: each golden checkpoint split over two ranks (two
// threads of this process, each with its own model slice and CPU backend, summing partial outputs
// through a dist::ThreadGroup) gives both ranks the same logits, equal to the whole model's up to
// the changed order of one sum per block, and within the goldens' bounds of transformers.
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dist/communicator.h"
#include "golden.h"
#include "model/causal_lm.h"
#include "model/sharding.h"

namespace tgi::model::testing {
namespace {

struct RankRun {
  Result<std::unique_ptr<CausalLm>> model = Error::make(ErrorKind::kInternal, "not loaded");
  std::vector<PromptRun> runs;
};

// Loads every rank's slice and runs every prompt of the golden on all ranks at once (each forward
// needs all ranks: they meet in the sums).
std::vector<RankRun> run_sharded(const std::string& name, int world_size, const Golden& golden) {
  std::vector<RankRun> ranks(static_cast<size_t>(world_size));
  dist::ThreadGroup group(world_size);
  std::vector<std::thread> threads;
  for (int r = 0; r < world_size; ++r) {
    threads.emplace_back([&, r, communicator = std::shared_ptr<dist::Communicator>(group.member(r))] {
      LoadOptions options;
      options.num_threads = 1;
      options.shard_rank = r;
      options.shard_world_size = world_size;
      options.communicator = communicator;
      RankRun& rank = ranks[static_cast<size_t>(r)];
      rank.model = load_causal_lm(kModelsDir / name, options);
      if (!rank.model.ok()) return;  // every rank fails alike: none waits in a sum
      for (const GoldenPrompt& g : golden.prompts)
        rank.runs.push_back(run_prompt(**rank.model, g.ids, static_cast<int>(g.greedy_ids.size())));
    });
  }
  for (std::thread& t : threads) t.join();
  return ranks;
}

class TensorParallel : public ::testing::TestWithParam<const char*> {};

TEST_P(TensorParallel, TwoRanksMatchTheWholeModel) {
  const std::string name = GetParam();
  const Golden golden = load_golden(name);
  LoadOptions whole_options;
  whole_options.num_threads = 1;
  auto whole = load_causal_lm(kModelsDir / name, whole_options);
  ASSERT_TRUE(whole.ok()) << whole.error().message;

  const std::vector<RankRun> ranks = run_sharded(name, 2, golden);
  for (const RankRun& rank : ranks) ASSERT_TRUE(rank.model.ok()) << rank.model.error().message;
  EXPECT_EQ((*ranks[0].model)->config().num_attention_heads * 2, (*whole)->config().num_attention_heads);
  EXPECT_LT((*ranks[0].model)->kv_bytes_per_token(), (*whole)->kv_bytes_per_token())
      << "each rank caches its heads";

  for (size_t p = 0; p < golden.prompts.size(); ++p) {
    SCOPED_TRACE("prompt " + std::to_string(p));
    const GoldenPrompt& g = golden.prompts[p];
    const PromptRun reference = run_prompt(**whole, g.ids, static_cast<int>(g.greedy_ids.size()));
    const PromptRun& first = ranks[0].runs[p];
    const PromptRun& second = ranks[1].runs[p];
    EXPECT_EQ(first.prompt_logits, second.prompt_logits) << "every rank holds the same sums";
    EXPECT_EQ(first.generated, second.generated);
    ASSERT_EQ(first.prompt_logits.size(), reference.prompt_logits.size());
    double worst = 0, scale = 0;
    for (size_t row = 0; row < reference.prompt_logits.size(); ++row)
      for (size_t i = 0; i < reference.prompt_logits[row].size(); ++i) {
        worst =
            std::max(worst, double{std::abs(first.prompt_logits[row][i] - reference.prompt_logits[row][i])});
        scale = std::max(scale, double{std::abs(reference.prompt_logits[row][i])});
      }
    EXPECT_LE(worst, 1e-4 * std::max(scale, 1.0))
        << "logits differ from the whole model beyond f32 reordering";
    const Deviation d = compare(g, first, (*whole)->vocab_size(), /*margin_floor=*/1e-3);
    EXPECT_FALSE(d.greedy_diverged_with_margin) << "greedy diverged from transformers";
    EXPECT_LE(d.logprob, 1e-3) << "logprobs stray from transformers";
  }
}

// Dense families with every block wiring and feature the split must carry: GQA (llama3, mistral),
// q/k/v biases (qwen2), per-head q/k norm (qwen3, gemma3), sandwich norms and softcaps (gemma2),
// parallel blocks with biases and partial rotary (phi, cohere), multipliers (granite), ungated MLPs
// with biases (starcoder2), learned positions (gpt2), fused projections split at load (phi3), NoPE
// layers (smollm3).
INSTANTIATE_TEST_SUITE_P(Dense, TensorParallel,
                         ::testing::Values("llama3", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi",
                                           "cohere", "granite", "starcoder2", "gpt2", "phi3", "smollm3"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(TensorParallelRefusals, WhatCannotBeSplitYetSaysWhy) {
  for (const char* name : {"qwen3_moe", "deepseek_v3", "olmo2"}) {
    SCOPED_TRACE(name);
    auto config = load_model_config(kModelsDir / name);
    ASSERT_TRUE(config.ok());
    const auto local = shard_config(*config, {0, 2});
    ASSERT_FALSE(local.ok());
    EXPECT_EQ(local.error().kind, ErrorKind::kUnsupported);
    EXPECT_NE(local.error().message.find("tensor parallelism"), std::string::npos);
  }
  auto llama = load_model_config(kModelsDir / "llama3");
  ASSERT_TRUE(llama.ok());
  EXPECT_EQ(shard_config(*llama, {0, 3}).error().kind, ErrorKind::kInvalidArgument)
      << "3 does not divide 8 heads";
  EXPECT_EQ(shard_config(*llama, {2, 2}).error().kind, ErrorKind::kInvalidArgument) << "no rank 2 of 2";
  LoadOptions no_communicator;
  no_communicator.shard_world_size = 2;
  auto refused = load_causal_lm(kModelsDir / "llama3", no_communicator);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace tgi::model::testing
