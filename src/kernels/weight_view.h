#pragma once
// A weight matrix as the kernels see it: [rows][cols] in some storage format, row-major, rows
// `row_stride` bytes apart. It points into mmap'd checkpoint memory or a repacked buffer owned by
// the model; kernels never copy it. Block formats are ggml's GGUF encodings, byte for byte (see
// kernels/quant/block_formats.h): a row then holds cols / block_elements blocks, so a GGUF
// tensor is usable in place.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "formats/gguf_types.h"

namespace tgi::kernels {

enum class WeightFormat : uint8_t {
  kF32,
  kBF16,
  kF16,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ2_K,
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
};

bool is_block_format(WeightFormat format);
// Bytes of one element for the float formats; 0 for block formats (use weight_row_bytes).
size_t weight_format_element_bytes(WeightFormat format);
// Elements per block (1 for float formats).
int64_t weight_format_block_elements(WeightFormat format);
// Bytes a row of `cols` elements takes (cols must be a multiple of the block size).
int64_t weight_row_bytes(WeightFormat format, int64_t cols);
const char* to_string(WeightFormat format);

// The same encoding on both sides of the GGUF boundary.
std::optional<WeightFormat> weight_format_for_ggml(formats::GgmlType type);
formats::GgmlType ggml_type_for(WeightFormat format);

struct WeightView {
  WeightFormat format = WeightFormat::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const std::byte* data = nullptr;
  int64_t row_stride = 0;  // bytes between consecutive rows
  // The same matrix repacked at load for this CPU's matmul kernel (pack_for_matmul in
  // kernels/cpu/matmul.h), or null. `data` stays valid: other code paths read the rows.
  const std::byte* packed = nullptr;
  int64_t packed_group_stride = 0;  // bytes per group of kPackedGroupRows rows

  static constexpr int64_t kPackedGroupRows = 16;

  const std::byte* row(int64_t r) const { return data + r * row_stride; }
  // Rows [begin, begin + count) as their own matrix (zero-copy; used to split fused projections).
  // The packed copy comes along when `begin` starts one of its row groups.
  WeightView slice_rows(int64_t begin, int64_t count) const {
    WeightView v = *this;
    v.data = row(begin);
    v.rows = count;
    if (packed && begin % kPackedGroupRows == 0) {
      v.packed = packed + begin / kPackedGroupRows * packed_group_stride;
    } else {
      v.packed = nullptr;
      v.packed_group_stride = 0;
    }
    return v;
  }
  // Columns [begin, begin + count) of every row as their own matrix (zero-copy: the rows keep their
  // stride). For a block format `begin` and `count` must be whole blocks. No packed copy.
  WeightView slice_cols(int64_t begin, int64_t count) const {
    WeightView v = *this;
    v.data = data + weight_row_bytes(format, begin);
    v.cols = count;
    v.packed = nullptr;
    v.packed_group_stride = 0;
    return v;
  }
};

// Widens one row of `w` into f32 (`out` holds w.cols floats).
void dequantize_row(const WeightView& w, int64_t r, float* out);

}  // namespace tgi::kernels
