#pragma once
// The plain-data description of one y = x · Wᵀ call, handed from the dispatcher (matmul.cpp) to the
// ISA-specific kernels. Deliberately free of inline functions and standard-library templates: the
// AVX-512 kernels are compiled with a wider target, and any inline function they instantiate
// could be picked by the linker for the whole program and crash an AVX2-only machine.
#include <cstddef>
#include <cstdint>

namespace tgi::kernels::gemm {

enum class ElementType : uint8_t { kF32, kBF16, kF16 };

struct GemmProblem {
  const float* x = nullptr;  // [num_tokens][cols], row stride x_stride floats
  int64_t num_tokens = 0;
  int64_t x_stride = 0;
  ElementType type = ElementType::kF32;
  const std::byte* w = nullptr;  // [rows][cols] in `type`, rows w_row_stride bytes apart
  int64_t w_row_stride = 0;
  int64_t cols = 0;
  const float* bias = nullptr;  // [rows] or null
  float* y = nullptr;           // [num_tokens][rows], row stride y_stride floats
  int64_t y_stride = 0;
};

// Computes output columns (weight rows) [row_begin, row_end) for every token. Each output element
// is one accumulator fed in increasing k order and reduced in a fixed order, so it is bitwise the
// same whatever num_tokens, the row range, or the tile it lands in (batch invariance).
void gemm_rows_avx2(const GemmProblem& p, int64_t row_begin, int64_t row_end);
void gemm_rows_avx512(const GemmProblem& p, int64_t row_begin, int64_t row_end);

// bf16 weights × activations already rounded to bf16 (AVX-512-BF16 only).
struct Bf16GemmProblem {
  const uint16_t* x = nullptr;  // [num_tokens][cols] bf16, row stride x_stride elements
  int64_t num_tokens = 0;
  int64_t x_stride = 0;
  const std::byte* w = nullptr;  // [rows][cols] bf16, rows w_row_stride bytes apart
  int64_t w_row_stride = 0;
  int64_t cols = 0;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t y_stride = 0;
};
void gemm_rows_avx512_bf16(const Bf16GemmProblem& p, int64_t row_begin, int64_t row_end);
// Rounds activation rows [row_begin, row_end) to bf16 (round to nearest even).
void round_rows_to_bf16_avx512(const float* x, int64_t x_stride, int64_t cols, uint16_t* out, int64_t out_stride,
                               int64_t row_begin, int64_t row_end);

}  // namespace tgi::kernels::gemm
