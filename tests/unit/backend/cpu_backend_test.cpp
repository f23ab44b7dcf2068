// The CPU backend against its contract (backend/backend.h): operations checked against plain
// double-precision references on small problems, memory it reports and allocates, and the KV cache
// round trip through project_qkv and attention.
#include "backend/cpu/cpu_backend.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "backend/make_backend.h"

namespace tgi::backend::cpu {
namespace {

// A row-major f32 matrix and the view the backend reads.
struct F32Matrix {
  std::vector<float> values;
  kernels::WeightView view;

  F32Matrix(int64_t rows, int64_t cols, float seed) : values(static_cast<size_t>(rows * cols)) {
    for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(seed * static_cast<float>(i + 1)) * 0.5f;
    view = {kernels::WeightFormat::kF32, rows, cols, reinterpret_cast<const std::byte*>(values.data()),
            cols * static_cast<int64_t>(sizeof(float))};
  }
  double at(int64_t r, int64_t c) const { return values[static_cast<size_t>(r * view.cols + c)]; }
};

// Copies host floats into a buffer of the backend (the CPU's are host memory).
std::unique_ptr<Buffer> upload(Backend& backend, const std::vector<float>& host) {
  auto buffer = backend.allocate(host.size() * sizeof(float));
  std::copy(host.begin(), host.end(), buffer->floats());
  return buffer;
}

std::vector<float> download(Backend& backend, const float* device, int64_t n) {
  std::vector<float> host(static_cast<size_t>(n));
  backend.copy_to_host(device, n, host.data());
  return host;
}

TEST(CpuBackend, MemoryIsTheHostsAndBuffersAreAligned) {
  CpuBackend backend(1);
  const MemoryInfo memory = backend.memory();
  EXPECT_GT(memory.total_bytes, size_t{1} << 26);
  EXPECT_GT(memory.available_bytes, 0u);
  EXPECT_LE(memory.available_bytes, memory.total_bytes);
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{1} << 20}) {
    auto buffer = backend.allocate(bytes);
    EXPECT_GE(buffer->size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u);
  }
}

TEST(CpuBackend, MakeBackendKnowsOnlyTheCpu) {
  auto cpu = make_backend({"cpu", 1});
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ((*cpu)->name(), "cpu");
  auto other = make_backend({"tpu", 1});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(other.error().message.find("tpu"), std::string::npos);
}

TEST(KvCacheShape, BytesPerTokenCountsEveryLayerAndTheInt8Scales) {
  const KvCacheShape f32{2, 4, 8, 8, kernels::KvDtype::kF32};
  EXPECT_EQ(f32.bytes_per_token(), 2u * 4 * (8 + 8) * 4);
  const KvCacheShape int8{2, 4, 8, 8, kernels::KvDtype::kInt8};
  EXPECT_EQ(int8.bytes_per_token(), 2u * (4 * (8 + 8) * 1 + 4 * 2 * sizeof(float)));
  const KvCacheShape latent{3, 1, 40, 0, kernels::KvDtype::kBF16};  // MLA: one latent, no V
  EXPECT_EQ(latent.bytes_per_token(), 3u * 40 * 2);
}

TEST(CpuBackend, KvCacheKeepsItsShape) {
  CpuBackend backend(1);
  const KvCacheShape shape{2, 2, 16, 16, kernels::KvDtype::kF16};
  auto cache = backend.allocate_kv_cache(shape, 5, 4);
  EXPECT_EQ(cache->num_blocks(), 5);
  EXPECT_EQ(cache->block_size(), 4);
  EXPECT_EQ(cache->shape().k_head_dim, 16);
  EXPECT_EQ(cache->shape().dtype, kernels::KvDtype::kF16);
  EXPECT_EQ(cache->allocator(), &backend);
}

