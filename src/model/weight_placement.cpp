#include "model/weight_placement.h"

#include <algorithm>
#include <vector>

namespace tgi::model {
namespace {

// Drops owned buffers (e.g. gpt2's transposed f32 copies) that no view points into any more.
void release_unreferenced(ModelWeights& w) {
  std::vector<uintptr_t> used;
  auto note = [&](const kernels::WeightView& v) {
    if (v.data) used.push_back(reinterpret_cast<uintptr_t>(v.data));
  };
  note(w.embed_tokens);
  note(w.embed_positions);
  for_each_linear(w, [&](Linear& l, bool) {
    note(l.weight);
    if (l.weight.packed) used.push_back(reinterpret_cast<uintptr_t>(l.weight.packed));
  });
  std::sort(used.begin(), used.end());
  std::erase_if(w.owned, [&](const std::unique_ptr<std::vector<std::byte>>& buffer) {
    const auto begin = reinterpret_cast<uintptr_t>(buffer->data()), end = begin + buffer->size();
    const auto it = std::lower_bound(used.begin(), used.end(), begin);
    return it == used.end() || *it >= end;
  });
}

}  // namespace

Result<backend::PlacementSummary> place_weights(ModelWeights& weights, const TensorSource* source,
                                                backend::Backend& backend,
                                                const backend::PlacementOptions& options) {
  std::vector<backend::MatrixPlacement> matrices;
  for_each_linear(weights, [&](Linear& l, bool quantizable) {
    if (!l.present()) return;
    backend::MatrixPlacement m;
    m.view = &l.weight;
    m.quantizable = quantizable;
    m.mapped_from_file = source != nullptr && source->maps_file_at(l.weight.data);
    if (&l == &weights.lm_head) m.also_read_as = &weights.embed_tokens;
    matrices.push_back(m);
  });
  TGI_ASSIGN_OR_RETURN(backend::PlacementSummary summary, backend.place_matrices(matrices, options));
  release_unreferenced(weights);
  return summary;
}

}  // namespace tgi::model
