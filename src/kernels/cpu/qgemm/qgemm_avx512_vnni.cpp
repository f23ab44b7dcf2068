// Int8 kernels for block-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) with AVX-512-VNNI
// (vpdpbusd: u8 × s8, 4-way, into int32), sixteen weight rows per vector. Each 32-element block
// of 16 rows is transposed so that int32 lane r belongs to row r: one vpdpbusd then multiplies 4
// weights of each of 16 rows by the same 4 activations, broadcast from memory. A block costs 8
// vpdpbusd and ~3 float ops per token for 16 rows, against 8 and 24 when each row keeps its own
// vector. The transposed "images" are built once at load (pack_groups_avx512_vnni, the layout in
// qgemm_problem.h) so a decode step only streams them; weights that were not packed are
// transposed per call, a chunk at a time, into a stack buffer of the same layout. Weight codes
// are unsigned (Q8_0 stored +128); their offset is cancelled exactly in int32.
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
// Blocks per chunk (a multiple of 8: whole K-quant super-blocks): 64 × 544 bytes = 34 KiB of
// Q8_0 images, resident in L1/L2 while every token passes over them.
constexpr int64_t kChunkBlocks = 64;
// With fewer tokens than a tile, images transposed per call are each used once: a chunk small
// enough to stay in L1 (9 KiB) is faster. Chunking never changes the arithmetic (see above).
constexpr int64_t kFewTokensChunkBlocks = 16;
// Decode batches of up to kDecodeChunkTokens tokens take packed images in chunks of
// kDecodeChunkBlocks (whole K-quant super-blocks): a chunk's images stay in L1 across its token
// tiles while the next chunk arrives. tgi bench, TinyLlama, 64 -> 16 blocks, alternating runs:
// Q4_0 batch 8 239-286 -> 284-340 tok/s, batch 16 302-329 -> 327-355; Q8_0 batch 4 129-144 ->
// 157-173, batch 8 193-229 -> 228-273; at batch 32 no gain (Q8_0 302-312 against 319-324).
constexpr int64_t kDecodeChunkBlocks = 16;
constexpr int64_t kDecodeChunkTokens = 16;
// Tokens whose int8 activations (128 × a 2048-wide row = 256 KiB, plus scales) stay in L2.
constexpr int64_t kTokenBlock = 128;
// One token does too little work per byte for the hardware prefetchers alone to keep enough lines
// in flight: the packed images are prefetched at least this far ahead of the chunk being
// multiplied. Measured, cold 2048x5632 GEMV on 2 threads, share of the read bandwidth sampled
// beside it (non-temporal, once per chunk): Q4_0 2 KiB 105%, 4 KiB 110%, 8 KiB 88%; Q4_K 2 KiB
// 105%, 4 KiB 112%; Q8_0 2 KiB 112%, 4 KiB 121%.
constexpr int64_t kPrefetchBytes = 4096;
// Up to this many tokens (decode batches) the many-token path prefetches each next chunk of
// packed images while the first token tile multiplies the current one. Longer prompts reuse a
// chunk over many tiles, and the next chunk arriving in L1 early evicted it (hot 5632x2048 at 64
// and 256 tokens: 15-25% slower).
constexpr int64_t kPrefetchTokens = 32;

// One block of 16 rows as the inner loop wants it, unpacked from the images in registers.
struct Block {
  __m512i w[8];  // w[k] lane r: unsigned weight codes k·4 .. k·4+3 of row r
  __m512 d;      // lane r: the row's block scale (Q6_K: of the block's first 16 elements)
  __m512 d2;     // Q6_K: lane r: the scale of the block's last 16 elements
  __m512 m;      // Q4_K: lane r: the row's block minimum dmin · m_j, subtracted per unit of Σx
  int sum_shift = 0;  // kShiftedSums: the block's int32 sums are codes × 2^sum_shift: shifted back exactly
};

inline int32_t load_i32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// acc += w · (the 4 bytes at x, in every lane), with the activations as vpdpbusd's embedded
// {1to16} broadcast operand: gcc 12 otherwise loads them with a separate vpbroadcastd.
inline __m512i dpbusd_broadcast(__m512i acc, __m512i w, const int8_t* x) {
  asm("vpdpbusd %[x]%{1to16%}, %[w], %[acc]"
      : [acc] "+v"(acc)
      : [w] "v"(w), [x] "m"(*reinterpret_cast<const int32_t*>(x)));
  return acc;
}

