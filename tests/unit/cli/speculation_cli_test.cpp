// `tgi generate --speculate N` gives greedy's very tokens in fewer forwards, on golden
// checkpoints; `tgi bench --speculate N` reports the verification cost and the engine comparison,
// and speculation changed no token there either.
#include <cctype>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_tgi.h"

namespace tgi::cli {
namespace {

nlohmann::json generate(const std::string& model, const std::string& ids, int speculate) {
  const auto run =
      testing::run_tgi({"generate", "--model-id", model, "--input-ids", ids, "--max-new-tokens", "40",
                        "--ignore-eos", "--json", "--speculate", std::to_string(speculate)});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json{};
}

class GenerateSpeculation : public ::testing::TestWithParam<std::string> {};

// Test names: the parameter with every character gtest does not allow in a name made '_'.
std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

TEST_P(GenerateSpeculation, SameTokensAndLogprobsInFewerForwards) {
  const std::string model = std::string(TGI_TEST_DATA_DIR) + "/models/" + GetParam();
  std::ifstream file(model + "/golden.json");
  ASSERT_TRUE(file.good());
  const auto golden = nlohmann::json::parse(file);
  int plain_forwards = 0, speculative_forwards = 0;
  for (const auto& prompt : golden["prompts"]) {
    std::string ids;
    for (int twice = 0; twice < 2; ++twice)  // a prompt said twice invites copying
      for (const auto& id : prompt["ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
    const auto plain = generate(model, ids, 0);
    const auto spec = generate(model, ids, 4);
    ASSERT_FALSE(plain.is_null());
    ASSERT_FALSE(spec.is_null());
    EXPECT_EQ(spec["generated_ids"], plain["generated_ids"]);
    EXPECT_EQ(spec["generated_logprobs"], plain["generated_logprobs"]);
    plain_forwards += plain["decode_forwards"].get<int>();
    speculative_forwards += spec["decode_forwards"].get<int>();
  }
  EXPECT_LT(speculative_forwards, plain_forwards);
}

INSTANTIATE_TEST_SUITE_P(Models, GenerateSpeculation,
                         ::testing::Values("gemma2", "phi", "qwen3-tok", "cohere"), param_name);

TEST(SpeculationBench, ReportsVerificationCostAndIdenticalOutputs) {
  const std::string model = std::string(TGI_TEST_DATA_DIR) + "/models/llama3";
  const auto run = testing::run_tgi(
      {"bench", "--model-id", model, "--batch-sizes", "1", "--prompt-lengths", "0", "--decode-steps", "2",
       "--speculate", "3", "--speculate-batch-sizes", "1,2", "--speculate-new-tokens", "24", "--json", "-"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("speculative decoding through the engine"), std::string::npos) << run.out;
  const auto json_start = run.out.rfind("\n{");
  ASSERT_NE(json_start, std::string::npos) << run.out;
  const auto json = nlohmann::json::parse(run.out.substr(json_start + 1));
  ASSERT_EQ(json["verify"].size(), 1u);
  EXPECT_EQ(json["verify"][0]["rows_per_sequence"], 4);
  EXPECT_GT(json["verify"][0]["verify_p50_ms"].get<double>(), 0.0);
  ASSERT_EQ(json["speculation"].size(), 4u);  // copy and random, batch 1 and 2
  for (const auto& cell : json["speculation"]) {
    EXPECT_TRUE(cell["identical"].get<bool>()) << cell.dump();
    EXPECT_GE(cell["acceptance"].get<double>(), 0.0);
    EXPECT_LE(cell["acceptance"].get<double>(), 1.0);
    EXPECT_GT(cell["plain_tokens_per_second"].get<double>(), 0.0);
  }
  // The passage stated three times is copied: proposals are made and most are kept.
  EXPECT_EQ(json["speculation"][0]["workload"], "copy");
  EXPECT_GT(json["speculation"][0]["tokens_per_step"].get<double>(), 1.0);
}

TEST(SpeculationBench, OutOfRangeIsRefused) {
  const auto run = testing::run_tgi({"bench", "--model-id", "x", "--speculate", "17"});
  EXPECT_NE(run.exit_code, 0);
}

}  // namespace
}  // namespace tgi::cli
