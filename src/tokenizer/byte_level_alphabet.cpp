#include "tokenizer/byte_level_alphabet.h"

#include "tokenizer/utf8.h"

namespace tgi::tokenizer::byte_level {

namespace {

struct Tables {
  std::array<char32_t, 256> chars{};
  std::array<std::string, 256> utf8{};
  Tables() {
    // Printable Latin-1 bytes map to themselves; the rest go to U+0100 upward, in byte order.
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) chars[b] = printable(b) ? static_cast<char32_t>(b) : next++;
    for (int b = 0; b < 256; ++b) utf8[b] = utf8::encode(chars[b]);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t char_for_byte(uint8_t b) { return tables().chars[b]; }
const std::string& utf8_for_byte(uint8_t b) { return tables().utf8[b]; }

int byte_for_char(char32_t c) {
  if (c < 256) {
    const bool printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
    return printable ? static_cast<int>(c) : -1;
  }
  if (c >= 256 && c < 256 + 68) {
    // Reverse of the sequential assignment above.
    static const auto reverse = [] {
      std::array<int, 68> r{};
      int k = 0;
      for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (!printable) r[k++] = b;
      }
      return r;
    }();
    return reverse[c - 256];
  }
  return -1;
}

}  // namespace tgi::tokenizer::byte_level
