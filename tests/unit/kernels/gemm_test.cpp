// matmul (y = x · Wᵀ) against a double-precision reference for every weight format, odd shapes
// and both ISA paths; and batch invariance: a token's outputs are bitwise the same whatever else
// is in the call and however many threads split it.
#include <gtest/gtest.h>

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "isa_guard.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/matmul.h"
#include "random_vector.h"

namespace tgi::kernels {
namespace {

struct Matrix {
  WeightFormat format;
  int64_t rows, cols;
  std::vector<std::byte> bytes;
  std::vector<float> values;  // what the stored bits mean, as f32

  WeightView view() const {
    const auto elem = static_cast<int64_t>(weight_format_element_bytes(format));
    return WeightView{format, rows, cols, bytes.data(), cols * elem};
  }
};

Matrix random_matrix(WeightFormat format, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Matrix m{format, rows, cols, {}, {}};
  const size_t n = static_cast<size_t>(rows * cols);
  m.bytes.resize(n * weight_format_element_bytes(format));
  m.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    if (format == WeightFormat::kF32) {
      std::memcpy(&m.bytes[i * 4], &v, 4);
    } else {
      uint16_t bits;
      if (format == WeightFormat::kBF16) {
        uint32_t u;
        std::memcpy(&u, &v, 4);
        bits = static_cast<uint16_t>(u >> 16);
      } else {
        bits = _cvtss_sh(v, 0);
      }
      std::memcpy(&m.bytes[i * 2], &bits, 2);
    }
  }
  // Decode through dequantize_row (tested elsewhere) so the reference sees the stored values.
  for (int64_t r = 0; r < rows; ++r) dequantize_row(m.view(), r, &m.values[static_cast<size_t>(r * cols)]);
  return m;
}

struct Shape {
  int64_t tokens, rows, cols;
};

class GemmTest : public ::testing::TestWithParam<std::tuple<CpuIsa, WeightFormat>> {};

TEST_P(GemmTest, MatchesDoubleReferenceOnOddShapes) {
  const auto [isa, format] = GetParam();
  IsaGuard guard(isa);
  ThreadPool pool(2);
  std::mt19937 rng(7);
  const Shape shapes[] = {{1, 1, 1},    {1, 7, 15},   {2, 13, 17},  {3, 9, 33},    {5, 50, 64},
                          {4, 49, 100}, {7, 97, 129}, {9, 6, 2051}, {1, 200, 256}, {17, 31, 48}};
  for (const Shape& s : shapes) {
    SCOPED_TRACE(::testing::Message() << s.tokens << "x" << s.rows << "x" << s.cols);
    const Matrix w = random_matrix(format, s.rows, s.cols, rng);
    const auto x = random_vector(static_cast<size_t>(s.tokens * (s.cols + 3)), rng);  // padded rows
    const auto bias = random_vector(static_cast<size_t>(s.rows), rng);
    const int64_t y_stride = s.rows + 2;
    std::vector<float> y(static_cast<size_t>(s.tokens * y_stride), -999.0f);
    matmul(x.data(), s.tokens, s.cols + 3, w.view(), bias.data(), y.data(), y_stride, pool);
    for (int64_t t = 0; t < s.tokens; ++t) {
      for (int64_t r = 0; r < s.rows; ++r) {
        double ref = bias[r], magnitude = std::abs(bias[r]);
        for (int64_t k = 0; k < s.cols; ++k) {
          const double term = double{x[t * (s.cols + 3) + k]} * w.values[r * s.cols + k];
          ref += term;
          magnitude += std::abs(term);
        }
        ASSERT_NEAR(y[t * y_stride + r], ref, 1e-6 * magnitude + 1e-6) << "token " << t << " row " << r;
      }
      for (int64_t r = s.rows; r < y_stride; ++r)
        ASSERT_EQ(y[t * y_stride + r], -999.0f) << "wrote past the row";
    }
  }
}

TEST_P(GemmTest, TokenResultDoesNotDependOnBatchOrThreads) {
  const auto [isa, format] = GetParam();
  IsaGuard guard(isa);
  ThreadPool one(1), two(2);
  std::mt19937 rng(11);
  const int64_t rows = 101, cols = 515, max_tokens = 13;
  const Matrix w = random_matrix(format, rows, cols, rng);
  const auto x = random_vector(static_cast<size_t>(max_tokens * cols), rng);
  // Each token alone, single-threaded: the reference bits.
  std::vector<float> alone(static_cast<size_t>(max_tokens * rows));
  for (int64_t t = 0; t < max_tokens; ++t) matmul(&x[t * cols], 1, w.view(), nullptr, &alone[t * rows], one);
  for (int64_t n = 1; n <= max_tokens; ++n) {
    for (ThreadPool* pool : {&one, &two}) {
      std::vector<float> y(static_cast<size_t>(n * rows));
      matmul(x.data(), n, w.view(), nullptr, y.data(), *pool);
      ASSERT_EQ(0, std::memcmp(y.data(), alone.data(), y.size() * sizeof(float)))
          << n << " tokens, " << pool->num_threads() << " threads";
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<GemmTest::ParamType>& info) {
  return std::string(to_string(std::get<0>(info.param))) + "_" + to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllFormats, GemmTest,
                         ::testing::Combine(::testing::Values(CpuIsa::kAvx2, CpuIsa::kAvx512),
                                            ::testing::Values(WeightFormat::kF32, WeightFormat::kBF16,
                                                              WeightFormat::kF16)),
                         param_name);

float round_to_bf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000u;  // round to nearest even (finite inputs)
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

class PrecisionGuard {
 public:
  explicit PrecisionGuard(MatmulPrecision p) : previous_(matmul_precision()) { set_matmul_precision(p); }
  ~PrecisionGuard() { set_matmul_precision(previous_); }

 private:
  MatmulPrecision previous_;
};

TEST(GemmBf16Activations, MatchesReferenceWithRoundedActivationsAndIsBatchInvariant) {
  if (!cpu_has_avx512_bf16()) GTEST_SKIP() << "no AVX-512-BF16 on this CPU";
  PrecisionGuard precision(MatmulPrecision::kBf16Activations);
  ThreadPool one(1), two(2);
  std::mt19937 rng(5);
  for (const Shape s : {Shape{1, 9, 31}, Shape{6, 50, 97}, Shape{13, 101, 515}, Shape{3, 8, 2048}}) {
    SCOPED_TRACE(::testing::Message() << s.tokens << "x" << s.rows << "x" << s.cols);
    const Matrix w = random_matrix(WeightFormat::kBF16, s.rows, s.cols, rng);
    const auto x = random_vector(static_cast<size_t>(s.tokens * s.cols), rng);
    std::vector<float> y(static_cast<size_t>(s.tokens * s.rows));
    matmul(x.data(), s.tokens, w.view(), nullptr, y.data(), two);
    for (int64_t t = 0; t < s.tokens; ++t) {
      std::vector<float> alone(static_cast<size_t>(s.rows));
      matmul(&x[t * s.cols], 1, w.view(), nullptr, alone.data(), one);
      ASSERT_EQ(0, std::memcmp(alone.data(), &y[t * s.rows], alone.size() * sizeof(float))) << "token " << t;
      for (int64_t r = 0; r < s.rows; ++r) {
        double ref = 0, magnitude = 0;
        for (int64_t k = 0; k < s.cols; ++k) {
          const double term = double{round_to_bf16(x[t * s.cols + k])} * w.values[r * s.cols + k];
          ref += term;
          magnitude += std::abs(term);
        }
        ASSERT_NEAR(y[t * s.rows + r], ref, 1e-6 * magnitude + 1e-6) << "token " << t << " row " << r;
      }
    }
  }
}

TEST(CpuIsa, ForcingAvx512IsClampedToWhatTheCpuHas) {
  const CpuIsa previous = set_active_cpu_isa(CpuIsa::kAvx512);
  EXPECT_EQ(active_cpu_isa(), detected_cpu_isa());
  set_active_cpu_isa(previous);
}

}  // namespace
}  // namespace tgi::kernels
