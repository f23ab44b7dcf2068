// GGUF tokenizer.ggml.* metadata -> tokenizer.json document (the golden round trip through the
// real tokenizer lives in tests/unit/cli/gguf_tokenizer_roundtrip_test.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf_file.h"
#include "formats/gguf_tokenizer.h"
#include "formats/gguf_writer.h"

namespace tgi::formats {
namespace {

using nlohmann::json;

struct Image {
  std::string bytes;
  std::unique_ptr<GgufFile> file;
};

// Writes and re-parses, so the reader sees exactly what a file would hold.
Result<GgufTokenizer> read_back(const GgufWriter& writer, Image& image) {
  std::ostringstream out;
  TGI_TRY(writer.write(out));
  image.bytes = out.str();
  TGI_ASSIGN_OR_RETURN(image.file, GgufFile::parse(std::as_bytes(std::span(image.bytes.data(), image.bytes.size()))));
  return gguf_tokenizer(*image.file);
}

GgufWriter sentencepiece_writer() {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  //            0        1      2       3          4      5    6    7     8       9
  w.set("tokenizer.ggml.tokens",
        GgufValue::string_array({"<unk>", "<s>", "</s>", "<0x41>", "\u2581", "a", "b", "ab", "\u2581ab", "[PAD9]"}));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array({0, 0, 0, 0, -100, -101, -102, -2, -1, 0}));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array({2, 3, 3, 6, 1, 1, 1, 1, 1, 5}));
  return w;
}

TEST(GgufTokenizerTest, SentencePieceBecomesByteFallbackBpeWithScoreRankedMerges) {
  Image image;
  auto t = read_back(sentencepiece_writer(), image);
  ASSERT_TRUE(t.ok()) << t.error().message;
  const json& doc = t->tokenizer_json;
  const json& model = doc["model"];
  EXPECT_EQ(model["type"], "BPE");
  EXPECT_TRUE(model["byte_fallback"].get<bool>());
  EXPECT_EQ(model["unk_token"], "<unk>");
  EXPECT_EQ(model["vocab"].size(), 9u) << "the unused [PAD9] slot is no token";
  EXPECT_EQ(model["vocab"]["<0x41>"], 3);
  // "▁ab" (score -1) merges before "ab" (score -2); "▁ab" = "▁"+"ab" only ("▁a" is no piece).
  EXPECT_EQ(model["merges"], json::parse(R"([["\u2581","ab"],["a","b"]])"));
  EXPECT_EQ(doc["normalizer"]["normalizers"][0]["type"], "Prepend");
  EXPECT_EQ(doc["decoder"]["decoders"].back()["type"], "Strip");
  // llama.cpp's SentencePiece defaults: bos 1, eos 2, unk 0, add_bos.
  EXPECT_EQ(t->bos_token_id, 1);
  EXPECT_EQ(t->eos_token_id, 2);
  EXPECT_EQ(doc["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
  EXPECT_EQ(doc["post_processor"]["special_tokens"]["<s>"]["ids"], json::array({1}));
  EXPECT_EQ(t->tokenizer_config["add_bos_token"], true);
  EXPECT_EQ(t->tokenizer_config["add_eos_token"], false);
  ASSERT_EQ(doc["added_tokens"].size(), 3u);
  for (const auto& added : doc["added_tokens"]) EXPECT_TRUE(added["special"].get<bool>()) << added.dump();
}

TEST(GgufTokenizerTest, SentencePieceWithoutSpacePrefixNorBos) {
  GgufWriter w = sentencepiece_writer();
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(true));
  w.set("tokenizer.chat_template", GgufValue::string("{{ messages }}"));
  Image image;
  auto t = read_back(w, image);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->tokenizer_json["normalizer"]["type"], "Replace");
  EXPECT_NE(t->tokenizer_json["decoder"]["decoders"].back()["type"], "Strip");
  const json& single = t->tokenizer_json["post_processor"]["single"];
  ASSERT_EQ(single.size(), 2u);
  EXPECT_EQ(single[1]["SpecialToken"]["id"], "</s>");
  EXPECT_EQ(t->tokenizer_config["chat_template"], "{{ messages }}");
}

GgufWriter byte_level_writer(const std::string& pre) {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::string(pre));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "ab", "\u0120", "\u0120ab", "<|end|>", "<think>", "[PAD7]"}));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array({1, 1, 1, 1, 1, 3, 4, 5}));
  w.set("tokenizer.ggml.merges", GgufValue::string_array({"a b", "\u0120 ab"}));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(5));
  return w;
}

