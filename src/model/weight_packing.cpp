#include "model/weight_packing.h"

#include "kernels/cpu/matmul.h"

namespace tgi::model {

PackingSummary pack_projections(ModelWeights& weights, kernels::ThreadPool& pool) {
  PackingSummary summary;
  for_each_linear(weights, [&](Linear& l, bool) {
    if (!l.present() || l.weight.packed) return;
    const int64_t bytes = kernels::packed_matmul_bytes(l.weight);
    if (bytes == 0) return;
    // 64 spare bytes to start the packed rows on a cache line.
    auto storage = std::make_unique<std::vector<std::byte>>(static_cast<size_t>(bytes) + 64);
    const auto address = reinterpret_cast<uintptr_t>(storage->data());
    std::byte* aligned = storage->data() + (64 - address % 64) % 64;
    l.weight = kernels::pack_for_matmul(l.weight, aligned, pool);
    weights.owned.push_back(std::move(storage));
    ++summary.matrices_packed;
    summary.bytes += bytes;
  });
  return summary;
}

}  // namespace tgi::model
