// Int8-activation kernels for block-quantized weights against the dequantizing f32 reference,
// measured in one run on TinyLlama's projection shapes with a 2-thread pool.
//   g++ -O3 -std=c++20 -mavx2 -mfma -mf16c -Isrc bench/qgemm_bench.cpp BUILD/libtgi_kernels.a
//       BUILD/libtgi_core.a -lfmt -lspdlog -lpthread -o qgemm_bench
//   ./qgemm_bench [--threads N] [--quick | --gemv] [--shape ROWSxCOLS] [--cpu-time]
// GEMV (1 token) and batched decode (8 tokens) cycle through enough copies of the matrix (≥ 512
// MB) that every call reads its weights from DRAM, as a decode step does, and report weight bytes
// per second. GEMM reports 2·tokens·rows·cols
// operations per second; "1h" is one token with the weights hot in cache (kernel speed alone).
// Wall time, best of the repeats: the box is shared, so the best run is the one least disturbed
// by neighbours (numbers are indicative).
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "kernels/quant/quant.h"

using namespace tgi::kernels;

namespace {

// --cpu-time (with --threads 1): CPU time of the calling thread, which a loaded box does not
// inflate the way it inflates wall time.
bool g_cpu_time = false;

// Up to this many tokens a call streams its weights from DRAM (decode); more run on hot weights.
constexpr int64_t kColdTokens = 8;

double now() {
  timespec ts{};
  clock_gettime(g_cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// kVnniPacked: the VNNI kernel on weights repacked at load (what the model runs); the others
// read the stored rows (VNNI then transposes them per call).
enum class Path { kReference, kAvx2, kVnni, kVnniPacked };
const char* name(Path p) {
  switch (p) {
    case Path::kReference:
      return "f32-ref";
    case Path::kAvx2:
      return "int8-avx2";
    case Path::kVnni:
      return "int8-vnni";
    case Path::kVnniPacked:
      return "vnni-packed";
  }
  return "?";
}

void run(Path path, const float* x, int64_t tokens, const WeightView& w, float* y, ThreadPool& pool) {
  if (path == Path::kReference) {
    matmul_block_format_reference(x, tokens, w.cols, w, nullptr, y, w.rows, pool);
  } else {
    set_active_cpu_isa(path == Path::kAvx2 ? CpuIsa::kAvx2 : CpuIsa::kAvx512);
    matmul(x, tokens, w, nullptr, y, pool);
  }
}

// Best wall time per call over `repeats` timed rounds of `calls` calls, cycling the weight copies.
double best_seconds(Path path, const std::vector<WeightView>& copies, const float* x, int64_t tokens, float* y,
                    ThreadPool& pool, double budget) {
  run(path, x, tokens, copies[0], y, pool);  // warm: buffers grown, pool awake
  double best = 1e30, spent = 0;
  size_t next = 0;
  int rounds = 0;
  while (rounds < 3 || (spent < budget && rounds < 50)) {
    const double start = now();
    const int calls = static_cast<int>(copies.size());
    for (int c = 0; c < calls; ++c) run(path, x, tokens, copies[next++ % copies.size()], y, pool);
    const double elapsed = now() - start;
    best = std::min(best, elapsed / calls);
    spent += elapsed;
    ++rounds;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  bool quick = false, gemv_only = false;
  struct Shape {
    int64_t rows, cols;
  };
  Shape shape_override{0, 0};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    if (!std::strcmp(argv[i], "--gemv")) gemv_only = true;
    if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
      long rows = 0, cols = 0;
      if (std::sscanf(argv[++i], "%ldx%ld", &rows, &cols) == 2) shape_override = {rows, cols};
    }
    if (!std::strcmp(argv[i], "--cpu-time")) g_cpu_time = true;
  }
  if (g_cpu_time && threads != 1) {
    std::fprintf(stderr, "--cpu-time measures the calling thread: use it with --threads 1\n");
    return 2;
  }
  ThreadPool pool(threads);
  std::vector<Path> paths{Path::kReference, Path::kAvx2};
  if (detected_cpu_isa() == CpuIsa::kAvx512 && cpu_has_avx512_vnni()) {
    paths.push_back(Path::kVnni);
    paths.push_back(Path::kVnniPacked);
  }
  std::printf("threads %d, %s time, detected isa %s, vnni %s\n", threads, g_cpu_time ? "thread cpu" : "wall", to_string(detected_cpu_isa()),
              cpu_has_avx512_vnni() ? "yes" : "no");
  std::printf("%-5s %-10s %6s %-10s %10s %10s %10s\n", "fmt", "shape", "tokens", "path", "ms/call", "GB/s(w)", "GOP/s");

  std::vector<Shape> shapes{{2048, 2048}, {5632, 2048}};
  if (shape_override.rows > 0) shapes = {shape_override};
  const WeightFormat formats[] = {WeightFormat::kQ8_0, WeightFormat::kQ4_0, WeightFormat::kQ4_K, WeightFormat::kQ6_K};
  const std::vector<int64_t> token_counts = gemv_only ? std::vector<int64_t>{1, 0}
                                            : quick   ? std::vector<int64_t>{1, 0, 64}
                                                      : std::vector<int64_t>{1, 0, 8, 64, 256};
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const WeightFormat format : formats) {
    std::printf("read bandwidth now: %.1f GB/s\n", measure_read_bandwidth(pool, 512, 3).bytes_per_second / 1e9);
    for (const Shape& s : shapes) {
      const int64_t row_bytes = weight_row_bytes(format, s.cols);
      const int64_t matrix_bytes = row_bytes * s.rows;
      std::vector<std::byte> first(static_cast<size_t>(matrix_bytes));
      std::vector<float> values(static_cast<size_t>(s.cols));
      for (int64_t r = 0; r < s.rows; ++r) {
        for (auto& v : values) v = dist(rng);
        if (!tgi::kernels::quant::quantize_row(ggml_type_for(format), values.data(), &first[r * row_bytes], s.cols).ok())
          return 1;
      }
      const int64_t copies_needed = std::max<int64_t>(1, (int64_t{512} << 20) / matrix_bytes);
      std::vector<std::vector<std::byte>> storage(static_cast<size_t>(copies_needed), first);
      // Every page of every copy distinct, so no page sharing (KSM, host dedup) can turn the DRAM
      // stream into cache hits.
      for (size_t c = 0; c < storage.size(); ++c)
        for (size_t at = 0; at < storage[c].size(); at += 4096)
          storage[c][at] = static_cast<std::byte>(static_cast<uint8_t>(storage[c][at]) ^ static_cast<uint8_t>(c + 1));
      std::vector<WeightView> cold, hot, cold_packed, hot_packed;
      for (auto& c : storage) cold.push_back({format, s.rows, s.cols, c.data(), row_bytes});
      hot.push_back({format, s.rows, s.cols, first.data(), row_bytes});
      // Packed images of every copy, built by the VNNI packer, on huge pages where THP allows
      // (as the model's packed weights are: 4 KiB pages cost cold GEMV TLB misses).
      std::vector<std::unique_ptr<std::byte[], void (*)(std::byte*)>> packed_storage;
      if (std::find(paths.begin(), paths.end(), Path::kVnniPacked) != paths.end()) {
        set_active_cpu_isa(CpuIsa::kAvx512);
        const auto pack = [&](const WeightView& view) {
          constexpr size_t kHugePage = size_t{2} << 20;
          const auto bytes =
              (static_cast<size_t>(packed_matmul_bytes(view)) + kHugePage - 1) / kHugePage * kHugePage;
          auto* raw = static_cast<std::byte*>(std::aligned_alloc(kHugePage, bytes));
          madvise(raw, bytes, MADV_HUGEPAGE);
          packed_storage.emplace_back(raw, [](std::byte* b) { std::free(b); });
          return pack_for_matmul(view, raw, pool);
        };
        for (const auto& view : cold) cold_packed.push_back(pack(view));
        hot_packed.push_back(pack(hot[0]));
      }
      for (const int64_t listed : token_counts) {
        // 0 stands for one token with the weights hot in cache (kernel compute speed).
        const bool in_cache = listed == 0;
        const int64_t tokens = in_cache ? 1 : listed;
        std::vector<float> x(static_cast<size_t>(tokens * s.cols)), y(static_cast<size_t>(tokens * s.rows));
        for (auto& v : x) v = dist(rng);
        for (const Path path : paths) {
          // The reference is slow on big batches; a shorter budget keeps the run in minutes.
          const double budget = path == Path::kReference ? 0.3 : 0.6;
          const bool packed = path == Path::kVnniPacked;
          const auto& views = tokens <= kColdTokens && !in_cache ? (packed ? cold_packed : cold)
                                                                 : (packed ? hot_packed : hot);
          const double sec = best_seconds(path, views, x.data(), tokens, y.data(), pool, budget);
          std::printf("%-5s %4ldx%-5ld %5ld%s %-10s %10.3f %10.1f %10.1f\n", to_string(format), static_cast<long>(s.rows),
                      static_cast<long>(s.cols), static_cast<long>(tokens), in_cache ? "h" : " ", name(path), sec * 1e3,
                      static_cast<double>(matrix_bytes) / sec / 1e9,
                      2.0 * static_cast<double>(tokens * s.rows * s.cols) / sec / 1e9);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
