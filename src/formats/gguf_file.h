#pragma once
// GGUF (v2/v3, little-endian) reader: mmap'd, metadata parsed up front, tensors as zero-copy
// views into the mapping. Every structural problem of a file — truncation, counts that overflow,
// offsets out of range or misaligned, unknown types — is an Error naming it, never UB.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "formats/gguf_types.h"
#include "formats/gguf_value.h"
#include "formats/tensor_view.h"

namespace tgi::formats {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian uint32
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::kF32;
  // ggml order: dims[0] is the contiguous (innermost) dimension. For a weight of HF shape
  // [out, in], dims = {in, out}.
  std::vector<int64_t> dims;
  uint64_t offset = 0;  // relative to the start of the data section
  const std::byte* data = nullptr;  // valid while the owning GgufFile lives
  size_t nbytes = 0;

  int64_t num_elements() const;
  // Row-major shape (outermost first), the order safetensors and the model code use.
  std::vector<int64_t> shape() const;
  // A TensorView for the plain-float types (F32/F16/BF16); nullopt for block formats.
  std::optional<TensorView> as_tensor_view() const;
};

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> open(const std::filesystem::path& path);
  // Parses an in-memory image (fuzzer, tests); `bytes` must outlive the object.
  static Result<std::unique_ptr<GgufFile>> parse(std::span<const std::byte> bytes,
                                                 std::string source_name = "<memory>");
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of tensor data

  // Metadata in file order, and by key.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find_value(std::string_view key) const;
  // Typed look-ups; a missing key or wrong type is an Error naming the key.
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_double(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  // "general.architecture", or an Error.
  Result<std::string> architecture() const { return get_string("general.architecture"); }

  const std::vector<GgufTensor>& tensors() const { return tensors_; }  // in file order
  const GgufTensor* find_tensor(std::string_view name) const;

 private:
  struct Mapping;
  GgufFile() = default;
  Result<void> parse_image(std::span<const std::byte> bytes, const std::string& source);

  std::unique_ptr<Mapping> mapping_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace tgi::formats
