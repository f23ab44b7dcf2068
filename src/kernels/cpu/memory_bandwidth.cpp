#include "kernels/cpu/memory_bandwidth.h"

#include <chrono>
#include <vector>

#include <immintrin.h>

namespace tgi::kernels {
namespace {

// Sums a range with four independent 256-bit accumulators so the loads, not the adds, limit it.
float read_range(const float* p, int64_t n) {
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
    b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
    c = _mm256_add_ps(c, _mm256_loadu_ps(p + i + 16));
    d = _mm256_add_ps(d, _mm256_loadu_ps(p + i + 24));
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

}  // namespace

BandwidthSample measure_read_bandwidth(ThreadPool& pool, int buffer_mib, int passes) {
  const int64_t n = int64_t{buffer_mib} * 1024 * 1024 / 4;
  std::vector<float> buffer(static_cast<size_t>(n));
  volatile float sink = 0;
  BandwidthSample best;
  best.buffer_bytes = static_cast<double>(n) * 4;
  for (int pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      b = (b + 31) & ~int64_t{31};
      sink = sink + read_range(buffer.data() + b, e - b);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = best.buffer_bytes / seconds;
    if (rate > best.bytes_per_second) best.bytes_per_second = rate;
  }
  return best;
}

}  // namespace tgi::kernels
