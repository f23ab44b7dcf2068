#pragma once
// Hands a model's matrices to its backend to place (backend::Backend::place_matrices: load-time
// quantization, repacking, copies off the file mapping), saying of each what the backend cannot
// know: whether it may be re-encoded, whether its rows are page cache of the checkpoint, and
// whether the embedding lookup shares its rows.
#include "backend/backend.h"
#include "core/error.h"
#include "model/tensor_source.h"
#include "model/weights.h"

namespace tgi::model {

// Places every present Linear of `weights` (the embedding table and norms stay as loaded: a
// lookup and small vectors). Quantizable: attention, MLP, expert and LM-head projections; not MoE
// routers and shared-expert gates, nor deepseek's absorbed kv_b (f32 by design). Owned buffers
// (e.g. gpt2's transposed copies) that no view references afterwards are released.
// `source` says which rows are page cache of a mapped file; null: none are.
Result<backend::PlacementSummary> place_weights(ModelWeights& weights, const TensorSource* source,
                                                backend::Backend& backend,
                                                const backend::PlacementOptions& options = {});

}  // namespace tgi::model
