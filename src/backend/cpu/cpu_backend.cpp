#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "backend/cpu/paged_kv_cache.h"
#include "backend/cpu/system_memory.h"
#include "core/scratch.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/norm.h"

namespace tgi::backend::cpu {
namespace {

// A heap block on a cache-line boundary.
class HostBuffer final : public Buffer {
 public:
  explicit HostBuffer(size_t bytes)
      : size_(bytes), data_(::operator new (std::max<size_t>(bytes, 1), std::align_val_t{64})) {}
  ~HostBuffer() override { ::operator delete (data_, std::align_val_t{64}); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() const override { return data_; }
  size_t size() const override { return size_; }

 private:
  size_t size_;
  void* data_;
};

void apply_norm(const NormWeights& norm, const float* x, float* out, int64_t n) {
  switch (norm.kind) {
    case NormKind::kRms:
      kernels::rms_norm(x, norm.weight, n, norm.eps, false, out);
      break;
    case NormKind::kRmsOnePlus:
      kernels::rms_norm(x, norm.weight, n, norm.eps, true, out);
      break;
    case NormKind::kLayer:
      kernels::layer_norm(x, norm.weight, norm.bias, n, norm.eps, out);
      break;
    case NormKind::kLayerNoBias:
      kernels::layer_norm(x, norm.weight, nullptr, n, norm.eps, out);
      break;
  }
}

}  // namespace

PagedKvCache& paged(KvCache& cache) {
  return static_cast<PagedKvCache&>(cache);
}

const PagedKvCache& paged(const KvCache& cache) {
  return static_cast<const PagedKvCache&>(cache);
}

CpuBackend::CpuBackend(int num_threads) : pool_(num_threads) {}

MemoryInfo CpuBackend::memory() const {
  const SystemMemory m = read_system_memory();
  return {m.total_bytes, m.available_bytes};
}

std::unique_ptr<Buffer> CpuBackend::allocate(size_t bytes) {
  return std::make_unique<HostBuffer>(bytes);
}

std::unique_ptr<KvCache> CpuBackend::allocate_kv_cache(const KvCacheShape& shape, int32_t num_blocks,
                                                       int32_t block_size) {
  return std::make_unique<PagedKvCache>(shape, num_blocks, block_size, this);
}

void CpuBackend::copy_to_host(const float* device, int64_t n, float* host) {
  std::memcpy(host, device, static_cast<size_t>(n) * sizeof(float));
}

void CpuBackend::begin_step(const StepInputs& inputs) {
  step_ = inputs;
  sequences_.resize(inputs.sequences.size());
  for (size_t i = 0; i < inputs.sequences.size(); ++i) {
    const StepSequence& s = inputs.sequences[i];
    sequences_[i] = kernels::AttentionSequence{s.query_start, s.query_len, s.context_len, s.block_table};
  }
}

void CpuBackend::embed(const EmbedOp& op) {
  const int64_t rows = static_cast<int64_t>(step_.token_ids.size()), H = op.tokens->cols;
  float* position_row = op.positions ? grow(embed_row_, H) : nullptr;
  for (int64_t t = 0; t < rows; ++t) {
    float* row = op.out + t * H;
    const int64_t id = step_.token_ids[t] - op.first_token;
    if (id >= 0 && id < op.tokens->rows) {
      kernels::dequantize_row(*op.tokens, id, row);
    } else {
      std::fill(row, row + H, 0.0f);  // another rank's slice of the vocabulary
    }
    if (op.multiplier != 1.0f)
      for (int64_t i = 0; i < H; ++i) row[i] *= op.multiplier;
    if (op.positions) {
      kernels::dequantize_row(*op.positions, step_.positions[t], position_row);
      for (int64_t i = 0; i < H; ++i) row[i] += position_row[i];
    }
  }
}

void CpuBackend::norm_rows(const NormRowsOp& op) {
  pool_.parallel_for(op.rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      apply_norm(op.norm, op.in + t * op.width, op.out + t * op.width, op.width);
  });
}

void CpuBackend::copy(float* dst, const float* src, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void CpuBackend::add_scaled(float* h, const float* branch, float scale, int64_t n) {
  if (scale == 1.0f) {
    for (int64_t i = 0; i < n; ++i) h[i] += branch[i];
  } else {
    for (int64_t i = 0; i < n; ++i) h[i] += branch[i] * scale;
  }
}

void CpuBackend::matmul(const float* x, int64_t rows, const Matrix& m, float* y) {
  kernels::matmul(x, rows, *m.weight, m.bias, y, pool_);
}

void CpuBackend::project(const ProjectionInput& input, std::span<const kernels::MatmulTarget> targets) {
  const int64_t cols = targets.front().weight->cols;
  if (input.rms_norm == nullptr) {
    kernels::matmul_shared_input(input.x, input.rows, cols, targets, pool_);
    return;
  }
  const kernels::InputRmsNorm norm{input.rms_norm->weight, input.rms_norm->eps,
                                   input.rms_norm->kind == NormKind::kRmsOnePlus};
  kernels::rms_norm_matmul_shared_input(input.x, input.rows, cols, norm, input.normed, targets, pool_);
}

void CpuBackend::logits(const LogitsOp& op, std::span<float> host_logits) {
  const auto rows = static_cast<int64_t>(step_.logit_rows.size());
  if (rows == 0) return;
  const int64_t H = op.lm_head.cols(), V = op.lm_head.rows();
  float* normed = grow(normed_logits_, rows * H);
  for (int64_t r = 0; r < rows; ++r)
    apply_norm(op.final_norm, op.hidden + step_.logit_rows[r] * H, normed + r * H, H);
  kernels::matmul(normed, rows, *op.lm_head.weight, op.lm_head.bias, host_logits.data(), pool_);
  if (op.multiplier != 1.0f)
    for (int64_t i = 0; i < rows * V; ++i) host_logits[i] *= op.multiplier;
  if (op.softcap > 0.0f) kernels::softcap_inplace(host_logits.data(), rows * V, op.softcap);
}

}  // namespace tgi::backend::cpu
