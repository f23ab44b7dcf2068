// Small handwritten tokenizer.json files for the components the golden tokenizers do not use:
// WordPiece/BERT, WordLevel, Unigram/Metaspace, added-token flags, templates, hostile files.
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenizer.h"
#include "shared_tokenizers.h"

namespace tgi::tokenizer {
namespace {

using json = nlohmann::json;
using Offsets = std::vector<std::pair<size_t, size_t>>;

json added(int id, const std::string& content, bool special, bool normalized = false) {
  return json{{"id", id},         {"content", content}, {"single_word", false}, {"lstrip", false},
              {"rstrip", false},  {"normalized", normalized}, {"special", special}};
}

std::unique_ptr<Tokenizer> load(const json& j) {
  auto t = Tokenizer::from_json_string(j.dump());
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(t).value() : nullptr;
}

json bert_json() {
  return json{
      {"added_tokens", {added(0, "[UNK]", true), added(1, "[CLS]", true), added(2, "[SEP]", true)}},
      {"normalizer",
       {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true}, {"strip_accents", nullptr},
        {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 2}}, {"cls", {"[CLS]", 1}}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", "[UNK]"},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 100},
        {"vocab",
         {{"[UNK]", 0}, {"[CLS]", 1}, {"[SEP]", 2}, {"hello", 3}, {"world", 4}, {"un", 5}, {"##aff", 6}, {"##able", 7},
          {"!", 8}, {"cafe", 9}}}}}};
}

TEST(ComponentsTest, BertWordPiece) {
  auto t = load(bert_json());
  ASSERT_NE(t, nullptr);
  auto e = t->encode("Hello, unaffable World! Café");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->ids, (std::vector<int32_t>{1, 3, 0, 5, 6, 7, 4, 8, 9, 2}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"[CLS]", "hello", "[UNK]", "un", "##aff", "##able", "world", "!",
                                                 "cafe", "[SEP]"}));
  EXPECT_EQ(e->offsets,
            (Offsets{{0, 0}, {0, 5}, {5, 6}, {7, 9}, {9, 12}, {12, 16}, {17, 22}, {22, 23}, {24, 28}, {0, 0}}));
  EXPECT_EQ(t->decode(e->ids), "[CLS] hello [UNK] unaffable world! cafe [SEP]");
  EXPECT_EQ(t->decode(e->ids, true), "hello unaffable world! cafe");
  auto plain = t->encode("Hello", false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->ids, (std::vector<int32_t>{3}));
}

TEST(ComponentsTest, WordLevelWithWhitespaceAndLowercase) {
  json j{{"added_tokens", json::array()},
         {"normalizer", {{"type", "Lowercase"}}},
         {"pre_tokenizer", {{"type", "Whitespace"}}},
         {"model", {{"type", "WordLevel"}, {"unk_token", "<unk>"}, {"vocab", {{"<unk>", 0}, {"the", 1}, {"cat", 2}, {".", 3}}}}}};
  auto t = load(j);
  ASSERT_NE(t, nullptr);
  auto e = t->encode("The cat sat.");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ids, (std::vector<int32_t>{1, 2, 0, 3}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"the", "cat", "<unk>", "."}));
  EXPECT_EQ(e->offsets, (Offsets{{0, 3}, {4, 7}, {8, 11}, {11, 12}}));
  EXPECT_EQ(t->decode(e->ids), "the cat <unk> .");  // no decoder: tokens joined by spaces
}

json unigram_json() {
  return json{{"added_tokens", json::array()},
              {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}, {"split", true}}},
              {"decoder", {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}, {"split", true}}},
              {"model",
               {{"type", "Unigram"},
                {"unk_id", 0},
                {"vocab", json::array({json::array({"<unk>", 0.0}), json::array({"▁", -2.0}), json::array({"▁he", -1.0}),
                                       json::array({"llo", -1.5}), json::array({"▁hello", -2.0}), json::array({"h", -3.0}),
                                       json::array({"e", -3.0}), json::array({"l", -3.0}), json::array({"o", -3.0}),
                                       json::array({"▁w", -2.0}), json::array({"orld", -2.0})})}}}};
}

