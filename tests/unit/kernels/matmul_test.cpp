#include "kernels/cpu/matmul.h"

#include <cmath>

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <immintrin.h>

#include "kernels/cpu/norm.h"
#include "kernels/quant/quant.h"

namespace tgi::kernels {
namespace {

uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return static_cast<uint16_t>(bits >> 16);  // truncation: the test widens the same bits back
}

struct Stored {
  std::vector<std::byte> bytes;
  std::vector<double> widened;  // the exact values the kernel should see
};

Stored store(const std::vector<float>& values, WeightFormat format) {
  Stored s;
  const size_t n = values.size();
  s.widened.resize(n);
  s.bytes.resize(n * weight_format_element_bytes(format));
  for (size_t i = 0; i < n; ++i) {
    if (format == WeightFormat::kF32) {
      std::memcpy(&s.bytes[i * 4], &values[i], 4);
      s.widened[i] = values[i];
    } else {
      const uint16_t h = format == WeightFormat::kBF16 ? to_bf16(values[i]) : _cvtss_sh(values[i], 0);
      std::memcpy(&s.bytes[i * 2], &h, 2);
      if (format == WeightFormat::kBF16) {
        const uint32_t bits = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        s.widened[i] = f;
      } else {
        s.widened[i] = _cvtsh_ss(h);
      }
    }
  }
  return s;
}

class MatmulTest : public ::testing::TestWithParam<WeightFormat> {};

TEST_P(MatmulTest, MatchesNaiveReferenceForAllShapes) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  ThreadPool pool(3);
  for (int64_t rows : {1, 5, 64}) {
    for (int64_t cols : {1, 7, 8, 37, 128}) {
      for (int64_t tokens : {1, 3, 4, 9}) {
        std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(tokens * cols)), bias(rows);
        for (auto& v : w) v = dist(rng);
        for (auto& v : x) v = dist(rng);
        for (auto& v : bias) v = dist(rng);
        const Stored s = store(w, GetParam());
        const WeightView view{GetParam(), rows, cols, s.bytes.data(),
                              cols * static_cast<int64_t>(weight_format_element_bytes(GetParam()))};
        std::vector<float> y(static_cast<size_t>(tokens * rows));
        matmul(x.data(), tokens, view, bias.data(), y.data(), pool);
        for (int64_t t = 0; t < tokens; ++t)
          for (int64_t r = 0; r < rows; ++r) {
            double ref = bias[r];
            for (int64_t k = 0; k < cols; ++k) ref += double{x[t * cols + k]} * s.widened[r * cols + k];
            ASSERT_NEAR(y[t * rows + r], ref, 1e-4) << rows << "x" << cols << " tokens " << tokens;
          }
      }
    }
  }
}

TEST_P(MatmulTest, TokenResultDoesNotDependOnBatchOrThreads) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t rows = 33, cols = 45, tokens = 7;
  std::vector<float> w(rows * cols), x(tokens * cols);
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  const Stored s = store(w, GetParam());
  const WeightView view{GetParam(), rows, cols, s.bytes.data(),
                        cols * static_cast<int64_t>(weight_format_element_bytes(GetParam()))};
  ThreadPool one(1), four(4);
  std::vector<float> all(tokens * rows), single(rows);
  matmul(x.data(), tokens, view, nullptr, all.data(), four);
  for (int64_t t = 0; t < tokens; ++t) {
    matmul(x.data() + t * cols, 1, view, nullptr, single.data(), one);
    for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(all[t * rows + r], single[r]);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, MatmulTest,
                         ::testing::Values(WeightFormat::kF32, WeightFormat::kBF16, WeightFormat::kF16));

TEST(WeightView, SliceRowsIsAViewOfTheSameMemory) {
  std::vector<float> w(12);
  for (int i = 0; i < 12; ++i) w[i] = static_cast<float>(i);
  const WeightView v{WeightFormat::kF32, 4, 3, reinterpret_cast<const std::byte*>(w.data()), 12};
  const WeightView s = v.slice_rows(2, 2);
  EXPECT_EQ(s.rows, 2);
  std::vector<float> row(3);
  dequantize_row(s, 1, row.data());
  EXPECT_EQ(row, (std::vector<float>{9, 10, 11}));
}

