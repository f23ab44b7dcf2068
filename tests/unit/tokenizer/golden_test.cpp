// Every case of the reference goldens (Hugging Face tokenizers 0.23) must match exactly.
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/incremental_decoder.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/tokenizer.h"
#include "shared_tokenizers.h"

namespace tgi::tokenizer {
namespace {

using json = nlohmann::json;

std::string data_dir(const std::string& name) { return std::string(TGI_TEST_DATA_DIR) + "/tokenizers/" + name; }

json load_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

struct Loaded {
  std::unique_ptr<Tokenizer> owned;
  const Tokenizer* tokenizer = nullptr;
  json golden;
};

// "name" loads the file as is; "name/general" wraps its normalizer in a one-element Sequence,
// which means the same but keeps the byte-level fast path out, so the general pipeline is
// checked against the goldens too.
const Loaded& loaded(const std::string& name) {
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Loaded l;
  const size_t slash = name.find('/');
  const std::string base = name.substr(0, slash);
  Result<std::unique_ptr<Tokenizer>> t = Error{};
  if (slash == std::string::npos) {
    std::string error;
    l.tokenizer = testing::golden_tokenizer(base, &error);
    if (!l.tokenizer) ADD_FAILURE() << error;
  } else {
    json doc = load_json(data_dir(base) + "/tokenizer.json");
    json inner = doc["normalizer"].is_null() ? json{{"type", "Sequence"}, {"normalizers", json::array()}} : doc["normalizer"];
    doc["normalizer"] = json{{"type", "Sequence"}, {"normalizers", json::array({inner})}};
    t = Tokenizer::from_json_string(doc.dump());
    if (t.ok() && (*t)->pipeline().byte_level_fast_path) ADD_FAILURE() << "fast path not disabled";
    if (!t.ok()) ADD_FAILURE() << t.error().message;
    else l.owned = std::move(t).value();
    l.tokenizer = l.owned.get();
  }
  l.golden = load_json(data_dir(base) + "/golden.json");
  return cache.emplace(name, std::move(l)).first->second;
}

std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 400); }

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    l_ = &loaded(GetParam());
    ASSERT_NE(l_->tokenizer, nullptr);
    ASSERT_EQ(cases().size(), 160u);  // the comparison covers every case
  }
  const Tokenizer& tok() { return *l_->tokenizer; }
  const json& cases() { return l_->golden["cases"]; }
  const Loaded* l_ = nullptr;
};

template <typename Fn>
void for_each_case(const json& cases, const char* what, Fn&& check) {
  int failures = 0;
  for (const auto& c : cases) {
    std::string diff = check(c);
    if (!diff.empty()) {
      if (++failures <= 5) ADD_FAILURE() << what << " case " << c["index"] << " (" << c["group"].get<std::string>()
                                         << ") text=" << show(c["text"]) << "\n" << diff;
    }
  }
  EXPECT_EQ(failures, 0) << what << ": " << failures << " of " << cases.size() << " cases differ";
}

std::vector<int32_t> ids_of(const json& j) { return j.get<std::vector<int32_t>>(); }

TEST_P(GoldenTest, EncodeWithSpecialTokens) {
  for_each_case(cases(), "encode", [&](const json& c) -> std::string {
    auto e = tok().encode(c["text"].get<std::string>(), true);
    if (!e.ok()) return "error: " + e.error().message;
    std::string diff;
    if (e->ids != ids_of(c["ids"])) diff += "ids: got " + show(json(e->ids)) + " want " + show(c["ids"]) + "\n";
    if (e->tokens != c["tokens"].get<std::vector<std::string>>())
      diff += "tokens: got " + show(json(e->tokens)) + " want " + show(c["tokens"]) + "\n";
    std::vector<std::vector<size_t>> offsets;
    for (auto [b, en] : e->offsets) offsets.push_back({b, en});
    if (json(offsets) != c["offsets"]) diff += "offsets: got " + show(json(offsets)) + " want " + show(c["offsets"]) + "\n";
    return diff;
  });
}

TEST_P(GoldenTest, EncodeWithoutSpecialTokens) {
  for_each_case(cases(), "encode(no special)", [&](const json& c) -> std::string {
    auto e = tok().encode(c["text"].get<std::string>(), false);
    if (!e.ok()) return "error: " + e.error().message;
    if (e->ids != ids_of(c["ids_no_special"]))
      return "got " + show(json(e->ids)) + " want " + show(c["ids_no_special"]);
    return "";
  });
}

