#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "../formats/safetensors_image.h"
#include "run_tgi.h"

namespace tgi::cli {
namespace {

namespace fs = std::filesystem;
using formats::testing::TempDir;
using tgi::testing::run_tgi;

const fs::path kModels = fs::path(TGI_TEST_DATA_DIR) / "models";

// Offline and with an empty cache, so nothing here can touch the network.
std::map<std::string, std::string> offline_env(const TempDir& home) {
  return {{"HF_HOME", home.path().string()}, {"HF_HUB_OFFLINE", "1"}, {"HF_HUB_CACHE", ""},
          {"HUGGINGFACE_HUB_CACHE", ""}};
}

// Every golden checkpoint: inspect names its model_type, counts exactly the parameters the
// reference saved, lists its dtype, and calls it servable.
TEST(InspectCommand, DescribesEveryGoldenCheckpoint) {
  TempDir home("inspect-home");
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(kModels)) {
    if (!fs::exists(entry.path() / "golden.json")) continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path() / "golden.json");
    const auto golden = nlohmann::json::parse(in);
    int64_t expected_parameters = 0;
    std::set<std::string> expected_dtypes;
    for (const auto& [name, shape_and_dtype] : golden["safetensors_keys"].items()) {
      int64_t n = 1;
      for (int64_t d : shape_and_dtype[0].get<std::vector<int64_t>>()) n *= d;
      expected_parameters += n;
      expected_dtypes.insert(shape_and_dtype[1].get<std::string>());
    }
    auto run = run_tgi({"inspect", "--model-id", entry.path().string(), "--json"}, offline_env(home));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto report = nlohmann::json::parse(run.out);
    EXPECT_EQ(report["parameters"].get<int64_t>(), expected_parameters);
    EXPECT_EQ(report["num_tensors"].get<size_t>(), golden["safetensors_keys"].size());
    std::set<std::string> dtypes;
    for (const auto& [dtype, tally] : report["dtypes"].items()) dtypes.insert(dtype);
    EXPECT_EQ(dtypes, expected_dtypes);
    // golden model_type is the HF one; ModelConfig may normalize (gemma3 -> gemma3_text).
    const std::string model_type = report.value("model_type", "");
    EXPECT_EQ(model_type.rfind(golden["model_type"].get<std::string>(), 0), 0u) << model_type;
    EXPECT_TRUE(report["supported"].get<bool>()) << report["problems"].dump();

    auto text = run_tgi({"inspect", entry.path().string()}, offline_env(home));
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("parameters:   " + std::to_string(expected_parameters)), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("supported:    yes"), std::string::npos) << text.out;
    ++checked;
  }
  EXPECT_EQ(checked, 23);
}

// Mixture of experts: a token runs k of E routed experts, so (E - k) / E of the routed expert
// weights are idle for it. Values worked out by hand from the checkpoints' tensor lists.
TEST(InspectCommand, ReportsActiveParametersPerTokenForMixtureOfExperts) {
  TempDir home("inspect-home");
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"qwen3_moe", 116096},   {"mixtral", 164672},     {"gpt_oss", 141264},
      {"qwen2_moe", 140992},   {"deepseek_v3", 146408}, {"llama4_text", 139840}};
  for (const auto& [model, active] : expected) {
    auto run = run_tgi({"inspect", "--model-id", (kModels / model).string(), "--json"}, offline_env(home));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto report = nlohmann::json::parse(run.out);
    EXPECT_EQ(report.value("active_parameters_per_token", int64_t{-1}), active) << model;
    EXPECT_LT(active, report["parameters"].get<int64_t>()) << model;
    auto text = run_tgi({"inspect", (kModels / model).string()}, offline_env(home));
    EXPECT_NE(text.out.find("active:       " + std::to_string(active) + " "), std::string::npos) << text.out;
  }
  auto dense = run_tgi({"inspect", "--model-id", (kModels / "llama3").string(), "--json"}, offline_env(home));
  EXPECT_FALSE(nlohmann::json::parse(dense.out).contains("active_parameters_per_token"));
}

TEST(InspectCommand, GroupsLayerTensors) {
  TempDir home("inspect-home");
  auto run = run_tgi({"inspect", "--model-id", (kModels / "llama3").string()}, offline_env(home));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("architecture: LlamaForCausalLM (model_type llama)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("model.layers.*.self_attn.q_proj.weight"), std::string::npos) << run.out;
}

// A GGUF file is inspected as it is stored (GGUF names, ggml types) and loaded the way `serve`
// would load it.
TEST(InspectCommand, DescribesAGgufFile) {
  TempDir home("inspect-home"), out("inspect-gguf");
  const fs::path gguf = out.path() / "llama3.q8_0.gguf";
  auto convert = run_tgi({"convert", "--model-id", (kModels / "llama3").string(), "--to", "gguf", "--type",
                          "q8_0", gguf.string()},
                         offline_env(home));
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  auto run = run_tgi({"inspect", "--model-id", gguf.string(), "--json"}, offline_env(home));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["format"], "gguf");
  EXPECT_EQ(report["model_type"], "llama");
  EXPECT_TRUE(report["supported"].get<bool>()) << run.out;
  EXPECT_TRUE(report["dtypes"].contains("Q8_0")) << run.out;
  auto safetensors =
      run_tgi({"inspect", "--model-id", (kModels / "llama3").string(), "--json"}, offline_env(home));
  const auto reference = nlohmann::json::parse(safetensors.out);
  EXPECT_EQ(reference["format"], "safetensors");
  EXPECT_EQ(report["config"]["num_hidden_layers"], reference["config"]["num_hidden_layers"]);
  auto text = run_tgi({"inspect", gguf.string()}, offline_env(home));
  EXPECT_NE(text.out.find("blk.*.attn_q.weight"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("supported:    yes"), std::string::npos) << text.out;

  std::ofstream(out.path() / "broken.gguf") << "GGUF but not really";
  auto broken = run_tgi({"inspect", (out.path() / "broken.gguf").string()}, offline_env(home));
  EXPECT_NE(broken.out.find("supported:    no"), std::string::npos) << broken.out;
}

TEST(InspectCommand, ExplainsWhyAModelIsNotSupported) {
  TempDir home("inspect-home"), dir("inspect-unsupported");
  std::ofstream(dir.path() / "config.json") << R"({"model_type":"mamba","architectures":["MambaForCausalLM"]})";
  formats::testing::write_file(
      dir.path() / "model.safetensors",
      formats::testing::safetensors_image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8));
  auto run = run_tgi({"inspect", "--model-id", dir.path().string()}, offline_env(home));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("supported:    no"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("mamba"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("parameters:   2"), std::string::npos) << run.out;
}

TEST(InspectCommand, ReportsUnresolvableModelIds) {
  TempDir home("inspect-home");
  auto run = run_tgi({"inspect", "--model-id", "org/not-cached"}, offline_env(home));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("HF_HUB_OFFLINE"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace tgi::cli