// Block formats (GGUF encodings used in place): the result must match the dequantized weights
// dotted with the activations, and a token's output must not depend on its batch.
class BlockFormatMatmulTest : public ::testing::TestWithParam<WeightFormat> {};

TEST_P(BlockFormatMatmulTest, MatchesDequantizedReferenceAndIsBatchInvariant) {
  const WeightFormat format = GetParam();
  const formats::GgmlType type = ggml_type_for(format);
  ASSERT_TRUE(quant::can_quantize(type));
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  ThreadPool pool(3), one(1);
  const int64_t block = weight_format_block_elements(format);
  for (int64_t rows : {1, 7, 50}) {
    for (int64_t cols : {block, 2 * block, 5 * block}) {
      const int64_t tokens = 5;
      const int64_t row_bytes = weight_row_bytes(format, cols);
      std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(tokens * cols)), bias(rows);
      for (auto& v : w) v = dist(rng);
      for (auto& v : x) v = dist(rng);
      for (auto& v : bias) v = dist(rng);
      std::vector<std::byte> bytes(static_cast<size_t>(rows * row_bytes));
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_TRUE(quant::quantize_row(type, &w[r * cols], &bytes[r * row_bytes], cols).ok());
      const WeightView view{format, rows, cols, bytes.data(), row_bytes};
      std::vector<float> y(static_cast<size_t>(tokens * rows)), single(rows), decoded(cols);
      matmul(x.data(), tokens, view, bias.data(), y.data(), pool);
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row(view, r, decoded.data());
        for (int64_t t = 0; t < tokens; ++t) {
          double ref = bias[r];
          for (int64_t k = 0; k < cols; ++k) ref += double{x[t * cols + k]} * decoded[k];
          // Kernels may quantize activations to int8 blocks: allow that error, relative to the
          // sum of magnitudes it scales with.
          double magnitude = 0;
          for (int64_t k = 0; k < cols; ++k) magnitude += std::abs(double{x[t * cols + k]} * decoded[k]);
          ASSERT_NEAR(y[t * rows + r], ref, 1e-4 + 0.02 * magnitude) << to_string(format) << " " << rows << "x" << cols;
        }
      }
      for (int64_t t = 0; t < tokens; ++t) {
        matmul(x.data() + t * cols, 1, view, bias.data(), single.data(), one);
        for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(y[t * rows + r], single[r]) << to_string(format);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, BlockFormatMatmulTest,
                         ::testing::Values(WeightFormat::kQ8_0, WeightFormat::kQ4_0, WeightFormat::kQ4_K,
                                           WeightFormat::kQ6_K),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(WeightView, GgmlTypesMapOneToOne) {
  for (uint32_t id = 0; id < 64; ++id) {
    const auto type = formats::ggml_type_from_id(id);
    if (!type) continue;
    const auto format = weight_format_for_ggml(*type);
    ASSERT_TRUE(format.has_value()) << id;
    EXPECT_EQ(ggml_type_for(*format), *type);
    EXPECT_EQ(weight_row_bytes(*format, 256),
              256 / formats::ggml_type_traits(*type)->block_elements *
                  static_cast<int64_t>(formats::ggml_type_traits(*type)->block_bytes));
  }
}

}  // namespace
}  // namespace tgi::kernels

