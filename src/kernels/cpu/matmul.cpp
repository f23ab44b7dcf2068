#include "kernels/cpu/matmul.h"

#include <atomic>
#include <optional>
#include <vector>

#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/gemm/gemm_problem.h"
#include "kernels/cpu/qgemm/qgemm_problem.h"

namespace tgi::kernels {
namespace {

std::atomic<MatmulPrecision> g_precision{MatmulPrecision::kExact};

gemm::ElementType element_type(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return gemm::ElementType::kF32;
    case WeightFormat::kBF16: return gemm::ElementType::kBF16;
    case WeightFormat::kF16: return gemm::ElementType::kF16;
    default: return gemm::ElementType::kF32;
  }
}

// Threads get whole groups of rows so every thread's range fills the kernels' row tiles
// (a multiple of 8 and of 6).
constexpr int64_t kRowsPerGroup = 48;

template <typename Kernel>
void split_rows(int64_t rows, ThreadPool& pool, Kernel&& kernel) {
  const int64_t groups = (rows + kRowsPerGroup - 1) / kRowsPerGroup;
  pool.parallel_for(groups, [&](int64_t begin, int64_t end) {
    kernel(begin * kRowsPerGroup, end * kRowsPerGroup < rows ? end * kRowsPerGroup : rows);
  });
}

void matmul_bf16_activations(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w,
                             const float* bias, float* y, int64_t y_stride, ThreadPool& pool) {
  // Per calling thread, grown to the largest call and then reused: no allocation per step.
  thread_local std::vector<uint16_t> rounded;
  const int64_t cols = w.cols;
  if (rounded.size() < static_cast<size_t>(num_tokens * cols)) rounded.resize(static_cast<size_t>(num_tokens * cols));
  uint16_t* xb = rounded.data();
  pool.parallel_for(num_tokens, [&](int64_t begin, int64_t end) {
    gemm::round_rows_to_bf16_avx512(x, x_stride, cols, xb, cols, begin, end);
  });
  gemm::Bf16GemmProblem p;
  p.x = xb;
  p.num_tokens = num_tokens;
  p.x_stride = cols;
  p.w = w.data;
  p.w_row_stride = w.row_stride;
  p.cols = cols;
  p.bias = bias;
  p.y = y;
  p.y_stride = y_stride;
  split_rows(w.rows, pool, [&](int64_t begin, int64_t end) { gemm::gemm_rows_avx512_bf16(p, begin, end); });
}

std::optional<qgemm::QuantFormat> int8_kernel_format(WeightFormat format) {
  switch (format) {
    case WeightFormat::kQ8_0: return qgemm::QuantFormat::kQ8_0;
    case WeightFormat::kQ4_0: return qgemm::QuantFormat::kQ4_0;
    case WeightFormat::kQ4_K: return qgemm::QuantFormat::kQ4_K;
    case WeightFormat::kQ6_K: return qgemm::QuantFormat::kQ6_K;
    default: return std::nullopt;
  }
}

// Block formats with an int8 kernel: each activation row is quantized once per call into int8
// blocks of 32 (per row, so a token's rounding never depends on its batch), then every weight
// block meets it in integer arithmetic.
void matmul_int8_activations(qgemm::QuantFormat format, const float* x, int64_t num_tokens, int64_t x_stride,
                             const WeightView& w, const float* bias, float* y, int64_t y_stride, ThreadPool& pool) {
  // Per calling thread, grown to the largest call and then reused: no allocation per step.
  thread_local std::vector<int8_t> q;
  thread_local std::vector<float> scales;
  thread_local std::vector<int32_t> sums;
  const int64_t padded_cols = (w.cols + 63) / 64 * 64;
  const int64_t padded_blocks = padded_cols / 32;
  if (q.size() < static_cast<size_t>(num_tokens * padded_cols)) q.resize(static_cast<size_t>(num_tokens * padded_cols));
  if (scales.size() < static_cast<size_t>(2 * num_tokens * padded_blocks))
    scales.resize(static_cast<size_t>(2 * num_tokens * padded_blocks));
  if (sums.size() < static_cast<size_t>(3 * num_tokens * padded_blocks))
    sums.resize(static_cast<size_t>(3 * num_tokens * padded_blocks));
  qgemm::QuantizedActivations xq;
  xq.q = q.data();
  xq.scale = scales.data();
  xq.scaled_sum = scales.data() + num_tokens * padded_blocks;
  xq.sum = sums.data();
  xq.half_sum = sums.data() + num_tokens * padded_blocks;
  xq.q_stride = padded_cols;
  xq.scale_stride = padded_blocks;
  const int64_t cols = w.cols;
  pool.parallel_for(num_tokens, [&](int64_t begin, int64_t end) {
    qgemm::quantize_activation_rows(x, x_stride, cols, xq, begin, end);
  });
  qgemm::QuantGemmProblem p;
  p.format = format;
  p.x = xq;
  p.num_tokens = num_tokens;
  p.w = w.data;
  p.w_row_stride = w.row_stride;
  p.cols = cols;
  p.bias = bias;
  p.y = y;
  p.y_stride = y_stride;
  const bool vnni = active_cpu_isa() == CpuIsa::kAvx512 && cpu_has_avx512_vnni();
  const auto kernel = vnni ? qgemm::qgemm_rows_avx512_vnni : qgemm::qgemm_rows_avx2;
  split_rows(w.rows, pool, [&](int64_t begin, int64_t end) { kernel(p, begin, end); });
}

}  // namespace

