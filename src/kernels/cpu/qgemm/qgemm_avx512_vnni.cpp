// Int8 kernels for block-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) with AVX-512-VNNI
// (vpdpbusd: u8 × s8, 4-way, into int32), sixteen weight rows per vector. Each 32-element block
// of 16 rows is transposed (in registers, into a stack buffer) so that int32 lane r belongs to
// row r: one vpdpbusd then multiplies 4 weights of each of 16 rows by the same 4 activations,
// broadcast from memory. A block costs 8 vpdpbusd and ~3 float ops per token for 16 rows, against
// 8 and 24 when each row keeps its own vector, and the transpose is paid once per block for all
// tokens. Weight codes are unsigned (Q8_0 stored +128); their offset is cancelled exactly in int32.
//
// Per output (token t, row r) the arithmetic is fixed: over the blocks b in order,
// acc = fma(float(Σ_b w·x), d_w[b] · d_x[b], acc), the integer sum exact (Q6_K: one such step per
// 16-element sub-block; Q4_K: then acc −= m_w[b] · d_x[b]·Σx_b); finally y = acc + bias.
// Tiling, chunking and the thread split only change when it happens, never what (a partial acc
// parked in y between chunks is stored and reloaded exactly), so results are batch invariant.
//
// Compiled for AVX-512-VNNI (pragma below), called only after cpu_isa.cpp found it; includes
// nothing but intrinsics and the plain-data header.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/qgemm/qgemm_problem.h"

namespace tgi::kernels::qgemm {
namespace {

constexpr int kLanes = 16;
// Blocks transposed at a time (a multiple of 8: whole K-quant super-blocks): 64 × 704 bytes =
// 44 KiB, resident in L1/L2 while every token passes over them.
constexpr int64_t kChunkBlocks = 64;
// With fewer tokens than a tile the transposed blocks are each used once: a chunk small enough
// to stay in L1 (11 KiB) is faster. Chunking never changes the arithmetic (see above).
constexpr int64_t kFewTokensChunkBlocks = 16;

struct alignas(64) PackedBlock {
  __m512i w[8];  // w[k] lane r: unsigned weight codes k·4 .. k·4+3 of row r
  __m512 d;      // lane r: the row's block scale (Q6_K: of the block's first 16 elements)
  __m512 d2;     // Q6_K: lane r: the scale of the block's last 16 elements
  __m512 m;      // Q4_K: lane r: the row's block minimum dmin · m_j, subtracted per unit of Σx
};

inline int32_t load_i32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// The f16 block scales at byte `at` of the 16 rows, as floats (scalar loads: cheaper than a
// gather on the CPUs measured).
inline __m512 load_scales(const std::byte* const rows[kLanes], int64_t at) {
  alignas(32) uint16_t h[kLanes];
  for (int r = 0; r < kLanes; ++r) __builtin_memcpy(&h[r], rows[r] + at, 2);
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(h)));
}

// z[i] = [row i | row i+8], eight dwords each -> out[k] lane r = dword k of row r.
inline void transpose_8x8_pairs(const __m512i z[8], __m512i out[8]) {
  __m512i u[8];
  for (int i = 0; i < 4; ++i) {
    u[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
    u[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
  }
  // t[k]: rows 0-3 (and 8-11) of dwords k and k+4; s[k]: rows 4-7 (and 12-15).
  const __m512i t[4] = {_mm512_unpacklo_epi64(u[0], u[2]), _mm512_unpackhi_epi64(u[0], u[2]),
                        _mm512_unpacklo_epi64(u[1], u[3]), _mm512_unpackhi_epi64(u[1], u[3])};
  const __m512i s[4] = {_mm512_unpacklo_epi64(u[4], u[6]), _mm512_unpackhi_epi64(u[4], u[6]),
                        _mm512_unpacklo_epi64(u[5], u[7]), _mm512_unpackhi_epi64(u[5], u[7])};
  const __m512i low = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i high = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int k = 0; k < 4; ++k) {
    out[k] = _mm512_permutex2var_epi64(t[k], low, s[k]);
    out[k + 4] = _mm512_permutex2var_epi64(t[k], high, s[k]);
  }
}

// Bytes [at, at + 32) of the 16 rows -> out[k] lane r = bytes 4k .. 4k+3 of row r.
inline void transpose_rows_32(const std::byte* const rows[kLanes], int64_t at, __m512i out[8]) {
  __m512i z[8];
  for (int i = 0; i < 8; ++i)
    z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + at))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i + 8] + at)), 1);
  transpose_8x8_pairs(z, out);
}

