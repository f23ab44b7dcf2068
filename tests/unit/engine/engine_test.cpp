// The engine end to end over the strict fake model (fake_causal_lm.h): every token must equal
// the reference continuation, whatever the batching, preemption or prefix sharing did.
#include "engine/engine.h"

#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "engine/logits_processors.h"
#include "fake_causal_lm.h"
#include "event_collector.h"

namespace tgi::engine {
namespace {

using testing::EventCollector;
using testing::FakeCausalLm;
using testing::FakeModelStats;
using testing::reference_greedy;

constexpr int32_t kVocab = 97;

struct Harness {
  explicit Harness(EngineConfig config, int32_t vocab = kVocab) {
    auto model = std::make_unique<FakeCausalLm>(vocab, model_stats);
    fake = model.get();
    auto created = Engine::create(std::move(model), nullptr, std::move(config));
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    engine = std::move(created).value();
  }
  std::shared_ptr<FakeModelStats> model_stats = std::make_shared<FakeModelStats>();
  FakeCausalLm* fake = nullptr;
  std::unique_ptr<Engine> engine;
};

EngineConfig small_config(int32_t total_tokens = 4096) {
  EngineConfig c;
  c.max_batch_total_tokens = total_tokens;
  c.block_size = 4;
  c.max_batch_prefill_tokens = 64;
  return c;
}

GenerationRequest greedy_request(std::vector<int32_t> prompt, int32_t max_new_tokens) {
  GenerationRequest r;
  r.input_ids = std::move(prompt);
  r.stopping.max_new_tokens = max_new_tokens;
  return r;
}

std::vector<int32_t> random_prompt(std::mt19937& rng, int32_t len) {
  std::vector<int32_t> p(len);
  for (auto& t : p) t = static_cast<int32_t>(rng() % kVocab);
  return p;
}

TEST(Engine, GreedyTokensMatchTheReferenceAndEndWithLength) {
  Harness h(small_config());
  EventCollector events;
  const std::vector<int32_t> prompt{5, 6, 7, 8, 9, 10, 11};
  ASSERT_TRUE(h.engine->submit(greedy_request(prompt, 12), events.sink()).ok());
  ASSERT_TRUE(events.wait());
  EXPECT_EQ(events.token_ids(), reference_greedy(prompt, 12, kVocab));
  const TokenEvent* end = events.last();
  ASSERT_EQ(end->kind, TokenEvent::Kind::kEnd);
  EXPECT_EQ(end->finish_reason, FinishReason::kLength);
  EXPECT_EQ(end->generated_tokens, 12);
  EXPECT_EQ(end->prompt_tokens, 7);
  EXPECT_FALSE(end->seed.has_value());  // greedy
}

TEST(Engine, TokensDoNotDependOnWhatElseIsInTheBatch) {
  // 17 requests of different lengths, submitted in waves so they join and leave mid-flight.
  EngineConfig config = small_config();
  config.max_batch_prefill_tokens = 40;  // forces chunked prefill of the long prompts
  Harness h(config);
  std::mt19937 rng(11);
  const int n = 17;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<int32_t> max_new;
  std::vector<std::unique_ptr<EventCollector>> events;
  for (int i = 0; i < n; ++i) {
    prompts.push_back(random_prompt(rng, 3 + static_cast<int32_t>(rng() % 60)));
    max_new.push_back(1 + static_cast<int32_t>(rng() % 30));
    events.push_back(std::make_unique<EventCollector>());
  }
  // The first forward waits until three requests are queued, so some steps hold several
  // sequences however fast the engine runs (a fast sampler once let each request finish alone).
  h.fake->hold_forwards = true;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(h.engine->submit(greedy_request(prompts[i], max_new[i]), events[i]->sink()).ok());
    if (i == 2) h.fake->hold_forwards = false;
    if (i % 4 == 3) events[i - 2]->wait_for_tokens(2);
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(events[i]->wait());
    EXPECT_EQ(events[i]->token_ids(), reference_greedy(prompts[i], max_new[i], kVocab)) << "request " << i;
  }
  EXPECT_LE(h.model_stats->max_tokens_in_step, 40);
  EXPECT_GT(h.model_stats->max_sequences_in_step, 1);
}

TEST(Engine, MoreLongGenerationsThanTheCacheHoldsAllCompleteCorrectly) {
  // 96 KV tokens; 10 requests each needing 8 + 40 = 48 at the end: at most two fit at once.
  EngineConfig config = small_config(96);
  config.prefix_caching = false;
  Harness h(config);
  std::mt19937 rng(5);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::unique_ptr<EventCollector>> events;
  // The first forward waits until all ten are queued, so they compete for the cache however fast
  // the engine runs (a fast sampler once let them finish one by one, never preempting).
  h.fake->hold_forwards = true;
  for (int i = 0; i < 10; ++i) {
    prompts.push_back(random_prompt(rng, 8));
    events.push_back(std::make_unique<EventCollector>());
    ASSERT_TRUE(h.engine->submit(greedy_request(prompts[i], 40), events[i]->sink()).ok());
  }
  h.fake->hold_forwards = false;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(events[i]->wait());
    EXPECT_EQ(events[i]->token_ids(), reference_greedy(prompts[i], 40, kVocab)) << "request " << i;
    EXPECT_EQ(events[i]->last()->finish_reason, FinishReason::kLength);
  }
  const EngineStats stats = h.engine->stats();
  EXPECT_GT(stats.preemptions, 0);
  EXPECT_EQ(stats.kv_blocks_used, 0);
  EXPECT_EQ(stats.requests_finished, 10);
}