// Each weight row is decoded once into a per-thread buffer and dotted with every token in f32.
// Correct for every GGUF encoding; the int8 kernels replace it for the formats they cover.
void matmul_block_format_reference(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w,
                                   const float* bias, float* y, int64_t y_stride, ThreadPool& pool) {
  split_rows(w.rows, pool, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> decoded;
    if (decoded.size() < static_cast<size_t>(w.cols)) decoded.resize(static_cast<size_t>(w.cols));
    for (int64_t r = begin; r < end; ++r) {
      dequantize_row(w, r, decoded.data());
      for (int64_t t = 0; t < num_tokens; ++t) {
        const float* xt = x + t * x_stride;
        float lanes[8] = {};
        int64_t k = 0;
        for (; k + 8 <= w.cols; k += 8)
          for (int l = 0; l < 8; ++l) lanes[l] += xt[k + l] * decoded[k + l];
        float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for (; k < w.cols; ++k) sum += xt[k] * decoded[k];
        y[t * y_stride + r] = sum + (bias ? bias[r] : 0.0f);
      }
    }
  });
}

void set_matmul_precision(MatmulPrecision precision) { g_precision.store(precision, std::memory_order_relaxed); }
MatmulPrecision matmul_precision() { return g_precision.load(std::memory_order_relaxed); }

void matmul(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w, const float* bias, float* y,
            int64_t y_stride, ThreadPool& pool) {
  if (num_tokens <= 0 || w.rows <= 0) return;
  if (is_block_format(w.format)) {
    const auto int8_format = int8_kernel_format(w.format);
    if (int8_format && w.cols > 0 && w.cols % weight_format_block_elements(w.format) == 0) {
      matmul_int8_activations(*int8_format, x, num_tokens, x_stride, w, bias, y, y_stride, pool);
      return;
    }
    matmul_block_format_reference(x, num_tokens, x_stride, w, bias, y, y_stride, pool);
    return;
  }
  const bool avx512 = active_cpu_isa() == CpuIsa::kAvx512;
  if (w.format == WeightFormat::kBF16 && avx512 && matmul_precision() == MatmulPrecision::kBf16Activations &&
      cpu_has_avx512_bf16()) {
    matmul_bf16_activations(x, num_tokens, x_stride, w, bias, y, y_stride, pool);
    return;
  }
  gemm::GemmProblem p;
  p.x = x;
  p.num_tokens = num_tokens;
  p.x_stride = x_stride;
  p.type = element_type(w.format);
  p.w = w.data;
  p.w_row_stride = w.row_stride;
  p.cols = w.cols;
  p.bias = bias;
  p.y = y;
  p.y_stride = y_stride;
  const auto kernel = avx512 ? gemm::gemm_rows_avx512 : gemm::gemm_rows_avx2;
  split_rows(w.rows, pool, [&](int64_t begin, int64_t end) { kernel(p, begin, end); });
}

}  // namespace tgi::kernels
