// Loading from a model directory (tokenizer.json + tokenizer_config.json) and the `tgi tokenize`
// line protocol.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenize_stream.h"
#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {
namespace {

std::string model_dir(const char* name) { return std::string(TGI_TEST_DATA_DIR) + "/models/" + name; }

TEST(ModelDirTest, Qwen3ConfigAndEncoding) {
  auto t = Tokenizer::from_model_dir(model_dir("qwen3-tok"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  const TokenizerConfig& c = (*t)->config();
  EXPECT_EQ(c.eos_token, "<|im_end|>");
  EXPECT_EQ(c.eos_token_id, (*t)->token_to_id("<|im_end|>"));
  EXPECT_FALSE(c.bos_token.has_value());
  EXPECT_FALSE(c.add_bos_token);
  ASSERT_TRUE(c.chat_template.has_value());
  EXPECT_NE(c.chat_template->find("im_start"), std::string::npos);
  auto e = (*t)->encode("<|im_start|>user\nHi<|im_end|>");
  ASSERT_TRUE(e.ok());
  ASSERT_GE(e->ids.size(), 4u);
  EXPECT_EQ(e->ids.front(), *(*t)->token_to_id("<|im_start|>"));
  EXPECT_EQ(e->ids.back(), *c.eos_token_id);
  EXPECT_TRUE((*t)->is_special(e->ids.front()));
}

TEST(ModelDirTest, Llama2AddsBosFromConfig) {
  auto t = Tokenizer::from_model_dir(model_dir("llama2-tok"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  const TokenizerConfig& c = (*t)->config();
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_TRUE(c.add_bos_token);
  auto e = (*t)->encode("Hello world");
  ASSERT_TRUE(e.ok());
  ASSERT_FALSE(e->ids.empty());
  EXPECT_EQ(e->ids.front(), 1);
  auto plain = (*t)->encode("Hello world", false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->ids.size() + 1, e->ids.size());
  EXPECT_EQ((*t)->decode(e->ids, true), "Hello world");
}

TEST(ModelDirTest, MissingDirectoryIsAnError) {
  auto t = Tokenizer::from_model_dir(model_dir("does-not-exist"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::kNotFound);
}

TEST(TokenizeStreamTest, EncodesAndDecodesLines) {
  auto t = Tokenizer::from_model_dir(model_dir("qwen3-tok"));
  ASSERT_TRUE(t.ok());
  std::istringstream in("\"Hello world\"\n\n42\nnot json\n");
  std::ostringstream out;
  EXPECT_EQ(run_tokenize_stream(**t, in, out, {}), 2u);
  std::istringstream lines(out.str());
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["tokens"], nlohmann::json({"Hello", "Ġworld"}));
  EXPECT_EQ(first["offsets"], nlohmann::json({{0, 5}, {5, 11}}));
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_TRUE(nlohmann::json::parse(line).contains("error"));
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_TRUE(nlohmann::json::parse(line).contains("error"));

  std::istringstream ids_in(first["ids"].dump() + "\n[-1]\n");
  std::ostringstream decoded;
  TokenizeStreamOptions decode;
  decode.decode = true;
  EXPECT_EQ(run_tokenize_stream(**t, ids_in, decoded, decode), 1u);
  EXPECT_EQ(decoded.str().substr(0, decoded.str().find('\n')), R"({"text":"Hello world"})");
}

}  // namespace
}  // namespace tgi::tokenizer