// The f16 values at byte `at` of the 16 rows -> 16 consecutive f16 at `out` (scalar loads:
// cheaper than a gather on the CPUs measured).
inline void gather_halves(const std::byte* const rows[kLanes], int64_t at, std::byte* out) {
  for (int r = 0; r < kLanes; ++r) __builtin_memcpy(out + 2 * r, rows[r] + at, 2);
}

inline __m512 load_halves(const std::byte* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline __m512i load_vector(const std::byte* p) {
  return _mm512_loadu_si512(p);
}
inline void store_vector(std::byte* p, __m512i v) {
  _mm512_storeu_si512(p, v);
}

// Bytes as floats: 16 unsigned / signed bytes at p -> 16 lanes.
inline __m512 load_u8_as_floats(const std::byte* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512 load_i8_as_floats(const std::byte* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
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

// Each format: interleave() turns a unit of the 16 rows' stored blocks into its code and scale
// images (at load, or per call for weights that were not packed); unpack() turns block j of a
// unit's images into registers. kOffset is the code offset cancelled in int32.
struct Q8_0 {
  static constexpr int kOffset = 128;  // codes stored as w + 128
  static constexpr int64_t kUnitBlocks = 1, kUnitBytes = kQ8_0Bytes;
  static constexpr int64_t kCodeImage = kQ8_0CodeImage, kScaleImage = kQ8_0ScaleImage;
  static constexpr int64_t kChunkUnits = kQ8_0ChunkUnits;
  static constexpr bool kHasMins = false;
  static constexpr bool kHalfScales = false;
  static constexpr bool kShiftedSums = false;
  static constexpr bool kSecondChainTimes16 = false;
  static void interleave(const std::byte* const rows[kLanes], int64_t unit, std::byte* codes,
                         std::byte* scales) {
    const int64_t at = unit * kUnitBytes;
    __m512i w[8];
    transpose_rows_32(rows, at + 2, w);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int k = 0; k < 8; ++k) store_vector(codes + 64 * k, _mm512_xor_si512(w[k], flip));
    gather_halves(rows, at, scales);
  }
  static void unpack(const std::byte* codes, const std::byte* scales, int64_t, Block& out) {
    for (int k = 0; k < 8; ++k) out.w[k] = load_vector(codes + 64 * k);
    out.d = load_halves(scales);
  }
};

struct Q4_0 {
  static constexpr int kOffset = 8;
  static constexpr int64_t kUnitBlocks = 1, kUnitBytes = kQ4_0Bytes;
  static constexpr int64_t kCodeImage = kQ4_0CodeImage, kScaleImage = kQ4_0ScaleImage;
  static constexpr int64_t kChunkUnits = kQ4_0ChunkUnits;
  static constexpr bool kHasMins = false;
  static constexpr bool kHalfScales = false;
  static constexpr bool kShiftedSums = false;
  static void interleave(const std::byte* const rows[kLanes], int64_t unit, std::byte* codes,
                         std::byte* scales) {
    __m512i v[4];
    transpose_rows_16(rows, unit * kUnitBytes + 2, v);
    for (int k = 0; k < 4; ++k) store_vector(codes + 64 * k, v[k]);
    gather_halves(rows, unit * kUnitBytes, scales);
  }
  // Byte j of a block's codes holds element j (low nibble) and j + 16 (high nibble). The high
  // nibbles are left in place, i.e. times 16 (one AND instead of shift + AND per vector): their
  // chain is divided by 16 once per token, exactly (every term is a multiple of 16).
  static constexpr bool kSecondChainTimes16 = true;
  static void unpack(const std::byte* codes, const std::byte* scales, int64_t, Block& out) {
    const __m512i low = _mm512_set1_epi8(0x0F), high = _mm512_set1_epi8(static_cast<char>(0xF0));
    for (int k = 0; k < 4; ++k) {
      const __m512i v = load_vector(codes + 64 * k);
      out.w[k] = _mm512_and_si512(v, low);
      out.w[k + 4] = _mm512_and_si512(v, high);
    }
    out.d = load_halves(scales);
  }
};

// x = d·sc_j·q − dmin·m_j, sub-blocks j of 32 = the activation blocks; a unit is a super-block.
// Scale image: d[16] f16 | dmin[16] f16 | sc[8][16] u8 | m[8][16] u8.
struct Q4_K {
  static constexpr int kOffset = 0;
  static constexpr int64_t kUnitBlocks = 8, kUnitBytes = kQ4_KBytes;
  static constexpr int64_t kCodeImage = kQ4_KCodeImage, kScaleImage = kQ4_KScaleImage;
  static constexpr int64_t kChunkUnits = kQ4_KChunkUnits;
  static constexpr bool kHasMins = true;
  static constexpr bool kHalfScales = false;
  static constexpr bool kShiftedSums = true;
  static constexpr bool kSecondChainTimes16 = false;
  static void interleave(const std::byte* const rows[kLanes], int64_t unit, std::byte* codes,
                         std::byte* scales) {
    const int64_t at = unit * kUnitBytes;
    gather_halves(rows, at, scales);
    gather_halves(rows, at + 2, scales + 32);
    alignas(64) uint32_t packed[3][kLanes];
    for (int r = 0; r < kLanes; ++r)
      for (int i = 0; i < 3; ++i) __builtin_memcpy(&packed[i][r], rows[r] + at + kQ4_KScales + 4 * i, 4);
    const __m512i p0 = _mm512_load_si512(packed[0]), p1 = _mm512_load_si512(packed[1]), p2 = _mm512_load_si512(packed[2]);
    // Byte j of each word: scales/mins 0-3, and 4-7 from the low/high nibbles of p2 plus the top
    // two bits of p0/p1 (see qgemm_avx2.cpp, Q4_K::prepare).
    const __m512i six = _mm512_set1_epi32(0x3F3F3F3F), four = _mm512_set1_epi32(0x0F0F0F0F), two = _mm512_set1_epi32(0x03030303);
    const __m512i sc_low = _mm512_and_si512(p0, six), mn_low = _mm512_and_si512(p1, six);
    const __m512i sc_high = _mm512_or_si512(_mm512_and_si512(p2, four),
                                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(p0, 6), two), 4));
    const __m512i mn_high =
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(p2, 4), four),
                        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(p1, 6), two), 4));
    for (int j = 0; j < 4; ++j) {
      const auto pick = [&](__m512i v, std::byte* to) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(to), _mm512_cvtepi32_epi8(_mm512_srli_epi32(v, 8 * j)));
      };
      pick(sc_low, scales + 64 + 16 * j);
      pick(sc_high, scales + 64 + 16 * (j + 4));
      pick(mn_low, scales + 192 + 16 * j);
      pick(mn_high, scales + 192 + 16 * (j + 4));
    }
    for (int g = 0; g < 4; ++g) {
      __m512i v[8];
      transpose_rows_32(rows, at + kQ4_KQs + 32 * g, v);
      for (int k = 0; k < 8; ++k) store_vector(codes + 64 * (8 * g + k), v[k]);
    }
  }
  // Chunk g of 32 code bytes: low nibbles are block 2g, high nibbles block 2g + 1. High nibbles
  // are masked in place (codes × 16) and the block's int32 sum divided by 16 (exact).
  static void unpack(const std::byte* codes, const std::byte* scales, int64_t j, Block& out) {
    const std::byte* chunk = codes + 64 * 8 * (j / 2);
    const bool high = j % 2 != 0;
    const __m512i mask = _mm512_set1_epi8(static_cast<char>(high ? 0xF0 : 0x0F));
    for (int k = 0; k < 8; ++k) out.w[k] = _mm512_and_si512(load_vector(chunk + 64 * k), mask);
    out.sum_shift = high ? 4 : 0;
    out.d = _mm512_mul_ps(load_halves(scales), load_u8_as_floats(scales + 64 + 16 * j));
    out.m = _mm512_mul_ps(load_halves(scales + 32), load_u8_as_floats(scales + 192 + 16 * j));
  }
};

