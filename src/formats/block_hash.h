#pragma once
// The frame SHA-1 and SHA-256 share (Merkle–Damgård): 64-byte blocks fed to a compression
// function over 32-bit state words, then padding with 0x80, zeros and the big-endian bit length;
// the digest is the state words in big-endian hex. Each algorithm supplies only its compression.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace tgi::formats {

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

template <size_t kStateWords>
class BlockHash {
 public:
  using State = std::array<uint32_t, kStateWords>;
  using Compress = void (*)(State& state, const uint8_t* block);

  BlockHash(State initial, Compress compress) : state_(initial), compress_(compress) {}

  void update(std::span<const std::byte> bytes) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    size_t n = bytes.size();
    total_bytes_ += n;
    while (n > 0) {
      if (buffered_ == 0 && n >= kBlock) {  // whole blocks straight from the input
        compress_(state_, p);
        p += kBlock;
        n -= kBlock;
        continue;
      }
      const size_t take = std::min(n, kBlock - buffered_);
      std::memcpy(buffer_.data() + buffered_, p, take);
      buffered_ += take;
      p += take;
      n -= take;
      if (buffered_ == kBlock) {
        compress_(state_, buffer_.data());
        buffered_ = 0;
      }
    }
  }

  // Finishes the hash; call once.
  std::string hex_digest() {
    const uint64_t bit_length = total_bytes_ * 8;
    const std::byte pad_start{0x80};
    update({&pad_start, 1});
    const std::byte zero{0};
    while (buffered_ != kBlock - 8) update({&zero, 1});
    std::byte length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<std::byte>(bit_length >> (56 - 8 * i));
    update(length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (uint32_t word : state_)
      for (int shift = 28; shift >= 0; shift -= 4) hex.push_back(kHex[(word >> shift) & 0xf]);
    return hex;
  }

 private:
  static constexpr size_t kBlock = 64;
  State state_;
  Compress compress_;
  std::array<uint8_t, kBlock> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace tgi::formats
