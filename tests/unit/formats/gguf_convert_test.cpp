// `tgi convert --to gguf` end to end: convert the golden checkpoints, read the file back with
// GgufFile and compare every tensor (renamed, un-permuted, decoded) with the safetensors source.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/gguf_file.h"
#include "formats/gguf_hf_config.h"
#include "formats/gguf_names.h"
#include "formats/safetensors.h"

namespace tgi::formats {
namespace {

const std::filesystem::path kModels = std::filesystem::path(TGI_TEST_DATA_DIR) / "models";

float f16_value(const std::byte* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 31;
  const int mantissa = h & 1023;
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -24);
  return sign * std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
}

float f32_value(const std::byte* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

std::vector<float> source_values(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (t.dtype == DType::kF32) {
      out[i] = f32_value(t.data + 4 * i);
    } else if (t.dtype == DType::kBF16) {
      uint32_t bits = 0;
      std::memcpy(reinterpret_cast<char*>(&bits) + 2, t.data + 2 * i, 2);
      std::memcpy(&out[i], &bits, 4);
    } else {
      out[i] = f16_value(t.data + 2 * i);
    }
  }
  return out;
}

// Decoded values plus, per element, how far the format may move it (0 for F32).
struct Decoded {
  std::vector<float> values;
  std::vector<float> tolerance;
};

Decoded decode(const GgufTensor& t) {
  const auto n = static_cast<size_t>(t.num_elements());
  Decoded d{std::vector<float>(n), std::vector<float>(n, 0.0f)};
  switch (t.type) {
    case GgmlType::kF32:
      for (size_t i = 0; i < n; ++i) d.values[i] = f32_value(t.data + 4 * i);
      break;
    case GgmlType::kF16:
      for (size_t i = 0; i < n; ++i) {
        d.values[i] = f16_value(t.data + 2 * i);
        d.tolerance[i] = std::fabs(d.values[i]) * 1e-3f + 1e-7f;
      }
      break;
    case GgmlType::kQ8_0:  // blocks of {f16 d, int8 q[32]}; x = d * q, error <= d / 2
      for (size_t b = 0; b < n / 32; ++b) {
        const std::byte* block = t.data + 34 * b;
        const float scale = f16_value(block);
        for (size_t j = 0; j < 32; ++j) {
          d.values[32 * b + j] = scale * static_cast<float>(static_cast<int8_t>(block[2 + j]));
          d.tolerance[32 * b + j] = scale * 0.5f * 1.01f + 1e-7f;
        }
      }
      break;
    default: ADD_FAILURE() << "unexpected type " << ggml_type_name(t.type);
  }
  return d;
}

std::string run_convert(const std::string& model, const std::string& type, const std::filesystem::path& out) {
  const std::string command = std::string(TGI_BINARY) + " convert --model-id " + (kModels / model).string() +
                              " --to gguf --type " + type + " " + out.string() + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "popen failed";
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  return status == 0 ? "" : "exit " + std::to_string(status) + ": " + output;
}

class GgufConvertTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(TGI_BINARY)) GTEST_SKIP() << "the tgi binary is not built: " << TGI_BINARY;
  }
};

TEST_P(GgufConvertTest, ConvertedTensorsMatchTheSafetensorsSource) {
  const auto& [model, type] = GetParam();
  const auto out = std::filesystem::temp_directory_path() / ("tgi_convert_" + model + "_" + type + ".gguf");
  ASSERT_EQ(run_convert(model, type, out), "");
  auto gguf = GgufFile::open(out);
  ASSERT_TRUE(gguf.ok()) << gguf.error().message;
  auto source = SafetensorsModel::open_dir(kModels / model);
  ASSERT_TRUE(source.ok()) << source.error().message;

  const std::string arch = *(*gguf)->architecture();
  const int64_t heads = *(*gguf)->get_int(arch + ".attention.head_count");
  const int64_t kv_heads = *(*gguf)->get_int(arch + ".attention.head_count_kv");
  size_t compared = 0;
  for (const TensorView* t : (*source)->all()) {
    const auto name = hf_to_gguf_tensor_name(t->name);
    ASSERT_TRUE(name.has_value()) << t->name;
    const GgufTensor* g = (*gguf)->find_tensor(*name);
    ASSERT_NE(g, nullptr) << *name;
    ASSERT_EQ(g->shape(), t->shape) << *name;
    EXPECT_EQ(gguf_to_hf_tensor_name(*name), t->name);
    if (t->shape.size() == 1) {
      EXPECT_EQ(g->type, GgmlType::kF32) << *name;
    }

    Decoded decoded = decode(*g);
    const auto role = gguf_qk_role(*name);
    if (gguf_permutes_qk(arch) && role != QkRole::kNone) {
      const int64_t rows = t->shape[0];
      const int64_t cols = t->shape.size() > 1 ? t->shape[1] : 1;
      const int64_t h = role == QkRole::kQuery ? heads : kv_heads;
      Decoded restored{std::vector<float>(decoded.values.size()), std::vector<float>(decoded.values.size())};
      permute_qk_rows(decoded.values.data(), restored.values.data(), rows, cols, h, false);
      permute_qk_rows(decoded.tolerance.data(), restored.tolerance.data(), rows, cols, h, false);
      decoded = std::move(restored);
    }
    const auto expected = source_values(*t);
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_LE(std::fabs(decoded.values[i] - expected[i]), decoded.tolerance[i])
          << *name << " element " << i << " type " << ggml_type_name(g->type);
    }
    ++compared;
  }
  EXPECT_GT(compared, 10u);
  std::filesystem::remove(out);
}

