// Kernel-only timing of matmul on TinyLlama's projection shapes, in CPU time of the calling thread
// (one thread), so the numbers mean something on a loaded, shared machine where wall time does not.
//   g++ -O3 -std=c++20 -mavx2 -mfma -mf16c -Isrc bench/gemm_bench.cpp BUILD/libtgi_kernels.a
//       BUILD/libtgi_core.a -lfmt -lspdlog -lpthread -o gemm_bench
//   ./gemm_bench [--bf16-activations] [--avx2]
#include <time.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/matmul.h"

using namespace tgi::kernels;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--bf16-activations")) set_matmul_precision(MatmulPrecision::kBf16Activations);
    if (!std::strcmp(argv[i], "--avx2")) set_active_cpu_isa(CpuIsa::kAvx2);
  }
  ThreadPool pool(1);
  std::mt19937 rng(1);
  struct Shape { int64_t rows, cols; const char* name; };
  const Shape shapes[] = {{2048, 2048, "q/o"}, {5632, 2048, "gate/up"}, {2048, 5632, "down"}};
  const int64_t token_counts[] = {1, 8, 32, 128, 512};
  std::printf("isa %s, bf16 activations %s\n", to_string(active_cpu_isa()),
              matmul_precision() == MatmulPrecision::kBf16Activations ? "on" : "off");
  std::printf("%-8s %6s %10s %10s %10s\n", "shape", "tokens", "GFLOP/s", "GB/s(w)", "ms/call");
  for (const Shape& s : shapes) {
    std::vector<uint16_t> w(static_cast<size_t>(s.rows * s.cols));
    for (auto& e : w) e = static_cast<uint16_t>(0x3C00 | (rng() & 0x80FF));
    const WeightView view{WeightFormat::kBF16, s.rows, s.cols, reinterpret_cast<const std::byte*>(w.data()), s.cols * 2};
    for (int64_t t : token_counts) {
      std::vector<float> x(static_cast<size_t>(t * s.cols), 0.01f), y(static_cast<size_t>(t * s.rows));
      matmul(x.data(), t, view, nullptr, y.data(), pool);  // warm
      int calls = 0;
      const double start = cpu_seconds();
      double elapsed = 0;
      while (elapsed < 0.3) {
        matmul(x.data(), t, view, nullptr, y.data(), pool);
        ++calls;
        elapsed = cpu_seconds() - start;
      }
      const double per_call = elapsed / calls;
      std::printf("%-8s %6ld %10.1f %10.1f %10.3f\n", s.name, static_cast<long>(t),
                  2.0 * static_cast<double>(t * s.rows * s.cols) / per_call / 1e9,
                  static_cast<double>(s.rows * s.cols * 2) / per_call / 1e9, per_call * 1e3);
    }
  }
  return 0;
}
