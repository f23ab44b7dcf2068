#include "engine/logits_processors.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TGI_LOGITS_AVX2 1
#endif

namespace tgi::engine {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();
constexpr float kInfinity = std::numeric_limits<float>::infinity();

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Appends to `out`, in index order, every entry above `bar` (or equal to it, when `inclusive`).
// NaN never passes.
void collect(std::span<const float> row, float bar, bool inclusive, CandidateTokens& out) {
  const size_t n = row.size();
  const float* x = row.data();
  size_t i = 0;
  auto take = [&](size_t j) {
    out.ids.push_back(static_cast<int32_t>(j));
    out.logits.push_back(x[j]);
  };
#ifdef TGI_LOGITS_AVX2
  const __m256 bars = _mm256_set1_ps(bar);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    auto mask = static_cast<unsigned>(_mm256_movemask_ps(inclusive ? _mm256_cmp_ps(v, bars, _CMP_GE_OQ)
                                                                   : _mm256_cmp_ps(v, bars, _CMP_GT_OQ)));
    for (; mask != 0; mask &= mask - 1) take(i + static_cast<size_t>(__builtin_ctz(mask)));
  }
#endif
  for (; i < n; ++i)
    if (x[i] > bar || (inclusive && x[i] == bar)) take(i);
}

// The k-th largest entry of the row above -infinity (k >= 1; NaN never counts), or the smallest
// of them when there are fewer than k, or +infinity when there are none (so nothing reaches it):
// one pass with a min-heap of the k largest so far. A block of 32 entries is looked at one by one
// only when one of them reaches the heap's floor, which past the first few thousand is rare.
//
// With `seen`, the same pass also appends to it, in index order, every entry x > -infinity with
// x >= reach(floor), the floor being the heap's smallest when x was read (-infinity until the
// heap is full). The floor only rises and `reach` (<= its argument) must not fall as it does, so
// `seen` ends up with every entry >= reach(k-th largest), and few others: the row is read once.
template <typename Reach>
float kth_largest(std::span<const float> row, int32_t k, std::vector<float>& heap, CandidateTokens* seen,
                  Reach reach) {
  constexpr float kLowest = std::numeric_limits<float>::lowest();
  const auto min_first = std::greater<float>();
  const auto capacity = static_cast<size_t>(k);
  heap.clear();
  float floor = kMasked;  // what an entry must exceed to change the k largest
  float watch = kLowest;  // what an entry must reach to matter at all
  auto raise_floor = [&](float f) {
    floor = f;
    watch = seen ? std::max(kLowest, reach(f)) : f;
  };
  const float* x = row.data();
  auto visit = [&](size_t j) {
    const float v = x[j];
    if (v > floor) {
      if (heap.size() < capacity) {
        heap.push_back(v);
        std::push_heap(heap.begin(), heap.end(), min_first);
        if (heap.size() == capacity) raise_floor(heap.front());
      } else {
        std::pop_heap(heap.begin(), heap.end(), min_first);
        heap.back() = v;
        std::push_heap(heap.begin(), heap.end(), min_first);
        raise_floor(heap.front());
      }
    }
    if (seen && v >= watch) {
      seen->ids.push_back(static_cast<int32_t>(j));
      seen->logits.push_back(v);
    }
  };
  const size_t n = row.size();
  size_t i = 0;
#ifdef TGI_LOGITS_AVX2
  for (; i + 32 <= n; i += 32) {
    // Without `seen` the watch is the floor and equality changes nothing; with it, equality counts.
    const __m256 w = _mm256_set1_ps(watch);
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    const __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
    const __m256 hit =
        _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(a, w, _CMP_GE_OQ), _mm256_cmp_ps(b, w, _CMP_GE_OQ)),
                     _mm256_or_ps(_mm256_cmp_ps(c, w, _CMP_GE_OQ), _mm256_cmp_ps(d, w, _CMP_GE_OQ)));
    if (_mm256_movemask_ps(hit) == 0) continue;
    for (size_t j = i; j < i + 32; ++j) visit(j);
  }
