#include "model/sharding.h"

#include <algorithm>

namespace tgi::model {
namespace {

// Rows [begin, begin + count) of a column-parallel projection, with their bias entries.
void keep_rows(Linear& l, int64_t begin, int64_t count) {
  l.parallelism = Parallelism::kColumn;
  if (!l.present()) return;
  l.weight = l.weight.slice_rows(begin, count);
  if (!l.bias.empty()) l.bias = std::vector<float>(l.bias.begin() + begin, l.bias.begin() + begin + count);
}

// Columns [begin, begin + count) of a row-parallel projection; its bias stays on rank 0 only.
Result<void> keep_columns(Linear& l, int64_t begin, int64_t count, int rank) {
  l.parallelism = Parallelism::kRow;
  if (!l.present()) return {};
  const int64_t block = kernels::weight_format_block_elements(l.weight.format);
  if (begin % block != 0 || count % block != 0)
    return Error::make(
        ErrorKind::kUnsupported,
        "tensor parallelism: a {} matrix of {} columns cannot be split into whole {}-element blocks",
        kernels::to_string(l.weight.format), l.weight.cols, block);
  l.weight = l.weight.slice_cols(begin, count);
  if (rank != 0) l.bias.clear();
  return {};
}

}  // namespace

Result<ModelConfig> shard_config(const ModelConfig& full, ShardSpec shard) {
  const int64_t n = shard.world_size;
  if (n < 1 || shard.rank < 0 || shard.rank >= n)
    return Error::make(ErrorKind::kInvalidArgument, "tensor parallelism: rank {} of world size {}",
                       shard.rank, n);
  if (n == 1) return full;
  if (full.is_moe())
    return Error::make(ErrorKind::kUnsupported,
                       "tensor parallelism: mixture-of-experts models cannot be sharded yet");
  if (full.kv_lora_rank > 0)
    return Error::make(ErrorKind::kUnsupported,
                       "tensor parallelism: latent attention (MLA) cannot be sharded yet");
  if (full.qk_norm == QkNorm::kFullWidth)
    return Error::make(ErrorKind::kUnsupported,
                       "tensor parallelism: a q/k norm over all heads at once ({}) cannot be sharded yet",
                       full.model_type);
  if (full.num_attention_heads % n != 0 || full.num_key_value_heads % n != 0 ||
      full.intermediate_size % n != 0)
    return Error::make(ErrorKind::kInvalidArgument,
                       "tensor parallelism: {} shards do not divide {} attention heads, {} KV heads and an "
                       "intermediate size of {}",
                       n, full.num_attention_heads, full.num_key_value_heads, full.intermediate_size);
  ModelConfig local = full;
  local.num_attention_heads /= n;
  local.num_key_value_heads /= n;
  local.intermediate_size /= n;
  return local;
}

Result<void> shard_weights(ModelWeights& weights, const ModelConfig& full, ShardSpec shard) {
  TGI_ASSIGN_OR_RETURN(const ModelConfig local, shard_config(full, shard));
  if (shard.world_size == 1) {  // nothing to cut; say what each projection would be
    for (LayerWeights& L : weights.layers) {
      for (Linear* l : {&L.q, &L.k, &L.v, &L.mlp.gate, &L.mlp.up}) l->parallelism = Parallelism::kColumn;
      for (Linear* l : {&L.o, &L.mlp.down}) l->parallelism = Parallelism::kRow;
    }
    return {};
  }
  const int64_t r = shard.rank, hd = full.head_dim;
  const int64_t heads = local.num_attention_heads, kv_heads = local.num_key_value_heads;
  const int64_t inter = local.intermediate_size;
  for (LayerWeights& L : weights.layers) {
    keep_rows(L.q, r * heads * hd, heads * hd);
    keep_rows(L.k, r * kv_heads * hd, kv_heads * hd);
    keep_rows(L.v, r * kv_heads * hd, kv_heads * hd);
    TGI_TRY(keep_columns(L.o, r * heads * hd, heads * hd, shard.rank));
    keep_rows(L.mlp.gate, r * inter, inter);
    keep_rows(L.mlp.up, r * inter, inter);
    TGI_TRY(keep_columns(L.mlp.down, r * inter, inter, shard.rank));
    if (!L.sinks.empty())
      L.sinks = std::vector<float>(L.sinks.begin() + r * heads, L.sinks.begin() + (r + 1) * heads);
  }
  // The LM head is split over the vocabulary when the world size divides it (each rank computes its
  // slice of every logit row; the model gathers them); otherwise every rank computes all of it.
  // The embedding table likewise (a rank embeds the ids of its slice, zeros for the rest, and the
  // ranks' sum assembles every row); a tied head keeps sharing its rows.
  if (full.vocab_size % shard.world_size == 0) {
    const int64_t slice = full.vocab_size / shard.world_size;
    const bool tied = weights.lm_head.weight.data == weights.embed_tokens.data;
    keep_rows(weights.lm_head, r * slice, slice);
    weights.embed_tokens = weights.embed_tokens.slice_rows(r * slice, slice);
    if (tied) weights.lm_head.weight = weights.embed_tokens;
  }
  return {};
}

}  // namespace tgi::model
