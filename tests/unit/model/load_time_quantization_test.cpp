// `--quantize` for safetensors checkpoints: the golden models loaded with their projections
// re-encoded at load must stay within quantization error of the transformers references, and the
// weights must really be stored in the block format (not quietly left as floats).
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "backend/load_quantization.h"
#include "formats/safetensors.h"
#include "golden.h"
#include "model/model_config.h"
#include "model/weight_loader.h"
#include "model/weight_placement.h"

namespace tgi::model::testing {
namespace {

using backend::parse_load_quantization;
using backend::quantized_format_for;
using kernels::WeightFormat;

// Load-time quantization alone: no rows count as page cache, so none are copied.
Result<backend::PlacementSummary> quantize(ModelWeights& weights, WeightFormat format,
                                           backend::Backend& backend) {
  backend::PlacementOptions options;
  options.quantize = format;
  return place_weights(weights, nullptr, backend, options);
}

std::unique_ptr<CausalLm> load_quantized(const std::string& name, WeightFormat format) {
  LoadOptions options;
  options.num_threads = 2;
  options.quantize = format;
  auto model = load_causal_lm(kModelsDir / name, options);
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? std::move(*model) : nullptr;
}

// Q8_0 moves a weight by at most half a step (max|w|/127) of its 32-weight block, ~0.5% RMS.
// The GGUF Q8_0 golden tests (gguf_model_test.cpp) measured what that does to these hidden-64
// random-weight checkpoints with the embedding quantized too and the int8-activation kernels:
// logits within 5% of their scale, logprobs within 0.5 nats, greedy agreeing where the reference
// margin exceeds 0.5. Here the embedding stays as stored, so the same bounds hold with room
// (measured: logits within 1.2-3.0% of their scale, logprobs within 0.05-0.23 nats).
// Unrelated logits (a wrong model) break them by far.
TEST(LoadTimeQ8_0, MatchesReference) {
  for (const std::string name : {"llama3", "qwen3", "qwen3_moe", "gpt2"}) {
    SCOPED_TRACE(name);
    auto model = load_quantized(name, WeightFormat::kQ8_0);
    ASSERT_NE(model, nullptr);
    for (const GoldenPrompt& g : load_golden(name).prompts) {
      const PromptRun run = run_prompt(*model, g.ids, static_cast<int>(g.greedy_ids.size()));
      ASSERT_EQ(run.prompt_logits.size(), g.ids.size());
      const Deviation d = compare(g, run, model->vocab_size(), /*margin_floor=*/0.5);
      EXPECT_FALSE(d.greedy_diverged_with_margin)
          << "greedy token diverged with a clear reference margin " << d.greedy_margin_at_divergence;
      EXPECT_LE(d.logit, 0.05 * d.logit_scale) << "max |logit - reference| at the last prompt position";
      EXPECT_LE(d.logprob, 0.5) << "max |logprob - reference|";
    }
  }
}

// 4-bit moves a weight by up to 1/14 of its block's largest: too coarse for per-logit bounds on
// toy models, so (as for the GGUF 4-bit files) the model must stay the same function: the last
// position's logits correlate with the reference's (unrelated logits correlate near 0).
// Q4_K's 256-element super-blocks are longer than these rows, so q4_k falls back to Q4_0 here
// (measured: 0.976-0.990); Q4KRowsAreReallyQ4K covers the real Q4_K path.
TEST(LoadTimeFourBit, StaysTheSameFunction) {
  for (const WeightFormat format : {WeightFormat::kQ4_0, WeightFormat::kQ4_K}) {
    for (const std::string name : {"llama3", "qwen3", "qwen3_moe"}) {
      SCOPED_TRACE(name + " " + kernels::to_string(format));
      auto model = load_quantized(name, format);
      ASSERT_NE(model, nullptr);
      for (const GoldenPrompt& g : load_golden(name).prompts) {
        const PromptRun run = run_prompt(*model, g.ids, 0);
        ASSERT_EQ(run.prompt_logits.size(), g.ids.size());
        EXPECT_GT(correlation(run.prompt_logits.back(), g.last_logits), 0.9);
      }
    }
  }
}

struct LoadedWeights {
  std::unique_ptr<formats::SafetensorsModel> file;
  ModelConfig config;
  ModelWeights weights;
};

LoadedWeights load_float_weights(const std::string& name) {
  LoadedWeights out;
  auto config = load_model_config(kModelsDir / name);
  EXPECT_TRUE(config.ok());
  auto file = formats::SafetensorsModel::open_dir(kModelsDir / name);
  EXPECT_TRUE(file.ok());
  if (!config.ok() || !file.ok()) return out;
  out.config = std::move(*config);
  out.file = std::move(*file);
  auto weights = load_weights(out.config, *out.file);
  EXPECT_TRUE(weights.ok()) << weights.error().message;
  if (weights.ok()) out.weights = std::move(*weights);
  return out;
}

size_t owned_bytes(const ModelWeights& w) {
  size_t n = 0;
  for (const auto& b : w.owned) n += b->size();
  return n;
}

TEST(LoadTimeQuantization, ProjectionsAreStoredQuantizedAndCloseToTheFloats) {
  LoadedWeights moe = load_float_weights("qwen3_moe");
  ASSERT_FALSE(moe.weights.layers.empty());
  const ModelWeights original = [&] {
    ModelWeights copy;  // views only: the floats stay in the open file
    copy.layers = moe.weights.layers;
    copy.lm_head = moe.weights.lm_head;
    copy.embed_tokens = moe.weights.embed_tokens;
    return copy;
  }();
  backend::cpu::CpuBackend backend(2);
  auto summary = quantize(moe.weights, WeightFormat::kQ8_0, backend);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->matrices_kept_unquantized, 0);
  EXPECT_GT(summary->matrices_quantized, 0);