#endif
  for (; i < n; ++i) visit(i);
  if (heap.empty()) return kInfinity;
  return heap.front();
}

float kth_largest(std::span<const float> row, int32_t k, std::vector<float>& heap) {
  return kth_largest(row, k, heap, nullptr, [](float floor) { return floor; });
}

// A large k would make the heap slow; selection over a copy costs the same for any k.
constexpr int32_t kHeapSelectionLimit = 1024;

float kth_largest_by_selection(std::span<const float> row, int32_t k, std::vector<float>& scratch) {
  scratch.clear();
  for (float x : row)
    if (x > kMasked) scratch.push_back(x);
  if (scratch.empty()) return kInfinity;
  if (scratch.size() <= static_cast<size_t>(k)) return *std::min_element(scratch.begin(), scratch.end());
  std::nth_element(scratch.begin(), scratch.begin() + (k - 1), scratch.end(), std::greater<float>());
  return scratch[k - 1];
}

#ifdef TGI_LOGITS_AVX2
float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

double horizontal_sum(__m256 v) {
  const __m256d wide =
      _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(wide), _mm256_extractf128_pd(wide, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}
#endif

// The largest of x[0, n) (NaN ignored; -infinity when there is nothing else).
float max_of(const float* x, size_t n) {
  float m = kMasked;
  size_t i = 0;
#ifdef TGI_LOGITS_AVX2
  __m256 m0 = _mm256_set1_ps(kMasked), m1 = m0, m2 = m0, m3 = m0;
  for (; i + 32 <= n; i += 32) {  // max_ps returns its second operand when the first is NaN
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
    m2 = _mm256_max_ps(_mm256_loadu_ps(x + i + 16), m2);
    m3 = _mm256_max_ps(_mm256_loadu_ps(x + i + 24), m3);
  }
  m = horizontal_max(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
#endif
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

#ifdef TGI_LOGITS_AVX2
// e^(x - max) for eight floats x <= max, as 2^t with t = (x - max)·log2(e) = n + f, |f| <= 1/2:
// 2^f by its Taylor series to degree 6 (truncation below 2^-23), 2^n added into the exponent
// bits. Within a few ulps of e^(x - max) down to x - max = -87; below, some value under 2^-125,
// which a sum that holds the maximum's 1 cannot see. Leaner than kernels::exp8 (no upper clamp,
// no multiply for 2^n), which is a quarter of the greedy path's time.
__m256 exp_below_max(__m256 x, __m256 max) {
  constexpr auto kCoefficients = [] {  // ln(2)^k / k!
    std::array<float, 7> c{};
    double term = 1;
    for (int k = 0; k < 7; ++k) {
      if (k > 0) term *= 0.6931471805599453 / k;
      c[k] = static_cast<float>(term);
    }
    return c;
  }();
  __m256 t = _mm256_mul_ps(_mm256_sub_ps(x, max), _mm256_set1_ps(1.4426950408889634f));
  t = _mm256_max_ps(t, _mm256_set1_ps(-126.0f));
  const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(t, n);
  __m256 p = _mm256_set1_ps(kCoefficients[6]);
  for (int k = 5; k >= 0; --k) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kCoefficients[k]));
  const __m256i scale = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), scale));
}
#endif

// Σ exp(x[i] - max) over x[0, n), every x[i] <= max.
double sum_of_exp(const float* x, size_t n, float max) {
  double sum = 0;
  size_t i = 0;
#ifdef TGI_LOGITS_AVX2
  // Few terms per float lane (n is one block), so the float partial sums lose nothing that matters.
  const __m256 maxes = _mm256_set1_ps(max);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, exp_below_max(_mm256_loadu_ps(x + i), maxes));
    s1 = _mm256_add_ps(s1, exp_below_max(_mm256_loadu_ps(x + i + 8), maxes));
    s2 = _mm256_add_ps(s2, exp_below_max(_mm256_loadu_ps(x + i + 16), maxes));
    s3 = _mm256_add_ps(s3, exp_below_max(_mm256_loadu_ps(x + i + 24), maxes));
  }
  sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
