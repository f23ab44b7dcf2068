// Decode attention over a paged KV cache, TinyLlama's shape (32 query heads, 4 KV heads, head_dim
// 64, 22 layers), one query row per sequence: the time of one decode step's attention (all
// layers) and the KV bytes it reads per second, next to the machine's read bandwidth.
//   g++ -O3 -std=c++20 -mavx2 -mfma -mf16c -Isrc bench/attention_bench.cpp BUILD/libtgi_kernels.a
//       BUILD/libtgi_core.a -lfmt -lspdlog -lpthread -o attention_bench
//   ./attention_bench [--threads N] [--context N] [--batch N] [--kv float32|bfloat16|float16|int8]
//                     [--heads Q KV] [--no-bandwidth] [--read-only] [--sequential-blocks] [--huge-pages]
//                     [--isa avx2]
// Each layer has its own cache (as in the model), so a step reads every layer's KV from DRAM once
// the context is long. Wall time, best of the repeats (the box is shared). --read-only walks the
// same KV in the same order with no arithmetic: what the memory system gives that access pattern.
// Blocks are handed out shuffled, as a pool that has served other requests would, unless
// --sequential-blocks; --huge-pages asks for transparent huge pages under the cache.
#include <sys/mman.h>
#include <time.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/kv_storage.h"
#include "kernels/cpu/memory_bandwidth.h"

using namespace tgi::kernels;

