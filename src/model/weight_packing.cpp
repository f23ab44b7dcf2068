#include "model/weight_packing.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "kernels/cpu/matmul.h"

namespace tgi::model {

namespace {

// Gives back the whole pages of [data, data + bytes) once a matrix has been placed: its stored rows
// are read again only off the hot path (packed), or never (copied). Rows mapped from the file are
// unmapped from this process (MADV_DONTNEED) but stay in the page cache, so resident memory holds
// one copy of the weights and the next start of the same model reads them from memory, not disk
// (MADV_PAGEOUT evicted them: every restart re-read the whole file). Anonymous rows are only
// offered to swap (MADV_PAGEOUT): they are the sole copy. A hint: failure is harmless.
void reclaim_pages(const std::byte* data, size_t bytes, bool mapped_from_file) {
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (begin < end)
    madvise(reinterpret_cast<void*>(begin), end - begin, mapped_from_file ? MADV_DONTNEED : MADV_PAGEOUT);
}

}  // namespace

Result<PackingSummary> pack_projections(
    ModelWeights& weights, const TensorSource& source, kernels::ThreadPool& pool,
    const std::function<void(int64_t bytes_done, int64_t bytes_total)>& on_progress) {
  struct Placement {
    Linear* linear;
    int64_t bytes;
    bool pack;  // else copy the stored rows, one after another
  };
  // The stored rows' extent (a view's last row may end before a whole row_stride).
  const auto stored_bytes = [](const kernels::WeightView& w) {
    return (w.rows - 1) * w.row_stride + kernels::weight_row_bytes(w.format, w.cols);
  };
  std::vector<Placement> chosen;
  int64_t total = 0;
  for_each_linear(weights, [&](Linear& l, bool) {
    if (!l.present() || l.weight.packed) return;
    if (const int64_t packed = kernels::packed_matmul_bytes(l.weight); packed > 0) {
      chosen.push_back({&l, packed, true});
    } else if (source.maps_file_at(l.weight.data)) {
      chosen.push_back(
          {&l, l.weight.rows * kernels::weight_row_bytes(l.weight.format, l.weight.cols), false});
    } else {
      return;
    }
    total += (chosen.back().bytes + 63) / 64 * 64;  // each starting on a cache line
  });
  PackingSummary summary;
  if (chosen.empty()) return summary;
  TGI_ASSIGN_OR_RETURN(PageBuffer buffer, PageBuffer::allocate(static_cast<size_t>(total)));
  std::byte* next = buffer.data();
  int64_t placed = 0;
  for (const Placement& p : chosen) {
    Linear& l = *p.linear;
    const kernels::WeightView stored = l.weight;
    // A tied LM head shares its rows with the embedding lookup, which keeps reading them.
    const bool tied = stored.data == weights.embed_tokens.data;
    if (p.pack) {
      l.weight = kernels::pack_for_matmul(stored, next, pool);
      ++summary.matrices_packed;
      summary.bytes += p.bytes;
    } else {
      std::byte* copy = next;
      const int64_t row_bytes = kernels::weight_row_bytes(stored.format, stored.cols);
      pool.parallel_for(stored.rows, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          std::memcpy(copy + r * row_bytes, stored.row(r), static_cast<size_t>(row_bytes));
      });
      l.weight.data = copy;
      l.weight.row_stride = row_bytes;
      if (tied) weights.embed_tokens = l.weight;
      ++summary.matrices_copied;
      summary.bytes_copied += p.bytes;
    }
    if (!tied || !p.pack)
      reclaim_pages(stored.data, static_cast<size_t>(stored_bytes(stored)), source.maps_file_at(stored.data));
    next += (p.bytes + 63) / 64 * 64;
    placed += (p.bytes + 63) / 64 * 64;
    if (on_progress) on_progress(placed, total);
  }
  weights.packed_storage.push_back(std::move(buffer));
  return summary;
}

}  // namespace tgi::model