#endif
  for (; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  return sum;
}

// --- sums of libm exps, computed fast and still exact ------------------------------------------
//
// The sampling decisions (the log-sum-exp, and with it top-p, typical-p and the draw) are defined
// by the arithmetic they have always used: libm's exp of double(logit) - shift, summed in double
// in index order; a seed must keep giving the same tokens. A vectorized exp gives the same sums to
// within a bound we can state. When a decision (a float rounding, a comparison with the uniform
// draw) comes out the same everywhere within that bound, it is the decision the libm sum makes;
// only when it does not does the libm loop run: rarely for a spread row, always for a row whose
// mass sits almost entirely on one token (sum within ~1e-7 of 1), which then costs what it always
// did plus the fast pass (~15%).

constexpr double kUnitRoundoff = 0x1p-53;
// |computed exp - e^x| <= kExpError * e^x + kFlushError, for libm's exp (< 1 ulp) and for exp4
// below (a few ulps, or 0 where e^x < 2^-1021).
constexpr double kExpError = 0x1p-48;
constexpr double kFlushError = 0x1p-1020;

// How far a sum of `count` nonnegative terms totalling about `sum`, computed in any order with
// exps within kExpError, can be from the same sum with libm's exp in index order: both exps'
// error, plus at most `count` roundings on any path through either sum (with room to spare).
double sum_error_bound(double sum, size_t count) {
  const auto n = static_cast<double>(count + 16);
  return (2 * kExpError + 2 * n * kUnitRoundoff) * sum * 1.01 + n * kFlushError;
}

#ifdef TGI_LOGITS_AVX2
// e^x for four doubles x <= 0 (NaN stays NaN): x = k·ln2 + r with |r| <= ln2/2, ln2 split in two
// so that k·ln2_high is exact; e^r by its Taylor series to degree 13 (truncation below 2^-57);
// times 2^k through the exponent bits. Below -708, where e^x < 2^-1021, the result is 0.
__m256d exp4(__m256d x) {
  const __m256d lowest = _mm256_set1_pd(-708.0);
  const __m256d underflow = _mm256_cmp_pd(x, lowest, _CMP_LT_OQ);
  x = _mm256_max_pd(lowest, x);  // max_pd returns its second operand when either is NaN
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10), r);
  constexpr auto kInverseFactorials = [] {
    std::array<double, 14> c{};
    double factorial = 1;
    for (int i = 0; i < 14; ++i) {
      if (i > 0) factorial *= i;
      c[i] = 1.0 / factorial;  // exact factorials (13! < 2^53), one rounding each
    }
    return c;
  }();
  __m256d p = _mm256_set1_pd(kInverseFactorials[13]);
  for (int i = 12; i >= 0; --i) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInverseFactorials[i]));
  const __m256i exponent = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k)), _mm256_set1_epi64x(1023)), 52);
  return _mm256_andnot_pd(underflow, _mm256_mul_pd(p, _mm256_castsi256_pd(exponent)));
}

double horizontal_sum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}
#endif

// Σ exp(double(x[i]) - shift) over x[0, n), in no particular order.
double fast_exp_sum(const float* x, size_t n, double shift) {
  double sum = 0;
  size_t i = 0;
#ifdef TGI_LOGITS_AVX2
  const __m256d shifts = _mm256_set1_pd(shift);
  __m256d s0 = _mm256_setzero_pd(), s1 = s0;
  for (; i + 8 <= n; i += 8) {
    s0 = _mm256_add_pd(s0, exp4(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), shifts)));
    s1 = _mm256_add_pd(s1, exp4(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), shifts)));
  }
  sum = horizontal_sum(_mm256_add_pd(s0, s1));
#endif
  for (; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - shift);
  return sum;
}

