#pragma once
// UTF-8 primitives with Rust's semantics: tokenizers works on Rust `&str`, so invalid input is
// repaired exactly as String::from_utf8_lossy does (one U+FFFD per maximal invalid subpart). In
// core because the tokenizer and the grammar engine both read and write UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tgi::utf8 {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

// Length of the character starting with this lead byte (1 for stray continuation bytes).
inline size_t char_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return lead < 0xC0 ? 1 : 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the character at s[i] (s must be valid UTF-8) and advances i past it.
inline char32_t next(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  const size_t n = char_len(b0);
  char32_t c = b0 & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return c;
}

inline void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

inline size_t encoded_len(char32_t c) {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

inline std::string encode(char32_t c) {
  std::string s;
  append(s, c);
  return s;
}

// Number of bytes of the well-formed character at s[i], or 0 if none starts there.
size_t valid_char_len_at(std::string_view s, size_t i);
bool is_valid(std::string_view s);
// String::from_utf8_lossy.
std::string repair(std::string_view s);
size_t count_chars(std::string_view s);
bool ends_with_replacement(std::string_view s);

// Lossless decoding of text that may be ill-formed (chat templates and the values they render).
// A well-formed character decodes to its scalar value; a byte that starts no well-formed character
// decodes, on its own, to the lone surrogate U+DC80 + byte (Python's "surrogateescape"), which no
// well-formed input can produce and append_lossless() turns back into that byte. Decoding and
// re-encoding therefore never changes the input, valid or not.
inline constexpr char32_t kEscapedByteBase = 0xDC00;

inline bool is_escaped_byte(char32_t c) {
  return c >= 0xDC80 && c <= 0xDCFF;
}

inline char32_t next_lossless(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if (valid_char_len_at(s, i) == 0) {
    ++i;
    return kEscapedByteBase + b0;
  }
  return next(s, i);
}

inline void append_lossless(std::string& out, char32_t c) {
  if (is_escaped_byte(c)) {
    out.push_back(static_cast<char>(c - kEscapedByteBase));
  } else {
    append(out, c);
  }
}

// Number of characters next_lossless() decodes s into (count_chars() for valid UTF-8).
size_t count_chars_lossless(std::string_view s);

}  // namespace tgi::utf8