// x = d·sc·(q − 32) with an int8 scale per 16 elements: dwords 0-3 of a block are its first
// sub-block, 4-7 its second, so the two integer chains are the two sub-blocks. A unit is a
// super-block. Code image: ql[h][i][8 vectors] for the 32-byte chunks at 64h + 32i, then
// qh[h][8 vectors] for those at 128 + 32h. Scale image: d[16] f16 | sc[16][16] int8.
struct Q6_K {
  static constexpr int kOffset = 32;
  static constexpr int64_t kUnitBlocks = 8, kUnitBytes = kQ6_KBytes;
  static constexpr int64_t kCodeImage = kQ6_KCodeImage, kScaleImage = kQ6_KScaleImage;
  static constexpr int64_t kChunkUnits = kQ6_KChunkUnits;
  static constexpr bool kHasMins = false;
  static constexpr bool kHalfScales = true;
  static constexpr bool kShiftedSums = false;
  static constexpr bool kSecondChainTimes16 = false;
  static void interleave(const std::byte* const rows[kLanes], int64_t unit, std::byte* codes,
                         std::byte* scales) {
    const int64_t at = unit * kUnitBytes;
    gather_halves(rows, at + kQ6_KD, scales);
    for (int r = 0; r < kLanes; ++r)
      for (int s = 0; s < 16; ++s) scales[32 + 16 * s + r] = rows[r][at + kQ6_KScales + s];
    for (int c = 0; c < 6; ++c) {  // chunks 0-3: ql at 32c; 4-5: qh at 128 + 32(c - 4)
      __m512i v[8];
      transpose_rows_32(rows, at + (c < 4 ? 32 * c : kQ6_KQh + 32 * (c - 4)), v);
      for (int k = 0; k < 8; ++k) store_vector(codes + 64 * (8 * c + k), v[k]);
    }
  }
  // Block 4h + c takes the low (c < 2) or high nibbles of ql chunk 2h + c % 2 and bit pair c of
  // qh chunk h as bits 4-5.
  static void unpack(const std::byte* codes, const std::byte* scales, int64_t j, Block& out) {
    const int64_t h = j / 4, c = j % 4;
    const std::byte* ql = codes + 64 * 8 * (2 * h + c % 2);
    const std::byte* qh = codes + 64 * 8 * (4 + h);
    const __m512i low4 = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(3);
    const int nibble_shift = c < 2 ? 0 : 4, high_shift = 2 * static_cast<int>(c);
    for (int k = 0; k < 8; ++k) {
      const __m512i nibbles =
          _mm512_and_si512(_mm512_srli_epi16(load_vector(ql + 64 * k), nibble_shift), low4);
      const __m512i high = _mm512_and_si512(_mm512_srli_epi16(load_vector(qh + 64 * k), high_shift), two);
      out.w[k] = _mm512_or_si512(nibbles, _mm512_slli_epi16(high, 4));
    }
    const __m512 d = load_halves(scales);
    out.d = _mm512_mul_ps(d, load_i8_as_floats(scales + 32 + 16 * (2 * j)));
    out.d2 = _mm512_mul_ps(d, load_i8_as_floats(scales + 32 + 16 * (2 * j + 1)));
  }
};