TEST(ComponentsTest, UnigramMetaspace) {
  auto t = load(unigram_json());
  ASSERT_NE(t, nullptr);
  auto e = t->encode("hello world");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"▁hello", "▁w", "orld"}));
  EXPECT_EQ(e->ids, (std::vector<int32_t>{4, 9, 10}));
  EXPECT_EQ(e->offsets, (Offsets{{0, 5}, {5, 7}, {7, 11}}));
  EXPECT_EQ(t->decode(e->ids), "hello world");
  // Unknown characters are fused into one unk piece that keeps its surface text.
  auto u = t->encode("hello xyz");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->tokens, (std::vector<std::string>{"▁hello", "▁", "xyz"}));
  EXPECT_EQ(u->ids, (std::vector<int32_t>{4, 1, 0}));
  EXPECT_EQ(u->offsets, (Offsets{{0, 5}, {5, 6}, {6, 9}}));
}

TEST(ComponentsTest, AddedTokenFlags) {
  json lstrip = added(3, "<mask>", true);
  lstrip["lstrip"] = true;
  json word = added(4, "ab", false, true);
  word["single_word"] = true;
  json j{{"added_tokens", {lstrip, word}},
         {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
         {"model", {{"type", "WordLevel"}, {"unk_token", "<unk>"}, {"vocab", {{"<unk>", 0}, {"x", 1}, {"y", 2}}}}}};
  auto t = load(j);
  ASSERT_NE(t, nullptr);
  auto e = t->encode("x  <mask> y");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ids, (std::vector<int32_t>{1, 3, 2}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"x", "  <mask>", "y"}));  // the stripped spaces go with it
  EXPECT_EQ(e->offsets, (Offsets{{0, 1}, {1, 9}, {10, 11}}));
  auto inside = t->encode("xab");
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(inside->ids, (std::vector<int32_t>{0}));  // single_word: not inside a word
  auto alone = t->encode("x ab y");
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone->ids, (std::vector<int32_t>{1, 4, 2}));
  EXPECT_TRUE(t->is_special(3));
  EXPECT_FALSE(t->is_special(4));
  EXPECT_EQ(t->vocab_size(), 5);
}

TEST(ComponentsTest, TemplateProcessingStringForm) {
  json j{{"added_tokens", {added(0, "[CLS]", true), added(1, "[SEP]", true)}},
         {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
         {"post_processor",
          {{"type", "TemplateProcessing"},
           {"single", "[CLS] $A [SEP]"},
           {"pair", "[CLS] $A [SEP] $B:1 [SEP]:1"},
           {"special_tokens",
            {{"[CLS]", {{"id", "[CLS]"}, {"ids", {0}}, {"tokens", {"[CLS]"}}}},
             {"[SEP]", {{"id", "[SEP]"}, {"ids", {1}}, {"tokens", {"[SEP]"}}}}}}}},
         {"model", {{"type", "WordLevel"}, {"unk_token", "[CLS]"}, {"vocab", {{"[CLS]", 0}, {"[SEP]", 1}, {"a", 2}}}}}};
  auto t = load(j);
  ASSERT_NE(t, nullptr);
  auto e = t->encode("a a");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ids, (std::vector<int32_t>{0, 2, 2, 1}));
  EXPECT_EQ(e->offsets, (Offsets{{0, 0}, {0, 1}, {2, 3}, {0, 0}}));
}