// Bytes [at, at + 16) of the 16 rows -> out[k] lane r = bytes 4k .. 4k+3 of row r.
inline void transpose_rows_16(const std::byte* const rows[kLanes], int64_t at, __m512i out[4]) {
  // z[i] 128-bit lane L = row i + 4L; then a 4×4 dword transpose within each lane.
  __m512i z[4];
  for (int i = 0; i < 4; ++i) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + at)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 4] + at)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 8] + at)), 2);
    z[i] = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 12] + at)), 3);
  }
  const __m512i u0 = _mm512_unpacklo_epi32(z[0], z[1]), u1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i u2 = _mm512_unpacklo_epi32(z[2], z[3]), u3 = _mm512_unpackhi_epi32(z[2], z[3]);
  out[0] = _mm512_unpacklo_epi64(u0, u2);
  out[1] = _mm512_unpackhi_epi64(u0, u2);
  out[2] = _mm512_unpacklo_epi64(u1, u3);
  out[3] = _mm512_unpackhi_epi64(u1, u3);
}

struct Q8_0 {
  static constexpr int64_t kBlockBytes = kQ8_0Bytes;
  static constexpr int kOffset = 128;  // codes stored as w + 128
  static constexpr int64_t kPackBlocks = 1;
  static constexpr bool kHasMins = false;
  static constexpr bool kHalfScales = false;
  static void pack(const std::byte* const rows[kLanes], int64_t b, PackedBlock* out) {
    const int64_t at = b * kBlockBytes;
    __m512i w[8];
    transpose_rows_32(rows, at + 2, w);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int k = 0; k < 8; ++k) out->w[k] = _mm512_xor_si512(w[k], flip);
    out->d = load_scales(rows, at);
  }
};

struct Q4_0 {
  static constexpr int64_t kBlockBytes = kQ4_0Bytes;
  static constexpr int kOffset = 8;
  static constexpr int64_t kPackBlocks = 1;
  static constexpr bool kHasMins = false;
  static constexpr bool kHalfScales = false;
  static void pack(const std::byte* const rows[kLanes], int64_t b, PackedBlock* out) {
    __m512i v[4];
    transpose_rows_16(rows, b * kBlockBytes + 2, v);
    // Byte j of a block's codes holds element j (low nibble) and j + 16 (high nibble).
    const __m512i mask = _mm512_set1_epi8(0x0F);
    for (int k = 0; k < 4; ++k) {
      out->w[k] = _mm512_and_si512(v[k], mask);
      out->w[k + 4] = _mm512_and_si512(_mm512_srli_epi16(v[k], 4), mask);
    }
    out->d = load_scales(rows, b * kBlockBytes);
  }
};

// x = d·sc_j·q − dmin·m_j, sub-blocks j of 32 = the activation blocks. Packs a whole super-block
// (8 blocks): scales and mins are unpacked for 16 rows at once, lanes = rows.
struct Q4_K {
  static constexpr int kOffset = 0;
  static constexpr int64_t kPackBlocks = 8;
  static constexpr bool kHasMins = true;
  static constexpr bool kHalfScales = false;
  static void pack(const std::byte* const rows[kLanes], int64_t b, PackedBlock* out) {
    const int64_t at = b / 8 * kQ4_KBytes;
    alignas(32) uint16_t d_half[kLanes], dmin_half[kLanes];
    alignas(64) uint32_t packed[3][kLanes];
    for (int r = 0; r < kLanes; ++r) {
      __builtin_memcpy(&d_half[r], rows[r] + at, 2);
      __builtin_memcpy(&dmin_half[r], rows[r] + at + 2, 2);
      for (int i = 0; i < 3; ++i) __builtin_memcpy(&packed[i][r], rows[r] + at + kQ4_KScales + 4 * i, 4);
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d_half)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(dmin_half)));
    const __m512i p0 = _mm512_load_si512(packed[0]), p1 = _mm512_load_si512(packed[1]), p2 = _mm512_load_si512(packed[2]);
    // Byte j of each word: scales/mins 0-3, and 4-7 from the low/high nibbles of p2 plus the top
    // two bits of p0/p1 (see qgemm_avx2.cpp, Q4_K::prepare).
    const __m512i six = _mm512_set1_epi32(0x3F3F3F3F), four = _mm512_set1_epi32(0x0F0F0F0F), two = _mm512_set1_epi32(0x03030303);
    const __m512i sc_low = _mm512_and_si512(p0, six), mn_low = _mm512_and_si512(p1, six);
    const __m512i sc_high = _mm512_or_si512(_mm512_and_si512(p2, four),
                                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(p0, 6), two), 4));
    const __m512i mn_high = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(p2, 4), four),
                                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(p1, 6), two), 4));
    const __m512i byte = _mm512_set1_epi32(0xFF);
    for (int j = 0; j < 4; ++j) {
      const auto pick = [&](__m512i v) { return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, 8 * j), byte)); };
      out[j].d = _mm512_mul_ps(d, pick(sc_low));
      out[j].m = _mm512_mul_ps(dmin, pick(mn_low));
      out[j + 4].d = _mm512_mul_ps(d, pick(sc_high));
      out[j + 4].m = _mm512_mul_ps(dmin, pick(mn_high));
    }
    // Chunk g of 32 code bytes: low nibbles are block 2g, high nibbles block 2g + 1.
    const __m512i mask = _mm512_set1_epi8(0x0F);
    for (int g = 0; g < 4; ++g) {
      __m512i codes[8];
      transpose_rows_32(rows, at + kQ4_KQs + 32 * g, codes);
      for (int k = 0; k < 8; ++k) {
        out[2 * g].w[k] = _mm512_and_si512(codes[k], mask);
        out[2 * g + 1].w[k] = _mm512_and_si512(_mm512_srli_epi16(codes[k], 4), mask);
      }
    }
  }
};