TEST(Engine, KvExhaustionWithPrefixCachingStillExact) {
  EngineConfig config = small_config(96);
  Harness h(config);
  std::mt19937 rng(6);
  std::vector<int32_t> shared = random_prompt(rng, 8);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::unique_ptr<EventCollector>> events;
  for (int i = 0; i < 8; ++i) {
    auto p = shared;
    p.push_back(i);
    prompts.push_back(p);
    events.push_back(std::make_unique<EventCollector>());
    ASSERT_TRUE(h.engine->submit(greedy_request(p, 30), events[i]->sink()).ok());
  }
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(events[i]->wait());
    EXPECT_EQ(events[i]->token_ids(), reference_greedy(prompts[i], 30, kVocab)) << "request " << i;
  }
}

TEST(Engine, SecondIdenticalPromptReportsItsCachedTokens) {
  Harness h(small_config());
  std::vector<int32_t> prompt(10);
  for (int i = 0; i < 10; ++i) prompt[i] = i + 1;
  EventCollector first, second;
  ASSERT_TRUE(h.engine->submit(greedy_request(prompt, 3), first.sink()).ok());
  ASSERT_TRUE(first.wait());
  EXPECT_EQ(first.last()->cached_prompt_tokens, 0);
  const int64_t tokens_before = h.model_stats->tokens;
  ASSERT_TRUE(h.engine->submit(greedy_request(prompt, 3), second.sink()).ok());
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(second.last()->cached_prompt_tokens, 8);  // two full blocks of 4
  EXPECT_EQ(second.token_ids(), first.token_ids());
  // Computed: the 2-token partial block, then 2 decode steps.
  EXPECT_EQ(h.model_stats->tokens - tokens_before, 2 + 2);
  EXPECT_EQ(h.engine->stats().prefix_cache_hit_tokens, 8);
}

TEST(Engine, SameSeedSameTokensAloneOrInABatch) {
  auto sampled = [](int others) {
    Harness h(small_config());
    std::mt19937 rng(3);
    std::vector<std::unique_ptr<EventCollector>> noise;
    for (int i = 0; i < others; ++i) {
      noise.push_back(std::make_unique<EventCollector>());
      GenerationRequest r = greedy_request(random_prompt(rng, 5 + i), 10 + i);
      r.sampling.do_sample = true;
      EXPECT_TRUE(h.engine->submit(r, noise.back()->sink()).ok());
    }
    GenerationRequest r = greedy_request({1, 2, 3, 4, 5}, 20);
    r.sampling.do_sample = true;
    r.sampling.temperature = 1.5f;
    r.sampling.seed = 1234;
    EventCollector events;
    EXPECT_TRUE(h.engine->submit(r, events.sink()).ok());
    EXPECT_TRUE(events.wait());
    for (auto& n : noise) n->wait();
    EXPECT_EQ(events.last()->seed, std::optional<uint64_t>(1234));
    return events.token_ids();
  };
  const auto alone = sampled(0);
  EXPECT_EQ(alone.size(), 20u);
  EXPECT_EQ(sampled(6), alone);
  EXPECT_NE(alone, reference_greedy({1, 2, 3, 4, 5}, 20, kVocab));  // it really sampled
}

