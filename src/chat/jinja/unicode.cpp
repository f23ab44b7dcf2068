#include "chat/jinja/unicode.h"

#include <unicode/ucasemap.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <memory>
#include <vector>

namespace tgi::chat::jinja {

std::vector<uint32_t> to_code_points(std::string_view s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) cps.push_back(utf8::next_lossless(s, i));
  return cps;
}

std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t k = begin; k < end; ++k) utf8::append_lossless(out, cps[k]);
  return out;
}

size_t code_point_count(std::string_view s) {
  return utf8::count_chars_lossless(s);
}

bool is_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

bool is_printable(uint32_t cp) {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa1) || cp == 0xad) return false;
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
      (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb))
    return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp >= 0xe000 && cp <= 0xf8ff) return false;  // private use
  return cp <= 0x10ffff;
}

namespace {

bool ascii_upper(uint32_t cp) {
  return cp >= 'A' && cp <= 'Z';
}
bool ascii_lower(uint32_t cp) {
  return cp >= 'a' && cp <= 'z';
}
// Branch-free, so that whole-string loops vectorize.
char to_ascii_upper(char c) {
  return static_cast<char>(c ^ (static_cast<unsigned char>(c - 'a') < 26 ? 0x20 : 0));
}
char to_ascii_lower(char c) {
  return static_cast<char>(c ^ (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
}

bool is_ascii(std::string_view s) {
  unsigned char bits = 0;
  for (char c : s) bits |= static_cast<unsigned char>(c);
  return bits < 0x80;
}

bool has_property(uint32_t cp, UProperty property) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), property) != 0;
}

// Case_Ignorable in ASCII: ' . : ^ and `.
bool is_case_ignorable(uint32_t cp) {
  if (cp < 0x80) return cp == '\'' || cp == '.' || cp == ':' || cp == '^' || cp == '`';
  return has_property(cp, UCHAR_CASE_IGNORABLE);
}

enum class Mapping { kNone, kUpper, kLower, kTitle, kFold };

// Titlecases the first character of the (one-character) string it is given, leaving the rest;
// WHOLE_STRING means no word break iterator is needed. One per thread: a UCaseMap is not
// thread-safe for titlecasing.
UCaseMap* title_case_map() {
  struct Close {
    void operator()(UCaseMap* map) const { ucasemap_close(map); }
  };
  thread_local const std::unique_ptr<UCaseMap, Close> map([] {
    UErrorCode error = U_ZERO_ERROR;
    UCaseMap* m = ucasemap_open(
        "", U_TITLECASE_WHOLE_STRING | U_TITLECASE_NO_LOWERCASE | U_TITLECASE_NO_BREAK_ADJUSTMENT, &error);
    return U_SUCCESS(error) ? m : nullptr;
  }());
  return map.get();
}

// Appends the full case mapping of one code point (context-free; the caller handles final sigma).
// The empty locale is ICU's root: no Turkish, Lithuanian or Greek rules, as in Python.
void append_mapped(std::string& out, uint32_t cp, Mapping mapping) {
  if (cp < 0x80) {
    char c = static_cast<char>(cp);
    out.push_back(mapping == Mapping::kUpper || mapping == Mapping::kTitle ? to_ascii_upper(c)
                  : mapping == Mapping::kNone                              ? c
                                                                           : to_ascii_lower(c));
    return;
  }
  if (mapping == Mapping::kNone || utf8::is_escaped_byte(cp) || cp > 0x10ffff) {
    utf8::append_lossless(out, cp);
    return;
  }
  UChar src[2];
  int32_t src_len = 0;
  U16_APPEND_UNSAFE(src, src_len, static_cast<UChar32>(cp));
  // Full mappings are at most three code points.
  UChar dst[8];
  constexpr int32_t kCapacity = 8;
  UErrorCode error = U_ZERO_ERROR;
  int32_t len = 0;
  switch (mapping) {
    case Mapping::kUpper:
      len = u_strToUpper(dst, kCapacity, src, src_len, "", &error);
      break;
    case Mapping::kLower:
      len = u_strToLower(dst, kCapacity, src, src_len, "", &error);
      break;
    case Mapping::kFold:
      len = u_strFoldCase(dst, kCapacity, src, src_len, U_FOLD_CASE_DEFAULT, &error);
      break;
    case Mapping::kTitle:
      if (UCaseMap* map = title_case_map()) {
        len = ucasemap_toTitle(map, dst, kCapacity, src, src_len, &error);
      } else {
        error = U_MEMORY_ALLOCATION_ERROR;
      }
      break;
    case Mapping::kNone:
      break;
  }
  if (U_FAILURE(error) || len > kCapacity) {
    utf8::append(out, cp);
    return;
  }
  for (int32_t k = 0; k < len;) {
    UChar32 c;
    U16_NEXT(dst, k, len, c);
    utf8::append(out, static_cast<char32_t>(c));
  }
}

