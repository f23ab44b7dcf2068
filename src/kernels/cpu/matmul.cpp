#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <numeric>
#include <optional>
#include <vector>

#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/gemm/gemm_problem.h"
#include "kernels/cpu/norm.h"
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
// (a multiple of 8 and of 6, and of the packed layout's 16).
constexpr int64_t kRowsPerGroup = 48;

std::optional<qgemm::QuantFormat> int8_kernel_format(WeightFormat format) {
  switch (format) {
    case WeightFormat::kQ8_0: return qgemm::QuantFormat::kQ8_0;
    case WeightFormat::kQ4_0: return qgemm::QuantFormat::kQ4_0;
    case WeightFormat::kQ4_K: return qgemm::QuantFormat::kQ4_K;
    case WeightFormat::kQ6_K: return qgemm::QuantFormat::kQ6_K;
    default: return std::nullopt;
  }
}

bool uses_vnni_kernel() {
  return active_cpu_isa() == CpuIsa::kAvx512 && cpu_has_avx512_vnni();
}

// The int8 kernel's format for w when one runs it, else nullopt.
std::optional<qgemm::QuantFormat> int8_kernel_format_for(const WeightView& w) {
  if (w.cols <= 0 || w.cols % weight_format_block_elements(w.format) != 0) return std::nullopt;
  return int8_kernel_format(w.format);
}

bool uses_bf16_activations(const WeightView& w) {
  return w.format == WeightFormat::kBF16 && active_cpu_isa() == CpuIsa::kAvx512 &&
         matmul_precision() == MatmulPrecision::kBf16Activations && cpu_has_avx512_bf16();
}

// The activation rows of one call in the forms the kernels read, made once however many weights
// they meet. Buffers are per calling thread, grown to the largest call and then reused: no
// allocation per step.
class PreparedActivations {
 public:
  PreparedActivations(const float* x, int64_t num_tokens, int64_t x_stride, int64_t cols, ThreadPool& pool,
                      const InputRmsNorm* norm = nullptr)
      : x_(x), num_tokens_(num_tokens), x_stride_(x_stride), cols_(cols), pool_(pool), norm_(norm) {}

  // Each row quantized into int8 blocks of 32 (per row, so a token's rounding never depends on
  // its batch).
  const qgemm::QuantizedActivations& int8() {
    if (int8_ready_) return xq_;
    thread_local std::vector<int8_t> q;
    thread_local std::vector<float> scales;
    thread_local std::vector<int32_t> sums;
    const int64_t padded_cols = (cols_ + 63) / 64 * 64, padded_blocks = padded_cols / 32;
    const auto grow = [](auto& v, int64_t n) {
      if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
    };
    grow(q, num_tokens_ * padded_cols);
    grow(scales, 2 * num_tokens_ * padded_blocks);
    grow(sums, 3 * num_tokens_ * padded_blocks);
    xq_.q = q.data();
    xq_.scale = scales.data();
    xq_.scaled_sum = scales.data() + num_tokens_ * padded_blocks;
    xq_.sum = sums.data();
    xq_.half_sum = sums.data() + num_tokens_ * padded_blocks;
    xq_.q_stride = padded_cols;
    xq_.scale_stride = padded_blocks;
    pool_.parallel_for(num_tokens_, [&](int64_t begin, int64_t end) {
      if (norm_ != nullptr) {
        qgemm::quantize_normalized_rows(x_, x_stride_, cols_, norm_->weight, norm_->eps, norm_->one_plus, xq_,
                                        begin, end);
      } else {
        qgemm::quantize_activation_rows(x_, x_stride_, cols_, xq_, begin, end);
      }
    });
    int8_ready_ = true;
    return xq_;
  }

  // Each row rounded to bf16 (for vdpbf16ps), contiguous with stride cols.
  const uint16_t* bf16() {
    if (bf16_) return bf16_;
    thread_local std::vector<uint16_t> rounded;
    if (rounded.size() < static_cast<size_t>(num_tokens_ * cols_))
      rounded.resize(static_cast<size_t>(num_tokens_ * cols_));
    uint16_t* out = rounded.data();  // the caller's buffer: workers must not name their own thread_local
    pool_.parallel_for(num_tokens_, [&](int64_t begin, int64_t end) {
      gemm::round_rows_to_bf16_avx512(x_, x_stride_, cols_, out, cols_, begin, end);
    });
    bf16_ = out;
    return bf16_;
  }

