#include "kernels/quant/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quant/half.h"

namespace tgi::kernels::quant {
namespace {

using formats::GgmlType;

// ---- An independent reference of the format definitions: element e of one block, computed
// directly from where the format puts e's bits (not the decoder's loop structure).

float ref_half(const uint8_t* p) {
  const unsigned h = p[0] | (p[1] << 8);
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 31;
  const int mantissa = h & 1023;
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -24);
  return sign * std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
}

int bits(unsigned byte, int shift, int width) { return static_cast<int>((byte >> shift) & ((1u << width) - 1)); }

// Q4_K/Q5_K 6-bit scale (which = 0) or min (which = 1) of sub-block j.
int ref_k4_field(const uint8_t* packed, int j, int which) {
  if (j < 4) return bits(packed[j + 4 * which], 0, 6);
  const int low = bits(packed[j + 4], 4 * which, 4);
  const int high = bits(packed[j - 4 + 4 * which], 6, 2);
  return low + 16 * high;
}

float ref_element(GgmlType type, const uint8_t* b, int e) {
  switch (type) {
    case GgmlType::kQ4_0: return ref_half(b) * static_cast<float>(bits(b[2 + e % 16], 4 * (e / 16), 4) - 8);
    case GgmlType::kQ4_1:
      return ref_half(b) * static_cast<float>(bits(b[4 + e % 16], 4 * (e / 16), 4)) + ref_half(b + 2);
    case GgmlType::kQ5_0: {
      const int high = bits(b[2 + e / 8], e % 8, 1);
      return ref_half(b) * static_cast<float>(bits(b[6 + e % 16], 4 * (e / 16), 4) + 16 * high - 16);
    }
    case GgmlType::kQ5_1: {
      const int high = bits(b[4 + e / 8], e % 8, 1);
      return ref_half(b) * static_cast<float>(bits(b[8 + e % 16], 4 * (e / 16), 4) + 16 * high) + ref_half(b + 2);
    }
    case GgmlType::kQ8_0: return ref_half(b) * static_cast<float>(static_cast<int8_t>(b[2 + e]));
    case GgmlType::kQ2_K: {
      // scales[16] qs[64] d dmin; element e: 128-half h, 2-bit plane g, byte lane l.
      const int h = e / 128, g = (e % 128) / 32, l = e % 32, sub = e / 16;
      const int q = bits(b[16 + 32 * h + l], 2 * g, 2);
      return ref_half(b + 80) * static_cast<float>(bits(b[sub], 0, 4) * q) -
             ref_half(b + 82) * static_cast<float>(bits(b[sub], 4, 4));
    }
    case GgmlType::kQ3_K: {
      // hmask[32] qs[64] scales[12] d
      const int h = e / 128, g = (e % 128) / 32, l = e % 32, sub = e / 16;
      const uint8_t* sc = b + 96;
      const int scale_low = sub < 8 ? bits(sc[sub], 0, 4) : bits(sc[sub - 8], 4, 4);
      const int scale = scale_low + 16 * bits(sc[8 + sub % 4], 2 * (sub / 4), 2) - 32;
      const int q = bits(b[32 + 32 * h + l], 2 * g, 2) - (bits(b[l], 4 * h + g, 1) ? 0 : 4);
      return ref_half(b + 108) * static_cast<float>(scale * q);
    }
    case GgmlType::kQ4_K: {
      // d dmin scales[12] qs[128]
      const int sub = e / 32, l = e % 32;
      const int q = bits(b[16 + 32 * (sub / 2) + l], 4 * (sub % 2), 4);
      return ref_half(b) * static_cast<float>(ref_k4_field(b + 4, sub, 0) * q) -
             ref_half(b + 2) * static_cast<float>(ref_k4_field(b + 4, sub, 1));
    }
    case GgmlType::kQ5_K: {
      // d dmin scales[12] qh[32] qs[128]
      const int sub = e / 32, l = e % 32;
      const int q = bits(b[48 + 32 * (sub / 2) + l], 4 * (sub % 2), 4) + 16 * bits(b[16 + l], sub, 1);
      return ref_half(b) * static_cast<float>(ref_k4_field(b + 4, sub, 0) * q) -
             ref_half(b + 2) * static_cast<float>(ref_k4_field(b + 4, sub, 1));
    }
    case GgmlType::kQ6_K: {
      // ql[128] qh[64] scales[16] d; in each 128-half, quarter k of 32 lanes.
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      const int low = bits(b[64 * h + 32 * (k % 2) + l], 4 * (k / 2), 4);
      const int high = bits(b[128 + 32 * h + l], 2 * k, 2);
      const int scale = static_cast<int8_t>(b[192 + e / 16]);
      return ref_half(b + 208) * static_cast<float>(scale * (low + 16 * high - 32));
    }
    default: return NAN;
  }
}

struct Format {
  GgmlType type;
  std::vector<int> half_offsets;  // where the block stores its f16 scales
};

const std::vector<Format>& block_formats() {
  static const std::vector<Format> formats = {
      {GgmlType::kQ4_0, {0}},       {GgmlType::kQ4_1, {0, 2}},   {GgmlType::kQ5_0, {0}},
      {GgmlType::kQ5_1, {0, 2}},    {GgmlType::kQ8_0, {0}},      {GgmlType::kQ2_K, {80, 82}},
      {GgmlType::kQ3_K, {108}},     {GgmlType::kQ4_K, {0, 2}},   {GgmlType::kQ5_K, {0, 2}},
      {GgmlType::kQ6_K, {208}},
  };
  return formats;
}

// Random bytes, with each f16 scale set to a random finite normal half.
std::vector<uint8_t> random_blocks(const Format& f, int blocks, std::mt19937& rng) {
  const size_t block_bytes = formats::ggml_type_traits(f.type)->block_bytes;
  std::vector<uint8_t> data(block_bytes * blocks);
  for (auto& byte : data) byte = static_cast<uint8_t>(rng());
  for (int i = 0; i < blocks; ++i) {
    for (int offset : f.half_offsets) {
      const unsigned h = ((rng() & 1u) << 15) | ((5 + rng() % 16) << 10) | (rng() & 1023u);
      data[i * block_bytes + offset] = static_cast<uint8_t>(h & 0xFF);
      data[i * block_bytes + offset + 1] = static_cast<uint8_t>(h >> 8);
    }
  }
  return data;
}

TEST(QuantDequantizeTest, EveryBlockFormatMatchesTheReferenceOnRandomBlocks) {
  std::mt19937 rng(1234);
  for (const Format& f : block_formats()) {
    const auto traits = *formats::ggml_type_traits(f.type);
    const int blocks = 16;
    const auto data = random_blocks(f, blocks, rng);
    std::vector<float> out(blocks * traits.block_elements);
    ASSERT_TRUE(dequantize_row(f.type, data.data(), out.data(), static_cast<int64_t>(out.size())).ok());
    for (int i = 0; i < blocks; ++i) {
      for (int e = 0; e < traits.block_elements; ++e) {
        const float expected = ref_element(f.type, data.data() + i * traits.block_bytes, e);
        const float got = out[i * traits.block_elements + e];
        ASSERT_NEAR(got, expected, 1e-6f * std::max(1.0f, std::fabs(expected)))
            << traits.name << " block " << i << " element " << e;
      }
    }
  }
}

TEST(QuantDequantizeTest, PlainFloatFormats) {
  const std::vector<float> values = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 1e-3f, 3.14159f};
  std::vector<uint8_t> f16(values.size() * 2), bf16(values.size() * 2);
  std::vector<float> back(values.size());
  ASSERT_TRUE(quantize_row(GgmlType::kF16, values.data(), f16.data(), 7).ok());
  ASSERT_TRUE(dequantize_row(GgmlType::kF16, f16.data(), back.data(), 7).ok());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(back[i], ref_half(f16.data() + 2 * i));
    EXPECT_NEAR(back[i], values[i], std::fabs(values[i]) * 1e-3f);
  }
  ASSERT_TRUE(quantize_row(GgmlType::kBF16, values.data(), bf16.data(), 7).ok());
  ASSERT_TRUE(dequantize_row(GgmlType::kBF16, bf16.data(), back.data(), 7).ok());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(back[i], values[i], std::fabs(values[i]) / 128.0f);
  EXPECT_EQ(back[2], 1.0f);
  EXPECT_EQ(back[3], -2.5f);
  // Ties round to even: 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7.
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST(QuantDequantizeTest, RejectsPartialBlocks) {
  std::vector<uint8_t> data(1000);
  std::vector<float> out(256);
  EXPECT_FALSE(dequantize_row(GgmlType::kQ4_0, data.data(), out.data(), 33).ok());
  EXPECT_FALSE(dequantize_row(GgmlType::kQ6_K, data.data(), out.data(), 128).ok());
  EXPECT_FALSE(quantize_row(GgmlType::kQ8_0, out.data(), data.data(), 16).ok());
  EXPECT_EQ(quantize_row(GgmlType::kQ2_K, out.data(), data.data(), 256).error().kind, ErrorKind::kUnsupported);
}

