#include "model/weight_packing.h"

#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "kernels/cpu/matmul.h"

namespace tgi::model {

namespace {

// Asks the kernel to reclaim the whole pages of [data, data + bytes): the stored rows of a packed
// matrix are read again only off the hot path. Mapped file pages are dropped (and re-read from
// the file if ever touched); anonymous memory stays where it is (no swap). A hint: failure is
// harmless.
void reclaim_pages(const std::byte* data, size_t bytes) {
  static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (begin < end) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
}

}  // namespace

Result<PackingSummary> pack_projections(ModelWeights& weights, kernels::ThreadPool& pool) {
  // One buffer for every packed matrix, each starting on a cache line.
  std::vector<Linear*> chosen;
  std::vector<int64_t> sizes;
  int64_t total = 0;
  for_each_linear(weights, [&](Linear& l, bool) {
    if (!l.present() || l.weight.packed) return;
    const int64_t bytes = kernels::packed_matmul_bytes(l.weight);
    if (bytes == 0) return;
    chosen.push_back(&l);
    sizes.push_back(bytes);
    total += (bytes + 63) / 64 * 64;
  });
  PackingSummary summary;
  if (chosen.empty()) return summary;
  TGI_ASSIGN_OR_RETURN(PageBuffer buffer, PageBuffer::allocate(static_cast<size_t>(total)));
  std::byte* next = buffer.data();
  for (size_t i = 0; i < chosen.size(); ++i) {
    Linear& l = *chosen[i];
    l.weight = kernels::pack_for_matmul(l.weight, next, pool);
    next += (sizes[i] + 63) / 64 * 64;
    // A tied LM head shares its rows with the embedding lookup, which keeps reading them.
    if (l.weight.data != weights.embed_tokens.data)
      reclaim_pages(l.weight.data, static_cast<size_t>(l.weight.rows * l.weight.row_stride));
    ++summary.matrices_packed;
    summary.bytes += sizes[i];
  }
  weights.packed_storage.push_back(std::move(buffer));
  return summary;
}

}  // namespace tgi::model