TEST(CpuBackend, NormRowsMatchTheDefinitions) {
  CpuBackend backend(2);
  constexpr int64_t kRows = 3, kWidth = 24;
  std::vector<float> x(kRows * kWidth), w(kWidth), b(kWidth);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.7f * static_cast<float>(i)) * 2.0f + 0.3f;
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = 0.5f + 0.01f * static_cast<float>(i), b[i] = 0.1f * static_cast<float>(i);
  auto in = upload(backend, x);
  auto out = backend.allocate(x.size() * sizeof(float));
  for (const NormKind kind :
       {NormKind::kRms, NormKind::kRmsOnePlus, NormKind::kLayer, NormKind::kLayerNoBias}) {
    SCOPED_TRACE(static_cast<int>(kind));
    const NormWeights norm{kind, w.data(), b.data(), 1e-6f};
    backend.norm_rows({norm, in->floats(), out->floats(), kRows, kWidth});
    const std::vector<float> y = download(backend, out->floats(), kRows * kWidth);
    for (int64_t r = 0; r < kRows; ++r) {
      const float* row = &x[r * kWidth];
      double mean = 0, sq = 0;
      for (int64_t i = 0; i < kWidth; ++i) mean += row[i], sq += double{row[i]} * row[i];
      mean /= kWidth;
      double var = 0;
      for (int64_t i = 0; i < kWidth; ++i) var += (row[i] - mean) * (row[i] - mean);
      var /= kWidth;
      for (int64_t i = 0; i < kWidth; ++i) {
        double expected = 0;
        switch (kind) {
          case NormKind::kRms:
            expected = row[i] / std::sqrt(sq / kWidth + 1e-6) * w[i];
            break;
          case NormKind::kRmsOnePlus:
            expected = row[i] / std::sqrt(sq / kWidth + 1e-6) * (1.0 + w[i]);
            break;
          case NormKind::kLayer:
            expected = (row[i] - mean) / std::sqrt(var + 1e-6) * w[i] + b[i];
            break;
          case NormKind::kLayerNoBias:
            expected = (row[i] - mean) / std::sqrt(var + 1e-6) * w[i];
            break;
        }
        EXPECT_NEAR(y[r * kWidth + i], expected, 1e-5 * (1 + std::abs(expected)))
            << "row " << r << " col " << i;
      }
    }
  }
}

double silu(double v) {
  return v / (1.0 + std::exp(-v));
}

// down(silu(gate(x)) * up(x)), with the input RMS-normalized on the way in: the fused path.
TEST(CpuBackend, GatedFeedForwardWithFusedInputNormMatchesAReference) {
  CpuBackend backend(2);
  constexpr int64_t kRows = 3, kHidden = 32, kInter = 48;
  const F32Matrix gate(kInter, kHidden, 0.31f), up(kInter, kHidden, 0.17f), down(kHidden, kInter, 0.23f);
  std::vector<float> x(kRows * kHidden), norm_w(kHidden, 1.25f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.05f * static_cast<float>(i * i % 97));
  auto in = upload(backend, x);
  auto normed = backend.allocate(x.size() * sizeof(float));
  auto out = backend.allocate(kRows * kHidden * sizeof(float));
  const NormWeights norm{NormKind::kRms, norm_w.data(), nullptr, 1e-5f};
  FeedForwardOp op;
  op.input = {in->floats(), kRows, &norm, normed->floats()};
  op.weights = {{&gate.view, nullptr}, {&up.view, nullptr}, {&down.view, nullptr}};
  op.activation.kind = ActivationKind::kSilu;
  op.out = out->floats();
  backend.feed_forward(op);
  const std::vector<float> y = download(backend, out->floats(), kRows * kHidden);
  for (int64_t r = 0; r < kRows; ++r) {
    double sq = 0;
    for (int64_t i = 0; i < kHidden; ++i) sq += double{x[r * kHidden + i]} * x[r * kHidden + i];
    const double scale = 1.0 / std::sqrt(sq / kHidden + 1e-5);
    std::vector<double> n(kHidden), hidden(kInter);
    for (int64_t i = 0; i < kHidden; ++i) n[i] = x[r * kHidden + i] * scale * 1.25;
    for (int64_t j = 0; j < kInter; ++j) {
      double g = 0, u = 0;
      for (int64_t i = 0; i < kHidden; ++i) g += gate.at(j, i) * n[i], u += up.at(j, i) * n[i];
      hidden[j] = silu(g) * u;
    }
    for (int64_t o = 0; o < kHidden; ++o) {
      double expected = 0;
      for (int64_t j = 0; j < kInter; ++j) expected += down.at(o, j) * hidden[j];
      EXPECT_NEAR(y[r * kHidden + o], expected, 1e-4) << "row " << r << " out " << o;
    }
  }
}