enum class Shape { kNormal, kUniform, kOutliers, kPositive, kNegative, kConstant, kZero };

std::vector<float> sample_row(Shape shape, int n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) {
    switch (shape) {
      case Shape::kNormal: x[i] = normal(rng); break;
      case Shape::kUniform: x[i] = uniform(rng); break;
      case Shape::kOutliers: x[i] = normal(rng) * ((rng() % 97 == 0) ? 200.0f : 1.0f); break;
      case Shape::kPositive: x[i] = 0.5f + std::fabs(uniform(rng)); break;
      case Shape::kNegative: x[i] = -0.5f - std::fabs(uniform(rng)); break;
      case Shape::kConstant: x[i] = 0.75f; break;
      case Shape::kZero: x[i] = 0.0f; break;
    }
  }
  return x;
}

// The worst error the format allows for a block `x` (of the format's block size).
float error_bound(GgmlType type, const float* x, int n) {
  float amax = 0, lo = x[0], hi = x[0];
  for (int i = 0; i < n; ++i) {
    amax = std::max(amax, std::fabs(x[i]));
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float fp16_slack = amax * 2e-3f + 1e-7f;  // scales are stored as halves
  switch (type) {
    case GgmlType::kQ8_0: return amax / 127 / 2 * 1.002f + 1e-7f;
    case GgmlType::kQ4_0: return amax / 8 + fp16_slack;   // the far end of [-8, 7] clamps by one step
    case GgmlType::kQ5_0: return amax / 16 + fp16_slack;
    case GgmlType::kQ4_1: return (hi - lo) / 15 / 2 + fp16_slack;
    case GgmlType::kQ5_1: return (hi - lo) / 31 / 2 + fp16_slack;
    case GgmlType::kQ4_K: {
      float range = 0;
      for (int s = 0; s < n / 32; ++s) {
        const float* sub = x + 32 * s;
        const float sub_hi = *std::max_element(sub, sub + 32);
        const float sub_lo = std::min(0.0f, *std::min_element(sub, sub + 32));
        range = std::max(range, sub_hi - sub_lo);
      }
      return range / 15 * 0.55f + fp16_slack;
    }
    case GgmlType::kQ6_K: return amax / 32 * 1.02f + fp16_slack;
    default: return 0;
  }
}

TEST(QuantQuantizeTest, RoundTripErrorIsWithinEachFormatsBound) {
  std::mt19937 rng(99);
  const GgmlType types[] = {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                            GgmlType::kQ5_1, GgmlType::kQ4_K, GgmlType::kQ6_K};
  const Shape shapes[] = {Shape::kNormal,   Shape::kUniform,  Shape::kOutliers, Shape::kPositive,
                          Shape::kNegative, Shape::kConstant, Shape::kZero};
  for (GgmlType type : types) {
    ASSERT_TRUE(can_quantize(type));
    const auto traits = *formats::ggml_type_traits(type);
    const int n = 1024;
    for (Shape shape : shapes) {
      const auto x = sample_row(shape, n, rng);
      std::vector<uint8_t> encoded(n / traits.block_elements * traits.block_bytes);
      std::vector<float> decoded(n);
      ASSERT_TRUE(quantize_row(type, x.data(), encoded.data(), n).ok());
      ASSERT_TRUE(dequantize_row(type, encoded.data(), decoded.data(), n).ok());
      double sum_error = 0, sum_bound = 0;
      for (int b = 0; b < n / traits.block_elements; ++b) {
        const float* xb = x.data() + b * traits.block_elements;
        const float bound = error_bound(type, xb, static_cast<int>(traits.block_elements));
        for (int e = 0; e < traits.block_elements; ++e) {
          const float error = std::fabs(decoded[b * traits.block_elements + e] - xb[e]);
          ASSERT_LE(error, bound) << traits.name << " shape " << static_cast<int>(shape) << " block " << b
                                  << " element " << e << " value " << xb[e];
          sum_error += error;
          sum_bound += bound;
        }
      }
      // Rounding to nearest: on average well inside the worst case.
      if (shape == Shape::kNormal || shape == Shape::kUniform) {
        EXPECT_LT(sum_error, 0.6 * sum_bound) << traits.name << " shape " << static_cast<int>(shape);
      }
      if (shape == Shape::kZero) {
        for (float v : decoded) ASSERT_EQ(v, 0.0f) << traits.name;
      }
    }
  }
}

TEST(QuantQuantizeTest, RequantizingDecodedBlocksIsExact) {
  std::mt19937 rng(7);
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0}) {
    const auto traits = *formats::ggml_type_traits(type);
    const int n = 512;
    const auto x = sample_row(Shape::kNormal, n, rng);
    std::vector<uint8_t> first(n / traits.block_elements * traits.block_bytes), second(first.size());
    std::vector<float> decoded(n), redecoded(n);
    ASSERT_TRUE(quantize_row(type, x.data(), first.data(), n).ok());
    ASSERT_TRUE(dequantize_row(type, first.data(), decoded.data(), n).ok());
    ASSERT_TRUE(quantize_row(type, decoded.data(), second.data(), n).ok());
    ASSERT_TRUE(dequantize_row(type, second.data(), redecoded.data(), n).ok());
    EXPECT_EQ(decoded, redecoded) << traits.name;
    EXPECT_EQ(first, second) << traits.name;
  }
}

TEST(QuantQuantizeTest, KQuantsUseTheFullGridOnSmoothData) {
  // A linear ramp over one sub-block is representable to within half a step per element.
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = -1.0f + 2.0f * static_cast<float>(i) / 255.0f;
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ6_K}) {
    const auto traits = *formats::ggml_type_traits(type);
    std::vector<uint8_t> encoded(traits.block_bytes);
    std::vector<float> decoded(256);
    ASSERT_TRUE(quantize_row(type, x.data(), encoded.data(), 256).ok());
    ASSERT_TRUE(dequantize_row(type, encoded.data(), decoded.data(), 256).ok());
    float worst = 0;
    for (int i = 0; i < 256; ++i) worst = std::max(worst, std::fabs(decoded[i] - x[i]));
    EXPECT_LT(worst, type == GgmlType::kQ4_K ? 0.04f : 0.02f) << traits.name;
  }
}

}  // namespace
}  // namespace tgi::kernels::quant