 private:
  const float* x_;
  int64_t num_tokens_, x_stride_, cols_;
  ThreadPool& pool_;
  const InputRmsNorm* norm_;  // int8() normalizes the rows on the way (only int8() may be asked for)
  bool int8_ready_ = false;
  qgemm::QuantizedActivations xq_;
  const uint16_t* bf16_ = nullptr;
};

// One weight's product, ready to run over any range of its rows.
struct PreparedMatmul {
  enum class Kind : uint8_t { kFloat, kBf16Activations, kInt8, kBlockReference };
  Kind kind = Kind::kFloat;
  int64_t rows = 0;
  gemm::GemmProblem gemm;
  void (*gemm_kernel)(const gemm::GemmProblem&, int64_t, int64_t) = nullptr;
  gemm::Bf16GemmProblem bf16;
  qgemm::QuantGemmProblem int8;
  void (*int8_kernel)(const qgemm::QuantGemmProblem&, int64_t, int64_t) = nullptr;
  MatmulTarget reference;  // kBlockReference: the call as given
  const float* x = nullptr;
  int64_t num_tokens = 0, x_stride = 0;
  RowEpilogue epilogue;

  // Rows [begin, end) for every token, then the epilogue on them.
  void run(int64_t begin, int64_t end) const;
  void run_kernel(int64_t begin, int64_t end) const;
  void finish(int64_t begin, int64_t end) const {
    if (epilogue) epilogue.fn(epilogue.ctx, begin, end);
  }
  // Rows handed to a thread at a time: whole row tiles of the kernels (the packed int8 layout's
  // 16 when an epilogue needs finer steps) and whole multiples of the epilogue's row_multiple.
  int64_t rows_per_unit() const {
    if (!epilogue) return kRowsPerGroup;
    return std::lcm(kind == Kind::kInt8 ? qgemm::kPackedGroupRows : kRowsPerGroup, epilogue.row_multiple);
  }
};

