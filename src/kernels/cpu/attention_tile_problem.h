#pragma once
// The plain-data description of one paged-attention call for the AVX-512 kernel
// (attention_avx512.cpp), handed over by attention.cpp. Like gemm_problem.h it holds no inline
// functions or templates: the kernel is compiled for a wider target, and an inline function
// instantiated there could be picked by the linker for the whole program and crash an
// AVX2-only machine.
#include <cstddef>
#include <cstdint>

namespace tgi::kernels::attention_tiles {

// How K and V are stored (the same order as KvDtype).
enum class KvElement : uint8_t { kF32, kBF16, kF16, kInt8 };

// At most this many query rows share a tile, and this many query heads (all reading one KV head)
// an item; a tile's accumulators (rows × heads × v_head_dim rounded up to 64) fit kAccFloats.
inline constexpr int32_t kMaxTileRows = 8;
inline constexpr int32_t kMaxItemHeads = 8;
inline constexpr int64_t kAccFloats = 8192;
inline constexpr int32_t kMaxHeadDim = 1024;

// Consecutive query rows of one sequence.
struct RowTile {
  const int32_t* block_table = nullptr;
  int32_t first_row = 0;       // row of q / out
  int32_t rows = 0;            // 1 .. kMaxTileRows
  int64_t first_position = 0;  // KV position of the first row
};

struct AttentionTileProblem {
  const float* q = nullptr;  // rows of num_heads * head_dim, stride q_stride
  int64_t q_stride = 0;
  float* out = nullptr;  // rows of num_heads * v_head_dim, stride out_stride
  int64_t out_stride = 0;
  // The layer's cache: token slot s of K at k + s * k_token_stride elements (V likewise), one KV
  // head after another; int8 has one scale per slot and KV head.
  const std::byte* k = nullptr;
  const std::byte* v = nullptr;
  int32_t block_size = 0;
  int64_t k_token_stride = 0;
  int64_t v_token_stride = 0;
  KvElement element = KvElement::kF32;
  const float* k_scales = nullptr;
  const float* v_scales = nullptr;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t v_head_dim = 0;
  float scale = 1.0f;
  float softcap = 0.0f;
  int64_t sliding_window = 0;
  int64_t chunk_size = 0;
  const float* sinks = nullptr;
  // Work: item i = (tile i / (num_kv_heads · items_per_kv_head), its KV head, and a run of up to
  // heads_per_item of that KV head's query heads).
  const RowTile* tiles = nullptr;
  int64_t num_tiles = 0;
  int32_t heads_per_item = 1;
  int32_t items_per_kv_head = 1;
};

// Items [item_begin, item_end). Each (row, head) output is computed by the same arithmetic
// whatever tile, item or thread it falls in: keys in tiles of 64 aligned to absolute positions,
// per key tile one online-softmax update; so a row gives bitwise the same result in a prefill
// and in a decode step.
void attend_items_avx512(const AttentionTileProblem& p, int64_t item_begin, int64_t item_end);

}  // namespace tgi::kernels::attention_tiles
