// Speculative decoding through the engine over the strict fake model (fake_causal_lm.h) in its
// copying mode, where n-gram proposals are often but not always right: every token must equal
// what the engine produces without speculation, whatever was proposed, accepted or rolled back.
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "event_collector.h"
#include "fake_causal_lm.h"

namespace tgi::engine {
namespace {

using testing::EventCollector;
using testing::FakeCausalLm;
using testing::FakeModelStats;
using testing::reference_greedy;

constexpr int32_t kVocab = 61;
constexpr int32_t kPeriod = 7;

struct Outcome {
  std::vector<std::vector<int32_t>> tokens;  // per request
  std::vector<TokenEvent> ends;
  EngineStats stats;
  std::shared_ptr<FakeModelStats> model_stats;
};

EngineConfig config(int32_t speculate, int32_t total_tokens = 4096, bool prefix_caching = true) {
  EngineConfig c;
  c.max_batch_total_tokens = total_tokens;
  c.block_size = 4;
  c.max_batch_prefill_tokens = 64;
  c.prefix_caching = prefix_caching;
  c.speculation.max_tokens = speculate;
  c.speculation.max_batch = 64;
  c.speculation.cost_aware = false;  // every proposal verified: deterministic
  return c;
}

// All requests submitted at once (they share batches), each run to its end. `draft_period`:
// speculate with a fake draft model copying with that period (0: prompt lookup).
Outcome run(EngineConfig c, const std::vector<GenerationRequest>& requests, int32_t draft_period = 0,
            std::shared_ptr<FakeModelStats> draft_stats = nullptr) {
  Outcome out;
  out.model_stats = std::make_shared<FakeModelStats>();
  std::unique_ptr<model::CausalLm> draft;
  if (draft_period > 0) draft = std::make_unique<FakeCausalLm>(kVocab, draft_stats, draft_period);
  auto model = std::make_unique<FakeCausalLm>(kVocab, out.model_stats, kPeriod);
  FakeCausalLm* target = model.get();
  auto engine = Engine::create(std::move(model), nullptr, c, std::move(draft));
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return out;
  // The fake forward takes microseconds: a request could finish before the next one is submitted
  // (a preempted test thread on a busy machine), and the requests would never share a batch. Hold
  // the first forward until all of them are queued.
  target->hold_forwards = true;
  std::vector<std::unique_ptr<EventCollector>> events;
  for (const auto& r : requests) {
    events.push_back(std::make_unique<EventCollector>());
    EXPECT_TRUE((*engine)->submit(r, events.back()->sink()).ok());
  }
  target->hold_forwards = false;
  for (auto& e : events) {
    EXPECT_TRUE(e->wait());
    out.tokens.push_back(e->token_ids());
    const TokenEvent* last = e->last();
    out.ends.push_back(last ? *last : TokenEvent{});
  }
  out.stats = (*engine)->stats();
  return out;
}

std::vector<GenerationRequest> greedy_requests(int count, int32_t max_new_tokens, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < count; ++i) {
    GenerationRequest r;
    r.input_ids.resize(5 + rng() % 20);
    for (auto& t : r.input_ids) t = static_cast<int32_t>(rng() % kVocab);
    r.stopping.max_new_tokens = max_new_tokens;
    r.stopping.ignore_eos = true;
    requests.push_back(std::move(r));
  }
  return requests;
}

TEST(SpeculativeDecoding, GreedyTokensEqualTheReferenceAndProposalsAreMostlyKept) {
  const auto requests = greedy_requests(6, 40);
  const Outcome spec = run(config(4), requests);
  ASSERT_EQ(spec.tokens.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(spec.tokens[i], reference_greedy(requests[i].input_ids, 40, kVocab, kPeriod));
    EXPECT_EQ(spec.ends[i].generated_tokens, 40);
  }
  // Both outcomes happened: proposals kept (fewer forwards than tokens) and proposals rejected.
  EXPECT_GT(spec.stats.speculative_accepted_tokens, 0);
  EXPECT_LT(spec.stats.speculative_accepted_tokens, spec.stats.speculative_proposed_tokens);
  const Outcome plain = run(config(0), requests);
  EXPECT_EQ(plain.tokens, spec.tokens);
  EXPECT_EQ(plain.stats.speculative_proposed_tokens, 0);
  EXPECT_LT(spec.stats.steps, plain.stats.steps);
  int64_t speculated = 0;
  for (const auto& end : spec.ends) speculated += end.speculated_tokens;
  EXPECT_EQ(speculated, spec.stats.speculative_accepted_tokens);
}

TEST(SpeculativeDecoding, SampledTokensAreThoseOfTheSameSeedWithoutSpeculation) {
  // One draw per token from the sequence's own generator: the same seed gives the same tokens,
  // so the distribution is exactly the target's (a biased acceptance rule changes them).
  std::vector<GenerationRequest> requests = greedy_requests(8, 30, 7);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].sampling.do_sample = true;
    requests[i].sampling.temperature = 0.7f;
    requests[i].sampling.top_k = i % 2 ? 10 : 0;
    requests[i].sampling.repetition_penalty = i % 3 == 0 ? 1.2f : 1.0f;
    requests[i].sampling.seed = 1000 + i;
    requests[i].top_n_tokens = 2;
  }
  const Outcome spec = run(config(3), requests);
  const Outcome plain = run(config(0), requests);
  EXPECT_EQ(spec.tokens, plain.tokens);
  EXPECT_GT(spec.stats.speculative_accepted_tokens, 0);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_FLOAT_EQ(spec.ends[i].mean_logprob, plain.ends[i].mean_logprob);
}

