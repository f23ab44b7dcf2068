#include "model/model_config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tgi::model {
namespace {

const std::filesystem::path kModels = std::filesystem::path(TGI_TEST_DATA_DIR) / "models";

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::vector<std::string> model_dirs() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kModels))
    if (std::filesystem::exists(e.path() / "config.v4.json")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ModelConfig, AllGoldenDirsParseIdenticallyFromBothConfigStyles) {
  const auto names = model_dirs();
  ASSERT_EQ(names.size(), 23u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    auto v5 = parse_model_config(read_json(kModels / name / "config.json"));
    ASSERT_TRUE(v5.ok()) << v5.error().message;
    auto v4 = parse_model_config(read_json(kModels / name / "config.v4.json"));
    ASSERT_TRUE(v4.ok()) << v4.error().message;
    EXPECT_TRUE(*v5 == *v4);
    EXPECT_EQ(v5->layer_types.size(), static_cast<size_t>(v5->num_hidden_layers));
    EXPECT_EQ(v5->layer_uses_rope.size(), static_cast<size_t>(v5->num_hidden_layers));
    EXPECT_EQ(v5->layer_is_moe.size(), static_cast<size_t>(v5->num_hidden_layers));
  }
}

TEST(ModelConfig, ResolvesArchitectureDetails) {
  auto llama3 = load_model_config(kModels / "llama3");
  ASSERT_TRUE(llama3.ok());
  EXPECT_EQ(llama3->rope.type, RopeType::kLlama3);
  EXPECT_DOUBLE_EQ(llama3->rope.factor, 8.0);
  EXPECT_EQ(llama3->rope.original_max_position_embeddings, 64);
  EXPECT_EQ(llama3->head_dim, 8);
  EXPECT_EQ(llama3->num_key_value_heads, 2);

  auto gemma3 = load_model_config(kModels / "gemma3");
  ASSERT_TRUE(gemma3.ok());
  EXPECT_EQ(gemma3->model_type, "gemma3_text");
  EXPECT_DOUBLE_EQ(gemma3->rope.theta, 1e6);
  EXPECT_DOUBLE_EQ(gemma3->rope_sliding.theta, 1e4);
  EXPECT_EQ(gemma3->layer_types[2], LayerType::kFullAttention);
  EXPECT_EQ(gemma3->layer_types[3], LayerType::kSlidingAttention);
  EXPECT_DOUBLE_EQ(gemma3->rope_for_layer(0).theta, 1e4);
  EXPECT_EQ(gemma3->norm_type, NormType::kRmsNormOnePlus);

  auto gpt2 = load_model_config(kModels / "gpt2");
  ASSERT_TRUE(gpt2.ok());
  EXPECT_EQ(gpt2->intermediate_size, 256);
  EXPECT_EQ(gpt2->num_key_value_heads, 4);
  EXPECT_TRUE(gpt2->learned_positions);

  auto phi = load_model_config(kModels / "phi");
  ASSERT_TRUE(phi.ok());
  EXPECT_EQ(phi->rotary_dim(), 8);
  EXPECT_EQ(phi->block_style, BlockStyle::kParallel);

  auto granite = load_model_config(kModels / "granite");
  ASSERT_TRUE(granite.ok());
  EXPECT_DOUBLE_EQ(granite->attention_scale(), 0.1);
  EXPECT_DOUBLE_EQ(granite->logits_multiplier, 1.0 / 8.0);

  auto smollm3 = load_model_config(kModels / "smollm3");
  ASSERT_TRUE(smollm3.ok());
  EXPECT_TRUE(smollm3->layer_uses_rope[0]);
  EXPECT_FALSE(smollm3->layer_uses_rope[1]);

  auto mistral = load_model_config(kModels / "mistral");
  ASSERT_TRUE(mistral.ok());
  EXPECT_EQ(mistral->sliding_window, 16);
  EXPECT_EQ(mistral->layer_types[0], LayerType::kSlidingAttention);

  auto qwen2_moe = load_model_config(kModels / "qwen2_moe");
  ASSERT_TRUE(qwen2_moe.ok());
  EXPECT_EQ(qwen2_moe->num_experts, 8);
  EXPECT_FALSE(qwen2_moe->norm_topk_prob);
  EXPECT_EQ(qwen2_moe->shared_expert_intermediate_size, 64);

  auto deepseek = load_model_config(kModels / "deepseek_v3");
  ASSERT_TRUE(deepseek.ok());
  EXPECT_FALSE(deepseek->layer_is_moe[0]);
  EXPECT_TRUE(deepseek->layer_is_moe[1]);
  EXPECT_EQ(deepseek->router_scoring, RouterScoring::kSigmoid);

  auto llama4 = load_model_config(kModels / "llama4_text");
  ASSERT_TRUE(llama4.ok());
  EXPECT_EQ(llama4->layer_types[0], LayerType::kChunkedAttention);
  EXPECT_FALSE(llama4->layer_is_moe[0]);
  EXPECT_TRUE(llama4->layer_is_moe[1]);
}

TEST(ModelConfig, UnknownArchitectureNamesItAndListsSupported) {
  auto j = read_json(kModels / "llama3" / "config.json");
  j["model_type"] = "mamba";
  auto r = parse_model_config(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(r.error().message.find("mamba"), std::string::npos);
  EXPECT_NE(r.error().message.find("qwen3"), std::string::npos);
}

TEST(ModelConfig, RejectsMalformedValues) {
  auto j = read_json(kModels / "llama3" / "config.json");
  j["hidden_size"] = "big";
  EXPECT_FALSE(parse_model_config(j).ok());
  j = read_json(kModels / "llama3" / "config.json");
  j["num_key_value_heads"] = 3;
  EXPECT_FALSE(parse_model_config(j).ok());
  EXPECT_FALSE(parse_model_config(nlohmann::json::array()).ok());
}

TEST(ModelConfig, HugeLayerCountIsAnErrorBeforeAnyPerLayerTableIsSized) {
  // Found by the config fuzzer: a moe model with 2^60 layers reached vector<bool>::assign.
  for (const char* model : {"llama3", "qwen3_moe", "gpt2"}) {
    auto j = read_json(kModels / model / "config.json");
    j[std::string(model) == "gpt2" ? "n_layer" : "num_hidden_layers"] = int64_t{1} << 60;
    auto r = parse_model_config(j);
    ASSERT_FALSE(r.ok()) << model;
    EXPECT_NE(r.error().message.find("must be in [0, 65536]"), std::string::npos) << r.error().message;
  }
}

TEST(ModelConfig, GenerationConfigReadsEosList) {
  auto g = parse_generation_config(nlohmann::json::parse(R"({"eos_token_id": [2, 7], "temperature": 0.6, "bos_token_id": 1})"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->eos_token_ids, (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(g->bos_token_id, 1);
  auto from_dir = load_generation_config(kModels / "qwen3-tok");
  ASSERT_TRUE(from_dir.ok());
  EXPECT_EQ(from_dir->eos_token_ids, (std::vector<int64_t>{151645}));
}

}  // namespace
}  // namespace tgi::model
