// `tgi generate --quantize`: the load-time quantized model runs through the binary users run,
// stays close to the float model, and a method that is not ours is refused with the choices.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "run_tgi.h"

namespace tgi::cli {
namespace {

namespace fs = std::filesystem;
using tgi::testing::run_tgi;

const fs::path kModel = fs::path(TGI_TEST_DATA_DIR) / "models" / "qwen3-tok";

nlohmann::json generate(const std::vector<std::string>& extra) {
  std::vector<std::string> all = {"generate", "--model-id",   kModel.string(), "--input-ids", "1,20,300,42",
                                  "--json",   "--max-new-tokens", "4",        "--num-threads", "1"};
  all.insert(all.end(), extra.begin(), extra.end());
  const auto run = run_tgi(all);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json::object();
}

TEST(QuantizeCli, GenerateWithQ8_0StaysCloseToTheFloatModel) {
  const auto reference = generate({});
  const auto quantized = generate({"--quantize", "q8_0"});
  ASSERT_TRUE(reference.contains("prompt_logprobs") && quantized.contains("prompt_logprobs"));
  ASSERT_EQ(quantized["generated_ids"].size(), 4u);
  // Same bound as the Q8_0 golden tests (load_time_quantization_test.cpp): 0.5 nats per token.
  const auto& a = reference["prompt_logprobs"];
  const auto& b = quantized["prompt_logprobs"];
  ASSERT_EQ(a.size(), b.size());
  int compared = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_number() || !b[i].is_number()) continue;
    EXPECT_NEAR(a[i].get<double>(), b[i].get<double>(), 0.5) << "prompt position " << i;
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

TEST(QuantizeCli, UnknownMethodIsRefused) {
  const auto run = run_tgi({"generate", "--model-id", kModel.string(), "--input-ids", "1,2", "--quantize", "gptq"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("q8_0"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace tgi::cli