// Byte offsets of unit u's images in a run of `units` units laid out as qgemm_problem.h says
// (chunks of F::kChunkUnits units: their code images, then their scale images, padded to 64).
// A packed group is such a run; so is the stack buffer images transposed per call go to.
template <typename F>
struct ImageLayout {
  static constexpr int64_t kChunkStride = (F::kChunkUnits * (F::kCodeImage + F::kScaleImage) + 63) / 64 * 64;
  // Bytes per block on average: how far the prefetch runs ahead per block.
  static constexpr int64_t kBlockBytes = kChunkStride / (F::kChunkUnits * F::kUnitBlocks);
  int64_t units = 0;

  static constexpr int64_t codes(int64_t u) {
    return u / F::kChunkUnits * kChunkStride + u % F::kChunkUnits * F::kCodeImage;
  }
  // After the code images of every unit of u's chunk (the last chunk may hold fewer).
  int64_t scales(int64_t u) const {
    const int64_t first = u / F::kChunkUnits * F::kChunkUnits;
    const int64_t in_chunk = units - first < F::kChunkUnits ? units - first : F::kChunkUnits;
    return codes(first) + in_chunk * F::kCodeImage + (u - first) * F::kScaleImage;
  }
  static constexpr int64_t bytes(int64_t units) {
    return units / F::kChunkUnits * kChunkStride +
           (units % F::kChunkUnits * (F::kCodeImage + F::kScaleImage) + 63) / 64 * 64;
  }
};

