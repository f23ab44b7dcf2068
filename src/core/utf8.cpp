#include "core/utf8.h"

namespace tgi::utf8 {

namespace {
bool is_cont(unsigned char b) {
  return (b & 0xC0) == 0x80;
}
}  // namespace

size_t valid_char_len_at(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  const size_t avail = s.size() - i;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b0 >= 0xC2 && b0 <= 0xDF) return avail >= 2 && is_cont(at(1)) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (avail < 2) return 0;
    const unsigned char b1 = at(1);
    const bool ok1 = b0 == 0xE0   ? (b1 >= 0xA0 && b1 <= 0xBF)
                     : b0 == 0xED ? (b1 >= 0x80 && b1 <= 0x9F)
                                  : is_cont(b1);
    if (!ok1) return 0;
    return avail >= 3 && is_cont(at(2)) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (avail < 2) return 0;
    const unsigned char b1 = at(1);
    const bool ok1 = b0 == 0xF0   ? (b1 >= 0x90 && b1 <= 0xBF)
                     : b0 == 0xF4 ? (b1 >= 0x80 && b1 <= 0x8F)
                                  : is_cont(b1);
    if (!ok1) return 0;
    if (avail < 3 || !is_cont(at(2))) return 0;
    return avail >= 4 && is_cont(at(3)) ? 4 : 0;
  }
  return 0;
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    const size_t n = valid_char_len_at(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Length of the maximal prefix of an ill-formed sequence at s[i] that could start a valid
// character (at least 1): that whole prefix becomes one U+FFFD, as in Rust and the Unicode spec.
static size_t invalid_prefix_len(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const size_t avail = s.size() - i;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  size_t k = 1;
  if (k < avail && at(k) >= lo && at(k) <= hi) {
    ++k;
    while (k < need && k < avail && is_cont(at(k))) ++k;
  }
  return k;
}

std::string repair(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    const size_t n = valid_char_len_at(s, i);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append(kReplacementUtf8);
      i += invalid_prefix_len(s, i);
    }
  }
  return out;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char b : s) n += !is_cont(b);
  return n;
}

size_t count_chars_lossless(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else {
      next_lossless(s, i);
    }
  }
  return n;
}

bool ends_with_replacement(std::string_view s) {
  return s.size() >= 3 && s.substr(s.size() - 3) == kReplacementUtf8;
}

}  // namespace tgi::utf8