// exp(double(x[i]) - shift) for x[0, n) into out[0, n).
void fast_exp_terms(const float* x, size_t n, double shift, double* out) {
  size_t i = 0;
#ifdef TGI_LOGITS_AVX2
  const __m256d shifts = _mm256_set1_pd(shift);
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(out + i, exp4(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), shifts)));
#endif
  for (; i < n; ++i) out[i] = std::exp(static_cast<double>(x[i]) - shift);
}

// The definitions, for the rare row whose result the bound leaves open.
float libm_log_sum_exp(std::span<const float> logits, float max) {
  double sum = 0;
  for (float x : logits) sum += std::exp(static_cast<double>(x) - max);
  return max + static_cast<float>(std::log(sum));
}

size_t libm_inverse_cdf(std::span<const float> logits, float lse, double u) {
  size_t chosen = 0;
  double cumulative = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    chosen = i;
    cumulative += std::exp(static_cast<double>(logits[i]) - lse);
    if (u < cumulative) break;
  }
  return chosen;
}

}  // namespace

// --- candidates ----------------------------------------------------------------------------

void CandidateTokens::keep_where(const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!keep[i]) continue;
    ids[out] = ids[i];
    logits[out] = logits[i];
    ++out;
  }
  ids.resize(out);
  logits.resize(out);
}

void gather_candidates(std::span<const float> row, CandidateTokens& out) {
  out.clear();
  out.ids.reserve(row.size());
  out.logits.reserve(row.size());
  collect(row, kMasked, /*inclusive=*/false, out);
}

void scatter_candidates(const CandidateTokens& candidates, std::span<float> row) {
  std::fill(row.begin(), row.end(), kMasked);
  for (size_t i = 0; i < candidates.size(); ++i) row[candidates.ids[i]] = candidates.logits[i];
}

// --- penalties -----------------------------------------------------------------------------