// The two integer chains of a block for the token whose block values sit at `at`: dwords 0-3 and
// 4-7 of the block (Q6_K: its two sub-blocks), each started at -offset · Σx of its elements,
// which cancels the codes' offset exactly.
template <typename F>
inline void start_chains(const QuantizedActivations& x, int64_t at, __m512i& first, __m512i& second) {
  if constexpr (F::kHalfScales) {
    first = _mm512_set1_epi32(-F::kOffset * x.half_sum[2 * at]);
    second = _mm512_set1_epi32(-F::kOffset * x.half_sum[2 * at + 1]);
  } else {
    first = _mm512_set1_epi32(-F::kOffset * x.sum[at]);
    second = _mm512_setzero_si512();
  }
}

// acc + the block's finished chains: their exact int32 sum times d_w · d_x (Q6_K: one step per
// sub-block), then (Q4_K) minus the block minimum times d_x · Σx.
template <typename F>
inline __m512 add_block(__m512 acc, const Block& pb, __m512i first, __m512i second,
                        const QuantizedActivations& x, int64_t at) {
  const __m512 x_scale = _mm512_set1_ps(x.scale[at]);
  if constexpr (F::kHalfScales) {
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(first), _mm512_mul_ps(pb.d, x_scale), acc);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(second), _mm512_mul_ps(pb.d2, x_scale), acc);
  } else {
    const __m512i high = F::kSecondChainTimes16 ? _mm512_srai_epi32(second, 4) : second;
    __m512i total = _mm512_add_epi32(first, high);
    if constexpr (F::kShiftedSums) total = _mm512_sra_epi32(total, _mm_cvtsi32_si128(pb.sum_shift));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_mul_ps(pb.d, x_scale), acc);
  }
  if constexpr (F::kHasMins) acc = _mm512_fnmadd_ps(pb.m, _mm512_set1_ps(x.scaled_sum[at]), acc);
  return acc;
}

// Blocks [b_begin, b_end) for tokens t0 .. t0 + kTokens - 1; the unit holding b_begin is unit
// `first_unit` of the run of images at `images`. kPrefetch: each block also asks for its share of
// the bytes from `prefetch` on (the next chunk's images). A template parameter, not a null test:
// the test alone in this loop cost a 512-token Q4_0 prefill 15-25%.
template <typename F, int kTokens, bool kPrefetch = false>
inline void token_tile(const QuantGemmProblem& p, const std::byte* images, ImageLayout<F> layout,
                       int64_t first_unit, int64_t b_begin, int64_t b_end, int64_t t0, int64_t r0,
                       __mmask16 valid, bool first_chunk, bool last_chunk,
                       const std::byte* prefetch = nullptr) {
  __m512 acc[kTokens];
  for (int i = 0; i < kTokens; ++i) {
    float* y = p.y + (t0 + i) * p.y_stride + r0;
    acc[i] = first_chunk ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(valid, y);
  }
  // The unit's images, stepped unit by unit and placed afresh only where a chunk starts.
  int64_t unit = first_unit;
  const std::byte* codes = images + layout.codes(unit);
  const std::byte* scales = images + layout.scales(unit);
  for (int64_t b = b_begin; b < b_end; ++b) {
    if constexpr (kPrefetch)
      for (int64_t line = 0; line < ImageLayout<F>::kBlockBytes; line += 64)
        _mm_prefetch(
            reinterpret_cast<const char*>(prefetch + (b - b_begin) * ImageLayout<F>::kBlockBytes + line),
            _MM_HINT_T0);
    const int64_t j = (b - b_begin) % F::kUnitBlocks;
    Block pb;
    F::unpack(codes, scales, j, pb);
    if (j == F::kUnitBlocks - 1) {
      ++unit;
      if (unit % F::kChunkUnits == 0) {
        codes = images + layout.codes(unit);
        scales = images + layout.scales(unit);
      } else {
        codes += F::kCodeImage;
        scales += F::kScaleImage;
      }
    }
    __m512i first[kTokens], second[kTokens];
    for (int i = 0; i < kTokens; ++i)
      start_chains<F>(p.x, (t0 + i) * p.x.scale_stride + b, first[i], second[i]);
    for (int k = 0; k < 4; ++k) {
      for (int i = 0; i < kTokens; ++i) {
        const int8_t* x = p.x.q + (t0 + i) * p.x.q_stride + 32 * b + 4 * k;
        if constexpr (kTokens > 1) {
          first[i] = dpbusd_broadcast(first[i], pb.w[k], x);
          second[i] = dpbusd_broadcast(second[i], pb.w[k + 4], x + 16);
        } else {  // one token: left to the compiler (the embedded form measured no faster here)
          first[i] = _mm512_dpbusd_epi32(first[i], pb.w[k], _mm512_set1_epi32(load_i32(x)));
          second[i] = _mm512_dpbusd_epi32(second[i], pb.w[k + 4], _mm512_set1_epi32(load_i32(x + 16)));
        }
      }
    }
    for (int i = 0; i < kTokens; ++i)
      acc[i] = add_block<F>(acc[i], pb, first[i], second[i], p.x, (t0 + i) * p.x.scale_stride + b);
  }
  const __m512 bias = last_chunk && p.bias ? _mm512_maskz_loadu_ps(valid, p.bias + r0) : _mm512_setzero_ps();
  for (int i = 0; i < kTokens; ++i) {
    float* y = p.y + (t0 + i) * p.y_stride + r0;
    _mm512_mask_storeu_ps(y, valid, last_chunk && p.bias ? _mm512_add_ps(acc[i], bias) : acc[i]);
  }
}

