#pragma once
// SHA-256 (FIPS 180-4), streaming. The hub's ETag of an LFS file (weights) is its SHA-256.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tgi::formats {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> bytes);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace tgi::formats
