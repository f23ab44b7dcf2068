#pragma once
// safetensors reader: mmap'd, zero-copy views, single file or sharded via
// model.safetensors.index.json. Every structural problem of a file is an Error, never UB.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/tensor_view.h"

namespace tgi::formats {

class MappedFile;  // read-only mmap of a whole file

// One .safetensors file.
class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::filesystem::path& path);
  // Parses an in-memory image (used by the fuzzer and tests); `bytes` must outlive the object.
  static Result<std::unique_ptr<SafetensorsFile>> parse(std::span<const std::byte> bytes,
                                                        std::string source_name = "<memory>");
  ~SafetensorsFile();

  const std::vector<TensorView>& tensors() const { return tensors_; }  // in file order
  const TensorView* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The path (or the name given to parse()) used in error messages.
  const std::string& source_name() const { return source_name_; }

  // Largest header parse() accepts; a bigger length field is treated as hostile.
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

 private:
  SafetensorsFile() = default;
  std::shared_ptr<MappedFile> mapping_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
  std::string source_name_;
};

// All weights of a model directory: model.safetensors, or the shards listed by
// model.safetensors.index.json, or (fallback) every *.safetensors file in the directory.
class SafetensorsModel {
 public:
  static Result<std::unique_ptr<SafetensorsModel>> open_dir(const std::filesystem::path& dir);

  const TensorView* find(std::string_view name) const;
  // Like find(), but a missing tensor is an Error naming it.
  Result<const TensorView*> require(std::string_view name) const;
  std::vector<const TensorView*> all() const;  // sorted by name
  // The files behind the tensors (one, or one per shard), in the order they were opened.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*, std::less<>> by_name_;
};

}  // namespace tgi::formats
