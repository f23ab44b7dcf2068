#include "model/weight_packing.h"

#include <sys/mman.h>
#include <unistd.h>

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
    // A tied LM head shares its rows with the embedding lookup, which keeps reading them.
    if (l.weight.data != weights.embed_tokens.data)
      reclaim_pages(l.weight.data, static_cast<size_t>(l.weight.rows * l.weight.row_stride));
    weights.owned.push_back(std::move(storage));
    ++summary.matrices_packed;
    summary.bytes += bytes;
  });
  return summary;
}

}  // namespace tgi::model