  const ModelWeights& w = moe.weights;
  EXPECT_EQ(w.embed_tokens.data, original.embed_tokens.data) << "the embedding lookup stays as stored";
  EXPECT_EQ(w.lm_head.weight.format, WeightFormat::kQ8_0);
  size_t expected_bytes = static_cast<size_t>(kernels::weight_row_bytes(WeightFormat::kQ8_0, w.lm_head.weight.cols) *
                                              w.lm_head.weight.rows);
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& L = w.layers[i];
    std::vector<const Linear*> projections{&L.q, &L.k, &L.v, &L.o};
    if (L.mlp.present()) projections.insert(projections.end(), {&L.mlp.gate, &L.mlp.up, &L.mlp.down});
    for (const FeedForward& e : L.moe.experts) projections.insert(projections.end(), {&e.gate, &e.up, &e.down});
    for (const Linear* l : projections) {
      ASSERT_EQ(l->weight.format, WeightFormat::kQ8_0) << "layer " << i;
      expected_bytes += static_cast<size_t>(l->weight.rows * l->weight.row_stride);
    }
    if (L.moe.router.present()) {
      EXPECT_EQ(L.moe.router.weight.data, original.layers[i].moe.router.weight.data) << "routers stay as stored";
    }
  }
  EXPECT_GT(w.layers[0].moe.experts.size(), 0u) << "qwen3_moe should have experts in layer 0";
  EXPECT_EQ(backend.encoded_bytes(), expected_bytes) << "the backend holds exactly the quantized rows";
  EXPECT_EQ(owned_bytes(w), 0u) << "and the model no float copies";

  // Every row decodes to the float row within Q8_0's rounding: half a step of the block's
  // max|w|/127, plus the F16 scale's rounding (0.6 steps in all).
  const kernels::WeightView& before = original.layers[1].o.weight;
  const kernels::WeightView& after = w.layers[1].o.weight;
  std::vector<float> a(static_cast<size_t>(before.cols)), b(a.size());
  for (int64_t r = 0; r < before.rows; ++r) {
    kernels::dequantize_row(before, r, a.data());
    kernels::dequantize_row(after, r, b.data());
    for (int64_t block = 0; block < before.cols; block += 32) {
      float largest = 0;
      for (int64_t i = block; i < block + 32; ++i) largest = std::max(largest, std::abs(a[i]));
      for (int64_t i = block; i < block + 32; ++i)
        ASSERT_LE(std::abs(a[i] - b[i]), 0.6f * largest / 127.0f + 1e-9f) << "row " << r << " col " << i;
    }
  }
}

