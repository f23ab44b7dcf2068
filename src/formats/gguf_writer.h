#pragma once
// GGUF v3 writer: metadata and tensor infos first, then each tensor's bytes at an aligned offset.
// Tensor bytes are produced one tensor at a time, so converting a large model never holds more
// than one encoded tensor in memory.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf_types.h"
#include "formats/gguf_value.h"

namespace tgi::formats {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32);

  // Adds or replaces a metadata entry (entries keep their first insertion order).
  void set(const std::string& key, GgufValue value);
  // Declares a tensor with ggml-order dims (dims[0] contiguous). `data`, if given, is its encoded
  // bytes; otherwise the producer passed to write() supplies them.
  Result<void> add_tensor(std::string name, GgmlType type, std::vector<int64_t> dims,
                          std::optional<std::vector<std::byte>> data = std::nullopt);

  size_t tensor_count() const { return tensors_.size(); }

  // Fills `out` with the encoded bytes of tensor `index` (declaration order).
  using TensorProducer = std::function<Result<void>(size_t index, std::vector<std::byte>& out)>;
  Result<void> write(std::ostream& out, const TensorProducer& produce = nullptr) const;
  // Writes to `path` via a temporary file renamed into place on success.
  Result<void> write_file(const std::filesystem::path& path, const TensorProducer& produce = nullptr) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
    uint64_t nbytes = 0;
    std::optional<std::vector<std::byte>> data;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

// Encoded size of a tensor of `type` with ggml-order `dims`, or an Error if a row is not a whole
// number of blocks.
Result<uint64_t> ggml_tensor_nbytes(GgmlType type, const std::vector<int64_t>& dims);

}  // namespace tgi::formats
