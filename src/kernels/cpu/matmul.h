#pragma once
// y = x · Wᵀ for a batch of activation rows: y[t][r] = Σ_k x[t][k] · W[r][k].
// Activations are f32; the weight stays in its stored format and is widened in registers.
// Work is split over weight rows, so each weight row is read from memory once per call however
// many tokens there are (decode-friendly); every output element is computed by the same
// instruction sequence whatever the batch, so a token's result never depends on its neighbours.
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/cpu/thread_pool.h"
#include "kernels/weight_view.h"

namespace tgi::kernels {

// x: [num_tokens][w.cols] with row stride x_stride (floats); y: [num_tokens][w.rows] with row
// stride y_stride. `bias` (w.rows floats) may be null.
void matmul(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w, const float* bias, float* y,
            int64_t y_stride, ThreadPool& pool);

// Weights repacked once, at load, into the layout this CPU's kernel for w.format reads fastest
// (AVX-512-VNNI: 16 rows interleaved per block; see kernels/cpu/qgemm/qgemm_problem.h), so that
// no call transposes them. packed_matmul_bytes is 0 when the kernel reads w's stored rows as they
// are (AVX2, float formats, formats without an int8 kernel); otherwise pack_for_matmul fills
// `out` (that many bytes, 64-byte aligned, outliving the view) and returns w with `packed` set.
// Results are bitwise the same as with the unpacked view.
int64_t packed_matmul_bytes(const WeightView& w);
WeightView pack_for_matmul(const WeightView& w, std::byte* out, ThreadPool& pool);

// Block formats the int8 kernels do not cover (and tests/benchmarks of those that they do): every
// weight row dequantized to f32 and dotted with f32 activations. Same arguments as matmul().
void matmul_block_format_reference(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w,
                                   const float* bias, float* y, int64_t y_stride, ThreadPool& pool);

// How bf16 weights are multiplied (process-wide; other formats always use kExact).
//  kExact: activations stay f32, weights are widened in registers (default; what the float64
//    goldens are checked against).
//  kBf16Activations: each activation row is rounded to bf16 and multiplied with AVX-512-BF16
//    (vdpbf16ps) where the CPU has it, at twice the f32 FMA rate: the precision transformers
//    itself runs a bf16 model in. Falls back to kExact elsewhere.
// Both keep batch invariance: a row's rounding and sums never depend on the other rows.
enum class MatmulPrecision : uint8_t { kExact, kBf16Activations };
void set_matmul_precision(MatmulPrecision precision);
MatmulPrecision matmul_precision();

// Work on a product's output rows done inside its parallel region, on the thread that computed
// them, as soon as rows [row_begin, row_end) are final for every token and still in that core's
// cache: a consumer of whole rows (RoPE on whole heads, the KV-cache append, SwiGLU) then costs
// no parallel region and no second pass over memory of its own. Every range is a whole multiple
// of `row_multiple` rows, except one that ends at the last row.
struct RowEpilogue {
  void (*fn)(const void* ctx, int64_t row_begin, int64_t row_end) = nullptr;
  const void* ctx = nullptr;
  int64_t row_multiple = 1;

  explicit operator bool() const { return fn != nullptr; }
};

// A RowEpilogue calling body(row_begin, row_end); body must outlive the product.
template <typename Body>
RowEpilogue row_epilogue(const Body& body, int64_t row_multiple) {
  return {[](const void* ctx, int64_t b, int64_t e) { (*static_cast<const Body*>(ctx))(b, e); }, &body,
          row_multiple};
}

// One weight of a shared-input product: y = x · weightᵀ (+ bias), y row stride y_stride floats.
struct MatmulTarget {
  const WeightView* weight = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t y_stride = 0;
  RowEpilogue epilogue;  // optional
};
inline constexpr size_t kMaxSharedInputTargets = 4;

// Several weights applied to the same activations (q/k/v, gate/up) as one call: the activations
// are prepared (quantized, rounded) once and all the weights' rows split over the threads in one
// parallel region, one barrier instead of one per weight. Each output is bitwise what matmul()
// gives it alone. Weights of different widths, or more than kMaxSharedInputTargets, run one by one.
// When every weight has the same number of rows, a range of rows is computed for all of them
// before any target's epilogue sees it, so an epilogue may read every target's rows of that
// range (SwiGLU from gate and up).
void matmul_shared_input(const float* x, int64_t num_tokens, int64_t x_stride,
                         std::span<const MatmulTarget> targets, ThreadPool& pool);

// An RMSNorm applied to a matmul's input rows on the way in (kernels::rms_norm's arguments).
struct InputRmsNorm {
  const float* weight = nullptr;  // cols floats, or null: no weight
  float eps = 0.0f;
  bool one_plus = false;  // scale by 1 + weight (gemma)
};

// matmul_shared_input over the rows rms_norm(x[t]): each output bitwise what normalizing the rows
// and then calling matmul_shared_input gives. When every weight runs the int8 kernel, each row is
// normalized and quantized in one pass, the normalized floats never stored (the norm's write and
// the quantizer's read of them are saved); otherwise the rows are normalized into `normed`
// (num_tokens × cols floats, contiguous) and multiplied from there.
void rms_norm_matmul_shared_input(const float* x, int64_t num_tokens, int64_t x_stride,
                                  const InputRmsNorm& norm, float* normed,
                                  std::span<const MatmulTarget> targets, ThreadPool& pool);

// Contiguous convenience form.
inline void matmul(const float* x, int64_t num_tokens, const WeightView& w, const float* bias, float* y,
                   ThreadPool& pool) {
  matmul(x, num_tokens, w.cols, w, bias, y, w.rows, pool);
}

}  // namespace tgi::kernels
