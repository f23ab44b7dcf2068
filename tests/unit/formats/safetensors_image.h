#pragma once
// Builds in-memory .safetensors images for tests: a header text plus a data section.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace tgi::formats::testing {

inline std::vector<std::byte> safetensors_image(const std::string& header, size_t data_bytes,
                                                uint64_t declared_header_len = UINT64_MAX) {
  uint64_t len = declared_header_len == UINT64_MAX ? header.size() : declared_header_len;
  std::vector<std::byte> image(8 + header.size() + data_bytes);
  for (int i = 0; i < 8; ++i) image[i] = static_cast<std::byte>((len >> (8 * i)) & 0xff);
  for (size_t i = 0; i < header.size(); ++i) image[8 + i] = static_cast<std::byte>(header[i]);
  for (size_t i = 0; i < data_bytes; ++i) image[8 + header.size() + i] = static_cast<std::byte>(i & 0xff);
  return image;
}

inline void write_file(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A fresh, empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("tgi-formats-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

}  // namespace tgi::formats::testing
