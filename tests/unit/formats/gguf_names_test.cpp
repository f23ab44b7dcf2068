#include "formats/gguf_names.h"

#include <gtest/gtest.h>

#include <vector>

namespace tgi::formats {
namespace {

TEST(GgufNamesTest, MapsHfNamesToLlamaCppNamesAndBack) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
      {"model.layers.12.self_attn.q_proj.weight", "blk.12.attn_q.weight"},
      {"model.layers.3.self_attn.k_proj.bias", "blk.3.attn_k.bias"},
      {"model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
      {"model.layers.3.self_attn.q_norm.weight", "blk.3.attn_q_norm.weight"},
      {"model.layers.7.post_attention_layernorm.weight", "blk.7.ffn_norm.weight"},
      {"model.layers.7.mlp.gate_proj.weight", "blk.7.ffn_gate.weight"},
      {"model.layers.7.mlp.up_proj.weight", "blk.7.ffn_up.weight"},
      {"model.layers.7.mlp.down_proj.weight", "blk.7.ffn_down.weight"},
  };
  for (const auto& [hf, gguf] : cases) {
    EXPECT_EQ(hf_to_gguf_tensor_name(hf), gguf) << hf;
    EXPECT_EQ(gguf_to_hf_tensor_name(gguf), hf) << gguf;
  }
  EXPECT_EQ(hf_to_gguf_tensor_name("model.layers.x.mlp.up_proj.weight"), std::nullopt);
  EXPECT_EQ(hf_to_gguf_tensor_name("model.layers.01.mlp.up_proj.weight"), std::nullopt);
  EXPECT_EQ(hf_to_gguf_tensor_name("model.layers.1.mlp.experts.0.weight"), std::nullopt);
  EXPECT_EQ(gguf_to_hf_tensor_name("blk.-1.ffn_up.weight"), std::nullopt);
  EXPECT_EQ(gguf_to_hf_tensor_name("blk.1"), std::nullopt);
}

TEST(GgufNamesTest, ArchitecturesAndQkRoles) {
  EXPECT_EQ(gguf_architecture_for_model_type("mistral"), "llama");
  EXPECT_EQ(gguf_architecture_for_model_type("qwen3"), "qwen3");
  EXPECT_EQ(gguf_architecture_for_model_type("gpt2"), std::nullopt);
  EXPECT_EQ(model_type_for_gguf_architecture("llama"), "llama");
  EXPECT_TRUE(gguf_permutes_qk("llama"));
  EXPECT_FALSE(gguf_permutes_qk("qwen2"));  // NEOX-style rope: no permutation
  EXPECT_EQ(gguf_qk_role("blk.0.attn_q.weight"), QkRole::kQuery);
  EXPECT_EQ(gguf_qk_role("blk.0.attn_k.bias"), QkRole::kKey);
  EXPECT_EQ(gguf_qk_role("blk.0.attn_q_norm.weight"), QkRole::kNone);
  EXPECT_EQ(gguf_qk_role("blk.0.attn_v.weight"), QkRole::kNone);
}

TEST(GgufNamesTest, QkPermutationInterleavesHalvesPerHead) {
  // 2 heads of 4 rows, 1 column: HF rows [a0 a1 b0 b1 | c0 c1 d0 d1] pair a_i with b_i.
  const std::vector<float> hf = {0, 1, 10, 11, 20, 21, 30, 31};
  std::vector<float> gguf(8), back(8);
  permute_qk_rows(hf.data(), gguf.data(), 8, 1, 2, true);
  EXPECT_EQ(gguf, (std::vector<float>{0, 10, 1, 11, 20, 30, 21, 31}));
  permute_qk_rows(gguf.data(), back.data(), 8, 1, 2, false);
  EXPECT_EQ(back, hf);

  // Whole rows move: 1 head of 6 rows, 3 columns.
  std::vector<float> wide(18), moved(18), restored(18);
  for (int i = 0; i < 18; ++i) wide[i] = static_cast<float>(i);
  permute_qk_rows(wide.data(), moved.data(), 6, 3, 1, true);
  EXPECT_EQ(std::vector<float>(moved.begin() + 3, moved.begin() + 6), (std::vector<float>{9, 10, 11}));  // row 1 <- row 3
  permute_qk_rows(moved.data(), restored.data(), 6, 3, 1, false);
  EXPECT_EQ(restored, wide);
}

}  // namespace
}  // namespace tgi::formats
