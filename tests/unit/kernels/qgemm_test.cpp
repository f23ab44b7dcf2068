// The int8 kernels for block-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K), on both ISA paths.
// Their only approximation is the int8 activations: given those, block products are exact, so
// the result must match the dequantized weights dotted with the dequantized activations up to
// float rounding, and a token's output must not depend on its batch or the thread count.
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "isa_guard.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/qgemm/qgemm_problem.h"
#include "kernels/quant/quant.h"

namespace tgi::kernels {
namespace {

// The activation quantization the kernels promise, written out in scalar code.
void quantize_block_scalar(const float* x, int8_t* q, float* scale) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * inverse));
  *scale = d;
}

struct Weights {
  WeightFormat format;
  int64_t rows, cols, row_bytes;
  std::vector<std::byte> bytes;
  std::vector<float> decoded;  // [rows][cols]
  WeightView view() const { return {format, rows, cols, bytes.data(), row_bytes}; }
};

Weights make_weights(WeightFormat format, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Weights w{format, rows, cols, weight_row_bytes(format, cols), {}, {}};
  w.bytes.resize(static_cast<size_t>(rows * w.row_bytes));
  w.decoded.resize(static_cast<size_t>(rows * cols));
  std::vector<float> values(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : values) v = dist(rng);
    EXPECT_TRUE(quant::quantize_row(ggml_type_for(format), values.data(), &w.bytes[r * w.row_bytes], cols).ok());
  }
  const WeightView v = w.view();
  for (int64_t r = 0; r < rows; ++r) dequantize_row(v, r, &w.decoded[r * cols]);
  return w;
}

std::vector<float> random_activations(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

// Checks y (tokens × rows, row stride y_stride) against the dequantized weights dotted with the
// int8-rounded activations in double precision.
void expect_matches_int8_reference(const Weights& w, const std::vector<float>& x, int64_t x_stride, int64_t tokens,
                                   const std::vector<float>& bias, const std::vector<float>& y, int64_t y_stride,
                                   const std::string& what) {
  std::vector<double> xd(static_cast<size_t>(w.cols));
  std::vector<int8_t> q(32);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t b = 0; b < w.cols / 32; ++b) {
      float scale;
      quantize_block_scalar(&x[t * x_stride + 32 * b], q.data(), &scale);
      for (int i = 0; i < 32; ++i) xd[32 * b + i] = double{scale} * q[i];
    }
    for (int64_t r = 0; r < w.rows; ++r) {
      double ref = bias.empty() ? 0.0 : bias[r], magnitude = 0.0;
      for (int64_t k = 0; k < w.cols; ++k) {
        ref += xd[k] * w.decoded[r * w.cols + k];
        magnitude += std::abs(xd[k] * w.decoded[r * w.cols + k]);
      }
      ASSERT_NEAR(y[t * y_stride + r], ref, 1e-5 + 2e-5 * magnitude) << what << " token " << t << " row " << r;
    }
  }
}

std::vector<CpuIsa> isas_to_test() {
  std::vector<CpuIsa> isas{CpuIsa::kAvx2};
  if (detected_cpu_isa() == CpuIsa::kAvx512 && cpu_has_avx512_vnni()) isas.push_back(CpuIsa::kAvx512);
  return isas;
}

class Int8MatmulTest : public ::testing::TestWithParam<WeightFormat> {};

TEST_P(Int8MatmulTest, MatchesInt8ReferenceOnOddShapesOnEveryIsa) {
  const WeightFormat format = GetParam();
  const int64_t block = weight_format_block_elements(format);
  std::mt19937 rng(21);
  ThreadPool pool(2);
  for (const CpuIsa isa : isas_to_test()) {
    IsaGuard guard(isa);
    for (int64_t rows : {1, 3, 13, 69}) {
      for (int64_t blocks : {1, 3, 4}) {
        const int64_t cols = blocks * block;
        const Weights w = make_weights(format, rows, cols, rng);
        for (int64_t tokens : {1, 2, 5, 67}) {
          // Strided activations and outputs, as the model passes slices of wider buffers.
          const int64_t x_stride = cols + 32, y_stride = rows + 3;
          const auto x = random_activations(tokens * x_stride, rng);
          const auto bias = random_activations(rows, rng);
          std::vector<float> y(static_cast<size_t>(tokens * y_stride), -7.0f);
          matmul(x.data(), tokens, x_stride, w.view(), bias.data(), y.data(), y_stride, pool);
          const std::string what = std::string(to_string(format)) + " " + to_string(isa) + " " + std::to_string(rows) +
                                   "x" + std::to_string(cols) + " tokens " + std::to_string(tokens);
          expect_matches_int8_reference(w, x, x_stride, tokens, bias, y, y_stride, what);
          if (HasFatalFailure()) return;
          for (int64_t t = 0; t < tokens; ++t)  // the padding between output rows is untouched
            for (int64_t r = rows; r < y_stride; ++r) ASSERT_EQ(y[t * y_stride + r], -7.0f) << what;
        }
      }
    }
  }
}

