// tokenizer.json -> `tgi convert --to gguf` (tokenizer.ggml.* metadata) -> formats::gguf_tokenizer
// -> Tokenizer: the rebuilt tokenizer must give the reference's answers on every golden case.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../formats/safetensors_image.h"
#include "formats/gguf_file.h"
#include "formats/gguf_tokenizer.h"
#include "run_tgi.h"
#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenizer.h"

namespace tgi::cli {
namespace {

namespace fs = std::filesystem;
using formats::testing::TempDir;
using nlohmann::json;
using tgi::testing::run_tgi;

const fs::path kData = fs::path(TGI_TEST_DATA_DIR);

json load_json(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

struct Converted {
  fs::path gguf;  // removed with the test's temp dir
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  formats::GgufTokenizer from_gguf;
  json golden;
};

// The tiny checkpoint of `model` with the golden tokenizer `name`, converted to GGUF and read back.
Converted convert(const std::string& name, const std::string& model, const TempDir& dir) {
  Converted c;
  const fs::path model_dir = dir.path() / "model";
  fs::create_directories(model_dir);
  for (const auto& entry : fs::directory_iterator(kData / "models" / model)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("tokenizer", 0) == 0 || file.rfind("golden", 0) == 0) continue;
    fs::create_symlink(entry.path(), model_dir / file);
  }
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(kData / "tokenizers" / name / file, model_dir / file);
  }
  const fs::path out = dir.path() / "model.gguf";
  c.gguf = out;
  const auto run = run_tgi({"convert", "--model-id", model_dir.string(), "--to", "gguf", "--type", "f32", out.string()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto file = formats::GgufFile::open(out);
  if (!file.ok()) {
    ADD_FAILURE() << file.error().message;
    return c;
  }
  auto rebuilt = formats::gguf_tokenizer(**file);
  if (!rebuilt.ok()) {
    ADD_FAILURE() << rebuilt.error().message;
    return c;
  }
  c.from_gguf = std::move(*rebuilt);
  auto tok = tokenizer::Tokenizer::from_json(c.from_gguf.tokenizer_json, c.from_gguf.tokenizer_config);
  if (!tok.ok()) {
    ADD_FAILURE() << tok.error().message;
    return c;
  }
  c.tokenizer = std::move(*tok);
  c.golden = load_json(kData / "tokenizers" / name / "golden.json");
  return c;
}

std::string show(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 300); }

// Every per-case answer of the golden file; returns how many cases differ.
int compare_cases(const tokenizer::Tokenizer& tok, const json& golden) {
  int failures = 0;
  for (const json& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    std::string diff;
    auto e = tok.encode(text, true);
    auto plain = tok.encode(text, false);
    if (!e.ok() || !plain.ok()) {
      diff += "encode error\n";
    } else {
      std::vector<std::vector<size_t>> offsets;
      for (auto [b, en] : e->offsets) offsets.push_back({b, en});
      if (json(e->ids) != c["ids"]) diff += "ids " + show(json(e->ids)) + " want " + show(c["ids"]) + "\n";
      if (json(e->tokens) != c["tokens"]) diff += "tokens " + show(json(e->tokens)) + "\n";
      if (json(offsets) != c["offsets"]) diff += "offsets " + show(json(offsets)) + " want " + show(c["offsets"]) + "\n";
      if (json(plain->ids) != c["ids_no_special"]) diff += "ids_no_special " + show(json(plain->ids)) + "\n";
    }
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    if (tok.decode(ids, false) != c["decode"].get<std::string>()) diff += "decode " + show(json(tok.decode(ids))) + "\n";
    if (tok.decode(ids, true) != c["decode_skip_special"].get<std::string>()) diff += "decode_skip_special\n";
    if (c.contains("stream_chunks")) {
      tokenizer::IncrementalDecoder decoder(tok);
      json chunks = json::array();
      for (int32_t id : ids) {
        const std::string chunk = decoder.push(id);
        chunks.push_back(chunk.empty() ? json(nullptr) : json(chunk));
      }
      if (chunks != c["stream_chunks"]) diff += "stream " + show(chunks) + "\n";
    }
    if (!diff.empty() && ++failures <= 5) ADD_FAILURE() << "case " << c["index"] << " " << show(c["text"]) << "\n" << diff;
  }
  return failures;
}

int compare_vocabulary(const tokenizer::Tokenizer& tok, const json& golden) {
  int failures = 0;
  for (const auto& [key, want] : golden["decode_single"].items()) {
    const std::vector<int32_t> one{std::stoi(key)};
    if (tok.decode(one) != want.get<std::string>() && ++failures <= 5) ADD_FAILURE() << "decode_single " << key;
  }
  for (const auto& [key, want] : golden["id_to_token"].items()) {
    const auto got = tok.id_to_token(std::stoi(key));
    if ((!got || *got != want.get<std::string>()) && ++failures <= 10) ADD_FAILURE() << "id_to_token " << key;
  }
  for (const auto& a : golden["added_tokens"]) {
    const int32_t id = a["id"].get<int32_t>();
    if (tok.token_to_id(a["content"].get<std::string>()) != id && ++failures <= 15) ADD_FAILURE() << show(a);
    if (tok.is_special(id) != a["special"].get<bool>() && ++failures <= 15) ADD_FAILURE() << "special " << show(a);
  }
  EXPECT_EQ(tok.vocab_size(), golden["vocab_size_with_added"].get<int32_t>());
  return failures;
}

class GgufTokenizerRoundTrip : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(GgufTokenizerRoundTrip, MatchesTheGoldens) {
  const auto& [name, model] = GetParam();
  TempDir dir("gguf-tok-" + name);
  const Converted c = convert(name, model, dir);
  ASSERT_NE(c.tokenizer, nullptr);
  ASSERT_EQ(c.golden["cases"].size(), 160u);
  EXPECT_EQ(compare_cases(*c.tokenizer, c.golden), 0);
  EXPECT_EQ(compare_vocabulary(*c.tokenizer, c.golden), 0);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GgufTokenizerRoundTrip,
                         ::testing::Values(std::pair<std::string, std::string>{"llama2", "llama2-tok"},
                                           std::pair<std::string, std::string>{"llama3_1", "llama3"},
                                           std::pair<std::string, std::string>{"qwen3", "qwen3-tok"}),
                         [](const auto& info) { return info.param.first; });

// The tokenizer_config facts travel too: special tokens, add_bos and the chat template.
TEST(GgufTokenizerRoundTripConfig, SpecialTokensAndChatTemplate) {
  TempDir dir("gguf-tok-config");
  const Converted qwen = convert("qwen3", "qwen3-tok", dir);
  ASSERT_NE(qwen.tokenizer, nullptr);
  const json source = load_json(kData / "tokenizers" / "qwen3" / "tokenizer_config.json");
  EXPECT_EQ(qwen.tokenizer->config().eos_token, "<|im_end|>");
  EXPECT_EQ(qwen.tokenizer->config().eos_token_id, 151645);
  EXPECT_FALSE(qwen.tokenizer->config().add_bos_token);
  ASSERT_TRUE(qwen.tokenizer->config().chat_template.has_value());
  EXPECT_EQ(*qwen.tokenizer->config().chat_template, source["chat_template"].get<std::string>());

  TempDir llama_dir("gguf-tok-config-llama");
  const Converted llama = convert("llama2", "llama2-tok", llama_dir);
  ASSERT_NE(llama.tokenizer, nullptr);
  EXPECT_TRUE(llama.tokenizer->config().add_bos_token);
  EXPECT_EQ(llama.tokenizer->config().bos_token_id, 1);
  EXPECT_EQ(llama.from_gguf.eos_token_id, 2);
}

std::string run_with_stdin(const std::string& args, const std::string& input) {
  TempDir dir("gguf-tok-stdin");
  const fs::path in = dir.path() / "in.txt";
  std::ofstream(in) << input;
  const std::string command = std::string(TGI_BINARY) + " " + args + " < " + in.string() + " 2>&1";
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    pclose(pipe);
  }
  return out;
}

// `tgi tokenize --tokenizer X.gguf` uses the file's own tokenizer metadata.
TEST(GgufTokenizerRoundTripCli, TokenizeReadsTheGgufTokenizer) {
  TempDir dir("gguf-tok-cli");
  const Converted c = convert("qwen3", "qwen3-tok", dir);
  ASSERT_NE(c.tokenizer, nullptr);
  const std::string input = "\"Hello, world! 123\"\n\"<|im_start|>user\"\n";
  const std::string from_gguf = run_with_stdin("tokenize --tokenizer " + c.gguf.string(), input);
  const std::string from_json =
      run_with_stdin("tokenize --tokenizer " + (kData / "tokenizers" / "qwen3" / "tokenizer.json").string(), input);
  EXPECT_NE(from_gguf.find("\"ids\""), std::string::npos) << from_gguf;
  EXPECT_EQ(from_gguf, from_json);
}

}  // namespace
}  // namespace tgi::cli