namespace {

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

constexpr int32_t kLayers = 22, kHeadDim = 64, kBlockSize = 16;

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  int64_t context = 1024;
  int32_t batch = 1;
  std::string kv_name = "float32";
  int32_t num_heads = 32, num_kv_heads = 4;
  bool sample_bandwidth = true, read_only = false, sequential_blocks = false, huge_pages = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--context") && i + 1 < argc) context = std::atol(argv[++i]);
    if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--kv") && i + 1 < argc) kv_name = argv[++i];
    if (!std::strcmp(argv[i], "--no-bandwidth")) sample_bandwidth = false;
    if (!std::strcmp(argv[i], "--read-only")) read_only = true;
    if (!std::strcmp(argv[i], "--isa") && i + 1 < argc && !std::strcmp(argv[++i], "avx2"))
      set_active_cpu_isa(CpuIsa::kAvx2);
    if (!std::strcmp(argv[i], "--sequential-blocks")) sequential_blocks = true;
    if (!std::strcmp(argv[i], "--huge-pages")) huge_pages = true;
    if (!std::strcmp(argv[i], "--heads") && i + 2 < argc) {
      num_heads = std::atoi(argv[++i]);
      num_kv_heads = std::atoi(argv[++i]);
    }
  }
  const std::optional<KvDtype> dtype = parse_kv_dtype(kv_name);
  if (!dtype) {
    std::fprintf(stderr, "unknown --kv %s\n", kv_name.c_str());
    return 2;
  }
  ThreadPool pool(threads);
  const int64_t tokens = context + 1;  // the context and the new token, already stored
  const int64_t blocks_per_seq = (tokens + kBlockSize - 1) / kBlockSize;
  const int64_t num_blocks = blocks_per_seq * batch;
  const int64_t row_elements = int64_t{num_kv_heads} * kHeadDim;
  const auto element_bytes = static_cast<int64_t>(kv_element_bytes(*dtype));

  std::vector<int32_t> order(static_cast<size_t>(num_blocks));
  for (int64_t i = 0; i < num_blocks; ++i) order[i] = static_cast<int32_t>(i);
  std::mt19937 rng(7);
  if (!sequential_blocks) std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::vector<int32_t>> tables(static_cast<size_t>(batch));
  for (int32_t s = 0; s < batch; ++s)
    tables[s].assign(order.begin() + s * blocks_per_seq, order.begin() + (s + 1) * blocks_per_seq);

  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(row_elements));
  struct LayerCache {
    std::byte* k = nullptr;
    std::byte* v = nullptr;
    std::vector<float> k_scales, v_scales;
  };
  std::vector<LayerCache> layers(kLayers);
  for (LayerCache& c : layers) {
    const int64_t slots = num_blocks * kBlockSize;
    const size_t bytes = static_cast<size_t>(slots * row_elements * element_bytes);
    const size_t rounded = (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
    c.k = static_cast<std::byte*>(std::aligned_alloc(2u << 20, rounded));
    c.v = static_cast<std::byte*>(std::aligned_alloc(2u << 20, rounded));
    if (huge_pages) {
      madvise(c.k, rounded, MADV_HUGEPAGE);
      madvise(c.v, rounded, MADV_HUGEPAGE);
    }
    c.k_scales.resize(static_cast<size_t>(slots * num_kv_heads));
    c.v_scales.resize(c.k_scales.size());
    for (int64_t slot = 0; slot < slots; ++slot) {
      for (float& x : row) x = uniform(rng);
      store_kv_heads(*dtype, row.data(), num_kv_heads, kHeadDim, c.k + slot * row_elements * element_bytes,
                     kv_has_scales(*dtype) ? &c.k_scales[slot * num_kv_heads] : nullptr);
      for (float& x : row) x = uniform(rng);
      store_kv_heads(*dtype, row.data(), num_kv_heads, kHeadDim, c.v + slot * row_elements * element_bytes,
                     kv_has_scales(*dtype) ? &c.v_scales[slot * num_kv_heads] : nullptr);
    }
  }

  std::vector<AttentionSequence> sequences(static_cast<size_t>(batch));
  std::vector<int32_t> row_sequence(static_cast<size_t>(batch));
  for (int32_t s = 0; s < batch; ++s) {
    sequences[s] = {s, 1, static_cast<int32_t>(context), tables[s].data()};
    row_sequence[s] = s;
  }
  std::vector<float> q(static_cast<size_t>(batch) * num_heads * kHeadDim), out(q.size());
  for (float& x : q) x = uniform(rng);
  AttentionShape shape;
  shape.num_heads = num_heads;
  shape.num_kv_heads = num_kv_heads;
  shape.head_dim = kHeadDim;
  shape.v_head_dim = kHeadDim;
  shape.scale = 0.125f;

  const double kv_bytes = 2.0 * kLayers * batch * tokens * row_elements * element_bytes;
  double best = 1e30;
  const double until = now() + 2.0;  // at least 30 steps and 2 s
  for (int repeat = 0; repeat < 30 || now() < until; ++repeat) {
    const double start = now();
    for (int32_t l = 0; l < kLayers; ++l) {
      PagedKvLayer kv;
      kv.k = layers[l].k;
      kv.v = layers[l].v;
      kv.block_size = kBlockSize;
      kv.dtype = *dtype;
      kv.k_scales = layers[l].k_scales.data();
      kv.v_scales = layers[l].v_scales.data();
      if (read_only) {
        pool.parallel_for(num_kv_heads, [&](int64_t h0, int64_t h1) {
          __m256 sum = _mm256_setzero_ps();
          for (int64_t h = h0; h < h1; ++h)
            for (int32_t s = 0; s < batch; ++s)
              for (int64_t j = 0; j < tokens; ++j) {
                const int64_t slot = int64_t{tables[s][j / kBlockSize]} * kBlockSize + j % kBlockSize;
                const float* kp = reinterpret_cast<const float*>(kv.k + (slot * row_elements + h * kHeadDim) *
                                                                            element_bytes);
                const float* vp = reinterpret_cast<const float*>(kv.v + (slot * row_elements + h * kHeadDim) *
                                                                            element_bytes);
                for (int d = 0; d < kHeadDim; d += 8)
                  sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_loadu_ps(kp + d), _mm256_loadu_ps(vp + d)));
              }
          alignas(32) float lanes[8];
          _mm256_store_ps(lanes, sum);
          out[h0] = lanes[0];
        });
        continue;
      }
      paged_attention(q.data(), num_heads * kHeadDim, sequences, row_sequence.data(), batch, kv, shape,
                      out.data(), num_heads * kHeadDim, pool);
    }
    best = std::min(best, now() - start);
  }
  const double bandwidth = sample_bandwidth ? measure_read_bandwidth(pool, 512, 3).bytes_per_second : 0.0;
  if (huge_pages) {
    std::FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    while (f && std::fgets(line, sizeof line, f))
      if (std::strstr(line, "AnonHuge")) std::fputs(line, stdout);
    if (f) std::fclose(f);
  }
  std::printf("isa %s, %d threads, batch %d, context %ld, kv %s%s: %.3f ms per step, %.1f MB KV, %.1f GB/s",
              active_cpu_isa() == CpuIsa::kAvx512 ? "avx512" : "avx2", threads, batch,
              static_cast<long>(context), kv_name.c_str(), read_only ? " (read only)" : "", best * 1e3,
              kv_bytes / 1e6, kv_bytes / best / 1e9);
  if (bandwidth > 0)
    std::printf(" (%.0f%% of %.1f GB/s read bandwidth)", 100.0 * kv_bytes / best / bandwidth,
                bandwidth / 1e9);
  std::printf("\n");
  return 0;
}