namespace tgi::kernels {
namespace {

// Weights of one width in several formats, applied together, give each output bitwise what its
// own matmul() gives; a width mismatch still computes every output (one by one).
TEST(MatmulSharedInput, EachOutputIsWhatItsOwnMatmulGives) {
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t cols = 256, tokens = 5;
  struct Weight {
    WeightFormat format;
    int64_t rows;
    std::vector<std::byte> bytes;
    WeightView view;
    std::vector<float> bias;
  };
  std::vector<Weight> weights;
  for (const auto& [format, rows] :
       std::vector<std::pair<WeightFormat, int64_t>>{{WeightFormat::kQ8_0, 100},
                                                     {WeightFormat::kQ4_K, 20},
                                                     {WeightFormat::kF32, 7},
                                                     {WeightFormat::kBF16, 50}}) {
    Weight w{format, rows, {}, {}, {}};
    const int64_t row_bytes = weight_row_bytes(format, cols);
    w.bytes.resize(static_cast<size_t>(rows * row_bytes));
    std::vector<float> values(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : values) v = dist(rng);
      if (is_block_format(format)) {
        ASSERT_TRUE(
            quant::quantize_row(ggml_type_for(format), values.data(), &w.bytes[r * row_bytes], cols).ok());
      } else {
        const Stored s = store(values, format);
        std::memcpy(&w.bytes[r * row_bytes], s.bytes.data(), static_cast<size_t>(row_bytes));
      }
    }
    w.bias.resize(static_cast<size_t>(rows));
    for (auto& b : w.bias) b = dist(rng);
    weights.push_back(std::move(w));
  }
  for (auto& w : weights)
    w.view = WeightView{w.format, w.rows, cols, w.bytes.data(), weight_row_bytes(w.format, cols)};
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (auto& v : x) v = dist(rng);
  ThreadPool pool(2);
  std::vector<std::vector<float>> together(weights.size());
  std::vector<MatmulTarget> targets;
  for (size_t i = 0; i < weights.size(); ++i) {
    together[i].assign(static_cast<size_t>(tokens * weights[i].rows), -1.0f);
    targets.push_back({&weights[i].view, weights[i].bias.data(), together[i].data(), weights[i].rows});
  }
  matmul_shared_input(x.data(), tokens, cols, targets, pool);
  for (size_t i = 0; i < weights.size(); ++i) {
    std::vector<float> alone(static_cast<size_t>(tokens * weights[i].rows));
    matmul(x.data(), tokens, weights[i].view, weights[i].bias.data(), alone.data(), pool);
    EXPECT_EQ(together[i], alone) << to_string(weights[i].format);
  }

  // A narrower weight among them: still every output, computed one by one.
  const WeightView narrow = weights[0].view.slice_rows(0, 10);
  WeightView half_width = narrow;
  half_width.cols = 128;
  std::vector<float> wide_out(static_cast<size_t>(tokens * 10)), half_out(static_cast<size_t>(tokens * 10));
  const std::vector<MatmulTarget> mixed{{&narrow, nullptr, wide_out.data(), 10},
                                        {&half_width, nullptr, half_out.data(), 10}};
  matmul_shared_input(x.data(), tokens, cols, mixed, pool);
  std::vector<float> expected(static_cast<size_t>(tokens * 10));
  matmul(x.data(), tokens, cols, half_width, nullptr, expected.data(), 10, pool);
  EXPECT_EQ(half_out, expected);
  matmul(x.data(), tokens, cols, narrow, nullptr, expected.data(), 10, pool);
  EXPECT_EQ(wide_out, expected);
}

// A [rows][cols] weight of values uniform in [-range, range) in `format` (block formats
// quantized, f32 stored as is), its bytes in `bytes`.
WeightView random_weight(WeightFormat format, int64_t rows, int64_t cols, float range, std::mt19937& rng,
                         std::vector<std::byte>& bytes) {
  std::uniform_real_distribution<float> dist(-range, range);
  const int64_t row_bytes = weight_row_bytes(format, cols);
  bytes.resize(static_cast<size_t>(rows * row_bytes));
  std::vector<float> values(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : values) v = dist(rng);
    if (is_block_format(format)) {
      EXPECT_TRUE(
          quant::quantize_row(ggml_type_for(format), values.data(), &bytes[r * row_bytes], cols).ok());
    } else {
      std::memcpy(&bytes[r * row_bytes], values.data(), static_cast<size_t>(row_bytes));
    }
  }
  return WeightView{format, rows, cols, bytes.data(), row_bytes};
}

