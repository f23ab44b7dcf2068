#pragma once
// The constants of the vector exp, shared by vector_exp.h's exp8 (AVX2) and attention_avx512.cpp's
// exp16: x is clamped to ±kClamp, n = floor(x·log2(e) + ½), r = x − n·ln2 with ln2 split in two
// (kLn2High + kLn2Low) so the product is exact enough, and exp(x) = 2^n · (1 + r + r²·p(r)) with
// p's Cephes coefficients, highest degree first. Plain constants only: the AVX-512 kernel includes
// it without sharing an inline function with AVX2 code.
namespace tgi::kernels::exp_polynomial {

inline constexpr float kClamp = 88.3762626647949f;
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2High = 0.693359375f;
inline constexpr float kLn2Low = -2.12194440e-4f;
inline constexpr int kDegree = 6;
inline constexpr float kCoefficients[kDegree] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                                 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

}  // namespace tgi::kernels::exp_polynomial
