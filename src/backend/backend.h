#pragma once
// The seam between the model and the hardware it runs on. The model (src/model) says what a forward
// pass does, as a sequence of the operations of backend/ops.h over buffers and weights this
// interface placed; a Backend decides how: which kernels, which threads, which memory. The CPU
// backend (backend/cpu) wraps the project's kernels and thread pool, which nothing outside it names.
//
// Contract, for every backend:
// - Results are what the float64 goldens check: each operation is exact to f32 rounding of its
//   definition, and a row's result never depends on the other rows of the batch (batch invariance)
//   nor on the run (bitwise determinism).
// - One caller at a time: operations are issued from one thread, in order; an operation may run
//   asynchronously, and synchronize() (or logits(), which writes host memory) waits for them.
// - No allocation after warm-up: allocate() and the per-operation scratch a backend keeps grow to
//   the largest batch seen and are then reused.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "backend/kv_cache.h"
#include "backend/ops.h"
#include "core/error.h"
#include "kernels/weight_view.h"

namespace tgi::backend {

// Memory a backend's allocations draw on (device memory, or the host's RAM for the CPU).
struct MemoryInfo {
  size_t total_bytes = 0;
  size_t available_bytes = 0;  // what new allocations may still take; 0 if unknown
};

// Memory a backend allocated (activations, scratch). data() is an address on that backend's
// device: the model passes it to operations and never dereferences it.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual void* data() const = 0;
  virtual size_t size() const = 0;
  float* floats() const { return static_cast<float*>(data()); }
};

// One weight matrix to place at load. The backend replaces *view with a view its kernels read
// (repacked, copied onto huge pages, uploaded, re-encoded) and owns whatever memory that takes.
struct MatrixPlacement {
  kernels::WeightView* view = nullptr;
  // Load-time quantization (PlacementOptions::quantize) may re-encode it: a projection, not a
  // MoE router or shared-expert gate (tiny, and rounding them can flip which experts are chosen).
  bool quantizable = false;
  // Its stored rows are page cache of a mapped file (which the backend may give back once placed).
  bool mapped_from_file = false;
  // Another view of the same rows that keeps reading them (a tied embedding table): a copy moves
  // it along, and packing keeps the stored rows.
  kernels::WeightView* also_read_as = nullptr;
};

struct PlacementOptions {
  // Re-encode quantizable float matrices into this block format (backend/load_quantization.h).
  std::optional<kernels::WeightFormat> quantize;
  // Told the bytes placed so far, of how many, after each matrix. Empty: silent.
  std::function<void(int64_t bytes_done, int64_t bytes_total)> on_progress;
};

struct PlacementSummary {
  int64_t matrices_quantized = 0;
  int64_t matrices_kept_unquantized = 0;  // float matrices whose rows are not whole blocks
  int64_t matrices_packed = 0;
  int64_t bytes_packed = 0;
  int64_t matrices_copied = 0;
  int64_t bytes_copied = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;
  virtual MemoryInfo memory() const = 0;
  // The widest attention head the attention operation supports.
  virtual int32_t max_head_dim() const = 0;

  // --- Loading -------------------------------------------------------------------------------
  virtual Result<PlacementSummary> place_matrices(std::span<const MatrixPlacement> matrices,
                                                  const PlacementOptions& options) = 0;

  // --- Memory ---------------------------------------------------------------------------------
  // At least `bytes` bytes, 64-byte aligned. Throws std::bad_alloc when memory is exhausted.
  virtual std::unique_ptr<Buffer> allocate(size_t bytes) = 0;
  // A paged cache of num_blocks × block_size tokens of `shape`. Throws std::bad_alloc when it
  // cannot be reserved.
  virtual std::unique_ptr<KvCache> allocate_kv_cache(const KvCacheShape& shape, int32_t num_blocks,
                                                     int32_t block_size) = 0;
  // n floats at `device` (from allocate()) into host memory.
  virtual void copy_to_host(const float* device, int64_t n, float* host) = 0;
  // Waits for every operation issued so far.
  virtual void synchronize() = 0;

  // --- One forward step -------------------------------------------------------------------------
  // Every operation below works on the rows of the last begin_step.
  virtual void begin_step(const StepInputs& inputs) = 0;
  virtual void embed(const EmbedOp& op) = 0;
  virtual void norm_rows(const NormRowsOp& op) = 0;
  // dst[i] = src[i] for n floats.
  virtual void copy(float* dst, const float* src, int64_t n) = 0;
  // h[i] += scale * branch[i] for n floats.
  virtual void add_scaled(float* h, const float* branch, float scale, int64_t n) = 0;
  // y = x · weightᵀ (+ bias) for `rows` contiguous rows.
  virtual void matmul(const float* x, int64_t rows, const Matrix& m, float* y) = 0;
  virtual void project_qkv(const QkvOp& op, KvCache& cache) = 0;
  virtual void attention(const AttentionOp& op, const KvCache& cache) = 0;
  virtual void latent_attention(const LatentAttentionOp& op, KvCache& cache) = 0;
  virtual void feed_forward(const FeedForwardOp& op) = 0;
  virtual void moe(const MoeOp& op) = 0;
  // Writes the step's logit_rows.size() rows of lm_head.rows() logits into `host_logits`, and
  // returns once they are there.
  virtual void logits(const LogitsOp& op, std::span<float> host_logits) = 0;
};

}  // namespace tgi::backend