// Epilogues see each output row once, in ranges of whole row_multiples (but the last), only when
// those rows are final for every token; with equal rows (lockstep) an epilogue also sees the
// other targets' rows of its range final. Packed int8 weights included
// (their ranges must also start on a 16-row group).
TEST(MatmulSharedInput, EpiloguesSeeFinishedRowsInWholeMultiples) {
  std::mt19937 rng(10);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t cols = 256;
  ThreadPool pool(2);
  const auto make = [&](WeightFormat format, int64_t rows, std::vector<std::byte>& bytes) {
    return random_weight(format, rows, cols, 1.0f, rng, bytes);
  };
  std::vector<std::byte> q8_bytes, q4_bytes, f32_bytes, f32b_bytes;
  const WeightView q8 = make(WeightFormat::kQ8_0, 128, q8_bytes);
  WeightView q4 = make(WeightFormat::kQ4_0, 100, q4_bytes);
  const WeightView f32 = make(WeightFormat::kF32, 40, f32_bytes);
  const WeightView f32_100 = make(WeightFormat::kF32, 100, f32b_bytes);
  std::vector<std::byte> packed(static_cast<size_t>(packed_matmul_bytes(q4)) + 64);
  auto* aligned =
      reinterpret_cast<std::byte*>((reinterpret_cast<uintptr_t>(packed.data()) + 63) & ~uintptr_t{63});
  q4 = pack_for_matmul(q4, aligned, pool);

  struct Seen {
    std::mutex mutex;
    std::vector<std::pair<int64_t, int64_t>> ranges;
    bool all_final = true;
  };
  for (const int64_t tokens : {1, 5}) {
    std::vector<float> x(static_cast<size_t>(tokens * cols));
    for (auto& v : x) v = dist(rng);
    const auto expected_of = [&](const WeightView& w) {
      std::vector<float> y(static_cast<size_t>(tokens * w.rows));
      matmul(x.data(), tokens, w, nullptr, y.data(), pool);
      return y;
    };
    // Whether rows [b, e) of every token of y are what `expected` says.
    const auto final_rows = [&](const std::vector<float>& y, const std::vector<float>& expected, int64_t rows,
                                int64_t b, int64_t e) {
      for (int64_t t = 0; t < tokens; ++t)
        for (int64_t r = b; r < e; ++r)
          if (y[t * rows + r] != expected[t * rows + r]) return false;
      return true;
    };
    const auto covered_once = [](std::vector<std::pair<int64_t, int64_t>> ranges, int64_t rows,
                                 int64_t multiple) {
      std::sort(ranges.begin(), ranges.end());
      int64_t next = 0;
      for (const auto& [b, e] : ranges) {
        if (b != next || e <= b || b % multiple != 0 || (e % multiple != 0 && e != rows)) return false;
        next = e;
      }
      return next == rows;
    };

    // Different rows: each target's epilogue on its own ranges.
    const std::vector<const WeightView*> weights{&q8, &q4, &f32};
    const std::vector<int64_t> multiples{64, 12, 8};
    std::vector<std::vector<float>> y(weights.size()), expected(weights.size());
    std::vector<Seen> seen(weights.size());
    std::vector<std::function<void(int64_t, int64_t)>> bodies;
    for (size_t i = 0; i < weights.size(); ++i) {
      expected[i] = expected_of(*weights[i]);
      y[i].assign(expected[i].size(), -1.0f);
    }
    for (size_t i = 0; i < weights.size(); ++i)
      bodies.emplace_back([&, i](int64_t b, int64_t e) {
        const bool ok = final_rows(y[i], expected[i], weights[i]->rows, b, e);
        std::lock_guard lock(seen[i].mutex);
        seen[i].ranges.emplace_back(b, e);
        seen[i].all_final = seen[i].all_final && ok;
      });
    std::vector<MatmulTarget> targets;
    for (size_t i = 0; i < weights.size(); ++i)
      targets.push_back(
          {weights[i], nullptr, y[i].data(), weights[i]->rows, row_epilogue(bodies[i], multiples[i])});
    matmul_shared_input(x.data(), tokens, cols, targets, pool);
    for (size_t i = 0; i < weights.size(); ++i) {
      EXPECT_EQ(y[i], expected[i]) << to_string(weights[i]->format);
      EXPECT_TRUE(seen[i].all_final) << to_string(weights[i]->format) << " tokens " << tokens;
      EXPECT_TRUE(covered_once(seen[i].ranges, weights[i]->rows, std::lcm(multiples[i], int64_t{16})))
          << to_string(weights[i]->format) << " tokens " << tokens;
    }

    // Same rows: lockstep, the first target's epilogue sees both targets' rows final.
    const std::vector<float> expected_q4 = expected_of(q4), expected_f32 = expected_of(f32_100);
    std::vector<float> y_q4(expected_q4.size(), -1.0f), y_f32(expected_f32.size(), -1.0f);
    Seen both;
    const auto both_final = [&](int64_t b, int64_t e) {
      const bool ok = final_rows(y_q4, expected_q4, 100, b, e) && final_rows(y_f32, expected_f32, 100, b, e);
      std::lock_guard lock(both.mutex);
      both.ranges.emplace_back(b, e);
      both.all_final = both.all_final && ok;
    };
    const std::vector<MatmulTarget> pair{{&q4, nullptr, y_q4.data(), 100, row_epilogue(both_final, 1)},
                                         {&f32_100, nullptr, y_f32.data(), 100}};
    matmul_shared_input(x.data(), tokens, cols, pair, pool);
    EXPECT_EQ(y_q4, expected_q4);
    EXPECT_EQ(y_f32, expected_f32);
    EXPECT_TRUE(both.all_final) << "tokens " << tokens;
    EXPECT_TRUE(covered_once(both.ranges, 100, 16)) << "tokens " << tokens;
  }
}

