#pragma once
// SHA-1, streaming. Only for verifying the hub's ETag of a regular (non-LFS) git file, which is
// the git blob id: sha1("blob <size>\0" + content). Not used for anything security-relevant.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tgi::formats {

class Sha1 {
 public:
  Sha1();
  void update(std::span<const std::byte> bytes);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 5> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace tgi::formats
