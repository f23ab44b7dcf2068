#include "model/decoder_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"
#include "model/paged_kv_cache.h"

namespace tgi::model {
namespace {

template <typename T>
T* grow(std::vector<T>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

kernels::ActivationKind activation_kind(Activation a) {
  switch (a) {
    case Activation::kSilu: return kernels::ActivationKind::kSilu;
    case Activation::kGeluTanh: return kernels::ActivationKind::kGeluTanh;
    case Activation::kGelu: return kernels::ActivationKind::kGelu;
    case Activation::kRelu: return kernels::ActivationKind::kRelu;
  }
  return kernels::ActivationKind::kSilu;
}

}  // namespace

DecoderModel::DecoderModel(ModelConfig config, std::unique_ptr<TensorSource> tensors, ModelWeights weights,
                           int num_threads, kernels::KvDtype kv_dtype)
    : config_(std::move(config)),
      tensors_(std::move(tensors)),
      weights_(std::move(weights)),
      kv_dtype_(kv_dtype),
      pool_(num_threads),
      rope_full_(config_.rope, config_.rotary_dim(), config_.max_position_embeddings),
      rope_sliding_(config_.rope_sliding, config_.rotary_dim(), config_.max_position_embeddings) {}

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

size_t DecoderModel::kv_bytes_per_token() const {
  const auto layers = static_cast<int32_t>(config_.num_hidden_layers);
  if (config_.kv_lora_rank > 0)  // MLA: one latent + rope key per token, shared by all heads
    return PagedKvCache::bytes_per_token(
        layers, 1, static_cast<int32_t>(config_.kv_lora_rank + config_.qk_rope_head_dim), 0, kv_dtype_);
  const auto head_dim = static_cast<int32_t>(config_.head_dim);
  return PagedKvCache::bytes_per_token(layers, static_cast<int32_t>(config_.num_key_value_heads), head_dim,
                                       head_dim, kv_dtype_);
}

std::unique_ptr<KvCache> DecoderModel::allocate_kv_cache(int32_t num_blocks, int32_t block_size) const {
  const auto layers = static_cast<int32_t>(config_.num_hidden_layers);
  if (config_.kv_lora_rank > 0)
    return std::make_unique<PagedKvCache>(
        layers, num_blocks, block_size, 1,
        static_cast<int32_t>(config_.kv_lora_rank + config_.qk_rope_head_dim), 0, kv_dtype_);
  return std::make_unique<PagedKvCache>(
      layers, num_blocks, block_size, static_cast<int32_t>(config_.num_key_value_heads),
      static_cast<int32_t>(config_.head_dim), static_cast<int32_t>(config_.head_dim), kv_dtype_);
}

Result<void> DecoderModel::validate(const Batch& batch, const PagedKvCache& cache, size_t logits_size) const {
  const int64_t T = batch.num_tokens();
  if (batch.positions.size() != batch.token_ids.size())
    return Error::make(ErrorKind::kInvalidArgument, "batch: {} positions for {} tokens", batch.positions.size(), T);
  if (cache.num_layers() != config_.num_hidden_layers)
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

void DecoderModel::prepare_rows(const Batch& batch, int32_t block_size) {
  const int64_t T = batch.num_tokens();
  num_tokens_ = T;
  grow(row_sequence_, T);
  grow(row_slot_, T);
  sequences_.resize(batch.sequences.size());
  const int64_t half = config_.rotary_dim() / 2;
  const bool any_sliding = std::count(config_.layer_types.begin(), config_.layer_types.end(), LayerType::kSlidingAttention) > 0;
  grow(cos_full_, T * half);
  grow(sin_full_, T * half);
  if (any_sliding) {
    grow(cos_sliding_, T * half);
    grow(sin_sliding_, T * half);
  }
  for (size_t si = 0; si < batch.sequences.size(); ++si) {
    const SequenceInBatch& s = batch.sequences[si];
    sequences_[si] = kernels::AttentionSequence{s.query_start, s.query_len, s.context_len, s.block_table.data()};
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
  }
}

void DecoderModel::embed(const Batch& batch) {
  const int64_t H = config_.hidden_size;
  const auto mult = static_cast<float>(config_.embedding_multiplier);
  for (int64_t t = 0; t < num_tokens_; ++t) {
    float* row = &h_[t * H];
    kernels::dequantize_row(weights_.embed_tokens, batch.token_ids[t], row);
    if (mult != 1.0f)
      for (int64_t i = 0; i < H; ++i) row[i] *= mult;
    if (config_.learned_positions) {
      float* pos = &tmp_[0];
      kernels::dequantize_row(weights_.embed_positions, batch.positions[t], pos);
      for (int64_t i = 0; i < H; ++i) row[i] += pos[i];
    }
  }
}

void DecoderModel::apply_norm(const Norm& norm, const float* x, float* out, int64_t n) const {
  const auto eps = static_cast<float>(config_.norm_eps);
  switch (config_.norm_type) {
    case NormType::kRmsNorm: kernels::rms_norm(x, norm.weight.data(), n, eps, false, out); break;
    case NormType::kRmsNormOnePlus: kernels::rms_norm(x, norm.weight.data(), n, eps, true, out); break;
    case NormType::kLayerNorm: kernels::layer_norm(x, norm.weight.data(), norm.bias.data(), n, eps, out); break;
    case NormType::kLayerNormNoBias: kernels::layer_norm(x, norm.weight.data(), nullptr, n, eps, out); break;
  }
}

void DecoderModel::project(const BlockInput& in, int64_t rows,
                           std::span<const kernels::MatmulTarget> targets) {
  const int64_t cols = targets.front().weight->cols;
  if (in.norm == nullptr) {
    kernels::matmul_shared_input(in.x, rows, cols, targets, pool_);
    return;
  }
  const kernels::InputRmsNorm norm{in.norm->weight.data(), static_cast<float>(config_.norm_eps),
                                   config_.norm_type == NormType::kRmsNormOnePlus};
  kernels::rms_norm_matmul_shared_input(in.x, rows, config_.hidden_size, norm, x_.data(), targets, pool_);
}

void DecoderModel::attention(int64_t layer, const BlockInput& in, float* out, PagedKvCache& cache) {
  if (config_.kv_lora_rank > 0) {
    latent_attention(layer, in.x, out, cache);  // run_layer normalized its rows (in.norm is null)
    return;
  }
  const LayerWeights& L = weights_.layers[layer];
  const int64_t T = num_tokens_, hd = config_.head_dim;
  const int64_t nh = config_.num_attention_heads, nkv = config_.num_key_value_heads;
  const int64_t q_width = nh * hd, kv_width = nkv * hd;
  const bool one_plus = config_.norm_type == NormType::kRmsNormOnePlus;
  const auto eps = static_cast<float>(config_.norm_eps);
  const LayerType type = config_.layer_types[layer];
  const bool sliding = type == LayerType::kSlidingAttention;
  const float* cos = sliding ? cos_sliding_.data() : cos_full_.data();
  const float* sin = sliding ? sin_sliding_.data() : sin_full_.data();
  const int64_t rot = config_.rotary_dim(), half = rot / 2;
  const bool uses_rope = config_.layer_uses_rope[layer] && !config_.learned_positions && rot > 0;
  const bool temperature_tuned =
      config_.attn_temperature_tuning && !config_.layer_uses_rope[layer] && config_.floor_scale > 0.0;
  const auto cache_layer = static_cast<int32_t>(layer);
  // Heads [h0, h1) of token t's q or k row: the per-head q/k norm, then RoPE.
  const auto finish_heads = [&](float* row, int64_t h0, int64_t h1, const Norm& norm, int64_t t) {
    float* x = row + h0 * hd;
    if (config_.qk_norm == QkNorm::kPerHead)
      for (int64_t h = 0; h < h1 - h0; ++h)
        kernels::rms_norm(x + h * hd, norm.weight.data(), hd, eps, one_plus, x + h * hd);
    if (uses_rope)
      kernels::apply_rope(x, h1 - h0, hd, rot, cos + t * half, sin + t * half, config_.rope_interleaved);
  };

  // Where every step is per head, each projection finishes the heads a thread has just computed
  // inside its own parallel region (norm and RoPE on q and k, then K and V appended to the cache)
  // while they are in that core's cache; whole-row steps (full-width q/k norms, llama4's NoPE
  // temperature and L2 norm) take a pass over the rows after the projection instead.
  const bool per_head_only =
      (config_.qk_norm == QkNorm::kNone || config_.qk_norm == QkNorm::kPerHead) && !temperature_tuned;
  const auto q_heads_done = [&](int64_t b, int64_t e) {
    for (int64_t t = 0; t < T; ++t) finish_heads(&q_[t * q_width], b / hd, e / hd, L.q_norm, t);
  };
  const auto k_heads_done = [&](int64_t b, int64_t e) {
    for (int64_t t = 0; t < T; ++t) {
      finish_heads(&k_[t * kv_width], b / hd, e / hd, L.k_norm, t);
      cache.store_k_heads(cache_layer, row_slot_[t], &k_[t * kv_width], static_cast<int32_t>(b / hd),
                          static_cast<int32_t>(e / hd));
    }
  };
  const auto v_heads_done = [&](int64_t b, int64_t e) {
    for (int64_t t = 0; t < T; ++t)
      cache.store_v_heads(cache_layer, row_slot_[t], &v_[t * kv_width], static_cast<int32_t>(b / hd),
                          static_cast<int32_t>(e / hd));
  };
  kernels::MatmulTarget qkv[] = {{&L.q.weight, L.q.bias_or_null(), q_.data(), L.q.weight.rows},
                                 {&L.k.weight, L.k.bias_or_null(), k_.data(), L.k.weight.rows},
                                 {&L.v.weight, L.v.bias_or_null(), v_.data(), L.v.weight.rows}};
  if (per_head_only) {
    // q's heads need nothing when there is neither a per-head norm nor RoPE (learned positions).
    if (config_.qk_norm == QkNorm::kPerHead || uses_rope)
      qkv[0].epilogue = kernels::row_epilogue(q_heads_done, hd);
    qkv[1].epilogue = kernels::row_epilogue(k_heads_done, hd);
    qkv[2].epilogue = kernels::row_epilogue(v_heads_done, hd);
  }
  project(in, T, qkv);

  if (!per_head_only) {
    // Rows are independent (each writes its own q/k and cache slot): a long prompt's rows are split
    // over the threads.
    pool_.parallel_for(T, [&](int64_t row_begin, int64_t row_end) {
      for (int64_t t = row_begin; t < row_end; ++t) {
        float* q = &q_[t * q_width];
        float* k = &k_[t * kv_width];
        if (config_.qk_norm == QkNorm::kFullWidth) {
          kernels::rms_norm(q, L.q_norm.weight.data(), q_width, eps, one_plus, q);
          kernels::rms_norm(k, L.k_norm.weight.data(), kv_width, eps, one_plus, k);
        }
        finish_heads(q, 0, nh, L.q_norm, t);
        finish_heads(k, 0, nkv, L.k_norm, t);
        if (temperature_tuned) {
          // llama4 NoPE layers: sharpen attention logarithmically with position.
          const double pos = positions_[t];
          const auto temp = static_cast<float>(
              std::log1p(std::floor((pos + 1.0) / config_.floor_scale)) * config_.attn_scale + 1.0);
          for (int64_t i = 0; i < q_width; ++i) q[i] *= temp;
        }
        if (config_.qk_norm == QkNorm::kL2 && uses_rope) {  // llama4: after RoPE
          for (int64_t h = 0; h < nh; ++h) kernels::rms_norm(q + h * hd, nullptr, hd, eps, false, q + h * hd);
          for (int64_t h = 0; h < nkv; ++h)
            kernels::rms_norm(k + h * hd, nullptr, hd, eps, false, k + h * hd);
        }
        cache.store_k(cache_layer, row_slot_[t], k);
        cache.store_v(cache_layer, row_slot_[t], &v_[t * kv_width]);
      }
    });
  }

  kernels::AttentionShape shape;
  shape.num_heads = static_cast<int32_t>(nh);
  shape.num_kv_heads = static_cast<int32_t>(nkv);
  shape.head_dim = static_cast<int32_t>(hd);
  shape.v_head_dim = static_cast<int32_t>(hd);
  shape.scale = static_cast<float>(config_.attention_scale());
  shape.softcap = static_cast<float>(config_.attn_logit_softcapping);
  shape.sinks = L.sinks.empty() ? nullptr : L.sinks.data();
  if (type == LayerType::kSlidingAttention) shape.sliding_window = config_.sliding_window;
  if (type == LayerType::kChunkedAttention) shape.chunk_size = config_.attention_chunk_size;
  const kernels::PagedKvLayer kv = cache.layer(static_cast<int32_t>(layer));
  kernels::paged_attention(q_.data(), q_width, sequences_, row_sequence_.data(), T, kv, shape, attn_.data(), q_width,
                           pool_);
  kernels::matmul(attn_.data(), T, L.o.weight, L.o.bias_or_null(), out, pool_);
}

// Multi-head latent attention with the up-projection absorbed: per head, q_nope is mapped into
// the latent space (W_kb^T q_nope), so scores and the weighted sum run directly over the cached
// [latent, k_rope] rows (one "KV head" shared by all heads); W_vb then lifts the result per head.
void DecoderModel::latent_attention(int64_t layer, const float* x, float* out, PagedKvCache& cache) {
  const LatentAttentionWeights& W = weights_.layers[layer].mla;
  const int64_t T = num_tokens_, nh = config_.num_attention_heads;
  const int64_t nope = config_.qk_nope_head_dim, rope = config_.qk_rope_head_dim, qk = nope + rope;
  const int64_t rank = config_.kv_lora_rank, vd = config_.v_head_dim, latent_width = rank + rope;
  const auto eps = static_cast<float>(config_.norm_eps);
  float* q = grow(mla_q_, T * nh * qk);
  if (W.q_a.present()) {
    float* qa = grow(mla_qa_, T * config_.q_lora_rank);
    kernels::matmul(x, T, W.q_a.weight, W.q_a.bias_or_null(), qa, pool_);
    for (int64_t t = 0; t < T; ++t)
      kernels::rms_norm(qa + t * config_.q_lora_rank, W.q_a_norm.weight.data(), config_.q_lora_rank, eps, false,
                        qa + t * config_.q_lora_rank);
    kernels::matmul(qa, T, W.q_b.weight, nullptr, q, pool_);
  } else {
    kernels::matmul(x, T, W.q.weight, nullptr, q, pool_);
  }
  float* kv = grow(mla_kv_, T * latent_width);
  kernels::matmul(x, T, W.kv_a.weight, W.kv_a.bias_or_null(), kv, pool_);
  float* query = grow(mla_query_, T * nh * latent_width);
  const int64_t half = rope / 2;
  for (int64_t t = 0; t < T; ++t) {
    float* latent = kv + t * latent_width;
    kernels::rms_norm(latent, W.kv_a_norm.weight.data(), rank, eps, false, latent);
    kernels::apply_rope(latent + rank, 1, rope, rope, &cos_full_[t * half], &sin_full_[t * half], config_.rope_interleaved);
    cache.store_k(static_cast<int32_t>(layer), row_slot_[t], latent);
    for (int64_t h = 0; h < nh; ++h) {
      float* qh = q + (t * nh + h) * qk;
      kernels::apply_rope(qh + nope, 1, rope, rope, &cos_full_[t * half], &sin_full_[t * half], config_.rope_interleaved);
      float* dst = query + (t * nh + h) * latent_width;
      const float* w_k = W.kv_b.data() + h * (nope + vd) * rank;  // rows of this head's k_nope
      for (int64_t r = 0; r < rank; ++r) {
        float acc = 0.0f;
        for (int64_t d = 0; d < nope; ++d) acc += qh[d] * w_k[d * rank + r];
        dst[r] = acc;
      }
      std::memcpy(dst + rank, qh + nope, rope * sizeof(float));
    }
  }
  kernels::AttentionShape shape;
  shape.num_heads = static_cast<int32_t>(nh);
  shape.num_kv_heads = 1;
  shape.head_dim = static_cast<int32_t>(latent_width);
  shape.v_head_dim = static_cast<int32_t>(rank);
  shape.scale = static_cast<float>(config_.attention_scale());
  const kernels::PagedKvLayer kvl = cache.latent_layer(static_cast<int32_t>(layer));
  float* o_latent = grow(mla_olat_, T * nh * rank);
  kernels::paged_attention(query, nh * latent_width, sequences_, row_sequence_.data(), T, kvl, shape, o_latent,
                           nh * rank, pool_);
  float* values = grow(attn_, T * nh * vd);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < nh; ++h) {
      const float* o = o_latent + (t * nh + h) * rank;
      const float* w_v = W.kv_b.data() + (h * (nope + vd) + nope) * rank;  // rows of this head's values
      for (int64_t d = 0; d < vd; ++d) {
        float acc = 0.0f;
        for (int64_t r = 0; r < rank; ++r) acc += w_v[d * rank + r] * o[r];
        values[(t * nh + h) * vd + d] = acc;
      }
    }
  const LayerWeights& L = weights_.layers[layer];
  kernels::matmul(values, T, L.o.weight, L.o.bias_or_null(), out, pool_);
}

void DecoderModel::feed_forward(const FeedForward& f, const BlockInput& in, int64_t rows, float* out) {
  const int64_t inter = f.up.weight.rows;
  const auto act = activation_kind(config_.hidden_act);
  if (f.gate.present()) {
    // act(gate) · up on the columns a thread has just computed of both, inside the projection's
    // parallel region (gate and up have the same rows, so they go in lockstep: see
    // matmul_shared_input), instead of a pass of its own over memory.
    const auto gated_columns_done = [&](int64_t b, int64_t e) {
      for (int64_t t = 0; t < rows; ++t) {
        const float* gate = gate_.data() + t * inter + b;
        float* up = up_.data() + t * inter + b;
        if (config_.swiglu_limit > 0.0) {
          constexpr float kGptOssAlpha = 1.702f;
          kernels::clamped_swiglu(gate, up, up, e - b, static_cast<float>(config_.swiglu_limit),
                                  kGptOssAlpha);
        } else {
          kernels::gated_activation(act, gate, up, up, e - b);
        }
      }
    };
    const kernels::MatmulTarget gate_up[] = {
        {&f.gate.weight, f.gate.bias_or_null(), gate_.data(), inter},
        {&f.up.weight, f.up.bias_or_null(), up_.data(), inter, kernels::row_epilogue(gated_columns_done, 1)}};
    project(in, rows, gate_up);
  } else {
    const auto activated_columns_done = [&](int64_t b, int64_t e) {
      for (int64_t t = 0; t < rows; ++t) kernels::activate_inplace(act, up_.data() + t * inter + b, e - b);
    };
    const kernels::MatmulTarget up[] = {{&f.up.weight, f.up.bias_or_null(), up_.data(), inter,
                                         kernels::row_epilogue(activated_columns_done, 1)}};
    project(in, rows, up);
  }
  kernels::matmul(up_.data(), rows, f.down.weight, f.down.bias_or_null(), out, pool_);
}

void DecoderModel::mlp(int64_t layer, const BlockInput& in, float* out) {
  if (config_.layer_is_moe[layer]) {
    moe(weights_.layers[layer].moe, in.x, out);  // run_layer normalized its rows (in.norm is null)
  } else {
    feed_forward(weights_.layers[layer].mlp, in, num_tokens_, out);
  }
}

// Tokens are grouped by expert so each expert's weights are read once per step, however many
// tokens chose it. Per token, contributions are summed in ascending expert order (then the shared
// expert), so the result does not depend on the rest of the batch.
void DecoderModel::moe(const MoeWeights& m, const float* x, float* out) {
  const int64_t T = num_tokens_, H = config_.hidden_size, E = config_.num_experts, K = config_.num_experts_per_tok;
  float* logits = grow(router_logits_, T * E);
  kernels::matmul(x, T, m.router.weight, m.router.bias_or_null(), logits, pool_);

  // Route: per token the top-K experts and their weights, then a counting sort by expert.
  int32_t* chosen = grow(chosen_expert_, T * K);
  float* chosen_weight = grow(chosen_weight_, T * K);
  int32_t* count = grow(expert_count_, E + 1);
  std::fill(count, count + E + 1, 0);
  std::vector<float>& probs = probs_;
  probs.resize(static_cast<size_t>(E));
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits + t * E;
    if (config_.router_scoring == RouterScoring::kSoftmax) {
      const float max = *std::max_element(l, l + E);
      double z = 0.0;
      for (int64_t e = 0; e < E; ++e) z += std::exp(double{l[e]} - max);
      for (int64_t e = 0; e < E; ++e) probs[e] = static_cast<float>(std::exp(double{l[e]} - max) / z);
    } else {
      for (int64_t e = 0; e < E; ++e) probs[e] = 1.0f / (1.0f + std::exp(-l[e]));
    }
    // Choice scores: the probabilities, or (deepseek_v3) probabilities plus a correction bias,
    // restricted to the best groups of experts; the weights stay the uncorrected probabilities.
    std::vector<float>& choice = choice_;
    choice.assign(probs.begin(), probs.end());
    if (!m.router_correction_bias.empty()) {
      for (int64_t e = 0; e < E; ++e) choice[e] += m.router_correction_bias[e];
      const int64_t groups = std::max<int64_t>(config_.n_group, 1), per_group = E / groups;
      if (groups > 1) {
        std::vector<float>& group_score = group_score_;
        group_score.assign(static_cast<size_t>(groups), 0.0f);
        for (int64_t g = 0; g < groups; ++g) {  // a group's score: its two best experts
          float first = -INFINITY, second = -INFINITY;
          for (int64_t e = g * per_group; e < (g + 1) * per_group; ++e) {
            if (choice[e] > first) second = first, first = choice[e];
            else if (choice[e] > second) second = choice[e];
          }
          group_score[g] = per_group > 1 ? first + second : first;
        }
        std::vector<char>& keep = group_keep_;
        keep.assign(static_cast<size_t>(groups), 0);
        for (int64_t k = 0; k < config_.topk_group && k < groups; ++k) {
          int64_t best = -1;
          for (int64_t g = 0; g < groups; ++g)
            if (!keep[g] && (best < 0 || group_score[g] > group_score[best])) best = g;
          keep[best] = 1;
        }
        for (int64_t e = 0; e < E; ++e)
          if (!keep[e / per_group]) choice[e] = 0.0f;
      }
    }
    double picked_sum = 0.0;
    for (int64_t k = 0; k < K; ++k) {
      int64_t best = -1;
      for (int64_t e = 0; e < E; ++e) {
        bool taken = false;
        for (int64_t j = 0; j < k; ++j) taken |= chosen[t * K + j] == e;
        if (!taken && (best < 0 || choice[e] > choice[best])) best = e;  // ties: lowest index
      }
      chosen[t * K + k] = static_cast<int32_t>(best);
      chosen_weight[t * K + k] = probs[best];
      picked_sum += probs[best];
      ++count[best + 1];
    }
    if (config_.norm_topk_prob && picked_sum > 0.0)
      for (int64_t k = 0; k < K; ++k) chosen_weight[t * K + k] = static_cast<float>(chosen_weight[t * K + k] / picked_sum);
    if (config_.routed_scaling_factor != 1.0)
      for (int64_t k = 0; k < K; ++k) chosen_weight[t * K + k] *= static_cast<float>(config_.routed_scaling_factor);
  }
  for (int64_t e = 0; e < E; ++e) count[e + 1] += count[e];  // count[e] = first slot of expert e
  int32_t* slot_token = grow(slot_token_, T * K);
  float* slot_weight = grow(slot_weight_, T * K);
  int32_t* fill = grow(expert_fill_, E);
  std::copy(count, count + E, fill);
  for (int64_t t = 0; t < T; ++t)  // ascending t within each expert
    for (int64_t k = 0; k < K; ++k) {
      const int32_t e = chosen[t * K + k];
      slot_token[fill[e]] = static_cast<int32_t>(t);
      slot_weight[fill[e]] = chosen_weight[t * K + k];
      ++fill[e];
    }