// x = d·sc·(q − 32) with an int8 scale per 16 elements: dwords 0-3 of a block are its first
// sub-block, 4-7 its second, so the two integer chains are the two sub-blocks. Packs a whole
// super-block (8 blocks).
struct Q6_K {
  static constexpr int kOffset = 32;
  static constexpr int64_t kPackBlocks = 8;
  static constexpr bool kHasMins = false;
  static constexpr bool kHalfScales = true;
  static void pack(const std::byte* const rows[kLanes], int64_t b, PackedBlock* out) {
    const int64_t at = b / 8 * kQ6_KBytes;
    alignas(32) uint16_t d_half[kLanes];
    for (int r = 0; r < kLanes; ++r) __builtin_memcpy(&d_half[r], rows[r] + at + kQ6_KD, 2);
    const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d_half)));
    __m512i sc[4];  // sc[k] lane r: int8 scales 4k .. 4k+3 of row r
    transpose_rows_16(rows, at + kQ6_KScales, sc);
    for (int j = 0; j < 16; ++j) {
      // Sign-extend byte j % 4 of each lane.
      const __m512i v = _mm512_srai_epi32(_mm512_slli_epi32(sc[j / 4], 24 - 8 * (j % 4)), 24);
      const __m512 scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(v));
      if (j % 2 == 0) out[j / 2].d = scale; else out[j / 2].d2 = scale;
    }
    // Per half h of 128 elements: block 4h + c takes the low (c < 2) or high nibbles of
    // ql[64h + 32·(c % 2) ...] and bit pair c of qh[32h ...] as bits 4-5.
    const __m512i low4 = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
      __m512i ql[2][8], qh[8];
      transpose_rows_32(rows, at + 64 * h, ql[0]);
      transpose_rows_32(rows, at + 64 * h + 32, ql[1]);
      transpose_rows_32(rows, at + kQ6_KQh + 32 * h, qh);
      for (int c = 0; c < 4; ++c) {
        PackedBlock& o = out[4 * h + c];
        for (int k = 0; k < 8; ++k) {
          const __m512i nibbles = _mm512_and_si512(c < 2 ? ql[c % 2][k] : _mm512_srli_epi16(ql[c % 2][k], 4), low4);
          const __m512i high = _mm512_and_si512(_mm512_srli_epi16(qh[k], 2 * c), two);
          o.w[k] = _mm512_or_si512(nibbles, _mm512_slli_epi16(high, 4));
        }
      }
    }
  }
};