TEST(GgufTokenizerTest, ByteLevelQwen2) {
  Image image;
  auto t = read_back(byte_level_writer("qwen2"), image);
  ASSERT_TRUE(t.ok()) << t.error().message;
  const json& doc = t->tokenizer_json;
  EXPECT_EQ(doc["normalizer"]["type"], "NFC");
  EXPECT_EQ(doc["pre_tokenizer"]["pretokenizers"][0]["type"], "Split");
  EXPECT_EQ(doc["pre_tokenizer"]["pretokenizers"][1]["type"], "ByteLevel");
  EXPECT_EQ(doc["decoder"]["type"], "ByteLevel");
  EXPECT_TRUE(doc["post_processor"].is_null()) << "qwen2 adds no bos";
  EXPECT_EQ(doc["model"]["merges"], json::parse(R"([["a","b"],["\u0120","ab"]])"));
  EXPECT_EQ(doc["model"]["vocab"].size(), 5u) << "added and unused tokens stay out of the BPE vocabulary";
  ASSERT_EQ(doc["added_tokens"].size(), 2u);
  EXPECT_TRUE(doc["added_tokens"][0]["special"].get<bool>());
  EXPECT_FALSE(doc["added_tokens"][1]["special"].get<bool>()) << "user-defined tokens are not special";
  EXPECT_EQ(t->tokenizer_config["eos_token"], "<|end|>");
  EXPECT_FALSE(t->bos_token_id.has_value());
}

TEST(GgufTokenizerTest, ByteLevelLlama3IgnoresMergesAndAddsBos) {
  GgufWriter w = byte_level_writer("llama-bpe");
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(5));
  Image image;
  auto t = read_back(w, image);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->tokenizer_json["model"]["ignore_merges"].get<bool>());
  EXPECT_TRUE(t->tokenizer_json["normalizer"].is_null());
  EXPECT_EQ(t->tokenizer_json["post_processor"]["single"][0]["SpecialToken"]["id"], "<|end|>");
}

TEST(GgufTokenizerTest, DefaultPreTokenizerIsGpt2ByteLevel) {
  Image image;
  auto t = read_back(byte_level_writer("default"), image);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->tokenizer_json["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_TRUE(t->tokenizer_json["pre_tokenizer"]["use_regex"].get<bool>());
}

TEST(GgufTokenizerTest, BadMetadataIsAnErrorNamingIt) {
  struct Case {
    const char* what;
    std::function<void(GgufWriter&)> edit;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {"unknown model", [](GgufWriter& w) { w.set("tokenizer.ggml.model", GgufValue::string("t5")); }, "t5"},
      {"unknown pre", [](GgufWriter& w) { w.set("tokenizer.ggml.pre", GgufValue::string("mystery")); }, "mystery"},
      {"type count", [](GgufWriter& w) { w.set("tokenizer.ggml.token_type", GgufValue::i32_array({1, 1})); },
       "tokenizer.ggml.token_type"},
      {"bos range", [](GgufWriter& w) { w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(99)); },
       "tokenizer.ggml.bos_token_id"},
      {"merge", [](GgufWriter& w) { w.set("tokenizer.ggml.merges", GgufValue::string_array({"ab"})); }, "merges"},
      {"merges type", [](GgufWriter& w) { w.set("tokenizer.ggml.merges", GgufValue::i32_array({1})); }, "merges"},
      {"tokens type", [](GgufWriter& w) { w.set("tokenizer.ggml.tokens", GgufValue::u32(3)); }, "tokenizer.ggml.tokens"},
      {"empty vocab", [](GgufWriter& w) { w.set("tokenizer.ggml.tokens", GgufValue::string_array({})); }, "empty"},
  };
  for (const Case& c : cases) {
    GgufWriter w = byte_level_writer("qwen2");
    c.edit(w);
    Image image;
    auto t = read_back(w, image);
    ASSERT_FALSE(t.ok()) << c.what;
    EXPECT_NE(t.error().message.find(c.mentions), std::string::npos) << c.what << ": " << t.error().message;
  }
  GgufWriter none;
  none.set("general.architecture", GgufValue::string("llama"));
  Image image;
  EXPECT_FALSE(read_back(none, image).ok());
}

json golden_pre_tokenizer(const std::string& name) {
  std::ifstream in(std::string(TGI_TEST_DATA_DIR) + "/tokenizers/" + name + "/tokenizer.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str())["pre_tokenizer"];
}

TEST(GgufTokenizerTest, PreTokenizerNamesOfGoldenTokenizers) {
  EXPECT_EQ(gguf_pre_tokenizer_name(golden_pre_tokenizer("llama3_1")), "llama-bpe");
  EXPECT_EQ(gguf_pre_tokenizer_name(golden_pre_tokenizer("qwen3")), "qwen2");
  EXPECT_EQ(gguf_pre_tokenizer_name(golden_pre_tokenizer("deepseek_v3")), "deepseek-v3");
  EXPECT_EQ(gguf_pre_tokenizer_name(golden_pre_tokenizer("llama2")), std::nullopt);
  EXPECT_EQ(gguf_pre_tokenizer_name(json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}),
            "gpt-2");
}

}  // namespace
}  // namespace tgi::formats