  std::fill(out, out + T * H, 0.0f);
  float* gathered = grow(expert_in_, T * H);
  float* expert_out = grow(expert_out_, T * H);
  for (int64_t e = 0; e < E; ++e) {
    const int32_t begin = count[e], n = count[e + 1] - count[e];
    if (n == 0) continue;
    const bool on_input = config_.moe_weight_on_input;
    for (int32_t i = 0; i < n; ++i) {
      const float* src = x + int64_t{slot_token[begin + i]} * H;
      float* dst = gathered + int64_t{i} * H;
      const float w = on_input ? slot_weight[begin + i] : 1.0f;
      for (int64_t d = 0; d < H; ++d) dst[d] = src[d] * w;
    }
    feed_forward(m.experts[e], {gathered}, n, expert_out);
    for (int32_t i = 0; i < n; ++i) {
      float* o = out + int64_t{slot_token[begin + i]} * H;
      const float w = on_input ? 1.0f : slot_weight[begin + i];
      const float* src = expert_out + int64_t{i} * H;
      for (int64_t d = 0; d < H; ++d) o[d] += w * src[d];
    }
  }
  if (m.shared.present()) {
    feed_forward(m.shared, {x}, T, expert_out);
    float* gate = grow(shared_gate_, T);
    if (m.shared_gate.present()) kernels::matmul(x, T, m.shared_gate.weight, nullptr, gate, pool_);
    for (int64_t t = 0; t < T; ++t) {
      const float g = m.shared_gate.present() ? 1.0f / (1.0f + std::exp(-gate[t])) : 1.0f;
      for (int64_t d = 0; d < H; ++d) out[t * H + d] += g * expert_out[t * H + d];
    }
  }
}

void DecoderModel::run_layer(int64_t layer, PagedKvCache& cache) {
  const LayerWeights& L = weights_.layers[layer];
  const int64_t T = num_tokens_, H = config_.hidden_size, n = T * H;
  const auto residual_mult = static_cast<float>(config_.residual_multiplier);
  float* h = h_.data();
  float* x = x_.data();
  float* branch = tmp_.data();

  auto norm_rows = [&](const Norm& norm, const float* in, float* out) {
    pool_.parallel_for(T, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) apply_norm(norm, in + t * H, out + t * H, H);
    });
  };

  // A block's input norm is left to its projections (fused with quantization) where they are the
  // only readers of the normalized rows: not for parallel blocks (attention and MLP share them),
  // latent attention or MoE (their rows feed more than projections), nor layer norms.
  const bool rms = config_.norm_type == NormType::kRmsNorm || config_.norm_type == NormType::kRmsNormOnePlus;
  const bool parallel = config_.block_style == BlockStyle::kParallel;
  BlockInput attention_in{x};
  if (L.attn_in.present() && rms && !parallel && config_.kv_lora_rank == 0) {
    attention_in = {h, &L.attn_in};
  } else if (L.attn_in.present()) {
    norm_rows(L.attn_in, h, x);
  } else {
    std::memcpy(x, h, n * sizeof(float));
  }
  attention(layer, attention_in, branch, cache);
  if (L.attn_out.present()) norm_rows(L.attn_out, branch, branch);

  if (parallel) {
    for (int64_t i = 0; i < n; ++i) h[i] += branch[i];
    mlp(layer, {x}, branch);
    for (int64_t i = 0; i < n; ++i) h[i] += branch[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) h[i] += branch[i] * residual_mult;
  BlockInput mlp_in{x};
  if (L.mlp_in.present() && rms && !config_.layer_is_moe[layer]) {
    mlp_in = {h, &L.mlp_in};
  } else if (L.mlp_in.present()) {
    norm_rows(L.mlp_in, h, x);
  } else {
    std::memcpy(x, h, n * sizeof(float));
  }
  mlp(layer, mlp_in, branch);
  if (L.mlp_out.present()) norm_rows(L.mlp_out, branch, branch);
  for (int64_t i = 0; i < n; ++i) h[i] += branch[i] * residual_mult;
}