// One sequence of two tokens: project_qkv appends their K/V, attention reads them back. With
// q = 0 every score is equal, so each row's output is the mean of the V rows it may see: the first
// row sees only itself (its own V), the second both (causal).
TEST(CpuBackend, QkvAppendsToTheCacheAndAttentionReadsItBackCausally) {
  CpuBackend backend(2);
  constexpr int32_t kHeads = 2, kKvHeads = 1, kHeadDim = 8, kHidden = 16, kBlock = 4;
  const F32Matrix zero_q(kHeads * kHeadDim, kHidden, 0.0f);  // sin(0) = 0: q = 0
  const F32Matrix k(kKvHeads * kHeadDim, kHidden, 0.41f), v(kKvHeads * kHeadDim, kHidden, 0.29f);
  std::vector<float> x(2 * kHidden);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i % 7) - 0.2f;
  auto in = upload(backend, x);
  auto q_out = backend.allocate(2 * kHeads * kHeadDim * sizeof(float));
  auto k_out = backend.allocate(2 * kKvHeads * kHeadDim * sizeof(float));
  auto v_out = backend.allocate(2 * kKvHeads * kHeadDim * sizeof(float));
  auto attn = backend.allocate(2 * kHeads * kHeadDim * sizeof(float));
  auto cache =
      backend.allocate_kv_cache({1, kKvHeads, kHeadDim, kHeadDim, kernels::KvDtype::kF32}, 2, kBlock);

  const std::vector<int32_t> tokens{0, 0}, positions{0, 1}, row_sequence{0, 0}, logit_rows{1};
  const std::vector<int32_t> block_table{1};  // the second block of the cache
  const std::vector<int64_t> slots{kBlock + 0, kBlock + 1};
  const std::vector<StepSequence> sequences{{0, 2, 0, block_table.data()}};
  StepInputs step;
  step.token_ids = tokens;
  step.positions = positions;
  step.sequences = sequences;
  step.row_sequence = row_sequence;
  step.row_slot = slots;
  step.logit_rows = logit_rows;
  backend.begin_step(step);

  QkvOp qkv;
  qkv.input = {in->floats(), 2};
  qkv.q = {&zero_q.view, nullptr};
  qkv.k = {&k.view, nullptr};
  qkv.v = {&v.view, nullptr};
  qkv.q_out = q_out->floats();
  qkv.k_out = k_out->floats();
  qkv.v_out = v_out->floats();
  qkv.num_heads = kHeads;
  qkv.num_kv_heads = kKvHeads;
  qkv.head_dim = kHeadDim;
  backend.project_qkv(qkv, *cache);

  AttentionOp op;
  op.q = q_out->floats();
  op.out = attn->floats();
  op.num_heads = kHeads;
  op.num_kv_heads = kKvHeads;
  op.head_dim = kHeadDim;
  op.v_head_dim = kHeadDim;
  op.scale = 1.0f;
  backend.attention(op, *cache);
  const std::vector<float> out = download(backend, attn->floats(), 2 * kHeads * kHeadDim);
  for (int64_t d = 0; d < kHeadDim; ++d) {
    double v0 = 0, v1 = 0;
    for (int64_t i = 0; i < kHidden; ++i) v0 += v.at(d, i) * x[i], v1 += v.at(d, i) * x[kHidden + i];
    for (int64_t h = 0; h < kHeads; ++h) {
      EXPECT_NEAR(out[h * kHeadDim + d], v0, 1e-5) << "row 0 sees only itself";
      EXPECT_NEAR(out[(kHeads + h) * kHeadDim + d], (v0 + v1) / 2, 1e-5) << "row 1 sees both";
    }
  }
}

// Logits of the selected rows only, after the final norm, times the multiplier, softcapped.
TEST(CpuBackend, LogitsOfTheSelectedRowsOnly) {
  CpuBackend backend(1);
  constexpr int64_t kHidden = 16, kVocab = 10;
  const F32Matrix head(kVocab, kHidden, 0.77f);
  std::vector<float> hidden(3 * kHidden), ones(kHidden, 1.0f);
  for (size_t i = 0; i < hidden.size(); ++i) hidden[i] = std::cos(0.3f * static_cast<float>(i));
  auto h = upload(backend, hidden);
  const std::vector<int32_t> logit_rows{2, 0};
  StepInputs step;
  step.logit_rows = logit_rows;
  backend.begin_step(step);
  LogitsOp op;
  op.hidden = h->floats();
  op.final_norm = {NormKind::kRms, ones.data(), nullptr, 1e-6f};
  op.lm_head = {&head.view, nullptr};
  op.multiplier = 2.0f;
  op.softcap = 3.0f;
  std::vector<float> logits(2 * kVocab);
  backend.logits(op, logits);
  for (int64_t out_row = 0; out_row < 2; ++out_row) {
    const float* row = &hidden[logit_rows[out_row] * kHidden];
    double sq = 0;
    for (int64_t i = 0; i < kHidden; ++i) sq += double{row[i]} * row[i];
    const double scale = 1.0 / std::sqrt(sq / kHidden + 1e-6);
    for (int64_t t = 0; t < kVocab; ++t) {
      double dot = 0;
      for (int64_t i = 0; i < kHidden; ++i) dot += head.at(t, i) * row[i] * scale;
      const double expected = 3.0 * std::tanh(2.0 * dot / 3.0);
      EXPECT_NEAR(logits[out_row * kVocab + t], expected, 1e-4) << "output row " << out_row << " token " << t;
    }
  }
}

}  // namespace
}  // namespace tgi::backend::cpu