// Each weight row decoded once into a per-thread buffer and dotted with every token in f32.
void block_reference_rows(const float* x, int64_t num_tokens, int64_t x_stride, const MatmulTarget& t,
                          int64_t begin, int64_t end) {
  const WeightView& w = *t.weight;
  thread_local std::vector<float> decoded;
  if (decoded.size() < static_cast<size_t>(w.cols)) decoded.resize(static_cast<size_t>(w.cols));
  for (int64_t r = begin; r < end; ++r) {
    dequantize_row(w, r, decoded.data());
    for (int64_t tok = 0; tok < num_tokens; ++tok) {
      const float* xt = x + tok * x_stride;
      float lanes[8] = {};
      int64_t k = 0;
      for (; k + 8 <= w.cols; k += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += xt[k + l] * decoded[k + l];
      float sum =
          ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
      for (; k < w.cols; ++k) sum += xt[k] * decoded[k];
      t.y[tok * t.y_stride + r] = sum + (t.bias ? t.bias[r] : 0.0f);
    }
  }
}

void PreparedMatmul::run(int64_t begin, int64_t end) const {
  run_kernel(begin, end);
  finish(begin, end);
}

void PreparedMatmul::run_kernel(int64_t begin, int64_t end) const {
  switch (kind) {
    case Kind::kFloat:
      gemm_kernel(gemm, begin, end);
      break;
    case Kind::kBf16Activations:
      gemm::gemm_rows_avx512_bf16(bf16, begin, end);
      break;
    case Kind::kInt8:
      int8_kernel(int8, begin, end);
      break;
    case Kind::kBlockReference:
      block_reference_rows(x, num_tokens, x_stride, reference, begin, end);
      break;
  }
}

// The fields the three kernel problem structs share (same names, plain data), from the call.
template <typename Problem>
void fill_shared_fields(Problem& p, int64_t num_tokens, const MatmulTarget& t) {
  const WeightView& w = *t.weight;
  p.num_tokens = num_tokens;
  p.w = w.data;
  p.w_row_stride = w.row_stride;
  p.cols = w.cols;
  p.bias = t.bias;
  p.y = t.y;
  p.y_stride = t.y_stride;
}

PreparedMatmul prepare(const float* x, int64_t num_tokens, int64_t x_stride, const MatmulTarget& t,
                       PreparedActivations& activations, bool force_reference) {
  const WeightView& w = *t.weight;
  PreparedMatmul m;
  m.rows = w.rows;
  m.epilogue = t.epilogue;
  m.x = x;
  m.num_tokens = num_tokens;
  m.x_stride = x_stride;
  if (is_block_format(w.format)) {
    const auto int8_format = force_reference ? std::nullopt : int8_kernel_format_for(w);
    if (!int8_format) {
      m.kind = PreparedMatmul::Kind::kBlockReference;
      m.reference = t;
      return m;
    }
    m.kind = PreparedMatmul::Kind::kInt8;
    qgemm::QuantGemmProblem& p = m.int8;
    p.format = *int8_format;
    p.x = activations.int8();
    fill_shared_fields(p, num_tokens, t);
    const bool vnni = uses_vnni_kernel();
    if (vnni && w.packed) {
      p.w_packed = w.packed;
      p.w_packed_group_stride = w.packed_group_stride;
    }
    m.int8_kernel = vnni ? qgemm::qgemm_rows_avx512_vnni : qgemm::qgemm_rows_avx2;
    return m;
  }
  if (uses_bf16_activations(w)) {
    m.kind = PreparedMatmul::Kind::kBf16Activations;
    gemm::Bf16GemmProblem& p = m.bf16;
    p.x = activations.bf16();
    p.x_stride = w.cols;
    fill_shared_fields(p, num_tokens, t);
    return m;
  }
  m.kind = PreparedMatmul::Kind::kFloat;
  gemm::GemmProblem& p = m.gemm;
  p.x = x;
  p.x_stride = x_stride;
  p.type = element_type(w.format);
  fill_shared_fields(p, num_tokens, t);
  m.gemm_kernel = active_cpu_isa() == CpuIsa::kAvx512 ? gemm::gemm_rows_avx512 : gemm::gemm_rows_avx2;
  return m;
}

// Runs the products in one parallel region: their row units laid end to end and handed out in
// shrinking chunks, first come first served, so small projections (k, v) share the threads with large
// ones instead of each paying a barrier, and a thread slowed by the host (shared cores) takes
// fewer chunks instead of holding the others at the barrier. Products with the same rows go in
// lockstep instead: a unit is those rows of every product, then every epilogue on them (see
// matmul_shared_input). Which thread computes a row never changes its arithmetic.
void run_prepared(const PreparedMatmul* jobs, size_t count, ThreadPool& pool) {
  const int64_t rows = jobs[0].rows;
  const bool lockstep =
      count > 1 && std::all_of(jobs, jobs + count, [&](const PreparedMatmul& j) { return j.rows == rows; });
  if (lockstep) {
    int64_t unit = 1;
    for (size_t i = 0; i < count; ++i) unit = std::lcm(unit, jobs[i].rows_per_unit());
    pool.parallel_for_dynamic((rows + unit - 1) / unit, 1, [&](int64_t begin, int64_t end) {
      const int64_t b = begin * unit, e = std::min(end * unit, rows);
      for (size_t i = 0; i < count; ++i) jobs[i].run_kernel(b, e);
      for (size_t i = 0; i < count; ++i) jobs[i].finish(b, e);
    });
    return;
  }
  std::array<int64_t, kMaxSharedInputTargets> unit{};
  std::array<int64_t, kMaxSharedInputTargets + 1> first_unit{};
  for (size_t i = 0; i < count; ++i) {
    unit[i] = jobs[i].rows_per_unit();
    first_unit[i + 1] = first_unit[i] + (jobs[i].rows + unit[i] - 1) / unit[i];
  }
  const auto run_units = [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < count; ++i) {
      const int64_t b = std::max(begin, first_unit[i]) - first_unit[i];
      const int64_t e = std::min(end, first_unit[i + 1]) - first_unit[i];
      if (b < e) jobs[i].run(b * unit[i], std::min(e * unit[i], jobs[i].rows));
    }
  };
  pool.parallel_for_dynamic(first_unit[count], 1, run_units);
}

}  // namespace

int64_t packed_matmul_bytes(const WeightView& w) {
  const auto format = int8_kernel_format_for(w);
  if (!format || !uses_vnni_kernel() || w.rows <= 0) return 0;
  const int64_t groups = (w.rows + WeightView::kPackedGroupRows - 1) / WeightView::kPackedGroupRows;
  return groups * qgemm::packed_group_bytes(*format, w.cols);
}

