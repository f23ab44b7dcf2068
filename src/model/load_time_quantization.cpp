#include "model/load_time_quantization.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>

#include "kernels/cpu/quant/quant.h"

namespace tgi::model {
namespace {

using kernels::WeightFormat;
using kernels::WeightView;

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
      if (!kernels::quant::quantize_row(type, row.data(), storage.data() + r * row_bytes, w.cols).ok()) failed = true;
    }
  });
  if (failed)
    return Error::make(ErrorKind::kInternal, "quantizing a [{}, {}] matrix to {} failed", w.rows, w.cols,
                       kernels::to_string(format));
  return WeightView{format, w.rows, w.cols, storage.data(), row_bytes};
}

// Drops owned buffers (e.g. gpt2's transposed f32 copies) that no view points into any more.
void release_unreferenced(ModelWeights& w) {
  std::vector<uintptr_t> used;
  auto note = [&](const WeightView& v) {
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

Result<WeightFormat> parse_load_quantization(std::string_view name) {
  if (name == "q8_0") return WeightFormat::kQ8_0;
  if (name == "q4_0") return WeightFormat::kQ4_0;
  if (name == "q4_k") return WeightFormat::kQ4_K;
  return Error::make(ErrorKind::kInvalidArgument, "unknown load-time quantization '{}' (expected q8_0, q4_0 or q4_k)",
                     std::string(name));
}

std::optional<WeightFormat> quantized_format_for(WeightFormat stored, int64_t cols, WeightFormat target) {
  if (kernels::is_block_format(stored) || cols <= 0) return std::nullopt;
  if (cols % kernels::weight_format_block_elements(target) == 0) return target;
  if (target == WeightFormat::kQ4_K && cols % kernels::weight_format_block_elements(WeightFormat::kQ4_0) == 0)
    return WeightFormat::kQ4_0;
  return std::nullopt;
}

Result<QuantizationSummary> quantize_projections(ModelWeights& weights, WeightFormat target,
                                                 kernels::ThreadPool& pool) {
  if (!kernels::quant::can_quantize(kernels::ggml_type_for(target)) || !kernels::is_block_format(target))
    return Error::make(ErrorKind::kUnsupported, "load-time quantization to {} is not supported",
                       kernels::to_string(target));
  QuantizationSummary summary;
  std::vector<Linear*> chosen;
  for_each_linear(weights, [&](Linear& l, bool quantize) {
    if (!quantize || !l.present()) return;
    if (quantized_format_for(l.weight.format, l.weight.cols, target)) {
      chosen.push_back(&l);
    } else if (!kernels::is_block_format(l.weight.format)) {
      ++summary.matrices_kept;
    }
  });
  for (Linear* l : chosen) {
    const WeightFormat format = *quantized_format_for(l->weight.format, l->weight.cols, target);
    auto storage = std::make_unique<std::vector<std::byte>>();
    TGI_ASSIGN_OR_RETURN(l->weight, encode(l->weight, format, pool, *storage));
    weights.owned.push_back(std::move(storage));
    ++summary.matrices_quantized;
  }
  release_unreferenced(weights);
  return summary;
}

}  // namespace tgi::model
