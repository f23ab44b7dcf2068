// libFuzzer harness: GgufFile::parse must turn any byte string into a file or an Error, every
// tensor view it hands out must lie inside the image, and mapping it back to HF must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/gguf_file.h"
#include "formats/gguf_hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> image(reinterpret_cast<const std::byte*>(data), size);
  auto parsed = tgi::formats::GgufFile::parse(image, "<fuzz>");
  if (!parsed.ok()) return 0;
  const auto& file = **parsed;
  size_t touched = 0;
  for (const auto& [key, value] : file.metadata()) {
    touched += key.size();
    if (const auto* s = value.as_string()) touched += s->size();
    if (const auto* array = value.as_array()) touched += array->items.size();
  }
  for (const auto& tensor : file.tensors()) {
    if (tensor.nbytes == 0) continue;
    const std::byte* begin = image.data();
    const std::byte* end = begin + image.size();
    if (tensor.data < begin || tensor.data + tensor.nbytes > end) std::abort();
    touched += static_cast<size_t>(tensor.data[0]) + static_cast<size_t>(tensor.data[tensor.nbytes - 1]);
  }
  // The GGUF -> HF mapping reads arbitrary metadata too.
  if (auto config = tgi::formats::gguf_to_hf_config(file); config.ok()) touched += config->size();
  for (const auto& tensor : file.tensors()) {
    if (auto mapping = tgi::formats::gguf_tensor_to_hf(file, tensor)) touched += mapping->hf_name.size();
  }
  return touched == static_cast<size_t>(-1) ? 1 : 0;
}