TEST(Engine, EosEndsTheGenerationUnlessIgnored) {
  const std::vector<int32_t> prompt{1, 2, 3};
  const auto expected = reference_greedy(prompt, 10, kVocab);
  EngineConfig config = small_config();
  config.eos_token_ids = {expected[3]};
  Harness h(config);
  EventCollector events, ignoring;
  ASSERT_TRUE(h.engine->submit(greedy_request(prompt, 10), events.sink()).ok());
  ASSERT_TRUE(events.wait());
  const auto ids = events.token_ids();
  const size_t first_eos = std::find(expected.begin(), expected.end(), expected[3]) - expected.begin();
  EXPECT_EQ(ids.size(), first_eos + 1);
  EXPECT_EQ(events.last()->finish_reason, FinishReason::kEosToken);
  GenerationRequest r = greedy_request(prompt, 10);
  r.stopping.ignore_eos = true;
  ASSERT_TRUE(h.engine->submit(r, ignoring.sink()).ok());
  ASSERT_TRUE(ignoring.wait());
  EXPECT_EQ(ignoring.token_ids(), expected);
}

TEST(Engine, PromptLogprobsComeFromTheRawLogits) {
  Harness h(small_config());
  const std::vector<int32_t> prompt{4, 8, 15, 16, 23, 42};
  GenerationRequest r = greedy_request(prompt, 2);
  r.decoder_input_details = true;
  EventCollector events;
  ASSERT_TRUE(h.engine->submit(r, events.sink()).ok());
  ASSERT_TRUE(events.wait());
  const auto all = events.events();
  ASSERT_EQ(all.front().kind, TokenEvent::Kind::kPrompt);
  const auto& p = all.front().prompt;
  ASSERT_EQ(p.size(), prompt.size());
  EXPECT_TRUE(std::isnan(p[0].logprob));
  for (size_t i = 1; i < prompt.size(); ++i) {
    std::vector<int32_t> context(prompt.begin(), prompt.begin() + i);
    const auto row = testing::fake_logits(context, kVocab);
    EXPECT_NEAR(p[i].logprob, row[prompt[i]] - log_sum_exp(row), 1e-5) << i;
    EXPECT_EQ(p[i].id, prompt[i]);
  }
}

TEST(Engine, TopNTokensAreReportedPerToken) {
  Harness h(small_config());
  GenerationRequest r = greedy_request({3, 1, 4}, 3);
  r.top_n_tokens = 3;
  EventCollector events;
  ASSERT_TRUE(h.engine->submit(r, events.sink()).ok());
  ASSERT_TRUE(events.wait());
  for (const auto& e : events.events()) {
    if (e.kind != TokenEvent::Kind::kToken) continue;
    ASSERT_GE(e.top_tokens.size(), 3u);
    EXPECT_EQ(e.top_tokens[0].id, e.token.id);  // greedy: the best is the chosen one
    EXPECT_FLOAT_EQ(e.top_tokens[0].logprob, e.token.logprob);
  }
}

TEST(Engine, BestOfSendsEveryCandidateAndTheWinnerLast) {
  Harness h(small_config());
  GenerationRequest r = greedy_request({9, 9, 9}, 6);
  r.sampling.do_sample = true;
  r.best_of = 3;
  EventCollector events;
  ASSERT_TRUE(h.engine->submit(r, events.sink()).ok());
  ASSERT_TRUE(events.wait());
  std::vector<const TokenEvent*> ends;
  const auto all = events.events();
  for (const auto& e : all)
    if (e.kind == TokenEvent::Kind::kEnd) ends.push_back(&e);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_TRUE(ends.back()->best_of_winner);
  EXPECT_FALSE(ends[0]->best_of_winner);
  for (const auto* e : ends) EXPECT_LE(e->mean_logprob, ends.back()->mean_logprob);
  EXPECT_EQ(&all.back(), ends.back());
}

TEST(Engine, CancelledRequestLeavesAndFreesItsBlocks) {
  Harness h(small_config());
  EventCollector events;
  auto sink = events.sink();
  // The client "goes away" after its third token: the sink (engine thread) sets the flag, so the
  // very next step must drop the request.
  auto handle_slot = std::make_shared<std::atomic<RequestHandle*>>(nullptr);
  auto tokens_seen = std::make_shared<int>(0);
  auto cancelling_sink = [sink, handle_slot, tokens_seen](TokenEvent&& e) {
    if (e.kind == TokenEvent::Kind::kToken && ++*tokens_seen >= 3)
      if (RequestHandle* handle = handle_slot->load()) handle->cancel();
    sink(std::move(e));
  };
  auto handle = h.engine->submit(greedy_request({1, 2, 3}, 4000), cancelling_sink);
  ASSERT_TRUE(handle.ok());
  handle_slot->store(handle->get());
  ASSERT_TRUE(events.wait());
  EXPECT_EQ(events.last()->kind, TokenEvent::Kind::kError);
  EXPECT_LT(events.token_ids().size(), 4000u);
  const EngineStats stats = h.engine->stats();
  EXPECT_EQ(stats.kv_blocks_used, 0);
  EXPECT_EQ(stats.in_flight, 0);
  EXPECT_EQ(stats.requests_cancelled, 1);
  // Nothing keeps computing for the cancelled request: the forward count stays put.
  const int64_t forwards = h.model_stats->forwards;
  EventCollector next;
  ASSERT_TRUE(h.engine->submit(greedy_request({1}, 1), next.sink()).ok());
  ASSERT_TRUE(next.wait());
  EXPECT_EQ(h.model_stats->forwards, forwards + 1);
}

