// `tgi convert` then `tgi generate --model-id FILE.gguf`: the converted file is the same model as
// the directory it came from, through the binary users run.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "../formats/safetensors_image.h"
#include "run_tgi.h"

namespace tgi::cli {
namespace {

namespace fs = std::filesystem;
using formats::testing::TempDir;
using tgi::testing::run_tgi;

const fs::path kModel = fs::path(TGI_TEST_DATA_DIR) / "models" / "qwen3-tok";

nlohmann::json generate(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"generate", "--max-new-tokens", "4", "--json", "--num-threads", "1"};
  all.insert(all.end(), args.begin(), args.end());
  const auto run = run_tgi(all);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json::object();
}

TEST(GgufModelCli, GeneratesWhatTheSafetensorsDirectoryGenerates) {
  TempDir dir("gguf-cli");
  const fs::path gguf = dir.path() / "model.gguf";
  const auto converted = run_tgi({"convert", "--model-id", kModel.string(), "--type", "f32", gguf.string()});
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  // The weights are the same values (bf16 widened to f32), so the same tokens and logprobs.
  const auto reference = generate({"--model-id", kModel.string(), "--input-ids", "1,20,300,42"});
  const auto from_gguf = generate({"--model-id", gguf.string(), "--input-ids", "1,20,300,42"});
  ASSERT_TRUE(reference.contains("generated_ids") && from_gguf.contains("generated_ids"));
  EXPECT_EQ(from_gguf["generated_ids"], reference["generated_ids"]);
  ASSERT_EQ(from_gguf["prompt_logprobs"].size(), reference["prompt_logprobs"].size());
  for (size_t i = 1; i < reference["prompt_logprobs"].size(); ++i) {
    EXPECT_NEAR(from_gguf["prompt_logprobs"][i].get<double>(), reference["prompt_logprobs"][i].get<double>(), 1e-3) << i;
  }

  // A prompt needs the tokenizer: the file's tokenizer.ggml.* metadata (written by convert from
  // the same tokenizer.json) must tokenize as the directory's tokenizer.json does.
  const auto text_reference = generate({"--model-id", kModel.string(), "--prompt", "Hello GGUF, how are you?"});
  const auto text_gguf = generate({"--model-id", gguf.string(), "--prompt", "Hello GGUF, how are you?"});
  EXPECT_EQ(text_gguf["input_ids"], text_reference["input_ids"]);
  EXPECT_EQ(text_gguf["generated_ids"], text_reference["generated_ids"]);
  EXPECT_EQ(text_gguf["generated_text"], text_reference["generated_text"]);
}

TEST(GgufModelCli, TruncatedFileFailsWithAMessage) {
  TempDir dir("gguf-cli-bad");
  const fs::path gguf = dir.path() / "model.gguf";
  ASSERT_EQ(run_tgi({"convert", "--model-id", kModel.string(), "--type", "q8_0", gguf.string()}).exit_code, 0);
  fs::resize_file(gguf, fs::file_size(gguf) / 2);
  const auto run = run_tgi({"generate", "--model-id", gguf.string(), "--input-ids", "1,2"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_EQ(run.exit_code < 128, true) << "killed by a signal";
  EXPECT_FALSE(run.err.empty());
}

}  // namespace
}  // namespace tgi::cli
