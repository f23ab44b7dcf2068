#include "model/gguf_tensor_source.h"

#include <algorithm>
#include <cstring>

#include "formats/gguf_hf_config.h"
#include "formats/gguf_names.h"

namespace tgi::model {
namespace {

// Rows of `heads` heads in llama.cpp's order (row h*D + 2i + j holds HF row h*D + j*D/2 + i)
// back to Hugging Face's; a row is `row_bytes` opaque bytes (a block-format row included).
std::vector<std::byte> unpermute_rows(const std::byte* src, int64_t rows, size_t row_bytes, int64_t heads) {
  std::vector<std::byte> out(static_cast<size_t>(rows) * row_bytes);
  const int64_t head_rows = rows / heads, half = head_rows / 2;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t gguf_row = h * head_rows + 2 * i + j;
        const int64_t hf_row = h * head_rows + j * half + i;
        std::memcpy(out.data() + hf_row * row_bytes, src + gguf_row * row_bytes, row_bytes);
      }
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<GgufTensorSource>> GgufTensorSource::open(std::unique_ptr<formats::GgufFile> file) {
  std::unique_ptr<GgufTensorSource> source(new GgufTensorSource(std::move(file)));
  TGI_TRY(source->index());
  return source;
}

Result<void> GgufTensorSource::index() {
  for (const formats::GgufTensor& t : file_->tensors()) {
    auto mapping = formats::gguf_tensor_to_hf(*file_, t);
    if (!mapping) continue;  // rope_freqs.weight (read with the config) or a name no architecture here uses
    SourceTensor s{mapping->hf_name, kernels::weight_format_for_ggml(t.type), std::string(formats::ggml_type_name(t.type)),
                   t.shape(), t.data, t.nbytes};
    if (mapping->unpermute_heads > 0) {
      // Rows of a matrix, or elements of a bias vector (those must be plain floats).
      const int64_t rows = s.shape.empty() ? 0 : s.shape.front(), heads = mapping->unpermute_heads;
      if (s.shape.size() > 2 || rows <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0)
        return Error::make(ErrorKind::kCorruptData, "GGUF tensor '{}' has {} rows, not {} heads of an even size", t.name,
                           rows, heads);
      if (s.shape.size() == 1 && (!s.format || kernels::is_block_format(*s.format)))
        return Error::make(ErrorKind::kUnsupported, "GGUF tensor '{}' is a {} vector; q/k biases must be F32/F16/BF16",
                           t.name, s.stored_type);
      const size_t row_bytes = t.nbytes / static_cast<size_t>(rows);
      if (row_bytes == 0 || row_bytes * static_cast<size_t>(rows) != t.nbytes)
        return Error::make(ErrorKind::kCorruptData,
                           "GGUF tensor '{}' ({} bytes) cannot be split into {} rows", t.name, t.nbytes,
                           rows);
      unpermuted_.push_back(unpermute_rows(t.data, rows, row_bytes, heads));
      s.data = unpermuted_.back().data();
      s.nbytes = unpermuted_.back().size();
    }
    const std::string name = s.name;
    if (!tensors_.emplace(name, std::move(s)).second)
      return Error::make(ErrorKind::kCorruptData, "GGUF file holds tensor '{}' twice (as '{}')", name, t.name);
  }
  return {};
}

Result<const SourceTensor*> GgufTensorSource::require(std::string_view hf_name) const {
  if (const auto it = tensors_.find(hf_name); it != tensors_.end()) return &it->second;
  const auto gguf_name = formats::hf_to_gguf_tensor_name(hf_name);
  return Error::make(ErrorKind::kNotFound, "tensor \"{}\" (GGUF \"{}\") not found in the GGUF file", hf_name,
                     gguf_name.value_or("?"));
}

bool GgufTensorSource::maps_file_at(const std::byte* data) const {
  const auto it = std::find_if(tensors_.begin(), tensors_.end(),
                               [&](const auto& named) { return named.second.holds(data); });
  if (it == tensors_.end()) return false;
  // Un-permuted q/k rows live in buffers of this source, not in the file.
  return std::none_of(unpermuted_.begin(), unpermuted_.end(),
                      [&](const auto& rows) { return rows.data() == it->second.data; });
}

}  // namespace tgi::model