TEST(SpeculativeDecoding, EndOfSequenceInsideAnAcceptedRunEndsThereAndNothingFollows) {
  auto requests = greedy_requests(4, 60, 3);
  for (auto& r : requests) r.stopping.ignore_eos = false;
  EngineConfig c = config(4);
  const Outcome probe = run(config(0), requests);
  // An end token that the copying model repeats: the third distinct generated token of request 0.
  c.eos_token_ids = {probe.tokens[0][10]};
  EngineConfig plain_config = config(0);
  plain_config.eos_token_ids = c.eos_token_ids;
  const Outcome spec = run(c, requests);
  const Outcome plain = run(plain_config, requests);
  EXPECT_EQ(spec.tokens, plain.tokens);
  ASSERT_FALSE(spec.tokens[0].empty());
  EXPECT_EQ(spec.tokens[0].back(), c.eos_token_ids[0]);
  EXPECT_EQ(spec.ends[0].finish_reason, FinishReason::kEosToken);
}

TEST(SpeculativeDecoding, MaxNewTokensIsExactWhateverTheProposalLength) {
  for (int32_t max_new : {1, 2, 3, 5, 9}) {
    SCOPED_TRACE(max_new);
    const auto requests = greedy_requests(3, max_new, 11);
    const Outcome spec = run(config(8), requests);
    for (size_t i = 0; i < requests.size(); ++i)
      EXPECT_EQ(spec.tokens[i], reference_greedy(requests[i].input_ids, max_new, kVocab, kPeriod));
  }
}

TEST(SpeculativeDecoding, PreemptionUnderATightKvBudgetChangesNoToken) {
  const auto requests = greedy_requests(6, 48, 5);
  const Outcome spec = run(config(4, /*total_tokens=*/160), requests);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(spec.tokens[i], reference_greedy(requests[i].input_ids, 48, kVocab, kPeriod)) << i;
  EXPECT_GT(spec.stats.speculative_accepted_tokens, 0);
}

TEST(SpeculativeDecoding, OnlyVerifiedTokensReachThePrefixCache) {
  // A second request whose prompt is the first one's prompt and output reuses its cached blocks;
  // the strict fake model reads every slot, so a block holding a rejected proposal would change
  // its tokens.
  auto first = greedy_requests(1, 37, 9);
  EngineConfig c = config(4);
  auto model_stats = std::make_shared<FakeModelStats>();
  auto engine = Engine::create(std::make_unique<FakeCausalLm>(kVocab, model_stats, kPeriod), nullptr, c);
  ASSERT_TRUE(engine.ok());
  EventCollector a;
  ASSERT_TRUE((*engine)->submit(first[0], a.sink()).ok());
  ASSERT_TRUE(a.wait());
  GenerationRequest second = first[0];
  const auto generated = a.token_ids();
  second.input_ids.insert(second.input_ids.end(), generated.begin(), generated.end());
  second.stopping.max_new_tokens = 20;
  EventCollector b;
  ASSERT_TRUE((*engine)->submit(second, b.sink()).ok());
  ASSERT_TRUE(b.wait());
  EXPECT_EQ(b.token_ids(), reference_greedy(second.input_ids, 20, kVocab, kPeriod));
  ASSERT_NE(b.last(), nullptr);
  EXPECT_GT(b.last()->cached_prompt_tokens, static_cast<int32_t>(first[0].input_ids.size()));
}