template <typename F, int kTokens>
inline void token_tile(const QuantGemmProblem& p, const PackedBlock* packed, int64_t b_begin, int64_t b_end, int64_t t0,
                       int64_t r0, __mmask16 valid, bool first_chunk, bool last_chunk) {
  __m512 acc[kTokens];
  for (int i = 0; i < kTokens; ++i) {
    float* y = p.y + (t0 + i) * p.y_stride + r0;
    acc[i] = first_chunk ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(valid, y);
  }
  for (int64_t b = b_begin; b < b_end; ++b) {
    const PackedBlock& pb = packed[b - b_begin];
    // Two integer chains per token: dwords 0-3 and 4-7 of the block (Q6_K: its two sub-blocks),
    // each started at -offset · Σx of its elements, which cancels the codes' offset exactly.
    __m512i first[kTokens], second[kTokens];
    for (int i = 0; i < kTokens; ++i) {
      const int64_t at = (t0 + i) * p.x.scale_stride + b;
      if constexpr (F::kHalfScales) {
        first[i] = _mm512_set1_epi32(-F::kOffset * p.x.half_sum[2 * at]);
        second[i] = _mm512_set1_epi32(-F::kOffset * p.x.half_sum[2 * at + 1]);
      } else {
        first[i] = _mm512_set1_epi32(-F::kOffset * p.x.sum[at]);
        second[i] = _mm512_setzero_si512();
      }
    }
    for (int k = 0; k < 4; ++k) {
      const __m512i w0 = _mm512_load_si512(&pb.w[k]);
      const __m512i w1 = _mm512_load_si512(&pb.w[k + 4]);
      for (int i = 0; i < kTokens; ++i) {
        const int8_t* x = p.x.q + (t0 + i) * p.x.q_stride + 32 * b + 4 * k;
        first[i] = _mm512_dpbusd_epi32(first[i], w0, _mm512_set1_epi32(load_i32(x)));
        second[i] = _mm512_dpbusd_epi32(second[i], w1, _mm512_set1_epi32(load_i32(x + 16)));
      }
    }
    for (int i = 0; i < kTokens; ++i) {
      const int64_t at = (t0 + i) * p.x.scale_stride + b;
      const __m512 x_scale = _mm512_set1_ps(p.x.scale[at]);
      if constexpr (F::kHalfScales) {
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(first[i]), _mm512_mul_ps(pb.d, x_scale), acc[i]);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(second[i]), _mm512_mul_ps(pb.d2, x_scale), acc[i]);
      } else {
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(first[i], second[i])), _mm512_mul_ps(pb.d, x_scale),
                                 acc[i]);
      }
      if constexpr (F::kHasMins) acc[i] = _mm512_fnmadd_ps(pb.m, _mm512_set1_ps(p.x.scaled_sum[at]), acc[i]);
    }
  }
  const __m512 bias = last_chunk && p.bias ? _mm512_maskz_loadu_ps(valid, p.bias + r0) : _mm512_setzero_ps();
  for (int i = 0; i < kTokens; ++i) {
    float* y = p.y + (t0 + i) * p.y_stride + r0;
    _mm512_mask_storeu_ps(y, valid, last_chunk && p.bias ? _mm512_add_ps(acc[i], bias) : acc[i]);
  }
}

template <typename F>
void rows16(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  constexpr int kTokens = 4;
  PackedBlock packed[kChunkBlocks];
  const int64_t blocks = p.cols / 32;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kLanes) {
    const int64_t count = row_end - r0 < kLanes ? row_end - r0 : kLanes;
    const auto valid = static_cast<__mmask16>((1u << count) - 1);
    // Lanes past the range repeat its last row: read in bounds, computed, never stored.
    const std::byte* rows[kLanes];
    for (int r = 0; r < kLanes; ++r) rows[r] = p.w + (r0 + (r < count ? r : count - 1)) * p.w_row_stride;
    const int64_t chunk = p.num_tokens < kTokens ? kFewTokensChunkBlocks : kChunkBlocks;
    for (int64_t c = 0; c < blocks; c += chunk) {
      const int64_t c_end = c + chunk < blocks ? c + chunk : blocks;
      for (int64_t b = c; b < c_end; b += F::kPackBlocks) F::pack(rows, b, &packed[b - c]);
      const bool first = c == 0, last = c_end == blocks;
      int64_t t = 0;
      for (; t + kTokens <= p.num_tokens; t += kTokens) token_tile<F, kTokens>(p, packed, c, c_end, t, r0, valid, first, last);
      switch (p.num_tokens - t) {
        case 3: token_tile<F, 3>(p, packed, c, c_end, t, r0, valid, first, last); break;
        case 2: token_tile<F, 2>(p, packed, c, c_end, t, r0, valid, first, last); break;
        case 1: token_tile<F, 1>(p, packed, c, c_end, t, r0, valid, first, last); break;
        default: break;
      }
    }
  }
}

}  // namespace

void qgemm_rows_avx512_vnni(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.format) {
    case QuantFormat::kQ8_0: rows16<Q8_0>(p, row_begin, row_end); break;
    case QuantFormat::kQ4_0: rows16<Q4_0>(p, row_begin, row_end); break;
    case QuantFormat::kQ4_K: rows16<Q4_K>(p, row_begin, row_end); break;
    case QuantFormat::kQ6_K: rows16<Q6_K>(p, row_begin, row_end); break;
  }
}

}  // namespace tgi::kernels::qgemm