// Python's str methods over a lossless decode; op selects the method.
enum class Op { kUpper, kLower, kTitle, kCapitalize, kSwapcase, kFold };

std::string convert_ascii(std::string_view s, Op op) {
  std::string out(s);
  switch (op) {
    case Op::kUpper:
      for (char& c : out) c = to_ascii_upper(c);
      break;
    case Op::kLower:
    case Op::kFold:
      for (char& c : out) c = to_ascii_lower(c);
      break;
    case Op::kSwapcase:
      for (char& c : out)
        c = ascii_upper(static_cast<unsigned char>(c)) ? to_ascii_lower(c) : to_ascii_upper(c);
      break;
    case Op::kCapitalize:
      for (char& c : out) c = to_ascii_lower(c);
      if (!out.empty()) out[0] = to_ascii_upper(out[0]);
      break;
    case Op::kTitle: {
      bool previous_cased = false;
      for (char& c : out) {
        bool cased = ascii_upper(static_cast<unsigned char>(c)) || ascii_lower(static_cast<unsigned char>(c));
        c = previous_cased ? to_ascii_lower(c) : to_ascii_upper(c);
        previous_cased = cased;
      }
      break;
    }
  }
  return out;
}

// Python's final-sigma rule for the capital sigma ending at s[i]: it is final when the nearest
// character before it that is not case-ignorable is cased (cased_before) and the nearest such
// character after it is not.
bool is_final_sigma(std::string_view s, size_t i, bool cased_before) {
  if (!cased_before) return false;
  while (i < s.size()) {
    uint32_t cp = utf8::next_lossless(s, i);
    if (!is_case_ignorable(cp)) return !is_cased(cp);
  }
  return true;
}

bool has_capital_sigma(std::string_view s) {
  return s.find("\xce\xa3") != std::string_view::npos;
}

// upper(), lower() and casefold() map each character on its own (in ICU's root locale only the
// final sigma depends on context, and that is decided here), so runs of characters go to ICU in
// one call; escaped bytes and capital sigmas end a run.
std::string convert_runs(std::string_view s, Op op) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  constexpr int32_t kRun = 256;
  UChar run[kRun + 2];
  int32_t run_len = 0;
  std::vector<UChar> mapped(3 * (kRun + 2));
  auto flush = [&] {
    if (run_len == 0) return;
    int32_t len = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      UErrorCode error = U_ZERO_ERROR;
      auto capacity = static_cast<int32_t>(mapped.size());
      if (op == Op::kUpper) {
        len = u_strToUpper(mapped.data(), capacity, run, run_len, "", &error);
      } else if (op == Op::kLower) {
        len = u_strToLower(mapped.data(), capacity, run, run_len, "", &error);
      } else {
        len = u_strFoldCase(mapped.data(), capacity, run, run_len, U_FOLD_CASE_DEFAULT, &error);
      }
      if (error == U_BUFFER_OVERFLOW_ERROR && len > capacity) {
        mapped.resize(static_cast<size_t>(len));
        continue;
      }
      if (U_FAILURE(error)) len = -1;
      break;
    }
    const UChar* from = len < 0 ? run : mapped.data();
    if (len < 0) len = run_len;  // unmapped if ICU fails
    for (int32_t k = 0; k < len;) {
      UChar32 c;
      U16_NEXT(from, k, len, c);
      utf8::append(out, static_cast<char32_t>(c));
    }
    run_len = 0;
  };
  const bool sigma = op == Op::kLower && has_capital_sigma(s);
  bool cased_before = false;  // final sigma: was the last non-case-ignorable character cased?
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next_lossless(s, i);
    if (utf8::is_escaped_byte(cp)) {
      flush();
      utf8::append_lossless(out, cp);
    } else if (sigma && cp == 0x3a3) {
      flush();
      utf8::append(out, is_final_sigma(s, i, cased_before) ? 0x3c2 : 0x3c3);
    } else {
      U16_APPEND_UNSAFE(run, run_len, static_cast<UChar32>(cp));
      if (run_len >= kRun) flush();
    }
    if (sigma && !is_case_ignorable(cp)) cased_before = is_cased(cp);
  }
  flush();
  return out;
}

