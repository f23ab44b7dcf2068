#include "tokenizer/token_bytes.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "shared_tokenizers.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {
namespace {

class TokenBytesTest : public ::testing::TestWithParam<std::string> {};

// Test names: the parameter with every character gtest does not allow in a name made '_'.
std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

// What a grammar believes a sequence of tokens spells must be what decoding it gives: the bytes
// of random token runs, joined, equal the decoded text wherever that text is valid UTF-8 (a
// decoder may drop the first token's leading space, as Metaspace and Strip do).
TEST_P(TokenBytesTest, JoinedTokenBytesAreTheDecodedText) {
  std::string error;
  const Tokenizer* tok = testing::golden_tokenizer(GetParam(), &error);
  ASSERT_NE(tok, nullptr) << error;
  const std::vector<std::string> bytes = token_bytes(*tok);
  ASSERT_EQ(bytes.size(), static_cast<size_t>(tok->vocab_size()));
  std::vector<int32_t> ordinary;
  for (int32_t id = 0; id < tok->vocab_size(); ++id) {
    if (tok->is_special(id)) {
      EXPECT_TRUE(bytes[id].empty()) << id;
    } else if (!bytes[id].empty()) {
      ordinary.push_back(id);
    }
  }
  ASSERT_GT(ordinary.size(), static_cast<size_t>(tok->vocab_size()) / 2);
  std::mt19937 rng(11);
  int compared = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<int32_t> ids;
    std::string joined;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      ids.push_back(ordinary[rng() % ordinary.size()]);
      joined += bytes[ids.back()];
    }
    if (!utf8::is_valid(joined)) continue;
    const std::string decoded = tok->decode(ids);
    const bool same = decoded == joined || (joined.front() == ' ' && decoded == joined.substr(1));
    EXPECT_TRUE(same) << "ids[0]=" << ids[0] << " decoded '" << decoded << "' bytes '" << joined << "'";
    ++compared;
  }
  EXPECT_GT(compared, 1000);
}

TEST_P(TokenBytesTest, EncodedTextSpellsItselfAgain) {
  const Tokenizer* tok = testing::golden_tokenizer(GetParam());
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> bytes = token_bytes(*tok);
  for (const std::string text : {"{\"name\": \"Zoë\", \"age\": 42}", "日本語のテキスト 🎉", "a\tb\nc  d"}) {
    auto enc = tok->encode(text, /*add_special_tokens=*/false);
    ASSERT_TRUE(enc.ok());
    std::string joined;
    for (int32_t id : enc->ids) joined += bytes[id];
    // SentencePiece-style tokenizers prepend a space to the text they encode.
    if (joined != text) {
      EXPECT_EQ(joined, " " + std::string(text)) << GetParam();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, TokenBytesTest,
                         ::testing::Values("qwen3", "llama2", "llama3_1", "gemma3", "deepseek_v3"),
                         param_name);

TEST(TokenBytes, ByteFallbackTokensAreSingleRawBytes) {
  const Tokenizer* tok = testing::golden_tokenizer("llama2");
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> bytes = token_bytes(*tok);
  const auto id = tok->token_to_id("<0xE3>");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(bytes[*id], "\xE3");
}

}  // namespace
}  // namespace tgi::tokenizer
