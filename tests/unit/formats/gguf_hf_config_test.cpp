#include "formats/gguf_hf_config.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "formats/gguf_writer.h"

namespace tgi::formats {
namespace {

std::vector<std::byte> image_of(const GgufWriter& writer) {
  std::ostringstream out;
  EXPECT_TRUE(writer.write(out).ok());
  const std::string s = out.str();
  std::vector<std::byte> bytes(s.size());
  std::memcpy(bytes.data(), s.data(), s.size());
  return bytes;
}

GgufWriter qwen2_like() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("qwen2"));
  w.set("qwen2.embedding_length", GgufValue::u32(64));
  w.set("qwen2.block_count", GgufValue::u32(2));
  w.set("qwen2.attention.head_count", GgufValue::u32(4));
  w.set("qwen2.attention.head_count_kv", GgufValue::u32(2));
  w.set("qwen2.feed_forward_length", GgufValue::u32(128));
  w.set("qwen2.context_length", GgufValue::u32(4096));
  w.set("qwen2.rope.freq_base", GgufValue::f32(1e6f));
  w.set("qwen2.attention.layer_norm_rms_epsilon", GgufValue::f32(1e-6f));
  w.set("qwen2.rope.scaling.type", GgufValue::string("yarn"));
  w.set("qwen2.rope.scaling.factor", GgufValue::f32(4.0f));
  w.set("qwen2.rope.scaling.original_context_length", GgufValue::u32(1024));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "c"}));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
  EXPECT_TRUE(w.add_tensor("token_embd.weight", GgmlType::kF32, {64, 3}, std::vector<std::byte>(64 * 3 * 4)).ok());
  EXPECT_TRUE(w.add_tensor("blk.0.attn_q.bias", GgmlType::kF32, {64}, std::vector<std::byte>(64 * 4)).ok());
  EXPECT_TRUE(w.add_tensor("blk.0.attn_q.weight", GgmlType::kF32, {64, 64}, std::vector<std::byte>(64 * 64 * 4)).ok());
  return w;
}

TEST(GgufHfConfigTest, RebuildsConfigFromMetadata) {
  const auto image = image_of(qwen2_like());
  auto file = GgufFile::parse(image);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto config = gguf_to_hf_config(**file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  const auto& c = *config;
  EXPECT_EQ(c["model_type"], "qwen2");
  EXPECT_EQ(c["architectures"][0], "Qwen2ForCausalLM");
  EXPECT_EQ(c["hidden_size"], 64);
  EXPECT_EQ(c["num_key_value_heads"], 2);
  EXPECT_EQ(c["head_dim"], 16);  // no key_length: hidden / heads
  EXPECT_EQ(c["vocab_size"], 3);  // from the token list
  EXPECT_EQ(c["max_position_embeddings"], 4096);
  EXPECT_EQ(c["tie_word_embeddings"], true);  // no output.weight
  EXPECT_EQ(c["attention_bias"], true);
  EXPECT_EQ(c["rope_theta"], 1e6);
  EXPECT_EQ(c["rope_scaling"]["rope_type"], "yarn");
  EXPECT_EQ(c["rope_scaling"]["factor"], 4.0);
  EXPECT_EQ(c["rope_scaling"]["original_max_position_embeddings"], 1024);
  EXPECT_EQ(c["eos_token_id"], 2);
  EXPECT_FALSE(c.contains("bos_token_id"));

  // qwen2 uses NEOX rope: nothing to un-permute.
  const auto q = gguf_tensor_to_hf(**file, *(*file)->find_tensor("blk.0.attn_q.weight"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->hf_name, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(q->unpermute_heads, 0);
}

TEST(GgufHfConfigTest, LlamaQkTensorsAreUnpermuted) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("llama.attention.head_count", GgufValue::u32(8));
  w.set("llama.attention.head_count_kv", GgufValue::u32(2));
  ASSERT_TRUE(w.add_tensor("blk.1.attn_q.weight", GgmlType::kF32, {4, 16}, std::vector<std::byte>(256)).ok());
  ASSERT_TRUE(w.add_tensor("blk.1.attn_k.weight", GgmlType::kF32, {4, 4}, std::vector<std::byte>(64)).ok());
  ASSERT_TRUE(w.add_tensor("rope_freqs.weight", GgmlType::kF32, {2}, std::vector<std::byte>(8)).ok());
  const auto image = image_of(w);
  auto file = GgufFile::parse(image);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(gguf_tensor_to_hf(**file, (*file)->tensors()[0])->unpermute_heads, 8);
  EXPECT_EQ(gguf_tensor_to_hf(**file, (*file)->tensors()[1])->unpermute_heads, 2);
  EXPECT_FALSE(gguf_tensor_to_hf(**file, (*file)->tensors()[2]).has_value());
  // Hyper-parameters are missing: a clear error, not a half-filled config.
  auto config = gguf_to_hf_config(**file);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("llama.embedding_length"), std::string::npos);
}

TEST(GgufHfConfigTest, RejectsUnknownArchitecturesAndScaling) {
  GgufWriter w = qwen2_like();
  w.set("general.architecture", GgufValue::string("rwkv6"));
  auto image = image_of(w);
  EXPECT_EQ(gguf_to_hf_config(**GgufFile::parse(image)).error().kind, ErrorKind::kUnsupported);
  w = qwen2_like();
  w.set("qwen2.rope.scaling.type", GgufValue::string("su"));
  image = image_of(w);
  EXPECT_EQ(gguf_to_hf_config(**GgufFile::parse(image)).error().kind, ErrorKind::kUnsupported);
  w = qwen2_like();
  w.set("qwen2.block_count", GgufValue::string("two"));
  image = image_of(w);
  EXPECT_EQ(gguf_to_hf_config(**GgufFile::parse(image)).error().kind, ErrorKind::kCorruptData);
}

}  // namespace
}  // namespace tgi::formats
