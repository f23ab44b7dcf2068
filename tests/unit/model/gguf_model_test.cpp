// GGUF files as models: the golden checkpoints converted with the library code `tgi convert`
// uses (model::export_gguf), loaded back through load_causal_lm, must reproduce the transformers
// references — within the golden tolerances for F32/F16, within a quantization bound for Q8_0.
// Broken files must fail with an error that says what is wrong.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "backend/cpu/cpu_backend.h"
#include "formats/gguf_file.h"
#include "formats/gguf_writer.h"
#include "golden.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "model/gguf_export.h"
#include "model/gguf_model_config.h"
#include "model/gguf_tensor_source.h"
#include "model/rope.h"
#include "model/weight_loader.h"
#include "model/weight_placement.h"

namespace tgi::model::testing {
namespace {

namespace fs = std::filesystem;

// The golden tests' tolerances (golden_forward_test.cpp): float64 reference, f32 activations.
constexpr double kGoldenTolerance = 1e-3;

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("tgi_gguf_" + std::to_string(::getpid()) + "_" + name);
}

struct TempFile {
  fs::path path;
  ~TempFile() { fs::remove(path); }
};

TempFile convert(const std::string& model, const std::string& type) {
  TempFile file{temp_path(model + "_" + type + ".gguf")};
  auto written = export_gguf(kModelsDir / model, type, file.path);
  EXPECT_TRUE(written.ok()) << written.error().message;
  return file;
}

std::unique_ptr<CausalLm> load_gguf(const fs::path& path) {
  LoadOptions options;
  options.num_threads = 2;
  auto model = load_causal_lm(path, options);
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? std::move(*model) : nullptr;
}

// How far a converted model may stray from the float64 reference.
struct Bounds {
  double logit_fraction = 0;  // of the reference logits' largest magnitude; 0: use `logit`
  double logit = kGoldenTolerance;
  double logprob = kGoldenTolerance;
  double greedy_margin = 1e-2;  // greedy tokens must agree where the reference margin exceeds this
};

// F32, F16 of a checkpoint stored in F16/BF16 (every value exact in F16) and BF16 of a BF16
// checkpoint: the same weights as the golden tests, so their tolerances.
// F16 of a float32 checkpoint (llama3) rounds each weight by up to 2^-11 of itself: ~1/16 of
// Q8_0's step below, so a tenth of its bounds (measured here: 0.006 on logits and logprobs).
// Q8_0 stores a weight with an error of up to half its 32-weight block's step (max|w|/127),
// ~0.5% RMS of the weights. Every projection, the embedding and the LM head carry it, and these
// hidden-64 random-weight checkpoints amplify it layer by layer: with the exact (dequantizing)
// kernel the logits move by up to 3% of their scale and logprobs by up to 0.32 nats. The int8
// activations of the fast kernels round the other operand about as much (x sqrt(2)), so the
// bounds are 5% and 0.5 nats. A q/k row-order mistake moves logprobs by more than that
// (GgufBounds.CatchAWrongRowOrder shows it).
Bounds bounds_for(const std::string& model, const std::string& type) {
  if (type == "q8_0") return {.logit_fraction = 0.05, .logprob = 0.5, .greedy_margin = 0.5};
  auto config = load_model_config(kModelsDir / model);
  const bool lossy_f16 = type == "f16" && config.ok() && config->torch_dtype == "float32";
  if (lossy_f16) return {.logit = 0.01, .logprob = 0.01, .greedy_margin = 0.05};
  return {};
}

// The worst deviation over the golden prompts, and whether it stays within `b`.
struct Verdict {
  double logit = 0, logit_allowed = 0, logprob = 0;
  bool greedy_ok = true;
  bool within(const Bounds& b) const { return logit <= logit_allowed && logprob <= b.logprob && greedy_ok; }
};

Verdict judge(CausalLm& model, const std::string& name, const Bounds& b) {
  Verdict v;
  const Golden golden = load_golden(name);
  EXPECT_EQ(golden.prompts.size(), 3u);
  for (const GoldenPrompt& g : golden.prompts) {
    const PromptRun run = run_prompt(model, g.ids, static_cast<int>(g.greedy_ids.size()));
    EXPECT_EQ(run.prompt_logits.size(), g.ids.size());
    if (run.prompt_logits.size() != g.ids.size()) return v;
    const Deviation d = compare(g, run, model.vocab_size(), b.greedy_margin);
    v.logit = std::max(v.logit, d.logit);
    v.logit_allowed = std::max(v.logit_allowed, b.logit_fraction > 0 ? b.logit_fraction * d.logit_scale : b.logit);
    v.logprob = std::max(v.logprob, d.logprob);
    v.greedy_ok = v.greedy_ok && !d.greedy_diverged_with_margin;
  }
  return v;
}

struct Case {
  std::string model;
  std::string type;
};

// What gtest prints for GetParam(): "llama3 converted to q4_0".
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << " converted to " << c.type;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) { return info.param.model + "_" + info.param.type; }