TEST_P(Int8MatmulTest, TokenResultDoesNotDependOnBatchOrThreads) {
  const WeightFormat format = GetParam();
  std::mt19937 rng(5);
  const int64_t rows = 37, cols = 3 * weight_format_block_elements(format), tokens = 70;
  const Weights w = make_weights(format, rows, cols, rng);
  const auto x = random_activations(tokens * cols, rng);
  ThreadPool one(1), two(2), three(3);
  for (const CpuIsa isa : isas_to_test()) {
    IsaGuard guard(isa);
    std::vector<float> batch_two(tokens * rows), batch_three(tokens * rows), single(rows);
    matmul(x.data(), tokens, w.view(), nullptr, batch_two.data(), two);
    matmul(x.data(), tokens, w.view(), nullptr, batch_three.data(), three);
    ASSERT_EQ(batch_two, batch_three) << to_string(isa);
    for (int64_t t = 0; t < tokens; ++t) {
      matmul(x.data() + t * cols, 1, w.view(), nullptr, single.data(), one);
      for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(batch_two[t * rows + r], single[r]) << to_string(isa) << " token " << t;
    }
    // A token in the middle of a small batch, with other neighbours.
    std::vector<float> small(3 * rows);
    matmul(x.data() + 10 * cols, 3, w.view(), nullptr, small.data(), two);
    for (int64_t i = 0; i < 3 * rows; ++i) ASSERT_EQ(small[i], batch_two[10 * rows + i]) << to_string(isa);
  }
}

// Rows longer than the kernels' chunks (the 16-row kernel transposes 64 blocks at a time and
// parks partial sums in y between chunks).
TEST_P(Int8MatmulTest, LongRowsMatchReferenceAndStayBatchInvariant) {
  const WeightFormat format = GetParam();
  std::mt19937 rng(17);
  const int64_t block = weight_format_block_elements(format);
  const int64_t rows = 21, cols = (format == WeightFormat::kQ8_0 || format == WeightFormat::kQ4_0 ? 131 : 17) * block;
  const int64_t tokens = 6;
  const Weights w = make_weights(format, rows, cols, rng);
  const auto x = random_activations(tokens * cols, rng);
  const auto bias = random_activations(rows, rng);
  ThreadPool one(1), two(2);
  for (const CpuIsa isa : isas_to_test()) {
    IsaGuard guard(isa);
    std::vector<float> y(tokens * rows), single(rows);
    matmul(x.data(), tokens, w.view(), bias.data(), y.data(), two);
    expect_matches_int8_reference(w, x, cols, tokens, bias, y, rows, std::string(to_string(isa)) + " long rows");
    if (HasFatalFailure()) return;
    for (int64_t t = 0; t < tokens; ++t) {
      matmul(x.data() + t * cols, 1, w.view(), bias.data(), single.data(), one);
      for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(y[t * rows + r], single[r]) << to_string(isa) << " token " << t;
    }
  }
}