void apply_logit_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias) {
  for (const auto& [id, b] : bias)
    if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[id] += b;
}

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> seen_tokens,
                              float penalty) {
  if (penalty == 1.0f) return;
  std::vector<int32_t> distinct(seen_tokens.begin(), seen_tokens.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (int32_t t : distinct) {
    if (t < 0 || static_cast<size_t>(t) >= logits.size()) continue;
    logits[t] = logits[t] < 0 ? logits[t] * penalty : logits[t] / penalty;
  }
}

void apply_frequency_presence_penalty(std::span<float> logits, std::span<const int32_t> generated,
                                      float frequency, float presence) {
  if (frequency == 0.0f && presence == 0.0f) return;
  std::vector<int32_t> sorted(generated.begin(), generated.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    const int32_t t = sorted[i];
    if (t >= 0 && static_cast<size_t>(t) < logits.size())
      logits[t] -= static_cast<float>(j - i) * frequency + presence;
    i = j;
  }
}

std::vector<int32_t> watermark_greenlist(int32_t vocab_size, int32_t previous_token, float gamma) {
  const auto green = static_cast<int32_t>(static_cast<double>(vocab_size) * gamma);
  std::vector<int32_t> perm(vocab_size);
  std::iota(perm.begin(), perm.end(), 0);
  uint64_t state = kWatermarkHashKey * static_cast<uint64_t>(static_cast<uint32_t>(previous_token));
  // A partial Fisher-Yates shuffle: only the first `green` positions are needed.
  for (int32_t i = 0; i < green && i < vocab_size - 1; ++i) {
    const auto j = i + static_cast<int32_t>(splitmix64(state) % static_cast<uint64_t>(vocab_size - i));
    std::swap(perm[i], perm[j]);
  }
  perm.resize(green);
  return perm;
}

void apply_watermark(std::span<float> logits, int32_t previous_token, float gamma, float delta) {
  for (int32_t id : watermark_greenlist(static_cast<int32_t>(logits.size()), previous_token, gamma))
    logits[id] += delta;
}

// --- sampling filters on candidates --------------------------------------------------------

void apply_temperature(CandidateTokens& candidates, float temperature) {
  if (temperature == 1.0f || temperature <= 0.0f) return;
  for (float& x : candidates.logits) x /= temperature;
}

void select_top_k(std::span<const float> row, float temperature, int32_t k, CandidateTokens& out,
                  std::vector<float>& scratch) {
  out.clear();
  if (k <= 0 || static_cast<size_t>(k) >= row.size()) {
    gather_candidates(row, out);
    apply_temperature(out, temperature);
    return;
  }
  const bool scaled = !(temperature == 1.0f || temperature <= 0.0f);  // as apply_temperature()
  // x / t rounds monotonically, so the k-th largest scaled logit is kth / t; but a slightly
  // smaller x may round to the same value and is then tied with the k-th, and kept. Such an x
  // lies within t·ulp(kth / t) <= 2 ulp(kth) of kth (t·2^-149 where kth / t is subnormal): take
  // everything a little below the k-th, scale it, and keep what reaches kth / t.
  auto lowest_tie = [&](float kth) {
    if (!scaled) return kth;
    if (!std::isfinite(kth) || !std::isfinite(kth / temperature)) return kMasked;
    const double slack =
        std::max(std::abs(static_cast<double>(kth)) * 0x1p-20, static_cast<double>(temperature) * 0x1p-126);
    const double lowest = static_cast<double>(kth) - slack;
    const auto bar = static_cast<float>(lowest);
    return static_cast<double>(bar) > lowest ? std::nextafter(bar, kMasked) : bar;
  };
  float kth;
  if (k <= kHeapSelectionLimit) {
    kth = kth_largest(row, k, scratch, &out, lowest_tie);
  } else {
    kth = kth_largest_by_selection(row, k, scratch);
    collect(row, lowest_tie(kth), /*inclusive=*/true, out);
  }
  const float bar = lowest_tie(kth);
  if (bar == kMasked && scaled) {
    gather_candidates(row, out);  // kth / t overflows: ties may lie anywhere below
  } else {
    std::vector<bool> keep(out.size());
    for (size_t i = 0; i < out.size(); ++i) keep[i] = out.logits[i] >= bar;
    out.keep_where(keep);
  }
  if (!scaled) return;
  apply_temperature(out, temperature);
  const float scaled_kth = kth / temperature;
  std::vector<bool> keep(out.size());
  for (size_t i = 0; i < out.size(); ++i) keep[i] = out.logits[i] >= scaled_kth;
  out.keep_where(keep);
}

void apply_top_p(CandidateTokens& candidates, float p) {
  if (p >= 1.0f) return;
  const std::vector<float>& logits = candidates.logits;
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return;
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  // Decreasing logit, ties by id (candidates are in id order): a total order, so the kept set
  // never depends on sort internals.
  auto before = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  // The nucleus is usually tiny: sort a growing head of the candidates, not all of them.
  size_t sorted = std::min<size_t>(64, order.size());
  std::partial_sort(order.begin(), order.begin() + sorted, order.end(), before);
  double mass_before = 0;
  size_t keep = 0;
  while (keep < order.size() && (keep == 0 || mass_before < p)) {
    if (keep == sorted) {
      const size_t grown = std::min(order.size(), sorted * 4);
      std::partial_sort(order.begin() + sorted, order.begin() + grown, order.end(), before);
      sorted = grown;
    }
    mass_before += std::exp(static_cast<double>(logits[order[keep++]]) - lse);
  }
  if (keep == order.size()) return;
  std::vector<bool> kept(order.size(), false);
  for (size_t i = 0; i < keep; ++i) kept[order[i]] = true;
  candidates.keep_where(kept);
}

void apply_typical_p(CandidateTokens& candidates, float p) {
  if (p >= 1.0f) return;
  const std::vector<float>& logits = candidates.logits;
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return;
  const size_t n = logits.size();
  std::vector<double> shifted(n), probs(n);
  double entropy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double logp = static_cast<double>(logits[i]) - lse;
    probs[i] = std::exp(logp);
    entropy -= probs[i] * logp;
  }
  for (size_t i = 0; i < n; ++i) shifted[i] = std::abs(-(static_cast<double>(logits[i]) - lse) - entropy);
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return shifted[a] < shifted[b]; });
  // HF: last_ind = number of tokens whose cumulative probability is still below p.
  double cumulative = 0;
  size_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    cumulative += probs[order[i]];
    if (cumulative < p) last = i + 1;
  }
  last = std::min(last, n - 1);
  const double cutoff = shifted[order[last]];
  std::vector<bool> keep(n);
  for (size_t i = 0; i < n; ++i) keep[i] = !(shifted[i] > cutoff);
  candidates.keep_where(keep);
}

