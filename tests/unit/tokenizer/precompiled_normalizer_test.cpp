// The Precompiled normalizer (SentencePiece charsmap) against Hugging Face tokenizers' answers on
// a charsmap holding NFKC mappings and the reference's quirks (make_precompiled_fixture.py), and
// hostile charsmaps.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/base64.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {
namespace {

using json = nlohmann::json;

const std::string kDir = std::string(TGI_TEST_DATA_DIR) + "/tokenizers/precompiled";

json load_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

Result<std::string> normalize(const Normalizer& n, const std::string& text) {
  NormalizedString s(text, 0);
  TGI_TRY(n.normalize(s));
  return s.get();
}

TEST(PrecompiledNormalizerTest, MatchesTheReference) {
  const json doc = load_json(kDir + "/tokenizer.json");
  const json golden = load_json(kDir + "/golden.json");
  auto normalizer = parse_normalizer(doc["normalizer"]);
  ASSERT_TRUE(normalizer.ok()) << normalizer.error().message;
  auto tokenizer = Tokenizer::from_json(doc, nullptr);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  ASSERT_GE(golden["cases"].size(), 15u);
  for (const json& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    auto normalized = normalize(**normalizer, text);
    ASSERT_TRUE(normalized.ok()) << normalized.error().message;
    EXPECT_EQ(*normalized, c["normalized"].get<std::string>()) << c["text"].dump();
    auto e = (*tokenizer)->encode(text, false);
    ASSERT_TRUE(e.ok()) << e.error().message;
    json offsets = json::array();
    for (auto [b, en] : e->offsets) offsets.push_back({b, en});
    EXPECT_EQ(offsets, c["offsets"]) << c["text"].dump();
  }
}

TEST(PrecompiledNormalizerTest, FullwidthAndLigatures) {
  const json doc = load_json(kDir + "/tokenizer.json");
  auto normalizer = parse_normalizer(doc["normalizer"]);
  ASSERT_TRUE(normalizer.ok()) << normalizer.error().message;
  EXPECT_EQ(normalize(**normalizer, "\uff21\uff22\uff23").value(), "ABC");
  EXPECT_EQ(normalize(**normalizer, "\ufb01").value(), "fi");
  EXPECT_EQ(normalize(**normalizer, "plain ascii").value(), "plain ascii");
}

TEST(PrecompiledNormalizerTest, NullCharsmapNormalizesNothing) {
  auto normalizer = parse_normalizer(json{{"type", "Precompiled"}, {"precompiled_charsmap", nullptr}});
  ASSERT_TRUE(normalizer.ok()) << normalizer.error().message;
  EXPECT_EQ(normalize(**normalizer, "\uff21").value(), "\uff21");
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? bytes[i + k] : 0);
    for (size_t k = 0; k < 4; ++k) out.push_back(k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

std::vector<uint8_t> blob(const std::vector<uint32_t>& units, const std::string& pool, uint32_t declared_bytes = 0) {
  std::vector<uint8_t> out(4 + 4 * units.size());
  const uint32_t size = declared_bytes ? declared_bytes : static_cast<uint32_t>(4 * units.size());
  std::memcpy(out.data(), &size, 4);
  if (!units.empty()) std::memcpy(out.data() + 4, units.data(), 4 * units.size());  // data() may be null
  out.insert(out.end(), pool.begin(), pool.end());
  return out;
}

// A one-key trie: "a" (0x61) -> pool[value]. Root at 0 with children base 1; the child at 1^0x61
// has its value unit at 1^0x61^offset.
std::vector<uint32_t> one_key_trie(uint32_t value_unit, uint32_t child_offset = 1) {
  std::vector<uint32_t> units(256, 0);
  units[0] = 1u << 10;                                               // offset 1: children base 1
  const uint32_t child = 1 ^ 0x61;
  units[child] = (child_offset << 10) | (1u << 8) | 0x61;            // has a leaf
  const uint32_t leaf = child ^ child_offset;
  if (leaf < units.size()) units[leaf] = value_unit;
  return units;
}

Result<std::string> normalize_with(const std::vector<uint8_t>& bytes, const std::string& text) {
  TGI_ASSIGN_OR_RETURN(auto n, parse_normalizer(json{{"type", "Precompiled"}, {"precompiled_charsmap", base64(bytes)}}));
  return normalize(*n, text);
}

TEST(PrecompiledNormalizerTest, HandBuiltTrieWorks) {
  auto out = normalize_with(blob(one_key_trie(0x80000000u | 0), "X\0"), "bab");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "bXb");
}

TEST(PrecompiledNormalizerTest, HostileCharsmapsAreClearErrors) {
  auto error_of = [](const json& charsmap, const std::string& text = "abc") -> std::string {
    auto n = parse_normalizer(json{{"type", "Precompiled"}, {"precompiled_charsmap", charsmap}});
    if (!n.ok()) return n.error().message;
    auto out = normalize(**n, text);
    return out.ok() ? "" : out.error().message;
  };
  EXPECT_NE(error_of("not base64!"), "");
  EXPECT_NE(error_of(42), "");
  EXPECT_NE(error_of(base64({1, 2})), "");                                        // no header
  EXPECT_NE(error_of(base64(blob({0, 0}, "", 4000))), "");                        // trie larger than blob
  EXPECT_NE(error_of(base64(blob({}, ""))), "");                                  // empty trie
  EXPECT_NE(error_of(base64(blob({0xFFFFFC00u}, ""))), "");                       // root offset far outside
  EXPECT_NE(error_of(base64(blob(one_key_trie(0x80000000u | 500), "X\0"))), "");  // value outside the pool
  EXPECT_NE(error_of(base64(blob(one_key_trie(0x80000000u | 1), "\xC3\xA9\0"))), "");  // value mid-character
  EXPECT_NE(error_of(base64(blob(one_key_trie(0x80000000u), "\xFF\0"))), "");     // pool not UTF-8
  EXPECT_NE(error_of(base64(blob(one_key_trie(0, 0x1FFFFF), "X\0"))), "");         // leaf offset outside
  const std::string message = error_of(base64(blob({0xFFFFFC00u}, "")));
  EXPECT_NE(message.find("precompiled_charsmap"), std::string::npos) << message;
}

TEST(Base64Test, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("aGVsbG8=").value(), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(base64_decode("aGVsbG8").value(), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(base64_decode("").value(), std::vector<uint8_t>{});
  EXPECT_FALSE(base64_decode("a").ok());
  EXPECT_FALSE(base64_decode("aGV=sbG8").ok());
  EXPECT_FALSE(base64_decode("aGVsbG9=").ok()) << "non-zero trailing bits";
}

}  // namespace
}  // namespace tgi::tokenizer