TEST_P(Int8MatmulTest, IsasAgreeAndStayCloseToTheF32Reference) {
  const WeightFormat format = GetParam();
  std::mt19937 rng(9);
  const int64_t rows = 24, cols = 8 * weight_format_block_elements(format), tokens = 6;
  const Weights w = make_weights(format, rows, cols, rng);
  const auto x = random_activations(tokens * cols, rng);
  ThreadPool pool(2);
  std::vector<float> reference(tokens * rows);
  matmul_block_format_reference(x.data(), tokens, cols, w.view(), nullptr, reference.data(), rows, pool);
  std::vector<std::vector<float>> results;
  for (const CpuIsa isa : isas_to_test()) {
    IsaGuard guard(isa);
    std::vector<float> y(tokens * rows);
    matmul(x.data(), tokens, w.view(), nullptr, y.data(), pool);
    // int8 activations cost well under 1% of the output's scale.
    double scale = 0;
    for (float v : reference) scale = std::max(scale, std::abs(double{v}));
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], reference[i], 0.01 * scale) << to_string(isa);
    results.push_back(y);
  }
  for (size_t k = 1; k < results.size(); ++k)
    for (size_t i = 0; i < results[0].size(); ++i)
      ASSERT_NEAR(results[k][i], results[0][i], 1e-4 * (1.0 + std::abs(results[0][i])));
}

TEST_P(Int8MatmulTest, ZeroColumnsGiveTheBias) {
  const WeightFormat format = GetParam();
  const std::vector<float> bias{1.5f, -2.0f, 0.25f};
  const WeightView view{format, 3, 0, nullptr, 0};
  ThreadPool pool(2);
  std::vector<float> y(6, 99.0f);
  const float x[1] = {0.0f};
  matmul(x, 2, 0, view, bias.data(), y.data(), 3, pool);
  EXPECT_EQ(y, (std::vector<float>{1.5f, -2.0f, 0.25f, 1.5f, -2.0f, 0.25f}));
}

// A 64-byte aligned buffer for packed weights.
struct PackedBuffer {
  std::vector<std::byte> bytes;
  std::byte* aligned(size_t size) {
    bytes.assign(size + 64, std::byte{0});
    const auto address = reinterpret_cast<uintptr_t>(bytes.data());
    return bytes.data() + (64 - address % 64) % 64;
  }
};

// Weights repacked at load give bitwise the results of the stored rows, for partial row groups,
// rows longer than a chunk, every batch shape, and row slices of the packed view.
TEST_P(Int8MatmulTest, PackedWeightsGiveBitwiseTheSameResults) {
  const WeightFormat format = GetParam();
  if (!(detected_cpu_isa() == CpuIsa::kAvx512 && cpu_has_avx512_vnni()))
    GTEST_SKIP() << "the packed layout is the AVX-512-VNNI kernel's";
  IsaGuard guard(CpuIsa::kAvx512);
  const int64_t block = weight_format_block_elements(format);
  std::mt19937 rng(33);
  ThreadPool pool(2);
  for (const int64_t rows : {1, 13, 16, 37, 69}) {
    for (const int64_t blocks : {int64_t{1}, int64_t{3}, 131 * 32 / block}) {
      const int64_t cols = blocks * block;
      const Weights w = make_weights(format, rows, cols, rng);
      PackedBuffer buffer;
      const int64_t size = packed_matmul_bytes(w.view());
      ASSERT_GT(size, 0);
      const WeightView packed = pack_for_matmul(w.view(), buffer.aligned(static_cast<size_t>(size)), pool);
      ASSERT_NE(packed.packed, nullptr);
      for (const int64_t tokens :
           {1, 2, 3, 4, 9, 131}) {  // 1-3: the few-token path; 131: past a 128-token block
        const auto x = random_activations(tokens * cols, rng);
        const auto bias = random_activations(rows, rng);
        std::vector<float> plain(tokens * rows), fast(tokens * rows);
        matmul(x.data(), tokens, w.view(), bias.data(), plain.data(), pool);
        matmul(x.data(), tokens, packed, bias.data(), fast.data(), pool);
        ASSERT_EQ(plain, fast) << to_string(format) << " " << rows << "x" << cols << " tokens " << tokens;
        if (rows > 16) {  // a slice at a group boundary keeps the packed rows, one inside drops them
          for (const int64_t begin : {int64_t{16}, int64_t{5}}) {
            const WeightView slice = packed.slice_rows(begin, rows - begin);
            EXPECT_EQ(slice.packed != nullptr, begin % 16 == 0);
            std::vector<float> part((rows - begin) * tokens);
            matmul(x.data(), tokens, cols, slice, nullptr, part.data(), rows - begin, pool);
            std::vector<float> expected((rows - begin) * tokens);
            matmul(x.data(), tokens, cols, w.view().slice_rows(begin, rows - begin), nullptr, expected.data(),
                   rows - begin, pool);
            ASSERT_EQ(part, expected) << "slice from " << begin;
          }
        }
      }
    }
  }
}

