#pragma once
// The decoder-only transformer shared by every dense architecture. What differs between
// architectures is data (ModelConfig: norm flavour, block wiring, rope, biases, multipliers) and
// the tensor naming in weight_loader.cpp; the forward below reads it, top to bottom.
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/kv_storage.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/thread_pool.h"
#include "model/causal_lm.h"
#include "model/rope.h"
#include "model/tensor_source.h"
#include "model/weights.h"

namespace tgi::model {

class PagedKvCache;

class DecoderModel final : public CausalLm {
 public:
  DecoderModel(ModelConfig config, std::unique_ptr<TensorSource> tensors, ModelWeights weights,
               int num_threads, kernels::KvDtype kv_dtype = kernels::KvDtype::kF32);

  const ModelConfig& config() const override { return config_; }
  int32_t vocab_size() const override { return static_cast<int32_t>(config_.vocab_size); }
  size_t kv_bytes_per_token() const override;
  WeightsFootprint weights_footprint() const override;
  std::unique_ptr<KvCache> allocate_kv_cache(int32_t num_blocks, int32_t block_size) const override;
  Result<void> forward(const Batch& batch, KvCache& cache, std::span<float> logits) override;

  // Debugging aid: called with the residual stream of all batch rows ([num_tokens][hidden])
  // after the embeddings (index 0) and after each layer (index i + 1), as transformers'
  // output_hidden_states reports them (the last one before the final norm).
  using HiddenStateObserver = std::function<void(int64_t index, std::span<const float> hidden, int64_t num_tokens)>;
  void set_hidden_state_observer(HiddenStateObserver observer) { observer_ = std::move(observer); }

 private:
  Result<void> validate(const Batch& batch, const PagedKvCache& cache, size_t logits_size) const;
  void prepare_rows(const Batch& batch, int32_t block_size);
  void embed(const Batch& batch);
  void run_layer(int64_t layer, PagedKvCache& cache);
  // The rows a block's projections read: `x` as it is, or (norm set, an RMSNorm) normalized on
  // the way in, fused with the int8 kernels' quantization (kernels::rms_norm_matmul_shared_input).
  struct BlockInput {
    const float* x = nullptr;
    const Norm* norm = nullptr;
  };
  void project(const BlockInput& in, int64_t rows, std::span<const kernels::MatmulTarget> targets);
  void attention(int64_t layer, const BlockInput& in, float* out, PagedKvCache& cache);
  void latent_attention(int64_t layer, const float* x, float* out, PagedKvCache& cache);
  void mlp(int64_t layer, const BlockInput& in, float* out);
  void feed_forward(const FeedForward& f, const BlockInput& in, int64_t rows, float* out);
  void moe(const MoeWeights& m, const float* x, float* out);
  void apply_norm(const Norm& norm, const float* x, float* out, int64_t n) const;

  ModelConfig config_;
  std::unique_ptr<TensorSource> tensors_;  // owns the mapped file the weight views point into
  ModelWeights weights_;
  kernels::KvDtype kv_dtype_;
  mutable kernels::ThreadPool pool_;
  RotaryEmbedding rope_full_;
  RotaryEmbedding rope_sliding_;
  HiddenStateObserver observer_;

  // Per-step scratch, grown to the largest batch seen and then reused (no allocation per token).
  int64_t num_tokens_ = 0;
  const int32_t* positions_ = nullptr;  // the current batch's positions
  std::vector<float> h_, x_, q_, k_, v_, attn_, tmp_, gate_, up_;
  std::vector<float> cos_full_, sin_full_, cos_sliding_, sin_sliding_;
  std::vector<int32_t> row_sequence_;
  std::vector<int64_t> row_slot_;  // KV cache slot (block * block_size + offset) of each row
  std::vector<kernels::AttentionSequence> sequences_;
  // Mixture-of-experts routing scratch.
  std::vector<float> router_logits_, chosen_weight_, slot_weight_, expert_in_, expert_out_, shared_gate_, probs_;
  std::vector<int32_t> chosen_expert_, expert_count_, expert_fill_, slot_token_;
  std::vector<float> choice_, group_score_;
  std::vector<char> group_keep_;
  // Latent attention scratch.
  std::vector<float> mla_q_, mla_qa_, mla_kv_, mla_query_, mla_olat_;
};

}  // namespace tgi::model
