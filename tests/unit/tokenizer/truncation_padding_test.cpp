// tokenizer.json "truncation" and "padding" applied by encode() exactly as Hugging Face tokenizers
// does (reference answers from make_truncation_padding_golden.js).
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {
namespace {

using json = nlohmann::json;

json golden() {
  std::ifstream in(std::string(TGI_TEST_DATA_DIR) + "/tokenizers/truncation_padding/golden.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST(TruncationPaddingTest, MatchesTheReference) {
  const json configs = golden();
  ASSERT_GE(configs.size(), 10u);
  size_t checked = 0;
  for (const json& config : configs) {
    auto tok = Tokenizer::from_json(config["tokenizer"], nullptr);
    ASSERT_TRUE(tok.ok()) << tok.error().message;
    const std::string settings = config["tokenizer"]["truncation"].dump() + " " + config["tokenizer"]["padding"].dump();
    for (const json& c : config["cases"]) {
      const std::string text = c["text"].get<std::string>();
      auto e = (*tok)->encode(text, c["add_special_tokens"].get<bool>());
      const std::string where = settings + " text=" + c["text"].dump() + " special=" + c["add_special_tokens"].dump();
      ++checked;
      if (c.contains("error")) {
        EXPECT_FALSE(e.ok()) << where;
        if (!e.ok()) {
          EXPECT_NE(c["error"].get<std::string>().find(e.error().message), std::string::npos) << where;
        }
        continue;
      }
      ASSERT_TRUE(e.ok()) << where << ": " << e.error().message;
      EXPECT_EQ(json(e->ids), c["ids"]) << where;
      EXPECT_EQ(json(e->tokens), c["tokens"]) << where;
      json offsets = json::array();
      for (auto [b, en] : e->offsets) offsets.push_back({b, en});
      EXPECT_EQ(offsets, c["offsets"]) << where;
    }
  }
  EXPECT_GE(checked, 100u);
}

// The reference aborts the process when the stride does not fit; here it is an error.
TEST(TruncationPaddingTest, StrideThatDoesNotFitIsAnError) {
  json doc = golden()[0]["tokenizer"];
  doc["truncation"]["max_length"] = 4;
  doc["truncation"]["stride"] = 3;
  auto tok = Tokenizer::from_json(doc, nullptr);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_FALSE((*tok)->encode("the quick brown fox", true).ok());
  EXPECT_TRUE((*tok)->encode("the", true).ok()) << "no truncation needed, no check";
}

TEST(TruncationPaddingTest, MalformedSectionsAreRefused) {
  const json base = golden()[0]["tokenizer"];
  for (const auto& [key, value] : {std::pair<const char*, json>{"truncation", json{{"strategy", "LongestFirst"}}},
                                   {"truncation", json{{"max_length", -1}}},
                                   {"truncation", json{{"max_length", 3}, {"strategy", "Sideways"}}},
                                   {"truncation", json{{"max_length", 3}, {"direction", "Up"}}},
                                   {"truncation", json("yes")},
                                   {"padding", json{{"strategy", json{{"Fixed", "8"}}}}},
                                   {"padding", json{{"strategy", "BatchLongest"}, {"pad_id", -3}}},
                                   {"padding", json{{"strategy", "BatchLongest"}, {"pad_token", 5}}}}) {
    json doc = base;
    doc[key] = value;
    EXPECT_FALSE(Tokenizer::from_json(doc, nullptr).ok()) << key << " " << value.dump();
  }
}

}  // namespace
}  // namespace tgi::tokenizer