TEST_P(GoldenTest, Decode) {
  for_each_case(cases(), "decode", [&](const json& c) -> std::string {
    const auto ids = ids_of(c["ids"]);
    std::string diff;
    const std::string d = tok().decode(ids, false);
    if (d != c["decode"].get<std::string>()) diff += "decode: got " + show(json(d)) + " want " + show(c["decode"]) + "\n";
    const std::string s = tok().decode(ids, true);
    if (s != c["decode_skip_special"].get<std::string>())
      diff += "skip_special: got " + show(json(s)) + " want " + show(c["decode_skip_special"]) + "\n";
    return diff;
  });
}

TEST_P(GoldenTest, StreamChunks) {
  json with_chunks = json::array();
  for (const auto& c : cases())
    if (c.contains("stream_chunks")) with_chunks.push_back(c);
  ASSERT_GT(with_chunks.size(), 0u);
  for_each_case(with_chunks, "stream", [&](const json& c) -> std::string {
    IncrementalDecoder decoder(tok());
    json got = json::array();
    for (int32_t id : ids_of(c["ids"])) {
      std::string chunk = decoder.push(id);
      got.push_back(chunk.empty() ? json(nullptr) : json(chunk));
    }
    if (got != c["stream_chunks"]) return "got " + show(got) + " want " + show(c["stream_chunks"]);
    return "";
  });
}

TEST_P(GoldenTest, SingleIdsAndVocabulary) {
  const json& g = l_->golden;
  int failures = 0;
  for (const auto& [key, want] : g["decode_single"].items()) {
    const int32_t id = std::stoi(key);
    const std::vector<int32_t> one{id};
    if (tok().decode(one) != want.get<std::string>() && ++failures <= 5)
      ADD_FAILURE() << "decode_single " << id << ": got " << show(json(tok().decode(one))) << " want " << show(want);
  }
  for (const auto& [key, want] : g["id_to_token"].items()) {
    const int32_t id = std::stoi(key);
    auto got = tok().id_to_token(id);
    if ((!got || *got != want.get<std::string>()) && ++failures <= 10)
      ADD_FAILURE() << "id_to_token " << id << ": got " << (got ? *got : "<none>") << " want " << show(want);
    if (got && tok().token_to_id(*got) != id && ++failures <= 10) ADD_FAILURE() << "token_to_id round trip " << id;
  }
  for (const auto& a : g["added_tokens"]) {
    const int32_t id = a["id"].get<int32_t>();
    if (tok().token_to_id(a["content"].get<std::string>()) != id && ++failures <= 15)
      ADD_FAILURE() << "added token " << show(a) << " has a different id";
    if (tok().is_special(id) != a["special"].get<bool>() && ++failures <= 15)
      ADD_FAILURE() << "added token " << show(a) << " special flag differs";
  }
  EXPECT_EQ(tok().vocab_size(), g["vocab_size_with_added"].get<int32_t>());
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GoldenTest,
                         ::testing::Values("llama2", "llama3_1", "qwen3", "gemma3", "deepseek_v3",
                                           "llama3_1/general", "qwen3/general", "deepseek_v3/general"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = c == '/' ? '_' : c;
                           return n;
                         });

TEST(FastPathTest, ByteLevelTokenizersTakeIt) {
  for (const char* name : {"llama3_1", "qwen3", "deepseek_v3"}) {
    const Loaded& l = loaded(name);
    ASSERT_NE(l.tokenizer, nullptr);
    EXPECT_TRUE(l.tokenizer->pipeline().byte_level_fast_path.has_value()) << name;
  }
}

}  // namespace
}  // namespace tgi::tokenizer

namespace tgi::tokenizer {
namespace {

// Cutting SentencePiece words at "▁" must not change a single id, also where a vocab token spans
// such a point (gemma3's ">▁</"). ignore_merges=true switches the cutting off without changing
// anything else for texts that are not themselves one vocab token.
TEST(MetaspaceChunkingTest, SameIdsAsWholeWordMerging) {
  const Loaded& chunked = loaded("gemma3");
  ASSERT_NE(chunked.tokenizer, nullptr);
  json doc = load_json(data_dir("gemma3") + "/tokenizer.json");
  doc["model"]["ignore_merges"] = true;
  auto whole = Tokenizer::from_json_string(doc.dump());
  ASSERT_TRUE(whole.ok());
  int compared = 0;
  for (const auto& c : chunked.golden["cases"]) {
    if (compared == 40) break;  // enough to cover every kind of text; whole-word merging is slow
    const std::string text = "<p> </p> " + c["text"].get<std::string>() + " x> </y " + c["text"].get<std::string>();
    auto a = chunked.tokenizer->encode(text);
    auto b = (*whole)->encode(text);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->ids, b->ids) << c["text"];
    EXPECT_EQ(a->offsets, b->offsets) << c["text"];
    ++compared;
  }
  EXPECT_EQ(compared, 40);
}

}  // namespace
}  // namespace tgi::tokenizer