// The norm fused into the int8 quantization gives bitwise what normalizing the rows and then
// multiplying gives: with and without a norm weight, gemma's 1 + w, strided rows, one token and
// several; a float weight among the targets takes the unfused path, with the same results.
TEST(RmsNormMatmulSharedInput, IsBitwiseNormThenMatmul) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  const int64_t cols = 256, x_stride = 300;
  ThreadPool pool(2);
  std::vector<float> norm_weight(static_cast<size_t>(cols));
  for (auto& v : norm_weight) v = dist(rng);
  const auto quantized = [&](WeightFormat format, int64_t rows, std::vector<std::byte>& bytes) {
    return random_weight(format, rows, cols, 2.0f, rng, bytes);
  };
  std::vector<std::byte> q8_bytes, q4_bytes, q4k_bytes, q6k_bytes;
  const WeightView q8 = quantized(WeightFormat::kQ8_0, 40, q8_bytes);
  const WeightView q4 = quantized(WeightFormat::kQ4_0, 24, q4_bytes);
  const WeightView q4k = quantized(WeightFormat::kQ4_K, 17, q4k_bytes);
  const WeightView q6k = quantized(WeightFormat::kQ6_K, 33, q6k_bytes);
  std::vector<float> f32_values(static_cast<size_t>(9 * cols));
  for (auto& v : f32_values) v = dist(rng);
  const WeightView f32{WeightFormat::kF32, 9, cols, reinterpret_cast<const std::byte*>(f32_values.data()),
                       cols * 4};

  for (const int64_t tokens : {1, 5}) {
    std::vector<float> x(static_cast<size_t>(tokens * x_stride));
    for (auto& v : x) v = dist(rng);
    for (const bool weighted : {true, false}) {
      for (const bool one_plus : {false, true}) {
        const InputRmsNorm norm{weighted ? norm_weight.data() : nullptr, 1e-5f, one_plus};
        std::vector<float> normed(static_cast<size_t>(tokens * cols));
        for (int64_t t = 0; t < tokens; ++t)
          rms_norm(&x[t * x_stride], norm.weight, cols, norm.eps, norm.one_plus, &normed[t * cols]);
        for (const bool with_float : {false, true}) {
          std::vector<const WeightView*> weights{&q8, &q4, &q4k};
          weights.push_back(with_float ? &f32 : &q6k);
          std::vector<std::vector<float>> fused(weights.size()), expected(weights.size());
          std::vector<MatmulTarget> fused_targets, expected_targets;
          for (size_t i = 0; i < weights.size(); ++i) {
            fused[i].assign(static_cast<size_t>(tokens * weights[i]->rows), -1.0f);
            expected[i].assign(fused[i].size(), -2.0f);
            fused_targets.push_back({weights[i], nullptr, fused[i].data(), weights[i]->rows});
            expected_targets.push_back({weights[i], nullptr, expected[i].data(), weights[i]->rows});
          }
          std::vector<float> scratch(static_cast<size_t>(tokens * cols), 0.0f);
          rms_norm_matmul_shared_input(x.data(), tokens, x_stride, norm, scratch.data(), fused_targets, pool);
          matmul_shared_input(normed.data(), tokens, cols, expected_targets, pool);
          for (size_t i = 0; i < weights.size(); ++i)
            EXPECT_EQ(fused[i], expected[i]) << to_string(weights[i]->format) << " tokens " << tokens
                                             << " weighted " << weighted << " one_plus " << one_plus;
          // The normalized rows are only materialized when a weight needs them as floats.
          EXPECT_EQ(scratch == normed, with_float);
        }
      }
    }
  }
}

}  // namespace
}  // namespace tgi::kernels
