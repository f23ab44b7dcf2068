#pragma once
// A weight matrix as the kernels see it: [rows][cols] in some storage format, row-major, rows
// `row_stride` bytes apart. It points into mmap'd checkpoint memory or a repacked buffer owned by
// the model; kernels never copy it. Quantized block formats are added to WeightFormat beside the
// float ones (a row then holds cols/block_size blocks).
#include <cstddef>
#include <cstdint>

namespace tgi::kernels {

enum class WeightFormat : uint8_t { kF32, kBF16, kF16 };

size_t weight_format_element_bytes(WeightFormat format);
const char* to_string(WeightFormat format);

struct WeightView {
  WeightFormat format = WeightFormat::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const std::byte* data = nullptr;
  int64_t row_stride = 0;  // bytes between consecutive rows

  const std::byte* row(int64_t r) const { return data + r * row_stride; }
  // Rows [begin, begin + count) as their own matrix (zero-copy; used to split fused projections).
  WeightView slice_rows(int64_t begin, int64_t count) const {
    WeightView v = *this;
    v.data = row(begin);
    v.rows = count;
    return v;
  }
};

// Widens one row of `w` into f32 (`out` holds w.cols floats).
void dequantize_row(const WeightView& w, int64_t r, float* out);

}  // namespace tgi::kernels
