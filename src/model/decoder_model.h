#pragma once
// The decoder-only transformer shared by every dense architecture. What differs between
// architectures is data (ModelConfig: norm flavour, block wiring, rope, biases, multipliers) and
// the tensor naming in weight_loader.cpp; the forward below reads it, top to bottom, as layer
// blocks (model/blocks) that call only the backend (backend/backend.h).
#include <functional>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "backend/backend.h"
#include "dist/communicator.h"
#include "model/blocks/attention_block.h"
#include "model/blocks/feed_forward_block.h"
#include "model/blocks/latent_attention_block.h"
#include "model/blocks/moe_block.h"
#include "model/causal_lm.h"
#include "model/rope.h"
#include "model/step_buffers.h"
#include "model/tensor_source.h"
#include "model/weights.h"

namespace tgi::model {

class DecoderModel final : public CausalLm {
 public:
  // `weights` must already be placed by `backend` (model/weight_placement.h). With a communicator,
  // `config` and `weights` are one rank's shard (model/sharding.h) and the row-parallel outputs are
  // summed across ranks after each block.
  DecoderModel(ModelConfig config, std::unique_ptr<TensorSource> tensors, ModelWeights weights,
               std::unique_ptr<backend::Backend> backend, kernels::KvDtype kv_dtype = kernels::KvDtype::kF32,
               std::shared_ptr<dist::Communicator> communicator = nullptr);

  const ModelConfig& config() const override { return config_; }
  int32_t vocab_size() const override { return static_cast<int32_t>(config_.vocab_size); }
  size_t kv_bytes_per_token() const override { return kv_shape_.bytes_per_token(); }
  WeightsFootprint weights_footprint() const override;
  backend::MemoryInfo memory() const override { return backend_->memory(); }
  std::unique_ptr<KvCache> allocate_kv_cache(int32_t num_blocks, int32_t block_size) const override;
  Result<void> forward(const Batch& batch, KvCache& cache, std::span<float> logits) override;

  // Debugging aid: called with the residual stream of all batch rows ([num_tokens][hidden])
  // after the embeddings (index 0) and after each layer (index i + 1), as transformers'
  // output_hidden_states reports them (the last one before the final norm).
  using HiddenStateObserver = std::function<void(int64_t index, std::span<const float> hidden, int64_t num_tokens)>;
  void set_hidden_state_observer(HiddenStateObserver observer) { observer_ = std::move(observer); }

 private:
  // One layer's blocks, built once from its weights.
  struct Layer {
    backend::NormWeights attn_in, attn_out, mlp_in, mlp_out;
    std::variant<AttentionBlock, LatentAttentionBlock> attention;
    std::variant<FeedForwardBlock, MoeBlock> mlp;
  };

  Result<void> validate(const Batch& batch, const KvCache& cache, size_t logits_size) const;
  // The step's rows as the backend wants them: slots, sequences, RoPE tables, logit rows.
  void prepare_step(const Batch& batch, int32_t block_size);
  void run_layer(const StepContext& step, const Layer& layer, int64_t index);
  void observe(int64_t index, int64_t rows);

  ModelConfig config_;
  std::unique_ptr<TensorSource> tensors_;      // owns the mapped file the weight views point into
  std::unique_ptr<backend::Backend> backend_;  // owns the memory placed weights live in
  ModelWeights weights_;
  backend::KvCacheShape kv_shape_;
  std::vector<Layer> layers_;
  backend::EmbedOp embed_;
  backend::LogitsOp logits_;
  RotaryEmbedding rope_full_;
  RotaryEmbedding rope_sliding_;
  std::shared_ptr<dist::Communicator> communicator_;  // null: the whole model in this process
  std::vector<float> local_logits_;  // this rank's vocabulary slice of the logits, when split
  bool vocab_parallel_embedding_ = false;  // this rank embeds only its slice of the vocabulary
  HiddenStateObserver observer_;
  std::vector<float> observed_;  // the observer's host copy of the residual stream

  // Per-step host inputs (grown to the largest batch seen, then reused) and activations.
  std::vector<int32_t> row_sequence_, logit_rows_;
  std::vector<int64_t> row_slot_;
  std::vector<backend::StepSequence> sequences_;
  std::vector<float> cos_full_, sin_full_, cos_sliding_, sin_sliding_;
  StepBuffers buffers_;
};

}  // namespace tgi::model
