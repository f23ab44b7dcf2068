// The engine over real tiny checkpoints (tests/data/models, random weights): greedy tokens match
// the float64 reference goldens, and do not depend on batching, chunking or preemption.
#include <cctype>
#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "event_collector.h"
#include "model/causal_lm.h"

namespace tgi::engine {
namespace {

using testing::EventCollector;

const std::string kModelDir = std::string(TGI_TEST_DATA_DIR) + "/models/";

std::unique_ptr<Engine> start_engine(const std::string& name, EngineConfig config) {
  model::LoadOptions options;
  options.num_threads = 1;  // tiny models: threads cost more than they save
  auto model = model::load_causal_lm(kModelDir + name, options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  if (!model.ok()) return nullptr;
  auto engine = Engine::create(std::move(*model), nullptr, std::move(config));
  EXPECT_TRUE(engine.ok()) << (engine.ok() ? "" : engine.error().message);
  return engine.ok() ? std::move(*engine) : nullptr;
}

EngineConfig config_with(int32_t total_tokens, int32_t prefill_tokens, bool prefix_caching = true) {
  EngineConfig c;
  c.max_batch_total_tokens = total_tokens;
  c.max_batch_prefill_tokens = prefill_tokens;
  c.block_size = 4;
  c.prefix_caching = prefix_caching;
  return c;
}

GenerationRequest greedy(std::vector<int32_t> prompt, int32_t max_new_tokens) {
  GenerationRequest r;
  r.input_ids = std::move(prompt);
  r.stopping.max_new_tokens = max_new_tokens;
  r.stopping.ignore_eos = true;
  return r;
}

// Each request on its own: submitted only once the previous one has finished.
std::vector<std::vector<int32_t>> run_one_at_a_time(const std::string& model,
                                                    const std::vector<GenerationRequest>& requests) {
  std::vector<std::vector<int32_t>> out;
  auto engine = start_engine(model, config_with(4096, 512, /*prefix_caching=*/false));
  if (!engine) return out;
  for (const auto& request : requests) {
    EventCollector events;
    EXPECT_TRUE(engine->submit(request, events.sink()).ok());
    EXPECT_TRUE(events.wait());
    out.push_back(events.token_ids());
  }
  return out;
}

class RealModel : public ::testing::TestWithParam<std::string> {};

// Test names: the parameter with every character gtest does not allow in a name made '_'.
std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

TEST_P(RealModel, GreedyTokensAndPromptLogprobsMatchTheGoldens) {
  std::ifstream file(kModelDir + GetParam() + "/golden.json");
  ASSERT_TRUE(file.good());
  const auto golden = nlohmann::json::parse(file);
  auto engine = start_engine(GetParam(), config_with(4096, 512));
  ASSERT_TRUE(engine);
  for (const auto& prompt : golden["prompts"]) {
    const auto ids = prompt["ids"].get<std::vector<int32_t>>();
    const auto expected = prompt["greedy_ids"].get<std::vector<int32_t>>();
    const auto margins = prompt["greedy_margins"].get<std::vector<double>>();
    GenerationRequest r = greedy(ids, static_cast<int32_t>(expected.size()));
    r.decoder_input_details = true;
    EventCollector events;
    ASSERT_TRUE(engine->submit(r, events.sink()).ok());
    ASSERT_TRUE(events.wait());
    const auto got = events.token_ids();
    ASSERT_EQ(got.size(), expected.size());
    // Past a near-tie (float32 vs the float64 reference) the continuations may rightly differ.
    for (size_t i = 0; i < expected.size() && margins[i] > 1e-3; ++i)
      ASSERT_EQ(got[i], expected[i]) << "prompt " << prompt["index"] << " token " << i;
    const auto all = events.events();
    ASSERT_EQ(all.front().kind, TokenEvent::Kind::kPrompt);
    const auto& prefill = all.front().prompt;
    ASSERT_EQ(prefill.size(), ids.size());
    for (size_t i = 1; i < ids.size(); ++i)
      EXPECT_NEAR(prefill[i].logprob, prompt["prompt_logprobs"][i].get<double>(), 1e-3) << i;
  }
}

TEST_P(RealModel, GreedyTokensAreTheSameAloneAndAmongSixteenOthers) {
  std::mt19937 rng(17);
  const int n = 17;
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> prompt(2 + rng() % 70);
    for (auto& t : prompt) t = static_cast<int32_t>(3 + rng() % 500);
    requests.push_back(greedy(prompt, 4 + static_cast<int32_t>(rng() % 24)));
  }
  const auto alone = run_one_at_a_time(GetParam(), requests);
  ASSERT_EQ(alone.size(), requests.size());

  // Together: a small prefill budget chunks the long prompts; waves make requests join and leave.
  auto engine = start_engine(GetParam(), config_with(4096, 24));
  ASSERT_TRUE(engine);
  std::vector<std::unique_ptr<EventCollector>> events;
  for (int i = 0; i < n; ++i) {
    events.push_back(std::make_unique<EventCollector>());
    ASSERT_TRUE(engine->submit(requests[i], events[i]->sink()).ok());
    if (i % 5 == 4) events[i - 3]->wait_for_tokens(3);
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(events[i]->wait());
    EXPECT_EQ(events[i]->token_ids(), alone[i]) << "request " << i;
  }
}

TEST_P(RealModel, KvExhaustionPreemptsAndStillProducesTheSameTokens) {
  std::mt19937 rng(23);
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 8; ++i) {
    std::vector<int32_t> prompt(6 + rng() % 6);
    for (auto& t : prompt) t = static_cast<int32_t>(3 + rng() % 500);
    requests.push_back(greedy(prompt, 40));
  }
  const auto alone = run_one_at_a_time(GetParam(), requests);
  ASSERT_EQ(alone.size(), requests.size());
  for (bool prefix_caching : {false, true}) {
    auto engine = start_engine(GetParam(), config_with(112, 64, prefix_caching));  // ~2 at a time
    ASSERT_TRUE(engine);
    std::vector<std::unique_ptr<EventCollector>> events;
    for (const auto& r : requests) {
      events.push_back(std::make_unique<EventCollector>());
      ASSERT_TRUE(engine->submit(r, events.back()->sink()).ok());
    }
    for (size_t i = 0; i < requests.size(); ++i) {
      ASSERT_TRUE(events[i]->wait());
      EXPECT_EQ(events[i]->token_ids(), alone[i]) << "request " << i << " prefix caching " << prefix_caching;
    }
    EXPECT_GT(engine->stats().preemptions, 0);
  }
}

TEST(SlidingWindowModel, ReleasingOutOfWindowBlocksChangesNoToken) {
  // The tiny mistral attends to its last 16 positions in every layer.
  std::vector<GenerationRequest> requests;
  std::mt19937 rng(29);
  for (int i = 0; i < 4; ++i) {
    std::vector<int32_t> prompt(20 + rng() % 30);
    for (auto& t : prompt) t = static_cast<int32_t>(3 + rng() % 500);
    requests.push_back(greedy(prompt, 60));
  }
  auto run = [&](int32_t sliding_window) {
    EngineConfig config = config_with(4096, 32, /*prefix_caching=*/false);
    config.sliding_window = sliding_window;
    auto engine = start_engine("mistral", config);
    std::vector<std::unique_ptr<EventCollector>> events;
    for (const auto& r : requests) {
      events.push_back(std::make_unique<EventCollector>());
      EXPECT_TRUE(engine->submit(r, events.back()->sink()).ok());
    }
    std::vector<std::vector<int32_t>> out;
    for (auto& e : events) {
      EXPECT_TRUE(e->wait());
      out.push_back(e->token_ids());
    }
    return out;
  };
  EXPECT_EQ(run(-1), run(0));
}

INSTANTIATE_TEST_SUITE_P(TinyCheckpoints, RealModel, ::testing::Values("llama3", "qwen3", "mistral"),
                         param_name);

}  // namespace
}  // namespace tgi::engine