class GgufGolden : public ::testing::TestWithParam<Case> {};

TEST_P(GgufGolden, MatchesReference) {
  const Case& c = GetParam();
  const TempFile file = convert(c.model, c.type);
  auto model = load_gguf(file.path);
  ASSERT_NE(model, nullptr);
  const Bounds b = bounds_for(c.model, c.type);
  const Verdict v = judge(*model, c.model, b);
  EXPECT_LE(v.logit, v.logit_allowed) << "max |logit - reference| at the last prompt positions";
  EXPECT_LE(v.logprob, b.logprob) << "max |logprob - reference| (prompt and greedy)";
  EXPECT_TRUE(v.greedy_ok) << "greedy decoding diverged where the reference margin exceeds " << b.greedy_margin;
}

// 4- and 5-bit encodings (Q4_K falls back to Q5_0 where rows are shorter than its 256-element
// super-blocks, as on these checkpoints) move a weight by up to 1/14 (4-bit) of its block's
// largest: too coarse for per-logit bounds on toy models, so the check is that the model stays
// the same function — its last-position logits correlate with the reference's (measured
// 0.94-0.995; unrelated logits correlate near 0).
class GgufFourBit : public ::testing::TestWithParam<Case> {};

TEST_P(GgufFourBit, StaysTheSameFunction) {
  const Case& c = GetParam();
  const TempFile file = convert(c.model, c.type);
  auto model = load_gguf(file.path);
  ASSERT_NE(model, nullptr);
  for (const GoldenPrompt& g : load_golden(c.model).prompts) {
    const PromptRun run = run_prompt(*model, g.ids, 0);
    ASSERT_EQ(run.prompt_logits.size(), g.ids.size());
    const double r = correlation(run.prompt_logits.back(), g.last_logits);
    EXPECT_GT(r, 0.9) << "correlation of the last prompt position's logits with the reference";
  }
}

INSTANTIATE_TEST_SUITE_P(Converted, GgufFourBit,
                         ::testing::Values(Case{"llama3", "q4_0"}, Case{"llama3", "q4_k"}, Case{"qwen2", "q4_0"},
                                           Case{"qwen3", "q4_1"}, Case{"mistral", "q4_0"}, Case{"mistral", "q5_1"}),
                         case_name);

INSTANTIATE_TEST_SUITE_P(Converted, GgufGolden,
                         ::testing::Values(Case{"llama3", "f32"}, Case{"llama3", "f16"}, Case{"llama3", "q8_0"},
                                           Case{"qwen2", "f32"}, Case{"qwen2", "f16"}, Case{"qwen2", "q8_0"},
                                           Case{"qwen2", "bf16"}, Case{"qwen3", "f32"}, Case{"qwen3", "f16"},
                                           Case{"qwen3", "q8_0"}, Case{"qwen3", "bf16"},
                                           Case{"mistral", "f32"}, Case{"mistral", "f16"}, Case{"mistral", "q8_0"}),
                         case_name);

