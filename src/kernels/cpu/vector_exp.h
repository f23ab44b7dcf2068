#pragma once
// exp(x) for 8 floats at once (AVX2 + FMA, the build's baseline): 2^n · p(r) with x = n·ln2 + r,
// |r| ≤ ln2/2, p a degree-6 polynomial (Cephes' coefficients); within 2 ulp of std::exp on
// [-87, 88]; below -87.3 the result is 0, above 88.4 it saturates. What softmax needs at the
// speed attention needs (the scalar libm call cost a third of a long prefill).
#include <immintrin.h>

#include "kernels/cpu/exp_polynomial.h"

namespace tgi::kernels {

inline __m256 exp8(__m256 x) {
  namespace e = exp_polynomial;
  x = _mm256_min_ps(x, _mm256_set1_ps(e::kClamp));
  x = _mm256_max_ps(x, _mm256_set1_ps(-e::kClamp));
  __m256 n = _mm256_fmadd_ps(x, _mm256_set1_ps(e::kLog2e), _mm256_set1_ps(0.5f));
  n = _mm256_round_ps(n, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(e::kLn2High), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(e::kLn2Low), r);
  __m256 p = _mm256_set1_ps(e::kCoefficients[0]);
  for (int i = 1; i < e::kDegree; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(e::kCoefficients[i]));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n through the exponent bits; n = -127 (x near -88.4) gives exponent 0, i.e. 0.
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

}  // namespace tgi::kernels
