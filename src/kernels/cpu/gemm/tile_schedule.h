#pragma once
// How the CPU matmul kernels walk their output in register tiles: tokens [t_begin, t_end) ×
// rows [row_begin, row_end) in kTokens × kRows tiles, rows left over one at a time, tokens left
// over (fewer than kTokens) as one narrower tile. `tile` is a callable invoked as
// `tile.template operator()<kT, kR>(t, r)` for the outputs [t, t + kT) × [r, r + kR); each kernel
// keeps every output's arithmetic independent of the tile shape, so the schedule never changes a
// result (batch invariance), only which outputs share a weight or activation load.
#include <cstdint>

namespace tgi::kernels::gemm {

template <int kTokens, int kRows, typename Tile>
inline void tile_rows(Tile& tile, int64_t t, int64_t row_begin, int64_t row_end) {
  int64_t r = row_begin;
  for (; r + kRows <= row_end; r += kRows) tile.template operator()<kTokens, kRows>(t, r);
  for (; r < row_end; ++r) tile.template operator()<kTokens, 1>(t, r);
}

template <int kTokens, int kRows, typename Tile>
inline void tile_tokens_and_rows(Tile& tile, int64_t t_begin, int64_t t_end, int64_t row_begin, int64_t row_end) {
  static_assert(kTokens >= 1 && kTokens <= 4, "the leftover-token cases below cover up to 3 tokens");
  int64_t t = t_begin;
  for (; t + kTokens <= t_end; t += kTokens) tile_rows<kTokens, kRows>(tile, t, row_begin, row_end);
  switch (t_end - t) {
    case 3: if constexpr (kTokens > 3) tile_rows<3, kRows>(tile, t, row_begin, row_end); break;
    case 2: if constexpr (kTokens > 2) tile_rows<2, kRows>(tile, t, row_begin, row_end); break;
    case 1: if constexpr (kTokens > 1) tile_rows<1, kRows>(tile, t, row_begin, row_end); break;
    default: break;
  }
}

}  // namespace tgi::kernels::gemm
