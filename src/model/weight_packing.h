#pragma once
// Load-time placement of the projection matrices where this CPU's matmul kernels read them
// fastest, so a decode step streams weights from anonymous huge pages:
// - repacked into the layout the kernel wants (kernels::pack_for_matmul), where it has one;
// - otherwise, when the rows are read in place from a mapped file, copied as they are. Page-cache
//   pages are 4 KiB and stay on the kernel's reclaim lists: a bf16 TinyLlama decoding from its
//   mapped GGUF ran at a median of ~40 ms a step but spent 100-370 ms on about one step in ten
//   (p90 97-179 ms), from the same rows copied p90 41-49 ms.
// In memory only: files are never rewritten.
#include <cstdint>
#include <functional>

#include "core/error.h"
#include "kernels/cpu/thread_pool.h"
#include "model/tensor_source.h"
#include "model/weights.h"

namespace tgi::model {

struct PackingSummary {
  int64_t matrices_packed = 0;
  int64_t bytes = 0;  // of the packed copies
  int64_t matrices_copied = 0;
  int64_t bytes_copied = 0;
};

// Packs every present Linear of `weights` the kernel wants packed and copies the other ones whose
// rows `source` maps from a file; both live in ModelWeights::packed_storage. Packed views keep
// their stored rows too (dequantize_row, other ISAs); copied views (and a tied embedding) point
// at the copy. The mapped file pages are unmapped as each matrix is placed (they stay in the page
// cache for the next start), so resident memory holds one copy of the weights, not two.
// `on_progress`, if set, hears the bytes placed so far after each matrix.
Result<PackingSummary> pack_projections(
    ModelWeights& weights, const TensorSource& source, kernels::ThreadPool& pool,
    const std::function<void(int64_t bytes_done, int64_t bytes_total)>& on_progress = {});

}  // namespace tgi::model