TEST(PackForMatmul, OnlyTheVnniKernelWantsPackedWeights) {
  std::mt19937 rng(3);
  const Weights q8 = make_weights(WeightFormat::kQ8_0, 20, 64, rng);
  {
    IsaGuard guard(CpuIsa::kAvx2);
    EXPECT_EQ(packed_matmul_bytes(q8.view()), 0);
  }
  const std::vector<float> f32(20 * 64, 1.0f);
  const WeightView float_view{WeightFormat::kF32, 20, 64, reinterpret_cast<const std::byte*>(f32.data()),
                              64 * 4};
  EXPECT_EQ(packed_matmul_bytes(float_view), 0);
  if (detected_cpu_isa() == CpuIsa::kAvx512 && cpu_has_avx512_vnni()) {
    IsaGuard guard(CpuIsa::kAvx512);
    // Two groups of 16 rows, each two blocks of 512 code + 32 scale bytes, rounded to 64.
    EXPECT_EQ(packed_matmul_bytes(q8.view()), 2 * 1088);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, Int8MatmulTest,
                         ::testing::Values(WeightFormat::kQ8_0, WeightFormat::kQ4_0, WeightFormat::kQ4_K,
                                           WeightFormat::kQ6_K),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(QuantizeActivations, MatchesScalarDefinitionAndPadsWithZeroBlocks) {
  std::mt19937 rng(3);
  const int64_t cols = 96, rows = 3, padded_cols = 128, padded_blocks = 4;
  auto x = random_activations(rows * cols, rng);
  std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block: scale 0, codes 0
  x[70] = 1e-30f;
  std::vector<int8_t> q(rows * padded_cols, 99);
  std::vector<float> scale(rows * padded_blocks, 99.0f), scaled_sum(rows * padded_blocks, 99.0f);
  std::vector<int32_t> sums(rows * padded_blocks, 99), half_sums(2 * rows * padded_blocks, 99);
  qgemm::QuantizedActivations out;
  out.q = q.data();
  out.scale = scale.data();
  out.scaled_sum = scaled_sum.data();
  out.sum = sums.data();
  out.half_sum = half_sums.data();
  out.q_stride = padded_cols;
  out.scale_stride = padded_blocks;
  qgemm::quantize_activation_rows(x.data(), cols, cols, out, 0, rows);
  for (int64_t t = 0; t < rows; ++t) {
    for (int64_t b = 0; b < cols / 32; ++b) {
      int8_t expected[32];
      float expected_scale;
      quantize_block_scalar(&x[t * cols + 32 * b], expected, &expected_scale);
      EXPECT_EQ(scale[t * padded_blocks + b], expected_scale);
      int sum = 0, first_half = 0;
      for (int i = 0; i < 32; ++i) {
        ASSERT_EQ(q[t * padded_cols + 32 * b + i], expected[i]) << t << " " << b << " " << i;
        ASSERT_LE(std::abs(int{expected[i]}), 127);
        sum += expected[i];
        if (i < 16) first_half += expected[i];
      }
      EXPECT_EQ(half_sums[2 * (t * padded_blocks + b)], first_half);
      EXPECT_EQ(half_sums[2 * (t * padded_blocks + b) + 1], sum - first_half);
      EXPECT_EQ(sums[t * padded_blocks + b], sum);
      EXPECT_EQ(scaled_sum[t * padded_blocks + b], expected_scale * static_cast<float>(sum));
    }
    EXPECT_EQ(scale[t * padded_blocks + 3], 0.0f);
    EXPECT_EQ(scaled_sum[t * padded_blocks + 3], 0.0f);
    EXPECT_EQ(sums[t * padded_blocks + 3], 0);
    for (int64_t i = cols; i < padded_cols; ++i) EXPECT_EQ(q[t * padded_cols + i], 0);
  }
  EXPECT_EQ(scale[1], 0.0f);  // the zero block of row 0
}

}  // namespace
}  // namespace tgi::kernels