TEST(SpeculativeDecoding, OffForLargeBatchesAndWhenNotAsked) {
  EngineConfig c = config(4);
  c.speculation.max_batch = 2;
  const auto requests = greedy_requests(6, 30, 13);
  const Outcome spec = run(c, requests);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(spec.tokens[i], reference_greedy(requests[i].input_ids, 30, kVocab, kPeriod));
  // Six sequences decode together most of the time; only stragglers may speculate.
  const Outcome wide = run(config(4), requests);
  EXPECT_GT(wide.stats.speculative_steps, 0);
  EXPECT_LT(2 * spec.stats.speculative_steps, wide.stats.speculative_steps);
}

// The draft model's K/V live in a cache of their own on the target's block ids; the strict fake
// draft fails its forward on any slot it reads unwritten, so a wrong catch-up shows.
TEST(DraftModelSpeculation, ADraftEqualToTheModelHasEveryProposalKept) {
  const auto requests = greedy_requests(5, 40, 21);
  auto draft_stats = std::make_shared<FakeModelStats>();
  const Outcome spec = run(config(4), requests, kPeriod, draft_stats);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(spec.tokens[i], reference_greedy(requests[i].input_ids, 40, kVocab, kPeriod)) << i;
  EXPECT_GT(spec.stats.speculative_proposed_tokens, 0);
  EXPECT_EQ(spec.stats.speculative_accepted_tokens, spec.stats.speculative_proposed_tokens);
  EXPECT_GT(draft_stats->forwards, 0);
  const Outcome plain = run(config(0), requests);
  EXPECT_LT(spec.stats.steps, plain.stats.steps / 2);
}

TEST(DraftModelSpeculation, ADifferentDraftChangesNoTokenGreedyOrSampled) {
  auto requests = greedy_requests(6, 36, 23);
  for (size_t i = 0; i < requests.size(); i += 2) {
    requests[i].sampling.do_sample = true;
    requests[i].sampling.temperature = 0.8f;
    requests[i].sampling.seed = 50 + i;
  }
  const Outcome spec = run(config(3), requests, /*draft_period=*/3);
  const Outcome plain = run(config(0), requests);
  EXPECT_EQ(spec.tokens, plain.tokens);
  EXPECT_GT(spec.stats.speculative_accepted_tokens, 0);
  EXPECT_LT(spec.stats.speculative_accepted_tokens, spec.stats.speculative_proposed_tokens);
}

TEST(DraftModelSpeculation, PreemptionAndPrefixCacheKeepTheDraftInStep) {
  // Tight KV: sequences are preempted and recomputed (the draft starts over); shared prompt
  // prefixes come from the prefix cache (the draft catches up over blocks it did not write).
  auto requests = greedy_requests(6, 40, 25);
  for (size_t i = 1; i < requests.size(); ++i)
    requests[i].input_ids.insert(requests[i].input_ids.begin(), requests[0].input_ids.begin(),
                                 requests[0].input_ids.end());
  const Outcome spec = run(config(4, /*total_tokens=*/200), requests, kPeriod);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(spec.tokens[i], reference_greedy(requests[i].input_ids, 40, kVocab, kPeriod)) << i;
  EXPECT_GT(spec.stats.preemptions, 0);
  EXPECT_GT(spec.stats.prefix_cache_hit_tokens, 0);
  EXPECT_EQ(spec.stats.speculative_accepted_tokens, spec.stats.speculative_proposed_tokens);
}

TEST(DraftModelSpeculation, ADraftOfAnotherVocabularyIsRefused) {
  auto engine = Engine::create(std::make_unique<FakeCausalLm>(kVocab), nullptr, config(4),
                               std::make_unique<FakeCausalLm>(kVocab + 1));
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.error().message.find("vocabulary"), std::string::npos);
}

TEST(SpeculativeDecoding, NegativeSpeculationIsRefused) {
  EngineConfig c = config(-1);
  auto engine = Engine::create(std::make_unique<FakeCausalLm>(kVocab), nullptr, c);
  EXPECT_FALSE(engine.ok());
}

}  // namespace
}  // namespace tgi::engine
