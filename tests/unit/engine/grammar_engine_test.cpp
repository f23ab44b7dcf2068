// Structured output inside the engine: whatever the model's logits prefer, every generated text
// is a prefix of a sentence of the request's grammar, and a finished one is a whole sentence.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "event_collector.h"
#include "fake_causal_lm.h"
#include "grammar/grammar.h"
#include "grammar/regex_parser.h"
#include "tokenizer/tokenizer.h"

namespace tgi::engine {
namespace {

using testing::EventCollector;
using testing::FakeCausalLm;

// A small vocabulary of characters and multi-character pieces (shared prefixes, tokens that span
// a lexeme boundary such as `":` and `1}`), with </s> as the only special token. Every character
// the test grammars use is also a token of its own, so no viable prefix is a dead end.
std::shared_ptr<const tokenizer::Tokenizer> small_tokenizer() {
  const std::vector<std::string> pieces = {"</s>", "{",  "}",   "\"",   ":",  ",",    " ",  "n",  "a",
                                           "b",    "m",  "e",   "0",    "1",  "2",    "9",  "x",  "\"n",
                                           "\":",  "1}", "{\"", "na",   "me", "\": ", "12", "ab", "\u00e9",
                                           "\n",   "[",  "]",   "true", "tr", "ue"};
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t i = 0; i < pieces.size(); ++i) vocab[pieces[i]] = i;
  nlohmann::json doc = {{"version", "1.0"},
                        {"added_tokens",
                         {{{"id", 0},
                           {"content", "</s>"},
                           {"single_word", false},
                           {"lstrip", false},
                           {"rstrip", false},
                           {"normalized", false},
                           {"special", true}}}},
                        {"normalizer", nullptr},
                        {"pre_tokenizer", nullptr},
                        {"post_processor", nullptr},
                        {"decoder", {{"type", "Fuse"}}},
                        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  auto tok = tokenizer::Tokenizer::from_json_string(doc.dump());
  EXPECT_TRUE(tok.ok()) << (tok.ok() ? "" : tok.error().message);
  return std::shared_ptr<const tokenizer::Tokenizer>(std::move(tok).value());
}

std::shared_ptr<const grammar::Grammar> regex_grammar(const std::string& pattern) {
  auto regex = grammar::parse_regex(pattern);
  EXPECT_TRUE(regex.ok()) << (regex.ok() ? "" : regex.error().message);
  grammar::GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root, {b.lexeme(*regex)});
  auto g = b.build(root);
  EXPECT_TRUE(g.ok());
  return std::make_shared<const grammar::Grammar>(std::move(g).value());
}

struct GrammarHarness {
  explicit GrammarHarness(int32_t speculate = 0, int32_t copy_period = 0) {
    tok = small_tokenizer();
    EngineConfig c;
    c.max_batch_total_tokens = 2048;
    c.block_size = 4;
    c.max_batch_prefill_tokens = 64;
    c.eos_token_ids = {0};
    c.speculation.max_tokens = speculate;
    c.speculation.cost_aware = false;
    auto created =
        Engine::create(std::make_unique<FakeCausalLm>(tok->vocab_size() + 3, nullptr, copy_period), tok, c);
    EXPECT_TRUE(created.ok());
    engine = std::move(created).value();
  }
  std::shared_ptr<const tokenizer::Tokenizer> tok;
  std::unique_ptr<Engine> engine;
};

GenerationRequest constrained(std::shared_ptr<const grammar::Grammar> g, uint64_t seed,
                              int32_t max_new = 40) {
  GenerationRequest r;
  r.input_ids = {1, 7, static_cast<int32_t>(seed % 20) + 1};
  r.stopping.max_new_tokens = max_new;
  r.sampling.do_sample = true;
  r.sampling.seed = seed;
  r.grammar = std::move(g);
  return r;
}

TEST(GrammarEngine, EveryOutputIsASentenceAndEndsByItself) {
  GrammarHarness h;
  const auto g = regex_grammar(R"(\{"name": (true|[0-9]{1,3}|"[a-z]{0,4}")\})");
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    EventCollector events;
    ASSERT_TRUE(h.engine->submit(constrained(g, seed), events.sink()).ok());
    ASSERT_TRUE(events.wait());
    const TokenEvent* end = events.last();
    ASSERT_EQ(end->kind, TokenEvent::Kind::kEnd);
    EXPECT_TRUE(g->accepts(end->generated_text)) << "seed " << seed << ": " << end->generated_text;
    EXPECT_EQ(end->finish_reason, FinishReason::kEosToken) << end->generated_text;
    for (int32_t id : events.token_ids()) EXPECT_NE(id, h.tok->vocab_size() + 1);  // beyond the vocab
  }
  // Every row sampled one token per step, so every mask was computed while its forward ran.
  const EngineStats stats = h.engine->stats();
  EXPECT_GT(stats.grammar_masks, 24);
  EXPECT_EQ(stats.grammar_masks_overlapped, stats.grammar_masks);
}