Result<void> DecoderModel::forward(const Batch& batch, KvCache& cache_base, std::span<float> logits) {
  auto* cache = dynamic_cast<PagedKvCache*>(&cache_base);
  if (cache == nullptr) return Error::make(ErrorKind::kInvalidArgument, "KV cache was not allocated by this model");
  TGI_TRY(validate(batch, *cache, logits.size()));
  const int64_t T = batch.num_tokens(), H = config_.hidden_size;
  if (T == 0) return {};
  const int64_t q_width = config_.num_attention_heads * config_.head_dim;
  const int64_t kv_width = config_.num_key_value_heads * config_.head_dim;
  grow(h_, T * H);
  grow(x_, T * std::max(H, q_width));
  grow(tmp_, T * std::max(H, q_width));
  grow(q_, T * q_width);
  grow(k_, T * kv_width);
  grow(v_, T * kv_width);
  grow(attn_, T * q_width);
  const int64_t widest_ffn = std::max({config_.intermediate_size, config_.moe_intermediate_size,
                                        config_.shared_expert_intermediate_size, config_.dense_intermediate_size});
  grow(gate_, T * widest_ffn);
  grow(up_, T * widest_ffn);

  positions_ = batch.positions.data();
  prepare_rows(batch, cache->block_size());
  embed(batch);
  if (observer_) observer_(0, std::span<const float>(h_.data(), T * H), T);
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    run_layer(l, *cache);
    if (observer_) observer_(l + 1, std::span<const float>(h_.data(), T * H), T);
  }

  // Only rows that are sampled go through the final norm and the LM head.
  int64_t rows = 0;
  for (const SequenceInBatch& s : batch.sequences) {
    int32_t first = 0, count = 0;
    if (s.logits == LogitsWanted::kAll) count = s.query_len;
    if (s.logits == LogitsWanted::kLast) first = s.query_len - 1, count = 1;
    for (int32_t i = first; i < first + count; ++i, ++rows)
      apply_norm(weights_.final_norm, &h_[(s.query_start + i) * H], &x_[rows * H], H);
  }
  if (rows == 0) return {};
  const int64_t V = config_.vocab_size;
  kernels::matmul(x_.data(), rows, weights_.lm_head.weight, weights_.lm_head.bias_or_null(), logits.data(), pool_);
  const auto mult = static_cast<float>(config_.logits_multiplier);
  if (mult != 1.0f)
    for (int64_t i = 0; i < rows * V; ++i) logits[i] *= mult;
  if (config_.final_logit_softcapping > 0.0)
    kernels::softcap_inplace(logits.data(), rows * V, static_cast<float>(config_.final_logit_softcapping));
  return {};
}

}  // namespace tgi::model