TEST(ComponentsTest, NormalizersAndDecoders) {
  json j{{"added_tokens", json::array()},
         {"normalizer",
          {{"type", "Sequence"},
           {"normalizers",
            {{{"type", "NFKC"}},
             {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
             {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", "_"}}}}}},
         {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"String", "_"}}}, {"behavior", "Removed"}, {"invert", false}}},
         {"decoder",
          {{"type", "Sequence"},
           {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", "fi"}}}, {"content", "FI"}}, {{"type", "Fuse"}}}}}},
         {"model", {{"type", "WordLevel"}, {"unk_token", "<unk>"}, {"vocab", {{"<unk>", 0}, {"fi", 1}, {"x", 2}}}}}};
  auto t = load(j);
  ASSERT_NE(t, nullptr);
  auto e = t->encode("  \xEF\xAC\x81   x ");  // "ﬁ" ligature: NFKC makes it "fi"
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->ids, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(e->offsets, (Offsets{{2, 3}, {6, 7}}));
  EXPECT_EQ(t->decode(e->ids), "FIx");
}

TEST(ComponentsTest, InvalidUtf8InputIsReplaced) {
  auto t = load(bert_json());
  ASSERT_NE(t, nullptr);
  auto bad = t->encode("hello \xFF\xFE world");
  auto good = t->encode("hello \xEF\xBF\xBD\xEF\xBF\xBD world");
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(bad->ids, good->ids);
  EXPECT_EQ(bad->offsets, good->offsets);
}

TEST(ComponentsTest, HostileFilesGiveClearErrors) {
  struct Case {
    std::string json_text;
    std::string expected;
  };
  json bad_regex = bert_json();
  bad_regex["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}, {"invert", false}};
  json bad_merge{{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}}}, {"merges", {"a b"}}}}};
  json huge_id{{"model", {{"type", "WordLevel"}, {"vocab", {{"a", 1000000000000LL}}}}}};
  json unknown{{"normalizer", {{"type", "Banana"}}}, {"model", {{"type", "WordLevel"}, {"vocab", {{"a", 0}}}}}};
  json wrong_type{{"model", {{"type", "WordLevel"}, {"vocab", {{"a", "zero"}}}}}};
  const std::vector<Case> cases = {
      {"{not json", "not valid JSON"},
      {bad_regex.dump(), "invalid regex"},
      {bad_merge.dump(), "not in the vocab"},
      {huge_id.dump(), "out of range"},
      {unknown.dump(), "unsupported normalizer"},
      {wrong_type.dump(), "not an integer"},
      {"[]", "must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto t = Tokenizer::from_json_string(c.json_text);
    ASSERT_FALSE(t.ok()) << c.json_text;
    EXPECT_NE(t.error().message.find(c.expected), std::string::npos) << t.error().message;
  }
}

TEST(ComponentsTest, ConcurrentEncodingMatchesSequential) {
  const Tokenizer* t = testing::golden_tokenizer("qwen3");
  ASSERT_NE(t, nullptr);
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back("Thread-safe tokenization " + std::to_string(i * 7919) + " héllo wörld 你好 🙂");
  std::vector<std::vector<int32_t>> expected;
  for (const auto& s : texts) expected.push_back(t->encode(s)->ids);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 20; ++round)
        for (size_t i = 0; i < texts.size(); ++i) {
          const size_t j = (i + static_cast<size_t>(k) * 13) % texts.size();
          auto e = t->encode(texts[j]);
          if (!e.ok() || e->ids != expected[j]) ++mismatches;
        }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ComponentsTest, StreamFlushReleasesIncompleteBytes) {
  const Tokenizer* t = testing::golden_tokenizer("qwen3");
  ASSERT_NE(t, nullptr);
  // "ð" and "Ł" are the ByteLevel characters of bytes 0xF0 and 0x9F: half of an emoji.
  auto f0 = t->token_to_id("ð");
  auto x9f = t->token_to_id("Ł");
  ASSERT_TRUE(f0 && x9f);
  IncrementalDecoder d(*t);
  EXPECT_EQ(d.push(*f0), "");
  EXPECT_EQ(d.push(*x9f), "");
  EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");
  auto hi = t->encode("Hi there", false);
  ASSERT_TRUE(hi.ok());
  std::string text;
  for (int32_t id : hi->ids) text += d.push(id);
  text += d.flush();
  EXPECT_EQ(text, "Hi there");
}

}  // namespace
}  // namespace tgi::tokenizer
