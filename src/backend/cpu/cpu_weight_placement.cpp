// Load-time placement of the projection matrices where this CPU's matmul kernels read them fastest,
// so a decode step streams weights from anonymous huge pages:
// - re-encoded first when load-time quantization asks (backend/load_quantization.h);
// - repacked into the layout the kernel wants (kernels::pack_for_matmul), where it has one;
// - otherwise, when the rows are read in place from a mapped file, copied as they are. Page-cache
//   pages are 4 KiB and stay on the kernel's reclaim lists: a bf16 TinyLlama decoding from its
//   mapped GGUF ran at a median of ~40 ms a step but spent 100-370 ms on about one step in ten
//   (p90 97-179 ms), from the same rows copied p90 41-49 ms.
// In memory only: files are never rewritten.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/load_quantization.h"
#include "kernels/quant/quant.h"

namespace tgi::backend::cpu {
namespace {

using kernels::WeightFormat;
using kernels::WeightView;

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

// `w` re-encoded as `format`, rows split over the pool; the bytes go to `storage`.
Result<WeightView> encode(const WeightView& w, WeightFormat format, kernels::ThreadPool& pool,
                          std::vector<std::byte>& storage) {
  const int64_t row_bytes = kernels::weight_row_bytes(format, w.cols);
  storage.resize(static_cast<size_t>(w.rows * row_bytes));
  const formats::GgmlType type = kernels::ggml_type_for(format);
  std::atomic<bool> failed{false};
  pool.parallel_for(w.rows, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = begin; r < end; ++r) {
      kernels::dequantize_row(w, r, row.data());
      if (!kernels::quant::quantize_row(type, row.data(), storage.data() + r * row_bytes, w.cols).ok())
        failed = true;
    }
  });
  if (failed)
    return Error::make(ErrorKind::kInternal, "quantizing a [{}, {}] matrix to {} failed", w.rows, w.cols,
                       kernels::to_string(format));
  return WeightView{format, w.rows, w.cols, storage.data(), row_bytes};
}

}  // namespace

Result<PlacementSummary> CpuBackend::place_matrices(std::span<const MatrixPlacement> matrices,
                                                    const PlacementOptions& options) {
  PlacementSummary summary;
  // Whether each matrix's rows are (still) page cache of the mapped file.
  std::vector<char> mapped(matrices.size());
  for (size_t i = 0; i < matrices.size(); ++i) mapped[i] = matrices[i].mapped_from_file;

  if (options.quantize) {
    const WeightFormat target = *options.quantize;
    if (!kernels::quant::can_quantize(kernels::ggml_type_for(target)) || !kernels::is_block_format(target))
      return Error::make(ErrorKind::kUnsupported, "load-time quantization to {} is not supported",
                         kernels::to_string(target));
    for (size_t i = 0; i < matrices.size(); ++i) {
      WeightView& w = *matrices[i].view;
      if (!matrices[i].quantizable || w.data == nullptr) continue;
      const auto format = quantized_format_for(w.format, w.cols, target);
      if (!format) {
        if (!kernels::is_block_format(w.format)) ++summary.matrices_kept_unquantized;
        continue;
      }
      auto storage = std::make_unique<std::vector<std::byte>>();
      TGI_ASSIGN_OR_RETURN(w, encode(w, *format, pool_, *storage));
      encoded_.push_back(std::move(storage));
      mapped[i] = false;
      ++summary.matrices_quantized;
    }
  }

  struct Placement {
    size_t index;
    int64_t bytes;
    bool pack;  // else copy the stored rows, one after another
  };
  // The stored rows' extent (a view's last row may end before a whole row_stride).
  const auto stored_bytes = [](const WeightView& w) {
    return (w.rows - 1) * w.row_stride + kernels::weight_row_bytes(w.format, w.cols);
  };
  std::vector<Placement> chosen;
  int64_t total = 0;
  for (size_t i = 0; i < matrices.size(); ++i) {
    const WeightView& w = *matrices[i].view;
    if (w.data == nullptr || w.packed) continue;
    if (const int64_t packed = kernels::packed_matmul_bytes(w); packed > 0) {
      chosen.push_back({i, packed, true});
    } else if (mapped[i]) {
      chosen.push_back({i, w.rows * kernels::weight_row_bytes(w.format, w.cols), false});
    } else {
      continue;
    }
    total += (chosen.back().bytes + 63) / 64 * 64;  // each starting on a cache line
  }
  if (chosen.empty()) return summary;
  TGI_ASSIGN_OR_RETURN(PageBuffer buffer, PageBuffer::allocate(static_cast<size_t>(total)));
  std::byte* next = buffer.data();
  int64_t placed = 0;
  for (const Placement& p : chosen) {
    const MatrixPlacement& m = matrices[p.index];
    WeightView& view = *m.view;
    const WeightView stored = view;
    // A tied LM head shares its rows with the embedding lookup, which keeps reading them.
    // (The same rows, all of them: a rank's slice of a tied head is a matrix of its own.)
    const bool tied = m.also_read_as != nullptr && m.also_read_as->data == stored.data &&
                      m.also_read_as->rows == stored.rows;
    if (p.pack) {
      view = kernels::pack_for_matmul(stored, next, pool_);
      ++summary.matrices_packed;
      summary.bytes_packed += p.bytes;
    } else {
      std::byte* copy = next;
      const int64_t row_bytes = kernels::weight_row_bytes(stored.format, stored.cols);
      pool_.parallel_for(stored.rows, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          std::memcpy(copy + r * row_bytes, stored.row(r), static_cast<size_t>(row_bytes));
      });
      view.data = copy;
      view.row_stride = row_bytes;
      if (tied) *m.also_read_as = view;
      ++summary.matrices_copied;
      summary.bytes_copied += p.bytes;
    }
    if (!tied || !p.pack)
      reclaim_pages(stored.data, static_cast<size_t>(stored_bytes(stored)), mapped[p.index]);
    next += (p.bytes + 63) / 64 * 64;
    placed += (p.bytes + 63) / 64 * 64;
    if (options.on_progress) options.on_progress(placed, total);
  }
  placed_.push_back(std::move(buffer));
  return summary;
}

}  // namespace tgi::backend::cpu