void apply_min_p(CandidateTokens& candidates, float min_p) {
  if (min_p <= 0.0f) return;
  float max = kMasked;
  for (float x : candidates.logits) max = std::max(max, x);
  if (max == kMasked) return;
  // p_i >= min_p * p_max  <=>  x_i >= x_max + log(min_p)
  const float threshold = max + std::log(min_p);
  std::vector<bool> keep(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) keep[i] = !(candidates.logits[i] < threshold);
  candidates.keep_where(keep);
}

std::vector<std::pair<int32_t, float>> best_candidates(const CandidateTokens& candidates, int32_t n,
                                                       float lse) {
  std::vector<std::pair<int32_t, float>> top;
  if (n <= 0 || lse == kMasked || candidates.empty()) return top;
  const std::vector<float>& logits = candidates.logits;
  std::vector<float> scratch;
  const float threshold = n <= kHeapSelectionLimit ? kth_largest(logits, n, scratch)
                                                   : kth_largest_by_selection(logits, n, scratch);
  std::vector<int32_t> chosen;
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] >= threshold) chosen.push_back(static_cast<int32_t>(i));
  // Decreasing logit, ties by id (candidates are in id order).
  auto better = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::sort(chosen.begin(), chosen.end(), better);
  for (int32_t i : chosen) top.emplace_back(candidates.ids[i], logits[i] - lse);
  return top;
}

// --- the filters on a full row -------------------------------------------------------------

void apply_temperature(std::span<float> logits, float temperature) {
  if (temperature == 1.0f || temperature <= 0.0f) return;
  for (float& x : logits) x /= temperature;
}

void apply_top_k(std::span<float> logits, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= logits.size()) return;
  CandidateTokens candidates;
  std::vector<float> scratch;
  select_top_k(logits, 1.0f, k, candidates, scratch);
  scatter_candidates(candidates, logits);
}

namespace {

// A full-row filter is its candidate filter between a gather and a scatter.
template <typename CandidateFilter>
void filter_row(std::span<float> logits, CandidateFilter filter) {
  CandidateTokens candidates;
  gather_candidates(logits, candidates);
  filter(candidates);
  scatter_candidates(candidates, logits);
}

}  // namespace

void apply_top_p(std::span<float> logits, float p) {
  if (p >= 1.0f) return;
  filter_row(logits, [p](CandidateTokens& c) { apply_top_p(c, p); });
}

void apply_typical_p(std::span<float> logits, float p) {
  if (p >= 1.0f) return;
  filter_row(logits, [p](CandidateTokens& c) { apply_typical_p(c, p); });
}

void apply_min_p(std::span<float> logits, float min_p) {
  if (min_p <= 0.0f) return;
  filter_row(logits, [min_p](CandidateTokens& c) { apply_min_p(c, min_p); });
}

// --- reductions ----------------------------------------------------------------------------

float log_sum_exp(std::span<const float> logits) {
  const float max = max_of(logits.data(), logits.size());
  if (max == kMasked) return kMasked;
  const double sum = fast_exp_sum(logits.data(), logits.size(), max);
  const double error = sum_error_bound(sum, logits.size());
  // The libm sum lies in [sum - error, sum + error] and libm's log is within an ulp of log, so
  // its log rounds to the same float as both ends of the (slightly widened) interval when they do.
  const double low = std::log(sum - error), high = std::log(sum + error);
  const double slack = 0x1p-50 * std::max(std::abs(low), std::abs(high)) + 0x1p-1000;
  const auto rounded_low = static_cast<float>(low - slack), rounded_high = static_cast<float>(high + slack);
  if (rounded_low == rounded_high) return max + rounded_low;
  return libm_log_sum_exp(logits, max);  // also where the row holds NaN or +infinity
}