// Fewer tokens than a tile (decode at batch 1-3) over packed weights, one row group:
// token_tile<F, kTokens>'s arithmetic in a lean loop over the group's chunks, image pointers
// stepped unit by unit, that prefetches the images ahead. Measured with the weights in L2, one
// Q4_0 token runs ~25% faster than through token_tile; two groups per pass (sharing the
// activation broadcasts) were no faster.
template <typename F, int kTokens>
inline void few_tokens_packed(const QuantGemmProblem& p, int64_t r0, int64_t row_end) {
  constexpr int64_t kStride = ImageLayout<F>::kChunkStride;
  // Whole chunks, at least kPrefetchBytes.
  constexpr int64_t kAhead = (kPrefetchBytes + kStride - 1) / kStride * kStride;
  const int64_t units = p.cols / 32 / F::kUnitBlocks;
  const std::byte* chunk = p.w_packed + r0 / kLanes * p.w_packed_group_stride;
  __m512 acc[kTokens];
  for (int i = 0; i < kTokens; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t u0 = 0; u0 < units; u0 += F::kChunkUnits, chunk += kStride) {
    // The group is one stream: each chunk asks for the one kAhead bytes on, once per line. Past
    // the end of the images these touch the next group or beyond: prefetches never fault.
    // Non-temporal: each image is read once per call. Cold 2048x5632 and 5632x2048 GEMV, 2
    // threads, share of the read bandwidth sampled beside it, against a T0 prefetch of every
    // block's share (and the scale offsets computed per block): Q4_0 67-73% -> 106-109%, Q8_0
    // 85-91% -> 117-121%, Q4_K 100-103% -> 105-112%, Q6_K 96-99% -> 111-120%.
    for (int64_t line = 0; line < kStride; line += 64)
      _mm_prefetch(reinterpret_cast<const char*>(chunk + kAhead + line), _MM_HINT_NTA);
    // always_inline: gcc 12 otherwise calls it, with the accumulators through memory.
    const auto unit = [&](int64_t u, const std::byte* codes, const std::byte* scales)
        __attribute__((always_inline)) {
      for (int64_t j = 0; j < F::kUnitBlocks; ++j) {
        const int64_t b = u * F::kUnitBlocks + j;
        Block pb;
        F::unpack(codes, scales, j, pb);
        __m512i first[kTokens], second[kTokens];
        for (int i = 0; i < kTokens; ++i) start_chains<F>(p.x, i * p.x.scale_stride + b, first[i], second[i]);
        for (int k = 0; k < 4; ++k) {
          for (int i = 0; i < kTokens; ++i) {
            const int8_t* x = p.x.q + i * p.x.q_stride + 32 * b + 4 * k;
            first[i] = dpbusd_broadcast(first[i], pb.w[k], x);
            second[i] = dpbusd_broadcast(second[i], pb.w[k + 4], x + 16);
          }
        }
        for (int i = 0; i < kTokens; ++i)
          acc[i] = add_block<F>(acc[i], pb, first[i], second[i], p.x, i * p.x.scale_stride + b);
      }
    };
    // A whole chunk as straight-line code (the common case; the group's last may hold fewer). A
    // loop over the chunk's units held a cold Q4_0 2048x5632 GEMV at 77-79% of the bandwidth
    // sampled beside it, straight-line 102%.
    if (units - u0 >= F::kChunkUnits) {
      for (int64_t u = 0; u < F::kChunkUnits; ++u)
        unit(u0 + u, chunk + u * F::kCodeImage, chunk + F::kChunkUnits * F::kCodeImage + u * F::kScaleImage);
    } else {
      const int64_t in_chunk = units - u0;
      for (int64_t u = 0; u < in_chunk; ++u)
        unit(u0 + u, chunk + u * F::kCodeImage, chunk + in_chunk * F::kCodeImage + u * F::kScaleImage);
    }
  }
  const int64_t count = row_end - r0 < kLanes ? row_end - r0 : kLanes;
  const auto valid = static_cast<__mmask16>((1u << count) - 1);
  const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(valid, p.bias + r0) : _mm512_setzero_ps();
  for (int i = 0; i < kTokens; ++i)
    _mm512_mask_storeu_ps(p.y + i * p.y_stride + r0, valid, p.bias ? _mm512_add_ps(acc[i], bias) : acc[i]);
}

