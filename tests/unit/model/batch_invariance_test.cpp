// Determinism contract of DESIGN.md: a sequence's outputs do not depend on what else is in the
// batch, on how its prompt is chunked, or on where KV block boundaries fall.
#include <algorithm>
#include <cctype>
#include <map>

#include <gtest/gtest.h>

#include "golden.h"

namespace tgi::model::testing {
namespace {

constexpr int kNewTokens = 8;

std::unique_ptr<CausalLm> load_model(const std::string& name) {
  LoadOptions options;
  options.num_threads = 2;
  auto model = load_causal_lm(kModelsDir / name, options);
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? std::move(*model) : nullptr;
}

// A tiny scheduler: sequences A and B prefill together in step 0 and then decode; C prefills in
// chunks of 5 while they decode, then decodes alongside them. Block ids are handed out
// interleaved from one shared pool so no sequence owns a contiguous range.
struct Sequence {
  std::vector<int32_t> tokens;  // prompt, then generated
  int32_t prompt_len = 0;
  int32_t done = 0;  // tokens in the KV cache
  std::vector<int32_t> blocks;
  std::vector<int32_t> generated;
  std::vector<float> last_logits;  // logits of the first generated token
  int32_t start_step = 0;
};

std::map<int, std::vector<int32_t>> run_mixed(CausalLm& model, const std::vector<std::vector<int32_t>>& prompts,
                                              int32_t block_size, std::map<int, std::vector<float>>* first_logits) {
  const int64_t V = model.vocab_size();
  auto cache = model.allocate_kv_cache(64, block_size);
  int32_t next_block = 63;
  std::vector<Sequence> seqs(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    seqs[i].tokens = prompts[i];
    seqs[i].prompt_len = static_cast<int32_t>(prompts[i].size());
    seqs[i].start_step = i == 2 ? 1 : 0;
  }
  for (int step = 0; step < 40; ++step) {
    std::vector<int32_t> tokens, positions;
    std::vector<SequenceInBatch> batch_seqs;
    std::vector<int> who;
    for (size_t i = 0; i < seqs.size(); ++i) {
      Sequence& s = seqs[i];
      if (step < s.start_step || static_cast<int>(s.generated.size()) >= kNewTokens) continue;
      const bool prefill = s.done < s.prompt_len;
      const int32_t len = prefill ? (i == 2 ? std::min(5, s.prompt_len - s.done) : s.prompt_len - s.done) : 1;
      while (static_cast<int32_t>(s.blocks.size()) * block_size < s.done + len) s.blocks.push_back(next_block--);
      SequenceInBatch sib;
      sib.query_start = static_cast<int32_t>(tokens.size());
      sib.query_len = len;
      sib.context_len = s.done;
      sib.block_table = s.blocks;
      sib.logits = (s.done + len >= s.prompt_len) ? LogitsWanted::kLast : LogitsWanted::kNone;
      for (int32_t j = 0; j < len; ++j) {
        tokens.push_back(s.tokens[s.done + j]);
        positions.push_back(s.done + j);
      }
      batch_seqs.push_back(sib);
      who.push_back(static_cast<int>(i));
    }
    if (batch_seqs.empty()) break;
    Batch batch{tokens, positions, batch_seqs};
    std::vector<float> logits(static_cast<size_t>(batch.num_logit_rows()) * V);
    auto r = model.forward(batch, *cache, logits);
    EXPECT_TRUE(r.ok()) << r.error().message;
    int row = 0;
    for (size_t b = 0; b < batch_seqs.size(); ++b) {
      Sequence& s = seqs[who[b]];
      s.done += batch_seqs[b].query_len;
      if (batch_seqs[b].logits == LogitsWanted::kNone) continue;
      const float* l = &logits[static_cast<size_t>(row++) * V];
      const auto next = static_cast<int32_t>(std::max_element(l, l + V) - l);
      if (s.generated.empty() && first_logits) (*first_logits)[who[b]] = std::vector<float>(l, l + V);
      s.generated.push_back(next);
      s.tokens.push_back(next);
    }
  }
  std::map<int, std::vector<int32_t>> out;
  for (size_t i = 0; i < seqs.size(); ++i) out[static_cast<int>(i)] = seqs[i].generated;
  return out;
}

class BatchInvariance : public ::testing::TestWithParam<std::string> {};

// Test names: the parameter with every character gtest does not allow in a name made '_'.
std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

TEST_P(BatchInvariance, MixedRaggedBatchGivesTheSameTokensAsEachPromptAlone) {
  auto model = load_model(GetParam());
  ASSERT_NE(model, nullptr);
  const Golden golden = load_golden(GetParam());
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& p : golden.prompts) prompts.push_back(p.ids);

  std::map<int, std::vector<float>> mixed_logits;
  const auto mixed = run_mixed(*model, prompts, 4, &mixed_logits);
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE("prompt " + std::to_string(i));
    const PromptRun alone = run_prompt(*model, prompts[i], kNewTokens, 16);
    EXPECT_EQ(mixed.at(static_cast<int>(i)), alone.generated);
    // Not just the same argmax: the same numbers, bit for bit.
    EXPECT_EQ(mixed_logits.at(static_cast<int>(i)), alone.prompt_logits.back());
  }
}

TEST_P(BatchInvariance, BlockSizeAndPrefillChunkingChangeNothing) {
  auto model = load_model(GetParam());
  ASSERT_NE(model, nullptr);
  const Golden golden = load_golden(GetParam());
  const auto& ids = golden.prompts[2].ids;  // the longest prompt crosses the sliding window
  const PromptRun reference = run_prompt(*model, ids, kNewTokens, 16, 0);
  for (int32_t block_size : {1, 3, 7, 64}) {
    for (int32_t chunk : {0, 1, 4}) {
      SCOPED_TRACE("block " + std::to_string(block_size) + " chunk " + std::to_string(chunk));
      const PromptRun run = run_prompt(*model, ids, kNewTokens, block_size, chunk);
      EXPECT_EQ(run.generated, reference.generated);
      EXPECT_EQ(run.prompt_logits.back(), reference.prompt_logits.back());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, BatchInvariance,
                         ::testing::Values("llama3", "gemma2", "mistral", "phi", "qwen2_moe", "gpt_oss",
                                           "deepseek_v3"),
                         param_name);

}  // namespace
}  // namespace tgi::model::testing