TEST(Engine, FailingForwardFailsItsBatchButNotTheEngine) {
  Harness h(small_config());
  h.fake->fail_next_forward = true;
  EventCollector failed, ok;
  ASSERT_TRUE(h.engine->submit(greedy_request({1, 2}, 4), failed.sink()).ok());
  ASSERT_TRUE(failed.wait());
  EXPECT_EQ(failed.last()->kind, TokenEvent::Kind::kError);
  ASSERT_TRUE(failed.last()->error.has_value());
  EXPECT_EQ(failed.last()->error->kind, ErrorKind::kGeneration);
  ASSERT_TRUE(h.engine->submit(greedy_request({1, 2}, 4), ok.sink()).ok());
  ASSERT_TRUE(ok.wait());
  EXPECT_EQ(ok.token_ids(), reference_greedy({1, 2}, 4, kVocab));
  EXPECT_EQ(h.engine->stats().forward_failures, 1);
}

TEST(Engine, RejectsWhatCanNeverRunAndOverload) {
  EngineConfig config = small_config(32);
  config.max_concurrent_requests = 1;
  Harness h(config);
  EventCollector a, b;
  auto too_long = h.engine->submit(greedy_request(std::vector<int32_t>(30, 1), 3), a.sink());
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().kind, ErrorKind::kValidation);
  auto bad_id = h.engine->submit(greedy_request({kVocab}, 1), a.sink());
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.error().kind, ErrorKind::kValidation);
  ASSERT_FALSE(h.engine->submit(greedy_request({}, 1), a.sink()).ok());
  // a stays in flight until released (else a slow test thread could see it finish first).
  h.fake->hold_forwards = true;
  struct Release {
    FakeCausalLm* fake;
    ~Release() { fake->hold_forwards = false; }
  } release{h.fake};
  ASSERT_TRUE(h.engine->submit(greedy_request({1}, 20), a.sink()).ok());
  auto overloaded = h.engine->submit(greedy_request({1}, 1), b.sink());
  ASSERT_FALSE(overloaded.ok());
  EXPECT_EQ(overloaded.error().kind, ErrorKind::kOverloaded);
  h.fake->hold_forwards = false;
  ASSERT_TRUE(a.wait());
  EXPECT_EQ(h.engine->max_total_tokens_budget(), 32);
}

TEST(Engine, ShutdownEndsEveryRequestWithAnError) {
  Harness h(small_config());
  EventCollector events;
  auto sink = events.sink();
  auto slow_sink = [sink](TokenEvent&& e) {  // keeps the request running well past shutdown()
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    sink(std::move(e));
  };
  ASSERT_TRUE(h.engine->submit(greedy_request({1, 2, 3}, 4000), slow_sink).ok());
  events.wait_for_tokens(1);
  h.engine->shutdown();
  ASSERT_TRUE(events.wait());
  EXPECT_EQ(events.last()->kind, TokenEvent::Kind::kError);
  EXPECT_FALSE(h.engine->submit(greedy_request({1}, 1), events.sink()).ok());
}

TEST(Engine, ThrowingSinkCancelsOnlyItsRequest) {
  Harness h(small_config());
  EventCollector ok;
  ASSERT_TRUE(h.engine->submit(greedy_request({1, 2}, 50), [](TokenEvent&&) { throw std::runtime_error("gone"); }).ok());
  ASSERT_TRUE(h.engine->submit(greedy_request({3, 4}, 5), ok.sink()).ok());
  ASSERT_TRUE(ok.wait());
  EXPECT_EQ(ok.token_ids(), reference_greedy({3, 4}, 5, kVocab));
}

}  // namespace
}  // namespace tgi::engine