// The 16 row pointers of the group at r0; lanes past `rows` repeat the last row (read in
// bounds, computed, never stored).
inline void group_rows(const std::byte* w, int64_t w_row_stride, int64_t r0, int64_t rows,
                       const std::byte* out[kLanes]) {
  const int64_t count = rows - r0 < kLanes ? rows - r0 : kLanes;
  for (int r = 0; r < kLanes; ++r) out[r] = w + (r0 + (r < count ? r : count - 1)) * w_row_stride;
}

template <typename F>
void rows16(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  constexpr int kTokens = 4;
  // Images transposed per call: the units of one chunk of blocks, laid out as a packed group.
  alignas(64) std::byte buffer[ImageLayout<F>::bytes(kChunkBlocks / F::kUnitBlocks)];
  const int64_t blocks = p.cols / 32, units = blocks / F::kUnitBlocks;
  if (p.w_packed && p.num_tokens < kTokens) {
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kLanes) {
      switch (p.num_tokens) {
        case 1:
          few_tokens_packed<F, 1>(p, r0, row_end);
          break;
        case 2:
          few_tokens_packed<F, 2>(p, r0, row_end);
          break;
        case 3:
          few_tokens_packed<F, 3>(p, r0, row_end);
          break;
        default:
          break;
      }
    }
    return;
  }
  // Packed weights: tokens in blocks whose activations stay in L2 while every row group of the
  // range passes over them (a long prompt's activations would otherwise stream from L3 once per
  // 16 rows). Images transposed per call are built once for all tokens instead.
  const int64_t token_block = p.w_packed ? kTokenBlock : p.num_tokens;
  for (int64_t t_begin = 0; t_begin < p.num_tokens; t_begin += token_block) {
    const int64_t t_end = t_begin + token_block < p.num_tokens ? t_begin + token_block : p.num_tokens;
    for (int64_t r0 = row_begin; r0 < row_end; r0 += kLanes) {
      const int64_t count = row_end - r0 < kLanes ? row_end - r0 : kLanes;
      const auto valid = static_cast<__mmask16>((1u << count) - 1);
      const std::byte* rows[kLanes];
      const std::byte* group = nullptr;
      if (p.w_packed) {
        group = p.w_packed + r0 / kLanes * p.w_packed_group_stride;
      } else {
        group_rows(p.w, p.w_row_stride, r0, row_end, rows);
      }
      // Packed images stream from memory once per chunk, decode batches' in small chunks (see
      // kDecodeChunkBlocks); per-call images are best kept small when each is used by few tokens.
      // (With fewer than kTokens tokens, packed weights took the few-token path above.)
      const int64_t chunk = group && p.num_tokens <= kDecodeChunkTokens ? kDecodeChunkBlocks
                            : p.num_tokens >= kTokens                   ? kChunkBlocks
                                                                        : kFewTokensChunkBlocks;
      for (int64_t c = 0; c < blocks; c += chunk) {
        const int64_t c_end = c + chunk < blocks ? c + chunk : blocks;
        const int64_t unit_begin = c / F::kUnitBlocks;
        const std::byte* images = group;
        ImageLayout<F> layout{units};
        int64_t first_unit = unit_begin;
        if (!group) {
          images = buffer;
          layout.units = c_end / F::kUnitBlocks - unit_begin;
          first_unit = 0;
          for (int64_t u = 0; u < layout.units; ++u)
            F::interleave(rows, unit_begin + u, buffer + layout.codes(u), buffer + layout.scales(u));
        }
        const bool first = c == 0, last = c_end == blocks;
        // Packed images stream from DRAM: the first tile over this chunk asks for the next chunk
        // (of this group, or the next group's first: groups are contiguous), which the other
        // tiles give time to arrive. Cold 5632x2048 at 8 tokens, 2 threads: Q8_0 354-359 -> 416-439
        // GOP/s, Q4_0 470-493 -> 628-639, Q4_K 403-407 -> 620-669, Q6_K 274-277 -> 440-465.
        const std::byte* next_chunk =
            group && p.num_tokens <= kPrefetchTokens
                ? images + layout.codes(first_unit) + (c_end - c) * ImageLayout<F>::kBlockBytes
                : nullptr;
        int64_t t = t_begin;
        for (; t + kTokens <= t_end; t += kTokens) {
          if (next_chunk != nullptr) {
            token_tile<F, kTokens, true>(p, images, layout, first_unit, c, c_end, t, r0, valid, first, last,
                                         next_chunk);
            next_chunk = nullptr;
          } else {
            token_tile<F, kTokens>(p, images, layout, first_unit, c, c_end, t, r0, valid, first, last);
          }
        }
        switch (t_end - t) {
          case 3:
            token_tile<F, 3>(p, images, layout, first_unit, c, c_end, t, r0, valid, first, last);
            break;
          case 2:
            token_tile<F, 2>(p, images, layout, first_unit, c, c_end, t, r0, valid, first, last);
            break;
          case 1:
            token_tile<F, 1>(p, images, layout, first_unit, c, c_end, t, r0, valid, first, last);
            break;
          default:
            break;
        }
      }
    }
  }
}

