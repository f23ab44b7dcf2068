#pragma once
// The plain-data description of one y = x · Wᵀ call with block-quantized weights and int8
// activations, handed from the dispatcher (matmul.cpp) to the ISA-specific kernels. Like
// gemm_problem.h it holds no inline functions or templates: the AVX-512 kernels are compiled for a
// wider target, and an inline function instantiated there could be picked by the linker for the
// whole program and crash an AVX2-only machine.
#include <cstddef>
#include <cstdint>

namespace tgi::kernels::qgemm {

// The weight encodings with an int8 kernel (ggml's byte layouts; see quant/block_formats.h).
enum class QuantFormat : uint8_t { kQ8_0, kQ4_0, kQ4_K, kQ6_K };

// Byte geometry of those blocks, spelled out here so the AVX-512 file needs no other header
// (qgemm_avx2.cpp checks them against block_formats.h).
inline constexpr int64_t kQ8_0Bytes = 34;    // f16 d, int8 qs[32]
inline constexpr int64_t kQ4_0Bytes = 18;    // f16 d, qs[16]: element j low nibble, j+16 high
inline constexpr int64_t kQ4_KBytes = 144;   // f16 d, f16 dmin, scales[12], qs[128]
inline constexpr int64_t kQ4_KScales = 4;
inline constexpr int64_t kQ4_KQs = 16;
inline constexpr int64_t kQ6_KBytes = 210;   // ql[128], qh[64], int8 scales[16], f16 d
inline constexpr int64_t kQ6_KQh = 128;
inline constexpr int64_t kQ6_KScales = 192;
inline constexpr int64_t kQ6_KD = 208;

// Activation rows quantized once per call, per row, in blocks of 32: x ≈ scale[b] * q[32b + i]
// with q in [-127, 127]. Rows are padded with zero blocks (scale 0) to a multiple of 64 elements
// so kernels may always take blocks in pairs. sum[b] = Σ q of block b (to cancel a weight code
// offset exactly); scaled_sum[b] = scale[b] * sum[b] (for the formats with a per-block minimum).
struct QuantizedActivations {
  int8_t* q = nullptr;  // [rows][q_stride]
  float* scale = nullptr;       // [rows][scale_stride]
  float* scaled_sum = nullptr;  // [rows][scale_stride]
  int32_t* sum = nullptr;       // [rows][scale_stride]: Σ q of each block
  int32_t* half_sum = nullptr;  // [rows][2 * scale_stride]: Σ q of each 16-element half block
  int64_t q_stride = 0;         // elements: cols rounded up to 64
  int64_t scale_stride = 0;     // blocks: q_stride / 32
};

// Activation rows [row_begin, row_end) of x (row stride x_stride floats, `cols` a multiple of 32)
// into `out`. Round to nearest even; the same arithmetic for every row, whatever the batch.
void quantize_activation_rows(const float* x, int64_t x_stride, int64_t cols, const QuantizedActivations& out,
                              int64_t row_begin, int64_t row_end);

struct QuantGemmProblem {
  QuantFormat format = QuantFormat::kQ8_0;
  QuantizedActivations x;
  int64_t num_tokens = 0;
  const std::byte* w = nullptr;  // [rows] of cols / block_elements blocks, rows w_row_stride bytes apart
  int64_t w_row_stride = 0;
  int64_t cols = 0;
  const float* bias = nullptr;  // [rows] or null
  float* y = nullptr;           // [num_tokens][rows], row stride y_stride floats
  int64_t y_stride = 0;
};

// Output columns (weight rows) [row_begin, row_end) for every token. Block products are exact in
// int32; each output then has one float accumulator (AVX2: 8 lanes, reduced in a fixed order;
// VNNI: one lane of a 16-row vector) fed block by block in increasing k order, so it is bitwise
// the same whatever num_tokens, the row range or the tile it lands in (batch invariance). The two
// ISAs differ from each other in the last bits.
void qgemm_rows_avx2(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end);
void qgemm_rows_avx512_vnni(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end);

}  // namespace tgi::kernels::qgemm