// The GGUF config carries what the golden configs say, including the parts a config.json
// equivalent cannot: mistral's sliding window and llama3's rope as frequency divisors.
TEST(GgufConfig, KeepsSlidingWindowAndLlama3Rope) {
  const TempFile mistral = convert("mistral", "f16");
  auto file = formats::GgufFile::open(mistral.path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto config = gguf_model_config(**file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto reference = load_model_config(kModelsDir / "mistral");
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(config->sliding_window, reference->sliding_window);
  EXPECT_EQ(config->layer_types, reference->layer_types);

  const TempFile llama3 = convert("llama3", "f32");
  auto llama3_file = formats::GgufFile::open(llama3.path);
  ASSERT_TRUE(llama3_file.ok());
  auto llama3_config = gguf_model_config(**llama3_file);
  ASSERT_TRUE(llama3_config.ok()) << llama3_config.error().message;
  auto llama3_reference = load_model_config(kModelsDir / "llama3");
  ASSERT_TRUE(llama3_reference.ok());
  const int64_t dim = llama3_reference->rotary_dim();
  const auto ours = compute_rope_frequencies(llama3_config->rope, dim, llama3_config->max_position_embeddings, 100);
  const auto theirs =
      compute_rope_frequencies(llama3_reference->rope, dim, llama3_reference->max_position_embeddings, 100);
  ASSERT_EQ(ours.inv_freq.size(), theirs.inv_freq.size());
  for (size_t i = 0; i < ours.inv_freq.size(); ++i) EXPECT_NEAR(ours.inv_freq[i] / theirs.inv_freq[i], 1.0, 1e-6) << i;
  EXPECT_EQ(ours.attention_factor, 1.0);
}

// --- broken files ---------------------------------------------------------------------------

// Rewrites a GGUF file: metadata kept, tensors copied unless `drop`ped; `replace` gets new F32
// values; `misorder`'s rows (`heads` heads) are stored in Hugging Face order instead of
// llama.cpp's, the mistake a converter that forgets the rope permutation makes.
struct Rewrite {
  std::string drop;
  std::string replace;
  std::vector<float> values;
  std::string misorder;
  std::string hollow;  // kept with its rows but no columns (zero bytes)
  int64_t heads = 0;
  std::map<std::string, formats::GgufValue> metadata;  // replaced values
};

std::vector<std::byte> rows_in_hf_order(const formats::GgufTensor& t, int64_t heads) {
  const int64_t rows = t.dims[1], head_rows = rows / heads, half = head_rows / 2;
  const size_t row_bytes = t.nbytes / static_cast<size_t>(rows);
  std::vector<std::byte> out(t.nbytes);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        std::memcpy(out.data() + (h * head_rows + j * half + i) * row_bytes,
                    t.data + (h * head_rows + 2 * i + j) * row_bytes, row_bytes);
  return out;
}

void rewrite(const fs::path& from, const fs::path& to, const Rewrite& edit) {
  auto file = formats::GgufFile::open(from);
  ASSERT_TRUE(file.ok());
  formats::GgufWriter writer((*file)->alignment());
  for (const auto& [key, value] : (*file)->metadata()) {
    if (key != "general.alignment") writer.set(key, value);
  }
  for (const auto& [key, value] : edit.metadata) writer.set(key, value);
  for (const auto& t : (*file)->tensors()) {
    if (t.name == edit.drop) continue;
    if (t.name == edit.replace) {
      std::vector<std::byte> bytes(edit.values.size() * sizeof(float));
      std::memcpy(bytes.data(), edit.values.data(), bytes.size());
      ASSERT_TRUE(writer.add_tensor(t.name, formats::GgmlType::kF32, {static_cast<int64_t>(edit.values.size())}, bytes).ok());
      continue;
    }
    if (t.name == edit.hollow) {
      ASSERT_TRUE(writer.add_tensor(t.name, t.type, {0, t.dims[1]}, std::vector<std::byte>{}).ok());
      continue;
    }
    std::vector<std::byte> bytes(t.data, t.data + t.nbytes);
    if (t.name == edit.misorder) bytes = rows_in_hf_order(t, edit.heads);
    ASSERT_TRUE(writer.add_tensor(t.name, t.type, t.dims, std::move(bytes)).ok());
  }
  auto written = writer.write_file(to);
  ASSERT_TRUE(written.ok()) << written.error().message;
}

// The Q8_0 bounds are loose enough for quantization noise, yet catch a q/k row-order mistake.
TEST(GgufBounds, CatchAWrongRowOrder) {
  const TempFile good = convert("llama3", "q8_0");
  const TempFile broken{temp_path("misordered.gguf")};
  rewrite(good.path, broken.path, {.misorder = "blk.0.attn_k.weight", .heads = 2});
  auto model = load_gguf(broken.path);
  ASSERT_NE(model, nullptr);
  const Verdict v = judge(*model, "llama3", bounds_for("llama3", "q8_0"));
  EXPECT_FALSE(v.within(bounds_for("llama3", "q8_0"))) << "logit " << v.logit << " (allowed " << v.logit_allowed
                                                       << "), logprob " << v.logprob;
}

// Q8_0 matrices are used in place and llama's q/k rows moved as whole blocks: every row the
// source answers decodes to the F32 file's row within Q8_0's rounding (half a step of its block
// scale max|w|/127, plus the scale's own F16 rounding: 0.6 steps).
TEST(GgufTensorSource, BlockRowsMatchTheFloatFileWithinQuantization) {
  const TempFile f32 = convert("llama3", "f32");
  const TempFile q8 = convert("llama3", "q8_0");
  auto f32_file = formats::GgufFile::open(f32.path);
  auto q8_file = formats::GgufFile::open(q8.path);
  ASSERT_TRUE(f32_file.ok() && q8_file.ok());
  auto exact = GgufTensorSource::open(std::move(*f32_file));
  auto quantized = GgufTensorSource::open(std::move(*q8_file));
  ASSERT_TRUE(exact.ok() && quantized.ok());
  int checked = 0;
  for (const std::string name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.2.self_attn.k_proj.weight",
                                 "model.layers.1.mlp.down_proj.weight", "model.embed_tokens.weight"}) {
    SCOPED_TRACE(name);
    auto a = (*exact)->require(name);
    auto b = (*quantized)->require(name);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ((*b)->format, kernels::WeightFormat::kQ8_0);
    ASSERT_EQ((*a)->shape, (*b)->shape);
    const int64_t rows = (*a)->shape[0], cols = (*a)->shape[1];
    const kernels::WeightView va{kernels::WeightFormat::kF32, rows, cols, (*a)->data, cols * 4};
    const kernels::WeightView vb{kernels::WeightFormat::kQ8_0, rows, cols, (*b)->data,
                                 kernels::weight_row_bytes(kernels::WeightFormat::kQ8_0, cols)};
    std::vector<float> ra(static_cast<size_t>(cols)), rb(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      kernels::dequantize_row(va, r, ra.data());
      kernels::dequantize_row(vb, r, rb.data());
      for (int64_t block = 0; block < cols; block += 32) {
        float largest = 0;
        for (int64_t i = block; i < block + 32; ++i) largest = std::max(largest, std::abs(ra[i]));
        for (int64_t i = block; i < block + 32; ++i) {
          ASSERT_LE(std::abs(ra[i] - rb[i]), 0.6f * largest / 127.0f + 1e-9f) << "row " << r << " col " << i;
        }
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(GgufBroken, HeadCountThatDoesNotDivideTheRowsIsAnError) {
  const TempFile good = convert("llama3", "q8_0");
  const TempFile broken{temp_path("heads.gguf")};
  rewrite(good.path, broken.path, {.metadata = {{"llama.attention.head_count_kv", formats::GgufValue::u32(3)}}});
  auto model = load_causal_lm(broken.path);
  ASSERT_FALSE(model.ok());
  EXPECT_FALSE(model.error().message.empty());
}

// A converted file's source and the weights loaded from it, not yet packed.
struct LoadedWeights {
  std::unique_ptr<GgufTensorSource> source;
  std::optional<ModelWeights> weights;
};

LoadedWeights load_unpacked(const fs::path& path) {
  LoadedWeights loaded;
  auto file = formats::GgufFile::open(path);
  EXPECT_TRUE(file.ok());
  if (!file.ok()) return loaded;
  auto config = gguf_model_config(**file);
  EXPECT_TRUE(config.ok());
  auto source = GgufTensorSource::open(std::move(*file));
  EXPECT_TRUE(source.ok());
  if (!config.ok() || !source.ok()) return loaded;
  loaded.source = std::move(*source);
  auto weights = load_weights(*config, *loaded.source);
  EXPECT_TRUE(weights.ok()) << weights.error().message;
  if (weights.ok()) loaded.weights = std::move(*weights);
  return loaded;
}

// Where the VNNI kernel runs, every Q8_0 projection gets a packed copy (and the forward that
// reads it is what GgufGolden checks); elsewhere the kernels read the stored rows, which are
// copied out of the file mapping instead.
TEST(WeightPacking, PacksEveryInt8ProjectionOnlyWhereTheKernelWantsIt) {
  const TempFile q8 = convert("llama3", "q8_0");
  LoadedWeights loaded = load_unpacked(q8.path);
  ASSERT_TRUE(loaded.weights.has_value());
  auto& weights = loaded.weights;
  auto& source = loaded.source;
  int64_t projections = 0;
  int64_t in_file = 0;  // without VNNI these are copied out of the page cache instead of packed
  for_each_linear(*weights, [&](Linear& l, bool) {
    if (!l.present()) return;
    ++projections;
    in_file += source->maps_file_at(l.weight.data) ? 1 : 0;
  });
  backend::cpu::CpuBackend backend(2);
  const bool vnni = kernels::active_cpu_isa() == kernels::CpuIsa::kAvx512 && kernels::cpu_has_avx512_vnni();
  auto packed = place_weights(*weights, source.get(), backend);
  ASSERT_TRUE(packed.ok());
  const backend::PlacementSummary summary = *packed;
  ASSERT_EQ(backend.placed_buffers().size(), 1u);
  if (!vnni) {
    // The q/k rows the GGUF source un-permuted at open already live in buffers of its own.
    ASSERT_LT(in_file, projections);
    EXPECT_EQ(summary.matrices_packed, 0);
    EXPECT_EQ(summary.matrices_copied, in_file);
    return;
  }
  EXPECT_GE(static_cast<int64_t>(backend.placed_buffers()[0].size()), summary.bytes_packed);
  EXPECT_EQ(summary.matrices_packed, projections);
  EXPECT_EQ(summary.matrices_copied, 0);
  EXPECT_GT(summary.bytes_packed, 0);
  for_each_linear(*weights, [&](Linear& l, bool) {
    if (l.present()) {
      EXPECT_NE(l.weight.packed, nullptr);
    }
  });
  EXPECT_EQ(weights->embed_tokens.packed, nullptr);                           // a lookup table, not a matmul
  EXPECT_EQ(place_weights(*weights, source.get(), backend)->matrices_packed, 0);  // already packed
}

// Float projections have no packed layout: each is copied out of the file mapping into the
// placement buffer, rows unchanged, except the q/k rows the GGUF source already un-permuted into
// buffers of its own (not page cache). A second call finds nothing left to move.
TEST(WeightPacking, CopiesFloatProjectionsOutOfTheFileMapping) {
  const TempFile bf16 = convert("llama3", "bf16");
  LoadedWeights loaded = load_unpacked(bf16.path);
  ASSERT_TRUE(loaded.weights.has_value());
  auto& weights = loaded.weights;
  auto& source = loaded.source;
  struct Stored {
    const std::byte* data;
    std::vector<std::byte> bytes;
  };
  std::map<const Linear*, Stored> before;
  int64_t in_file = 0;
  for_each_linear(*weights, [&](Linear& l, bool) {
    if (!l.present()) return;
    const auto* begin = l.weight.data;
    const int64_t size =
        (l.weight.rows - 1) * l.weight.row_stride + kernels::weight_row_bytes(l.weight.format, l.weight.cols);
    before[&l] = {begin, std::vector<std::byte>(begin, begin + size)};
    in_file += source->maps_file_at(begin) ? 1 : 0;
  });
  ASSERT_GT(in_file, 0);
  ASSERT_LT(in_file, static_cast<int64_t>(before.size()));  // q/k were un-permuted at open
  backend::cpu::CpuBackend backend(2);
  auto placed = place_weights(*weights, source.get(), backend);
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  EXPECT_EQ(placed->matrices_packed, 0);
  EXPECT_EQ(placed->matrices_copied, in_file);
  ASSERT_EQ(backend.placed_buffers().size(), 1u);
  const std::byte* buffer = backend.placed_buffers()[0].data();
  const size_t buffer_size = backend.placed_buffers()[0].size();
  for (const auto& [linear, stored] : before) {
    const std::byte* now = linear->weight.data;
    const bool moved = now >= buffer && now < buffer + buffer_size;
    EXPECT_EQ(moved, source->maps_file_at(stored.data));
    EXPECT_FALSE(source->maps_file_at(now));
    EXPECT_EQ(std::vector<std::byte>(now, now + stored.bytes.size()), stored.bytes);
  }
  const backend::PlacementSummary again = *place_weights(*weights, source.get(), backend);
  EXPECT_EQ(again.matrices_copied, 0);
  EXPECT_EQ(again.matrices_packed, 0);
}

// Found by fuzzing: a q/k matrix with rows but no bytes must be refused before its rows are moved.
TEST(GgufBroken, RowsWithoutBytesAreAnError) {
  const TempFile good = convert("llama3", "f32");
  const TempFile broken{temp_path("hollow.gguf")};
  rewrite(good.path, broken.path, {.hollow = "blk.0.attn_q.weight"});
  auto file = formats::GgufFile::open(broken.path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto source = GgufTensorSource::open(std::move(*file));
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.error().message.find("blk.0.attn_q.weight"), std::string::npos) << source.error().message;
}

TEST(GgufBroken, TruncatedFileIsAnError) {
  const TempFile good = convert("qwen3", "q8_0");
  const TempFile cut{temp_path("truncated.gguf")};
  const auto size = fs::file_size(good.path);
  for (const uintmax_t keep : {uintmax_t{3}, uintmax_t{64}, size / 2, size - 1}) {
    fs::copy_file(good.path, cut.path, fs::copy_options::overwrite_existing);
    fs::resize_file(cut.path, keep);
    auto model = load_causal_lm(cut.path);
    ASSERT_FALSE(model.ok()) << "kept " << keep << " bytes";
    EXPECT_FALSE(model.error().message.empty());
  }
}

TEST(GgufBroken, MissingTensorIsNamedBothWays) {
  const TempFile good = convert("llama3", "q8_0");
  const TempFile broken{temp_path("missing.gguf")};
  rewrite(good.path, broken.path, {.drop = "blk.1.ffn_up.weight"});
  auto model = load_causal_lm(broken.path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << model.error().message;
  EXPECT_NE(model.error().message.find("blk.1.ffn_up.weight"), std::string::npos) << model.error().message;
}

TEST(GgufBroken, RopeFrequencyDivisorsOfTheWrongLengthAreRejected) {
  const TempFile good = convert("llama3", "f16");
  const TempFile broken{temp_path("rope_freqs.gguf")};
  rewrite(good.path, broken.path, {.replace = "rope_freqs.weight", .values = {1.0f, 2.0f, 4.0f}});
  auto model = load_causal_lm(broken.path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("rope_freqs.weight"), std::string::npos) << model.error().message;

  rewrite(good.path, broken.path, {.replace = "rope_freqs.weight", .values = {1.0f, 2.0f, 0.0f, 1.0f}});
  model = load_causal_lm(broken.path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("positive"), std::string::npos) << model.error().message;
}

TEST(GgufBroken, NotAGgufFileSaysSo) {
  const TempFile junk{temp_path("junk.gguf")};
  std::ofstream(junk.path) << "GGUF but not really";
  auto model = load_causal_lm(junk.path);
  ASSERT_FALSE(model.ok());
  EXPECT_FALSE(model.error().message.empty());
}

}  // namespace
}  // namespace tgi::model::testing
