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

// The same for the rows RMS-normalized first (kernels::rms_norm with `weight`, null for none, and
// `eps`, `one_plus`), in one pass: each block is normalized in registers and quantized, the
// normalized floats never stored. Bitwise what quantize_activation_rows gives on rms_norm's output.
void quantize_normalized_rows(const float* x, int64_t x_stride, int64_t cols, const float* weight, float eps,
                              bool one_plus, const QuantizedActivations& out, int64_t row_begin,
                              int64_t row_end);

// The VNNI kernel's weight layout (qgemm_avx512_vnni.cpp), built once at load so that no call
// transposes: rows in groups of 16 (the last group repeats its final row), each group
// `group_stride` bytes (a multiple of 64) holding its units in chunks of k<format>ChunkUnits:
// a chunk is the code images of its units, then their scale images, padded to a multiple of 64
// bytes (the last chunk of a group may hold fewer units). A unit is one block (Q8_0, Q4_0) or
// one 8-block super-block (Q4_K, Q6_K). Code images are multiples of 64 bytes, so in a 64-byte
// aligned buffer they are aligned. Scales next to their codes keep a decode step's reads one
// sequential stream per group: with every scale image after every code image (two streams, 16
// KiB apart) a Q4_0 GEMV from DRAM ran at 62-70% of the read bandwidth, with chunks of 1-2 KiB
// at 82-105% (measured, 2 threads, 5632x2048).
inline constexpr int64_t kPackedGroupRows = 16;
inline constexpr int64_t kQ8_0ChunkUnits = 4, kQ4_0ChunkUnits = 4, kQ4_KChunkUnits = 1, kQ6_KChunkUnits = 1;
// 512: 32 unsigned codes (w + 128) of 16 rows, lane r = row r | 32: the rows' f16 block scales.
inline constexpr int64_t kQ8_0CodeImage = 512, kQ8_0ScaleImage = 32;
// 256: the rows' 16 code bytes, transposed as 4-byte lanes | 32: f16 scales.
inline constexpr int64_t kQ4_0CodeImage = 256, kQ4_0ScaleImage = 32;
// 2048: 4 × 8 vectors of 32 transposed code bytes | 320: f16 d, f16 dmin, 6-bit scales [8][16]
// and mins [8][16] as bytes (block-major, lane = row).
inline constexpr int64_t kQ4_KCodeImage = 2048, kQ4_KScaleImage = 320;
// 3072: ql as 2 × 2 × 8 vectors, qh as 2 × 8 vectors | 288: f16 d, int8 scales [16][16].
inline constexpr int64_t kQ6_KCodeImage = 3072, kQ6_KScaleImage = 288;

// Bytes of one 16-row group of a [rows][cols] matrix in that layout (cols whole units).
int64_t packed_group_bytes(QuantFormat format, int64_t cols);

struct QuantGemmProblem {
  QuantFormat format = QuantFormat::kQ8_0;
  QuantizedActivations x;
  int64_t num_tokens = 0;
  const std::byte* w = nullptr;  // [rows] of cols / block_elements blocks, rows w_row_stride bytes apart
  int64_t w_row_stride = 0;
  // The same rows in the packed layout above (VNNI kernel only; null: transposed per call).
  const std::byte* w_packed = nullptr;
  int64_t w_packed_group_stride = 0;
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
// With w_packed, row_begin must be a multiple of 16 (a group boundary).
void qgemm_rows_avx2(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end);
void qgemm_rows_avx512_vnni(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end);

// Writes groups [group_begin, group_end) of the packed layout of `rows` weight rows (w, rows
// w_row_stride bytes apart) to `out`, the start of the whole packed matrix.
void pack_groups_avx512_vnni(QuantFormat format, const std::byte* w, int64_t w_row_stride, int64_t rows,
                             int64_t cols, std::byte* out, int64_t group_stride, int64_t group_begin,
                             int64_t group_end);

}  // namespace tgi::kernels::qgemm
