// A checkpoint that contradicts its config must fail to load with an error naming the tensor.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "golden.h"

namespace tgi::model::testing {
namespace {

namespace fs = std::filesystem;

struct Edit {
  std::string drop;          // tensor to leave out
  std::string reshape;       // tensor whose first dim is halved
  std::string retype;        // tensor stored as I32 instead of its float dtype
};

// Copies tests/data/models/llama3 into a temp dir, rewriting model.safetensors with one edit.
fs::path make_broken_copy(const Edit& edit, const std::string& tag) {
  const fs::path src = kModelsDir / "llama3";
  const fs::path dir = fs::temp_directory_path() / ("tgi_malformed_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(src / "config.json", dir / "config.json");
  auto file = formats::SafetensorsFile::open(src / "model.safetensors");
  EXPECT_TRUE(file.ok());
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& t : (*file)->tensors()) {
    if (t.name == edit.drop) continue;
    auto shape = t.shape;
    std::string dtype{formats::dtype_name(t.dtype)};
    size_t nbytes = t.nbytes;
    if (t.name == edit.reshape) {
      shape[0] /= 2;
      nbytes /= 2;
    }
    if (t.name == edit.retype) dtype = "I32";
    header[t.name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + nbytes}}};
    data.append(reinterpret_cast<const char*>(t.data), nbytes);
  }
  std::string h = header.dump();
  while (h.size() % 8) h.push_back(' ');
  std::ofstream out(dir / "model.safetensors", std::ios::binary);
  const uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << h << data;
  return dir;
}

TEST(MalformedCheckpoint, MissingTensorIsNamed) {
  const auto dir = make_broken_copy({.drop = "model.layers.1.mlp.up_proj.weight"}, "missing");
  auto model = load_causal_lm(dir);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << model.error().message;
  fs::remove_all(dir);
}

TEST(MalformedCheckpoint, WrongShapeIsNamedWithBothShapes) {
  const auto dir = make_broken_copy({.reshape = "model.layers.0.self_attn.k_proj.weight"}, "shape");
  auto model = load_causal_lm(dir);
  ASSERT_FALSE(model.ok());
  const auto& msg = model.error().message;
  EXPECT_NE(msg.find("model.layers.0.self_attn.k_proj.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[8, 64]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 64]"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(MalformedCheckpoint, UnusableDtypeIsNamed) {
  const auto dir = make_broken_copy({.retype = "model.norm.weight"}, "dtype");
  auto model = load_causal_lm(dir);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("model.norm.weight"), std::string::npos) << model.error().message;
  fs::remove_all(dir);
}

TEST(MalformedCheckpoint, HostileBatchIsAnErrorNotACrash) {
  auto loaded = load_causal_lm(kModelsDir / "llama3");
  ASSERT_TRUE(loaded.ok());
  CausalLm& model = **loaded;
  auto cache = model.allocate_kv_cache(2, 4);
  std::vector<float> logits(static_cast<size_t>(model.vocab_size()));
  const std::vector<int32_t> ok_table = {0, 1}, bad_table = {0, 9};
  auto run = [&](std::vector<int32_t> ids, std::vector<int32_t> table, int32_t context) {
    std::vector<int32_t> pos;
    for (size_t i = 0; i < ids.size(); ++i) pos.push_back(context + static_cast<int32_t>(i));
    SequenceInBatch s{0, static_cast<int32_t>(ids.size()), context, table, LogitsWanted::kLast};
    Batch b{ids, pos, std::span<const SequenceInBatch>(&s, 1)};
    return model.forward(b, *cache, logits);
  };
  EXPECT_TRUE(run({1, 2}, ok_table, 0).ok());
  EXPECT_FALSE(run({1, 99999}, ok_table, 0).ok());    // token outside the vocabulary
  EXPECT_FALSE(run({1, 2, 3, 4, 5}, bad_table, 0).ok());  // block id outside the cache
  EXPECT_FALSE(run({1, 2}, ok_table, 7).ok());        // more tokens than the table holds
  std::vector<float> small(3);
  std::vector<int32_t> ids{1}, pos{0};
  SequenceInBatch s{0, 1, 0, ok_table, LogitsWanted::kLast};
  EXPECT_FALSE(model.forward(Batch{ids, pos, std::span<const SequenceInBatch>(&s, 1)}, *cache, small).ok());
}

}  // namespace
}  // namespace tgi::model::testing