size_t inverse_cdf_index(std::span<const float> logits, float lse, double u) {
  // The libm loop walks the row adding exp(x - lse) until the sum passes u. Here block sums find
  // the block where it passes, that block is walked term by term, and the index found is kept
  // when u is clear of the partial sums on both sides of it by more than their error bound.
  constexpr size_t kBlock = 256;
  const size_t n = logits.size();
  const float* x = logits.data();
  double terms[kBlock];
  double before = 0;  // the sum over the blocks before `begin`
  for (size_t begin = 0, blocks = 1; begin < n; begin += kBlock, ++blocks) {
    const size_t len = std::min(kBlock, n - begin);
    const bool last_block = begin + len == n;
    const double block = fast_exp_sum(x + begin, len, lse);
    if (!(u < before + block) && !last_block) {
      before += block;
      continue;
    }
    fast_exp_terms(x + begin, len, lse, terms);
    double cumulative = before;
    for (size_t i = 0; i < len; ++i) {
      const double previous = cumulative;
      cumulative += terms[i];
      if (!(u < cumulative)) continue;
      const size_t index = begin + i;
      const bool passes_here = u < cumulative - sum_error_bound(cumulative, index + blocks);
      const bool not_before = index == 0 || u >= previous + sum_error_bound(previous, index + blocks);
      return passes_here && not_before ? index : libm_inverse_cdf(logits, lse, u);
    }
    // Never passed: the libm loop ends on the last token, when its sum stays at or below u too.
    if (last_block && u >= cumulative + sum_error_bound(cumulative, n + blocks)) return n - 1;
    return libm_inverse_cdf(logits, lse, u);
  }
  return 0;
}

ArgmaxLogSumExp argmax_and_log_sum_exp(std::span<const float> logits) {
  // One pass in blocks that stay in L1: a block's max, then its exp-sum against the running max
  // (rescaling the sum so far when the max grows), so the row is read from memory once.
  constexpr size_t kBlock = 1024;
  ArgmaxLogSumExp out{0, kMasked};
  const float* x = logits.data();
  float max = kMasked;
  double sum = 0;
  for (size_t begin = 0; begin < logits.size(); begin += kBlock) {
    const size_t len = std::min(kBlock, logits.size() - begin);
    const float block_max = max_of(x + begin, len);
    if (block_max > max) {
      out.argmax = static_cast<int32_t>(std::find(x + begin, x + begin + len, block_max) - x);
      sum = max == kMasked ? 0.0 : sum * std::exp(static_cast<double>(max) - block_max);
      max = block_max;
    }
    if (max != kMasked) sum += sum_of_exp(x + begin, len, max);
  }
  if (max != kMasked) out.log_sum_exp = max + static_cast<float>(std::log(sum));
  return out;
}

std::vector<std::pair<int32_t, float>> best_of_row(std::span<const float> logits, int32_t n, float lse,
                                                   CandidateTokens& scratch_candidates,
                                                   std::vector<float>& scratch) {
  if (n <= 0 || lse == kMasked) return {};
  scratch_candidates.clear();
  if (n <= kHeapSelectionLimit) {
    kth_largest(logits, n, scratch, &scratch_candidates, [](float floor) { return floor; });
  } else {
    collect(logits, kth_largest_by_selection(logits, n, scratch), /*inclusive=*/true, scratch_candidates);
  }
  return best_candidates(scratch_candidates, n, lse);  // which drops those below the n-th
}

std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> probs(logits.size(), 0.0f);
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return probs;
  for (size_t i = 0; i < logits.size(); ++i)
    probs[i] =
        logits[i] == kMasked ? 0.0f : static_cast<float>(std::exp(static_cast<double>(logits[i]) - lse));
  return probs;
}

}  // namespace tgi::engine
