#pragma once
// The CPU backend: the operations of backend/ops.h on the project's x86 kernels (kernels/cpu), split
// over one persistent thread pool. Per-head steps after a projection (q/k norm, RoPE, the KV-cache
// append, gated activations) run inside the matmul's parallel region, on the thread that has just
// computed those rows, while they are in its cache (kernels::RowEpilogue); that fusion is this
// backend's business, the ops only name the steps.
//
// Memory is the host's: buffers are 64-byte aligned heap blocks, the KV cache and placed weights are
// anonymous huge-page mappings (page_buffer.h), and memory() reads the kernel's MemAvailable.
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/page_buffer.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/thread_pool.h"

namespace tgi::backend::cpu {

class PagedKvCache;

class CpuBackend final : public Backend {
 public:
  // num_threads counts the calling thread; 0: all cores.
  explicit CpuBackend(int num_threads = 0);

  std::string_view name() const override { return "cpu"; }
  MemoryInfo memory() const override;
  int32_t max_head_dim() const override { return kernels::kMaxAttentionHeadDim; }

  Result<PlacementSummary> place_matrices(std::span<const MatrixPlacement> matrices,
                                          const PlacementOptions& options) override;

  std::unique_ptr<Buffer> allocate(size_t bytes) override;
  std::unique_ptr<KvCache> allocate_kv_cache(const KvCacheShape& shape, int32_t num_blocks,
                                             int32_t block_size) override;
  void copy_to_host(const float* device, int64_t n, float* host) override;
  void synchronize() override {}  // every operation has finished when it returns

  void begin_step(const StepInputs& inputs) override;
  void embed(const EmbedOp& op) override;
  void norm_rows(const NormRowsOp& op) override;
  void copy(float* dst, const float* src, int64_t n) override;
  void add_scaled(float* h, const float* branch, float scale, int64_t n) override;
  void matmul(const float* x, int64_t rows, const Matrix& m, float* y) override;
  void project_qkv(const QkvOp& op, KvCache& cache) override;
  void attention(const AttentionOp& op, const KvCache& cache) override;
  void latent_attention(const LatentAttentionOp& op, KvCache& cache) override;
  void feed_forward(const FeedForwardOp& op) override;
  void moe(const MoeOp& op) override;
  void logits(const LogitsOp& op, std::span<float> host_logits) override;

  kernels::ThreadPool& pool() { return pool_; }
  // What place_matrices keeps: the buffers packed and copied rows live in, and the bytes of
  // matrices it re-encoded.
  std::span<const PageBuffer> placed_buffers() const { return placed_; }
  size_t encoded_bytes() const {
    size_t n = 0;
    for (const auto& e : encoded_) n += e->size();
    return n;
  }

 private:
  // One shared-input product (kernels::matmul_shared_input), over input.x as it is or normalized
  // on the way in (fused with the int8 kernels' quantization).
  void project(const ProjectionInput& input, std::span<const kernels::MatmulTarget> targets);
  // feed_forward over `rows` rows, gate/up results in this backend's scratch.
  void run_feed_forward(const ProjectionInput& input, const FeedForwardWeights& w,
                        const FeedForwardActivation& activation, float* out);

  kernels::ThreadPool pool_;
  StepInputs step_;
  std::vector<kernels::AttentionSequence> sequences_;
  // Memory the placed weights live in (packed and copied rows, re-encoded matrices).
  std::vector<PageBuffer> placed_;
  std::vector<std::unique_ptr<std::vector<std::byte>>> encoded_;

  // Per-operation scratch, grown to the largest batch seen and then reused.
  std::vector<float> embed_row_, gate_, up_, normed_logits_;
  // Mixture-of-experts routing.
  std::vector<float> router_logits_, chosen_weight_, slot_weight_, expert_in_, expert_out_, shared_gate_,
      probs_;
  std::vector<int32_t> chosen_expert_, expert_count_, expert_fill_, slot_token_;
  std::vector<float> choice_, group_score_;
  std::vector<char> group_keep_;
  // Latent attention.
  std::vector<float> mla_q_, mla_qa_, mla_kv_, mla_query_, mla_olat_, mla_values_;
};

// The CPU backend's paged cache behind a KvCache (what its attention operations read).
PagedKvCache& paged(KvCache& cache);
const PagedKvCache& paged(const KvCache& cache);

}  // namespace tgi::backend::cpu
