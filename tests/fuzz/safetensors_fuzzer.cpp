// libFuzzer harness: any byte string given to the safetensors parser yields either an Error or
// views that lie entirely inside the input (ASan checks every byte we touch).
#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto file = tgi::formats::SafetensorsFile::parse(bytes, "fuzz");
  if (!file.ok()) {
    if (file.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  unsigned checksum = 0;
  for (const auto& view : (*file)->tensors()) {
    const int64_t elements = view.num_elements();
    if (elements < 0) __builtin_trap();
    if (static_cast<uint64_t>(elements) * tgi::formats::dtype_size(view.dtype) != view.nbytes) __builtin_trap();
    if (view.nbytes > 0 && (view.data < bytes.data() || view.data + view.nbytes > bytes.data() + bytes.size())) {
      __builtin_trap();
    }
    for (size_t i = 0; i < view.nbytes; ++i) checksum += static_cast<unsigned>(view.data[i]);
    if ((*file)->find(view.name) != &view) __builtin_trap();
  }
  for (const auto& [key, value] : (*file)->metadata()) checksum += static_cast<unsigned>(key.size() + value.size());
  return checksum == 0xFFFFFFFFu ? 0 : 0;  // keep the reads from being optimized away
}
