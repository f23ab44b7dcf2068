#pragma once
// Load-time repacking of the projection matrices into the layout this CPU's matmul kernel reads
// fastest (kernels::pack_for_matmul), so a decode step streams weights without transposing them.
// In memory only: files are never rewritten. On CPUs whose kernels read the stored rows directly
// (AVX2) nothing is packed and nothing is allocated.
#include <cstdint>

#include "core/error.h"
#include "kernels/cpu/thread_pool.h"
#include "model/weights.h"

namespace tgi::model {

struct PackingSummary {
  int64_t matrices_packed = 0;
  int64_t bytes = 0;
};

// Packs every present Linear of `weights` the kernel wants packed; the packed copies live in
// ModelWeights::packed_storage and the views keep their stored rows too (dequantize_row, other ISAs).
// The stored rows' mapped file pages are handed back to the kernel as each matrix is packed, so
// resident memory holds one copy of the weights, not two.
Result<PackingSummary> pack_projections(ModelWeights& weights, kernels::ThreadPool& pool);

}  // namespace tgi::model
