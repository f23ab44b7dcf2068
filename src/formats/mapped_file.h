#pragma once
// A read-only, private mmap of a whole file. The mapping lives as long as the object; views
// handed out by readers point into it, so readers keep it alive with a shared_ptr.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

#include "core/error.h"

namespace tgi::formats {

class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tgi::formats