INSTANTIATE_TEST_SUITE_P(Models, GgufConvertTest,
                         ::testing::Values(std::make_pair("llama3", "f32"), std::make_pair("llama3", "q8_0"),
                                           std::make_pair("llama3", "f16"), std::make_pair("qwen3", "f32"),
                                           std::make_pair("qwen3", "q8_0"), std::make_pair("mistral", "q8_0")),
                         [](const auto& info) { return info.param.first + "_" + info.param.second; });

class GgufConvertMetadataTest : public GgufConvertTest {};

TEST_F(GgufConvertMetadataTest, Llama3HyperParametersAndRopeFrequencies) {
  const auto out = std::filesystem::temp_directory_path() / "tgi_convert_meta_llama3.gguf";
  ASSERT_EQ(run_convert("llama3", "q4_0", out), "");
  auto gguf = GgufFile::open(out);
  ASSERT_TRUE(gguf.ok()) << gguf.error().message;
  const GgufFile& f = **gguf;
  EXPECT_EQ(*f.architecture(), "llama");
  EXPECT_EQ(*f.get_int("llama.block_count"), 3);
  EXPECT_EQ(*f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(*f.get_int("llama.feed_forward_length"), 128);
  EXPECT_EQ(*f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(*f.get_int("llama.attention.head_count_kv"), 2);
  EXPECT_EQ(*f.get_int("llama.rope.dimension_count"), 8);
  EXPECT_EQ(*f.get_int("llama.vocab_size"), 512);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_double("llama.rope.freq_base")), 500000.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_double("llama.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(*f.get_int("general.file_type"), 2);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->type, GgmlType::kQ4_0);
  EXPECT_EQ(f.find_tensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);
  // llama3 rope scaling: factor 8 for long wavelengths, 1 for short ones.
  const GgufTensor* freqs = f.find_tensor("rope_freqs.weight");
  ASSERT_NE(freqs, nullptr);
  ASSERT_EQ(freqs->dims, (std::vector<int64_t>{4}));
  EXPECT_FLOAT_EQ(f32_value(freqs->data), 1.0f);
  EXPECT_FLOAT_EQ(f32_value(freqs->data + 12), 8.0f);
  std::filesystem::remove(out);
}

TEST_F(GgufConvertMetadataTest, KQuantsFallBackWhereRowsAreNotSuperBlocks) {
  const auto out = std::filesystem::temp_directory_path() / "tgi_convert_q4k_qwen3.gguf";
  ASSERT_EQ(run_convert("qwen3", "q4_k", out), "");
  auto gguf = GgufFile::open(out);
  ASSERT_TRUE(gguf.ok()) << gguf.error().message;
  // Rows of 64 (hidden) and 128 (intermediate) are not 256-element super-blocks.
  EXPECT_EQ((*gguf)->find_tensor("blk.0.ffn_up.weight")->type, GgmlType::kQ5_0);
  EXPECT_EQ((*gguf)->find_tensor("blk.0.ffn_down.weight")->type, GgmlType::kQ5_0);
  EXPECT_EQ((*gguf)->find_tensor("blk.0.attn_q_norm.weight")->type, GgmlType::kF32);
  std::filesystem::remove(out);
}

TEST_F(GgufConvertMetadataTest, SentencePieceTokenizer) {
  const auto out = std::filesystem::temp_directory_path() / "tgi_convert_llama2_tok.gguf";
  ASSERT_EQ(run_convert("llama2-tok", "q8_0", out), "");
  auto gguf = GgufFile::open(out);
  ASSERT_TRUE(gguf.ok()) << gguf.error().message;
  const GgufFile& f = **gguf;
  EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "llama");
  const auto tokens = *f.find_value("tokenizer.ggml.tokens")->as_strings();
  ASSERT_EQ(tokens.size(), 32000u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[3], "<0x00>");
  const auto types = *f.find_value("tokenizer.ggml.token_type")->as_ints();
  EXPECT_EQ(types[0], 2);  // <unk>
  EXPECT_EQ(types[1], 3);  // <s> is a control token
  EXPECT_EQ(types[3], 6);  // byte token
  EXPECT_EQ(types[1000], 1);
  EXPECT_EQ(f.find_value("tokenizer.ggml.scores")->as_doubles()->size(), 32000u);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(*f.get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_EQ(f.find_value("tokenizer.ggml.add_bos_token")->as_bool(), true);
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);  // tied to token_embd
  std::filesystem::remove(out);
}

TEST_F(GgufConvertMetadataTest, ByteLevelBpeTokenizerWithChatTemplate) {
  const auto out = std::filesystem::temp_directory_path() / "tgi_convert_qwen3_tok.gguf";
  ASSERT_EQ(run_convert("qwen3-tok", "q8_0", out), "");
  auto gguf = GgufFile::open(out);
  ASSERT_TRUE(gguf.ok()) << gguf.error().message;
  const GgufFile& f = **gguf;
  EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*f.get_string("tokenizer.ggml.pre"), "qwen2");
  const auto tokens = *f.find_value("tokenizer.ggml.tokens")->as_strings();
  ASSERT_EQ(tokens.size(), 151936u);  // padded to the model's vocab_size
  EXPECT_EQ(tokens[151644], "<|im_start|>");
  EXPECT_EQ(tokens[151935], "[PAD151935]");
  const auto types = *f.find_value("tokenizer.ggml.token_type")->as_ints();
  EXPECT_EQ(types[151644], 3);
  EXPECT_EQ(types[151935], 5);
  const auto merges = *f.find_value("tokenizer.ggml.merges")->as_strings();
  EXPECT_EQ(merges[0], "Ġ Ġ");
  EXPECT_EQ(*f.get_int("tokenizer.ggml.eos_token_id"), 151645);  // <|im_end|>
  EXPECT_EQ(*f.get_int("tokenizer.ggml.padding_token_id"), 151643);
  EXPECT_NE(f.get_string("tokenizer.chat_template")->find("<|im_start|>"), std::string::npos);
  std::filesystem::remove(out);
}