TEST(GrammarEngine, GreedyAndBestOfStayInsideTheGrammar) {
  GrammarHarness h;
  const auto g = regex_grammar(R"(\[(1|2|ab)(,(1|2|ab)){0,3}\])");
  GenerationRequest greedy = constrained(g, 5);
  greedy.sampling.do_sample = false;
  greedy.sampling.seed.reset();
  EventCollector a;
  ASSERT_TRUE(h.engine->submit(std::move(greedy), a.sink()).ok());
  ASSERT_TRUE(a.wait());
  EXPECT_TRUE(g->accepts(a.last()->generated_text)) << a.last()->generated_text;

  GenerationRequest two = constrained(g, 9);
  two.sampling.seed.reset();
  two.best_of = 2;
  EventCollector b;
  ASSERT_TRUE(h.engine->submit(std::move(two), b.sink()).ok());
  ASSERT_TRUE(b.wait());
  int ends = 0;
  for (const TokenEvent& e : b.events()) {
    if (e.kind != TokenEvent::Kind::kEnd) continue;
    ++ends;
    EXPECT_TRUE(g->accepts(e.generated_text)) << e.generated_text;
  }
  EXPECT_EQ(ends, 2);
}

TEST(GrammarEngine, ALengthLimitLeavesAViablePrefix) {
  GrammarHarness h;
  const auto g = regex_grammar(R"(\{"name": "[a-z]{10,20}"\})");
  EventCollector events;
  ASSERT_TRUE(h.engine->submit(constrained(g, 3, /*max_new=*/4), events.sink()).ok());
  ASSERT_TRUE(events.wait());
  const TokenEvent* end = events.last();
  ASSERT_EQ(end->kind, TokenEvent::Kind::kEnd);
  EXPECT_EQ(end->finish_reason, FinishReason::kLength);
  EXPECT_TRUE(g->accepts_prefix(end->generated_text)) << end->generated_text;
  EXPECT_FALSE(g->accepts(end->generated_text));
}

TEST(GrammarEngine, UnconstrainedRequestsInTheSameBatchAreUntouched) {
  GrammarHarness h;
  const auto g = regex_grammar(R"(x{3})");
  EventCollector constrained_events, free_events;
  GenerationRequest free_request;
  free_request.input_ids = {3, 4, 5};
  free_request.stopping.max_new_tokens = 8;
  free_request.stopping.ignore_eos = true;
  ASSERT_TRUE(h.engine->submit(constrained(g, 1), constrained_events.sink()).ok());
  ASSERT_TRUE(h.engine->submit(std::move(free_request), free_events.sink()).ok());
  ASSERT_TRUE(constrained_events.wait());
  ASSERT_TRUE(free_events.wait());
  EXPECT_EQ(constrained_events.last()->generated_text, "xxx");
  EXPECT_EQ(free_events.token_ids(), testing::reference_greedy({3, 4, 5}, 8, h.tok->vocab_size() + 3));
}

TEST(GrammarEngine, SpeculationKeepsEveryTokenOfTheSameSeed) {
  // The copying model repeats itself, so proposals come often; the grammar trims them and masks
  // every verified row, and each output is token for token what it is without speculation.
  const auto g = regex_grammar(R"(\[(ab|12|1|na)(,(ab|12|1|na)){2,30}\])");
  GrammarHarness plain(0, 4), speculating(4, 4);
  int64_t accepted = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    GenerationRequest r = constrained(g, seed, 60);
    r.sampling.temperature = 0.5f;
    EventCollector a, b;
    ASSERT_TRUE(plain.engine->submit(r, a.sink()).ok());
    ASSERT_TRUE(speculating.engine->submit(r, b.sink()).ok());
    ASSERT_TRUE(a.wait());
    ASSERT_TRUE(b.wait());
    EXPECT_EQ(b.token_ids(), a.token_ids()) << "seed " << seed;
    EXPECT_TRUE(g->accepts_prefix(b.last()->generated_text)) << b.last()->generated_text;
    accepted += b.last()->speculated_tokens;
  }
  EXPECT_GT(accepted, 0);
  const EngineStats stats = speculating.engine->stats();
  EXPECT_GT(stats.speculative_proposed_tokens, 0);
  // The first row of a step uses the mask computed during the forward; rows after a kept
  // proposal compute theirs when they are sampled.
  EXPECT_GT(stats.grammar_masks_overlapped, 0);
  EXPECT_LT(stats.grammar_masks_overlapped, stats.grammar_masks);
}

}  // namespace
}  // namespace tgi::engine
