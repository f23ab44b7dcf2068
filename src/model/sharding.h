#pragma once
// Tensor parallelism's split of a dense model over `world_size` ranks (Megatron's layout): each rank
// keeps its share of the attention heads (q/k/v rows, column-parallel; the output projection's
// matching input columns, row-parallel) and of the MLP's intermediate columns (gate/up rows, down
// columns), and, when the world size divides the vocabulary, its slice of the embedding table and
// LM head rows (the model sums the embeddings and gathers the logit columns). Norms are replicated. A
// row-parallel output is a partial sum: the model adds it across ranks (dist::Communicator) before the
// residual; its bias is kept by rank 0 only, so the sum counts it once. Views are sliced in place
// (zero-copy), before placement.
#include "core/error.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

struct ShardSpec {
  int rank = 0;
  int world_size = 1;
};

// The config one rank runs: its heads, KV heads and intermediate size. An error, saying why, for
// what this split cannot take yet (mixture of experts, latent attention, a q/k norm over all heads)
// or sizes the world size does not divide.
Result<ModelConfig> shard_config(const ModelConfig& full, ShardSpec shard);

// Marks every Linear with its Parallelism and, for world_size > 1, cuts `rank`'s part out of the
// full weights of `full` (which shard_config accepted).
Result<void> shard_weights(ModelWeights& weights, const ModelConfig& full, ShardSpec shard);

}  // namespace tgi::model