WeightView pack_for_matmul(const WeightView& w, std::byte* out, ThreadPool& pool) {
  static_assert(WeightView::kPackedGroupRows == qgemm::kPackedGroupRows);
  static_assert(kRowsPerGroup % WeightView::kPackedGroupRows == 0);
  if (packed_matmul_bytes(w) == 0) return w;
  const qgemm::QuantFormat format = *int8_kernel_format_for(w);
  const int64_t group_stride = qgemm::packed_group_bytes(format, w.cols);
  const int64_t groups = (w.rows + WeightView::kPackedGroupRows - 1) / WeightView::kPackedGroupRows;
  pool.parallel_for(groups, [&](int64_t begin, int64_t end) {
    qgemm::pack_groups_avx512_vnni(format, w.data, w.row_stride, w.rows, w.cols, out, group_stride, begin,
                                   end);
  });
  WeightView v = w;
  v.packed = out;
  v.packed_group_stride = group_stride;
  return v;
}

void matmul_block_format_reference(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w,
                                   const float* bias, float* y, int64_t y_stride, ThreadPool& pool) {
  if (num_tokens <= 0 || w.rows <= 0) return;
  PreparedActivations activations(x, num_tokens, x_stride, w.cols, pool);
  const PreparedMatmul job = prepare(x, num_tokens, x_stride, {&w, bias, y, y_stride}, activations, true);
  run_prepared(&job, 1, pool);
}

void set_matmul_precision(MatmulPrecision precision) { g_precision.store(precision, std::memory_order_relaxed); }
MatmulPrecision matmul_precision() { return g_precision.load(std::memory_order_relaxed); }

void matmul(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w, const float* bias, float* y,
            int64_t y_stride, ThreadPool& pool) {
  const MatmulTarget target{&w, bias, y, y_stride};
  matmul_shared_input(x, num_tokens, x_stride, std::span(&target, 1), pool);
}

namespace {

// Whether the targets share one preparation of their activations: one width, few enough.
bool shareable(std::span<const MatmulTarget> targets) {
  const int64_t cols = targets.front().weight->cols;
  return targets.size() <= kMaxSharedInputTargets &&
         std::all_of(targets.begin(), targets.end(),
                     [&](const MatmulTarget& t) { return t.weight->cols == cols; });
}

void run_shared(PreparedActivations& activations, const float* x, int64_t num_tokens, int64_t x_stride,
                std::span<const MatmulTarget> targets, ThreadPool& pool) {
  std::array<PreparedMatmul, kMaxSharedInputTargets> jobs;
  size_t count = 0;
  for (const MatmulTarget& t : targets) {
    if (t.weight->rows > 0) jobs[count++] = prepare(x, num_tokens, x_stride, t, activations, false);
  }
  run_prepared(jobs.data(), count, pool);
}

}  // namespace

void matmul_shared_input(const float* x, int64_t num_tokens, int64_t x_stride,
                         std::span<const MatmulTarget> targets, ThreadPool& pool) {
  if (num_tokens <= 0 || targets.empty()) return;
  if (!shareable(targets)) {
    for (const MatmulTarget& t : targets)
      matmul_shared_input(x, num_tokens, x_stride, std::span(&t, 1), pool);
    return;
  }
  PreparedActivations activations(x, num_tokens, x_stride, targets.front().weight->cols, pool);
  run_shared(activations, x, num_tokens, x_stride, targets, pool);
}

void rms_norm_matmul_shared_input(const float* x, int64_t num_tokens, int64_t x_stride,
                                  const InputRmsNorm& norm, float* normed,
                                  std::span<const MatmulTarget> targets, ThreadPool& pool) {
  if (num_tokens <= 0 || targets.empty()) return;
  const int64_t cols = targets.front().weight->cols;
  const bool all_int8 = std::all_of(targets.begin(), targets.end(), [](const MatmulTarget& t) {
    return t.weight->rows <= 0 || int8_kernel_format_for(*t.weight).has_value();
  });
  if (all_int8 && shareable(targets)) {
    // The kernels read only the quantized rows: x is never read as floats (prepare()'s x is unused).
    PreparedActivations activations(x, num_tokens, x_stride, cols, pool, &norm);
    run_shared(activations, x, num_tokens, x_stride, targets, pool);
    return;
  }
  pool.parallel_for(num_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      rms_norm(x + t * x_stride, norm.weight, cols, norm.eps, norm.one_plus, normed + t * cols);
  });
  matmul_shared_input(normed, num_tokens, cols, targets, pool);
}

}  // namespace tgi::kernels
