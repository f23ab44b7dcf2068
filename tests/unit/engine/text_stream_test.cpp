// The text path over a real tokenizer (qwen3-tok: random weights, real Qwen3 tokenizer): streamed
// deltas add up to the final text, and stop sequences cut it across token boundaries.
#include <memory>

#include <gtest/gtest.h>

#include "engine/engine.h"
#include "event_collector.h"
#include "model/causal_lm.h"
#include "tokenizer/tokenizer.h"

namespace tgi::engine {
namespace {

using testing::EventCollector;

class TextStream : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = std::string(TGI_TEST_DATA_DIR) + "/models/qwen3-tok";
    auto tok = tokenizer::Tokenizer::from_model_dir(dir);
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    tokenizer_ = std::move(*tok);
    model::LoadOptions options;
    options.num_threads = 1;
    auto model = model::load_causal_lm(dir, options);
    ASSERT_TRUE(model.ok()) << model.error().message;
    EngineConfig config;
    config.max_batch_total_tokens = 1024;
    config.block_size = 4;
    auto engine = Engine::create(std::move(*model), tokenizer_, config);
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    engine_ = std::move(*engine);
  }

  struct Run {
    std::string streamed;
    TokenEvent end;
    std::vector<int32_t> ids;
    std::string token_texts;  // TokenInfo::text of every generated token
  };
  static Run generate(const std::vector<std::string>& stops, int32_t max_new_tokens) {
    auto prompt = tokenizer_->encode("The quick brown fox jumps over the lazy dog. Once upon a time", true);
    EXPECT_TRUE(prompt.ok());
    GenerationRequest r;
    r.input_ids = prompt->ids;
    r.stopping.max_new_tokens = max_new_tokens;
    r.stopping.ignore_eos = true;
    r.stopping.stop_sequences = stops;
    EventCollector events;
    EXPECT_TRUE(engine_->submit(r, events.sink()).ok());
    EXPECT_TRUE(events.wait());
    Run run;
    for (auto& e : events.events()) {
      if (e.kind == TokenEvent::Kind::kToken) {
        run.streamed += e.text_delta;
        run.token_texts += e.token.text;
      }
      if (e.kind == TokenEvent::Kind::kEnd) run.end = e;
    }
    run.ids = events.token_ids();
    return run;
  }

  static void TearDownTestSuite() { engine_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(engine_) << "model or tokenizer did not load";
  }

  static inline std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  static inline std::unique_ptr<Engine> engine_;
};

TEST_F(TextStream, DeltasAddUpToTheDecodedText) {
  const Run run = generate({}, 40);
  ASSERT_EQ(run.ids.size(), 40u);
  EXPECT_EQ(run.streamed, run.end.generated_text);
  EXPECT_EQ(run.end.generated_text, tokenizer_->decode(run.ids, /*skip_special_tokens=*/true));
  EXPECT_EQ(run.end.finish_reason, FinishReason::kLength);
}

TEST_F(TextStream, StopSequenceEndsTheGenerationAndStaysInTheText) {
  const Run full = generate({}, 40);
  ASSERT_EQ(full.ids.size(), 40u);
  // A stop string spanning several tokens, taken from the end of the first 13 tokens' text. TGI
  // checks after every token whether the text so far ends with it, so the generation must end at
  // the first token where that holds, with the stop string kept.
  auto text_through = [&](size_t k) {
    return tokenizer_->decode(std::vector<int32_t>(full.ids.begin(), full.ids.begin() + k + 1), true);
  };
  const std::string sample = text_through(12);
  ASSERT_GT(sample.size(), 8u);
  const std::string stop = sample.substr(sample.size() - 8);
  size_t k = 0;
  while (!text_through(k).ends_with(stop)) ++k;
  const std::string through_k = text_through(k);
  const Run cut = generate({stop}, 40);
  EXPECT_EQ(cut.end.finish_reason, FinishReason::kStopSequence);
  EXPECT_EQ(cut.end.generated_text, through_k);
  EXPECT_EQ(cut.streamed, through_k);
  ASSERT_EQ(cut.ids.size(), k + 1);
  EXPECT_TRUE(std::equal(cut.ids.begin(), cut.ids.end(), full.ids.begin()));
}

TEST_F(TextStream, PerTokenTextsKeepSpecialTokensAndAddUpToTheFullDecode) {
  const Run run = generate({}, 24);
  EXPECT_EQ(run.token_texts, tokenizer_->decode(run.ids, /*skip_special_tokens=*/false));
}

}  // namespace
}  // namespace tgi::engine