std::string convert(std::string_view s, Op op) {
  if (is_ascii(s)) return convert_ascii(s, op);
  if (op == Op::kUpper || op == Op::kLower || op == Op::kFold) return convert_runs(s, op);
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  bool previous_cased = false;  // title(): was the previous character cased?
  bool cased_before = false;    // final sigma: was the last non-case-ignorable character cased?
  bool first = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next_lossless(s, i);
    Mapping mapping = Mapping::kNone;
    if (op == Op::kTitle) {
      mapping = previous_cased ? Mapping::kLower : Mapping::kTitle;
    } else if (op == Op::kCapitalize) {
      mapping = first ? Mapping::kTitle : Mapping::kLower;
    } else {
      mapping = is_upper(cp) ? Mapping::kLower : is_lower(cp) ? Mapping::kUpper : Mapping::kNone;
    }
    if (mapping == Mapping::kLower && cp == 0x3a3) {
      utf8::append(out, is_final_sigma(s, i, cased_before) ? 0x3c2 : 0x3c3);
    } else {
      append_mapped(out, cp, mapping);
    }
    bool cased = is_cased(cp);
    if (!is_case_ignorable(cp)) cased_before = cased;
    previous_cased = cased;
    first = false;
  }
  return out;
}

}  // namespace

bool is_upper(uint32_t cp) {
  return cp < 0x80 ? ascii_upper(cp) : has_property(cp, UCHAR_UPPERCASE);
}
bool is_lower(uint32_t cp) {
  return cp < 0x80 ? ascii_lower(cp) : has_property(cp, UCHAR_LOWERCASE);
}
bool is_title(uint32_t cp) {
  return cp >= 0x80 && u_istitle(static_cast<UChar32>(cp));
}
bool is_cased(uint32_t cp) {
  return cp < 0x80 ? ascii_upper(cp) || ascii_lower(cp) : has_property(cp, UCHAR_CASED);
}
bool is_alpha(uint32_t cp) {
  if (cp < 0x80) return ascii_upper(cp) || ascii_lower(cp);
  return u_isalpha(static_cast<UChar32>(cp));
}
bool is_digit(uint32_t cp) {
  return cp >= '0' && cp <= '9';
}

std::string upper(std::string_view s) {
  return convert(s, Op::kUpper);
}
std::string lower(std::string_view s) {
  return convert(s, Op::kLower);
}
std::string title(std::string_view s) {
  return convert(s, Op::kTitle);
}
std::string capitalize(std::string_view s) {
  return convert(s, Op::kCapitalize);
}
std::string swapcase(std::string_view s) {
  return convert(s, Op::kSwapcase);
}
std::string casefold(std::string_view s) {
  return convert(s, Op::kFold);
}

namespace {
// str.isupper() (upper == true) and str.islower(): no character of the opposite case or titlecase,
// and at least one cased character of the asked-for case.
bool is_cased_string(std::string_view s, bool upper) {
  bool cased = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = utf8::next_lossless(s, i);
    if ((upper ? is_lower(cp) : is_upper(cp)) || is_title(cp)) return false;
    cased = cased || (upper ? is_upper(cp) : is_lower(cp));
  }
  return cased;
}
}  // namespace

bool is_upper_string(std::string_view s) {
  return is_cased_string(s, true);
}
bool is_lower_string(std::string_view s) {
  return is_cased_string(s, false);
}

}  // namespace tgi::chat::jinja