template <typename F>
void pack_groups(const std::byte* w, int64_t w_row_stride, int64_t rows, int64_t cols, std::byte* out,
                 int64_t group_stride, int64_t group_begin, int64_t group_end) {
  const ImageLayout<F> layout{cols / 32 / F::kUnitBlocks};
  for (int64_t g = group_begin; g < group_end; ++g) {
    const std::byte* source[kLanes];
    group_rows(w, w_row_stride, g * kLanes, rows, source);
    std::byte* group = out + g * group_stride;
    for (int64_t u = 0; u < layout.units; ++u)
      F::interleave(source, u, group + layout.codes(u), group + layout.scales(u));
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

void pack_groups_avx512_vnni(QuantFormat format, const std::byte* w, int64_t w_row_stride, int64_t rows,
                             int64_t cols, std::byte* out, int64_t group_stride, int64_t group_begin,
                             int64_t group_end) {
  switch (format) {
    case QuantFormat::kQ8_0:
      pack_groups<Q8_0>(w, w_row_stride, rows, cols, out, group_stride, group_begin, group_end);
      break;
    case QuantFormat::kQ4_0:
      pack_groups<Q4_0>(w, w_row_stride, rows, cols, out, group_stride, group_begin, group_end);
      break;
    case QuantFormat::kQ4_K:
      pack_groups<Q4_K>(w, w_row_stride, rows, cols, out, group_stride, group_begin, group_end);
      break;
    case QuantFormat::kQ6_K:
      pack_groups<Q6_K>(w, w_row_stride, rows, cols, out, group_stride, group_begin, group_end);
      break;
  }
}

}  // namespace tgi::kernels::qgemm