TEST_F(GgufConvertMetadataTest, ConfigAndTensorNamesMapBackToHuggingFace) {
  for (const std::string model : {"llama3", "qwen3", "llama2-tok"}) {
    const auto out = std::filesystem::temp_directory_path() / ("tgi_convert_back_" + model + ".gguf");
    ASSERT_EQ(run_convert(model, "q8_0", out), "");
    auto gguf = GgufFile::open(out);
    ASSERT_TRUE(gguf.ok()) << gguf.error().message;
    auto config = gguf_to_hf_config(**gguf);
    ASSERT_TRUE(config.ok()) << config.error().message;
    std::ifstream in(kModels / model / "config.json");
    const auto source = nlohmann::json::parse(in);
    for (const char* key : {"model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
                            "num_attention_heads", "num_key_value_heads", "vocab_size", "max_position_embeddings",
                            "tie_word_embeddings", "attention_bias"}) {
      EXPECT_EQ((*config)[key], source[key]) << model << " " << key;
    }
    if (source.contains("head_dim")) {
      EXPECT_EQ((*config)["head_dim"], source["head_dim"]) << model;
    }
    EXPECT_FLOAT_EQ((*config)["rms_norm_eps"].get<float>(), source["rms_norm_eps"].get<float>()) << model;
    EXPECT_FLOAT_EQ((*config)["rope_theta"].get<float>(), source["rope_parameters"]["rope_theta"].get<float>()) << model;

    size_t mapped = 0;
    for (const GgufTensor& t : (*gguf)->tensors()) {
      const auto hf = gguf_tensor_to_hf(**gguf, t);
      if (t.name == "rope_freqs.weight") {
        EXPECT_FALSE(hf.has_value());
        continue;
      }
      ASSERT_TRUE(hf.has_value()) << t.name;
      ++mapped;
      const bool llama = model != "qwen3";
      if (t.name == "blk.0.attn_q.weight") {
        EXPECT_EQ(hf->unpermute_heads, llama ? source["num_attention_heads"].get<int64_t>() : 0);
      }
      if (t.name == "blk.0.attn_k.weight") {
        EXPECT_EQ(hf->unpermute_heads, llama ? source["num_key_value_heads"].get<int64_t>() : 0);
      }
      if (t.name == "blk.0.attn_v.weight") {
        EXPECT_EQ(hf->unpermute_heads, 0);
      }
    }
    EXPECT_GT(mapped, 10u);
    std::filesystem::remove(out);
  }
}

TEST_F(GgufConvertMetadataTest, RejectsBadArguments) {
  const auto out = std::filesystem::temp_directory_path() / "tgi_convert_bad.gguf";
  EXPECT_NE(run_convert("llama3", "q3_k", out).find("--type q3_k"), std::string::npos);
  EXPECT_NE(run_convert("does-not-exist", "f32", out), "");
  EXPECT_NE(run_convert("gpt2", "f32", out).find("not supported"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace tgi::formats
