#include "model/decoder_model.h"

#include <algorithm>
#include <map>

#include "core/scratch.h"
#include "model/blocks/block_weights.h"

namespace tgi::model {
namespace {

backend::KvCacheShape kv_cache_shape(const ModelConfig& config, kernels::KvDtype dtype) {
  const auto layers = static_cast<int32_t>(config.num_hidden_layers);
  if (config.kv_lora_rank > 0)  // MLA: one latent + rope key per token, shared by all heads
    return {layers, 1, static_cast<int32_t>(config.kv_lora_rank + config.qk_rope_head_dim), 0, dtype};
  const auto head_dim = static_cast<int32_t>(config.head_dim);
  return {layers, static_cast<int32_t>(config.num_key_value_heads), head_dim, head_dim, dtype};
}

}  // namespace

DecoderModel::DecoderModel(ModelConfig config, std::unique_ptr<TensorSource> tensors, ModelWeights weights,
                           std::unique_ptr<backend::Backend> backend, kernels::KvDtype kv_dtype,
                           std::shared_ptr<dist::Communicator> communicator)
    : config_(std::move(config)),
      tensors_(std::move(tensors)),
      backend_(std::move(backend)),
      weights_(std::move(weights)),
      kv_shape_(kv_cache_shape(config_, kv_dtype)),
      rope_full_(config_.rope, config_.rotary_dim(), config_.max_position_embeddings),
      rope_sliding_(config_.rope_sliding, config_.rotary_dim(), config_.max_position_embeddings),
      communicator_(std::move(communicator)) {
  // The blocks point into weights_, which stays where it is from here on.
  layers_.reserve(weights_.layers.size());
  for (size_t l = 0; l < weights_.layers.size(); ++l) {
    const LayerWeights& w = weights_.layers[l];
    const auto index = static_cast<int64_t>(l);
    Layer layer{
        norm_weights(config_, w.attn_in),
        norm_weights(config_, w.attn_out),
        norm_weights(config_, w.mlp_in),
        norm_weights(config_, w.mlp_out),
        config_.kv_lora_rank > 0
            ? std::variant<AttentionBlock, LatentAttentionBlock>(LatentAttentionBlock(config_, w, index))
            : std::variant<AttentionBlock, LatentAttentionBlock>(AttentionBlock(config_, w, index)),
        config_.layer_is_moe[l] ? std::variant<FeedForwardBlock, MoeBlock>(MoeBlock(config_, w.moe))
                                : std::variant<FeedForwardBlock, MoeBlock>(FeedForwardBlock(config_, w.mlp))};
    layers_.push_back(std::move(layer));
  }
  embed_.tokens = &weights_.embed_tokens;
  // A rank holding a slice of the vocabulary's embeddings embeds its ids; the ranks' sum assembles
  // the rows, so only rank 0 adds the position embeddings.
  vocab_parallel_embedding_ = communicator_ && weights_.embed_tokens.rows < config_.vocab_size;
  if (vocab_parallel_embedding_) embed_.first_token = communicator_->rank() * weights_.embed_tokens.rows;
  const bool adds_positions = !vocab_parallel_embedding_ || communicator_->rank() == 0;
  embed_.positions = config_.learned_positions && adds_positions ? &weights_.embed_positions : nullptr;
  embed_.multiplier = static_cast<float>(config_.embedding_multiplier);
  logits_.final_norm = norm_weights(config_, weights_.final_norm);
  logits_.lm_head = matrix(weights_.lm_head);
  logits_.multiplier = static_cast<float>(config_.logits_multiplier);
  logits_.softcap = static_cast<float>(config_.final_logit_softcapping);
}

WeightsFootprint DecoderModel::weights_footprint() const {
  WeightsFootprint footprint;
  std::map<std::string, int64_t> bytes_by_format;
  const auto add_matrix = [&](const kernels::WeightView& w) {
    if (w.data == nullptr) return;
    const int64_t bytes = w.rows * kernels::weight_row_bytes(w.format, w.cols);
    footprint.parameters += w.rows * w.cols;
    footprint.bytes += bytes;
    bytes_by_format[kernels::to_string(w.format)] += bytes;
  };
  const auto add_vector = [&](const std::vector<float>& v) {
    footprint.parameters += static_cast<int64_t>(v.size());
    footprint.bytes += static_cast<int64_t>(v.size() * sizeof(float));
  };
  const auto add_norm = [&](const Norm& n) {
    add_vector(n.weight);
    add_vector(n.bias);
  };
  // for_each_linear walks mutable weights; nothing is changed here.
  auto& weights = const_cast<ModelWeights&>(weights_);
  const bool tied = weights.lm_head.weight.data == weights.embed_tokens.data;
  for_each_linear(weights, [&](Linear& l, bool) {
    if (tied && &l == &weights.lm_head) return;  // the embedding, counted once below
    add_matrix(l.weight);
    add_vector(l.bias);
  });
  add_matrix(weights.embed_tokens);
  add_matrix(weights.embed_positions);
  add_norm(weights.final_norm);
  for (const LayerWeights& layer : weights.layers) {
    for (const Norm* n : {&layer.attn_in, &layer.attn_out, &layer.mlp_in, &layer.mlp_out, &layer.q_norm,
                          &layer.k_norm, &layer.mla.q_a_norm, &layer.mla.kv_a_norm})
      add_norm(*n);
    add_vector(layer.sinks);
    add_vector(layer.mla.kv_b);
    add_vector(layer.moe.router_correction_bias);
  }
  std::vector<std::pair<int64_t, std::string>> shares;
  for (const auto& [format, bytes] : bytes_by_format) shares.emplace_back(bytes, format);
  std::sort(shares.rbegin(), shares.rend());
  for (const auto& share : shares) footprint.formats.push_back(share.second);
  return footprint;
}

std::unique_ptr<KvCache> DecoderModel::allocate_kv_cache(int32_t num_blocks, int32_t block_size) const {
  return backend_->allocate_kv_cache(kv_shape_, num_blocks, block_size);
}

Result<void> DecoderModel::validate(const Batch& batch, const KvCache& cache, size_t logits_size) const {
  const int64_t T = batch.num_tokens();
  if (batch.positions.size() != batch.token_ids.size())
    return Error::make(ErrorKind::kInvalidArgument, "batch: {} positions for {} tokens", batch.positions.size(), T);
  if (cache.allocator() != backend_.get())
    return Error::make(ErrorKind::kInvalidArgument, "KV cache was not allocated by this model's backend");
  if (cache.shape() != kv_shape_)
    return Error::make(ErrorKind::kInvalidArgument, "KV cache was not allocated for this model");
  for (int32_t id : batch.token_ids)
    if (id < 0 || id >= config_.vocab_size)
      return Error::make(ErrorKind::kInvalidArgument, "token id {} is outside the vocabulary (size {})", id, config_.vocab_size);
  int64_t covered = 0;
  for (const SequenceInBatch& s : batch.sequences) {
    if (s.query_len <= 0 || s.context_len < 0 || s.query_start != covered || s.query_start + s.query_len > T)
      return Error::make(ErrorKind::kInvalidArgument,
                         "batch: sequences must cover the token rows contiguously and in order (start {}, len {})",
                         s.query_start, s.query_len);
    covered += s.query_len;
    const int64_t total = int64_t{s.context_len} + s.query_len;
    if (static_cast<int64_t>(s.block_table.size()) * cache.block_size() < total)
      return Error::make(ErrorKind::kInvalidArgument, "batch: block table of {} blocks cannot hold {} tokens",
                         s.block_table.size(), total);
    const int64_t needed_blocks = (total + cache.block_size() - 1) / cache.block_size();
    for (int64_t b = 0; b < needed_blocks; ++b)
      if (s.block_table[b] < 0 || s.block_table[b] >= cache.num_blocks())
        return Error::make(ErrorKind::kInvalidArgument, "batch: block id {} is outside the cache ({} blocks)",
                           s.block_table[b], cache.num_blocks());
    if (config_.learned_positions) {
      for (int32_t i = 0; i < s.query_len; ++i)
        if (batch.positions[s.query_start + i] < 0 || batch.positions[s.query_start + i] >= config_.max_position_embeddings)
          return Error::make(ErrorKind::kInvalidArgument, "position {} exceeds the model's {} learned positions",
                             batch.positions[s.query_start + i], config_.max_position_embeddings);
    }
  }
  if (covered != T) return Error::make(ErrorKind::kInvalidArgument, "batch: sequences cover {} of {} rows", covered, T);
  for (int32_t p : batch.positions)
    if (p < 0) return Error::make(ErrorKind::kInvalidArgument, "batch: negative position {}", p);
  if (logits_size < static_cast<size_t>(batch.num_logit_rows()) * static_cast<size_t>(config_.vocab_size))
    return Error::make(ErrorKind::kInvalidArgument, "logits buffer holds {} floats, the batch needs {}", logits_size,
                       static_cast<size_t>(batch.num_logit_rows()) * static_cast<size_t>(config_.vocab_size));
  return {};
}

void DecoderModel::prepare_step(const Batch& batch, int32_t block_size) {
  const int64_t T = batch.num_tokens();
  grow(row_sequence_, T);
  grow(row_slot_, T);
  sequences_.resize(batch.sequences.size());
  const int64_t half = config_.rotary_dim() / 2;
  const bool any_sliding =
      std::count(config_.layer_types.begin(), config_.layer_types.end(), LayerType::kSlidingAttention) > 0;
  grow(cos_full_, T * half);
  grow(sin_full_, T * half);
  if (any_sliding) {
    grow(cos_sliding_, T * half);
    grow(sin_sliding_, T * half);
  }
  logit_rows_.clear();
  for (size_t si = 0; si < batch.sequences.size(); ++si) {
    const SequenceInBatch& s = batch.sequences[si];
    sequences_[si] = backend::StepSequence{s.query_start, s.query_len, s.context_len, s.block_table.data()};
    const int64_t seq_len = int64_t{s.context_len} + s.query_len;
    for (int32_t i = 0; i < s.query_len; ++i) {
      const int64_t row = s.query_start + i, kv_pos = int64_t{s.context_len} + i;
      row_sequence_[row] = static_cast<int32_t>(si);
      row_slot_[row] = int64_t{s.block_table[kv_pos / block_size]} * block_size + kv_pos % block_size;
      const int64_t position = batch.positions[row];
      if (half > 0) {
        rope_full_.cos_sin(position, seq_len, &cos_full_[row * half], &sin_full_[row * half]);
        if (any_sliding) rope_sliding_.cos_sin(position, seq_len, &cos_sliding_[row * half], &sin_sliding_[row * half]);
      }
    }
    // Only rows that are sampled go through the final norm and the LM head.
    int32_t first = 0, count = 0;
    if (s.logits == LogitsWanted::kAll) count = s.query_len;
    if (s.logits == LogitsWanted::kLast) first = s.query_len - 1, count = 1;
    for (int32_t i = first; i < first + count; ++i) logit_rows_.push_back(s.query_start + i);
  }
  backend::StepInputs inputs;
  inputs.token_ids = batch.token_ids;
  inputs.positions = batch.positions;
  inputs.sequences = std::span<const backend::StepSequence>(sequences_.data(), batch.sequences.size());
  inputs.row_sequence = std::span<const int32_t>(row_sequence_.data(), T);
  inputs.row_slot = std::span<const int64_t>(row_slot_.data(), T);
  inputs.logit_rows = logit_rows_;
  inputs.rope_half = half;
  inputs.cos_full = std::span<const float>(cos_full_.data(), T * half);
  inputs.sin_full = std::span<const float>(sin_full_.data(), T * half);
  if (any_sliding) {
    inputs.cos_sliding = std::span<const float>(cos_sliding_.data(), T * half);
    inputs.sin_sliding = std::span<const float>(sin_sliding_.data(), T * half);
  }
  backend_->begin_step(inputs);
}

void DecoderModel::observe(int64_t index, int64_t rows) {
  if (!observer_) return;
  const int64_t n = rows * config_.hidden_size;
  observed_.resize(static_cast<size_t>(n));
  backend_->copy_to_host(buffers_.hidden(), n, observed_.data());
  observer_(index, observed_, rows);
}

// One layer, as the architecture wires its blocks (ModelConfig::block_style):
//   pre-norm  h += attn(norm1(h));            h += mlp(norm2(h))
//   sandwich  h += norm2(attn(norm1(h)));     h += norm4(mlp(norm3(h)))
//   post-norm h += norm1(attn(h));            h += norm2(mlp(h))
//   parallel  n = norm1(h);                   h += attn(n) + mlp(n)
void DecoderModel::run_layer(const StepContext& step, const Layer& layer, int64_t index) {
  backend::Backend& be = step.backend;
  const int64_t T = step.rows, H = config_.hidden_size, n = T * H;
  const auto residual_mult = static_cast<float>(config_.residual_multiplier);
  float* h = buffers_.hidden();
  float* x = buffers_.input();
  float* branch = buffers_.branch();
  const auto norm_rows = [&](const backend::NormWeights& norm, const float* in, float* out) {
    be.norm_rows({norm, in, out, T, H});
  };
  // A block's output projection is row-parallel: each rank holds a partial sum.
  const auto sum_over_ranks = [&](float* partial) {
    if (communicator_) communicator_->all_reduce_sum(be, partial, n);
  };

  // A block's input norm is left to its projections (fused with quantization) where they are the
  // only readers of the normalized rows: not for parallel blocks (attention and MLP share them),
  // latent attention or MoE (their rows feed more than projections), nor layer norms.
  const bool rms = config_.norm_type == NormType::kRmsNorm || config_.norm_type == NormType::kRmsNormOnePlus;
  const bool parallel = config_.block_style == BlockStyle::kParallel;
  const bool latent = std::holds_alternative<LatentAttentionBlock>(layer.attention);
  backend::ProjectionInput attention_in{x, T};
  if (layer.attn_in.weight && rms && !parallel && !latent) {
    attention_in = {h, T, &layer.attn_in, x};
  } else if (layer.attn_in.weight) {
    norm_rows(layer.attn_in, h, x);
  } else {
    be.copy(x, h, n);
  }
  if (latent) {
    std::get<LatentAttentionBlock>(layer.attention).run(step, x, branch);
  } else {
    std::get<AttentionBlock>(layer.attention).run(step, attention_in, branch);
  }
  sum_over_ranks(branch);
  if (layer.attn_out.weight) norm_rows(layer.attn_out, branch, branch);

  const auto mlp = [&](const backend::ProjectionInput& in) {
    if (const auto* moe = std::get_if<MoeBlock>(&layer.mlp)) {
      moe->run(step, in.x, branch);  // its rows were normalized above (in.rms_norm is null)
    } else {
      std::get<FeedForwardBlock>(layer.mlp).run(step, in, branch);
    }
    sum_over_ranks(branch);
  };
  if (parallel) {
    be.add_scaled(h, branch, 1.0f, n);
    mlp({x, T});
    be.add_scaled(h, branch, 1.0f, n);
    return;
  }
  be.add_scaled(h, branch, residual_mult, n);
  backend::ProjectionInput mlp_in{x, T};
  if (layer.mlp_in.weight && rms && !config_.layer_is_moe[index]) {
    mlp_in = {h, T, &layer.mlp_in, x};
  } else if (layer.mlp_in.weight) {
    norm_rows(layer.mlp_in, h, x);
  } else {
    be.copy(x, h, n);
  }
  mlp(mlp_in);
  if (layer.mlp_out.weight) norm_rows(layer.mlp_out, branch, branch);
  be.add_scaled(h, branch, residual_mult, n);
}

Result<void> DecoderModel::forward(const Batch& batch, KvCache& cache, std::span<float> logits) {
  TGI_TRY(validate(batch, cache, logits.size()));
  const int64_t T = batch.num_tokens();
  if (T == 0) return {};
  buffers_.reserve(*backend_, config_, T);
  prepare_step(batch, cache.block_size());
  const StepContext step{*backend_, cache, buffers_, T};

  backend::EmbedOp embed = embed_;
  embed.out = buffers_.hidden();
  backend_->embed(embed);
  if (vocab_parallel_embedding_)
    communicator_->all_reduce_sum(*backend_, buffers_.hidden(), T * config_.hidden_size);
  observe(0, T);
  for (size_t l = 0; l < layers_.size(); ++l) {
    run_layer(step, layers_[l], static_cast<int64_t>(l));
    observe(static_cast<int64_t>(l) + 1, T);
  }
  if (logit_rows_.empty()) return {};
  backend::LogitsOp op = logits_;
  op.hidden = buffers_.hidden();
  if (communicator_ && weights_.lm_head.parallelism == Parallelism::kColumn) {
    // This rank's columns of every logit row, then every rank's side by side.
    const auto rows = static_cast<int64_t>(logit_rows_.size()), columns = weights_.lm_head.weight.rows;
    backend_->logits(op, std::span<float>(grow(local_logits_, rows * columns), rows * columns));
    communicator_->all_gather_columns(local_logits_.data(), rows, columns, logits.data());
    return {};
  }
  backend_->logits(op, logits);
  return {};
}

}  // namespace tgi::model