// gpt2's Conv1D weights are transposed into f32 buffers at load; once quantized, those copies are
// released so the model does not hold floats and blocks of the same matrix.
TEST(LoadTimeQuantization, RepackedFloatCopiesAreReleased) {
  LoadedWeights gpt2 = load_float_weights("gpt2");
  ASSERT_FALSE(gpt2.weights.layers.empty());
  const size_t float_bytes = owned_bytes(gpt2.weights);
  ASSERT_GT(float_bytes, 0u);
  backend::cpu::CpuBackend backend(1);
  ASSERT_TRUE(quantize(gpt2.weights, WeightFormat::kQ8_0, backend).ok());
  EXPECT_EQ(gpt2.weights.layers[0].q.weight.format, WeightFormat::kQ8_0);
  EXPECT_EQ(gpt2.weights.layers[0].mlp.up.weight.format, WeightFormat::kQ8_0);
  // Q8_0 is 34 bytes per 32 weights against f32's 128: the owned memory must shrink to ~27% plus
  // the (untied here) LM head; the f32 copies would keep it above the original.
  EXPECT_LT(owned_bytes(gpt2.weights), float_bytes);
}

// Rows of 256 weights take the real Q4_K encoding (the golden checkpoints' rows are too short).
// Q4_K stores each 32-weight sub-block as a 4-bit grid over [min, max] with 6-bit quantized
// scale and min: a weight moves by at most about half a step of its sub-block's range / 15, plus
// the scales' rounding; a tenth of the row's range bounds that generously yet catches a wrong
// layout (errors of the order of the weights themselves).
TEST(LoadTimeQuantization, Q4KRowsAreReallyQ4K) {
  constexpr int64_t kRows = 4, kCols = 512;
  std::vector<float> values(static_cast<size_t>(kRows * kCols));
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + (i % 7) * 0.1f);
  ModelWeights w;
  w.lm_head.weight = {WeightFormat::kF32, kRows, kCols, reinterpret_cast<const std::byte*>(values.data()),
                      kCols * static_cast<int64_t>(sizeof(float))};
  backend::cpu::CpuBackend backend(2);
  auto summary = quantize(w, WeightFormat::kQ4_K, backend);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->matrices_quantized, 1);
  ASSERT_EQ(w.lm_head.weight.format, WeightFormat::kQ4_K);
  EXPECT_EQ(w.lm_head.weight.row_stride, kernels::weight_row_bytes(WeightFormat::kQ4_K, kCols));
  std::vector<float> row(kCols);
  double worst = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    kernels::dequantize_row(w.lm_head.weight, r, row.data());
    for (int64_t i = 0; i < kCols; ++i) worst = std::max(worst, double{std::abs(row[i] - values[r * kCols + i])});
  }
  EXPECT_LT(worst, 0.1 * 3.2) << "rows span about [-1.6, 1.6]";
}

TEST(LoadTimeQuantization, FormatChoice) {
  EXPECT_EQ(quantized_format_for(WeightFormat::kF32, 4096, WeightFormat::kQ4_K), WeightFormat::kQ4_K);
  EXPECT_EQ(quantized_format_for(WeightFormat::kBF16, 64, WeightFormat::kQ4_K), WeightFormat::kQ4_0);
  EXPECT_EQ(quantized_format_for(WeightFormat::kF16, 64, WeightFormat::kQ8_0), WeightFormat::kQ8_0);
  EXPECT_EQ(quantized_format_for(WeightFormat::kF32, 48, WeightFormat::kQ8_0), std::nullopt) << "not whole blocks";
  EXPECT_EQ(quantized_format_for(WeightFormat::kQ8_0, 64, WeightFormat::kQ4_0), std::nullopt)
      << "GGUF blocks are used as stored, never re-quantized";
}

TEST(LoadTimeQuantization, NamesParse) {
  EXPECT_EQ(*parse_load_quantization("q8_0"), WeightFormat::kQ8_0);
  EXPECT_EQ(*parse_load_quantization("q4_0"), WeightFormat::kQ4_0);
  EXPECT_EQ(*parse_load_quantization("q4_k"), WeightFormat::kQ4_K);
  auto bad = parse_load_quantization("awq");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("q8_0"), std::string::npos);
}

}  // namespace
}  // namespace tgi::model::testing
