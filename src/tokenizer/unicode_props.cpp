#include "tokenizer/unicode_props.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include "tokenizer/utf8.h"

namespace tgi::tokenizer::unicode {

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return u_isUWhiteSpace(static_cast<UChar32>(c));
}

bool is_alphabetic(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_ALPHABETIC);
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const int8_t t = u_charType(static_cast<UChar32>(c));
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

bool is_alphanumeric(char32_t c) { return is_alphabetic(c) || is_numeric(c); }

bool is_word_char(char32_t c) {
  if (c < 0x80) return is_alphabetic(c) || (c >= '0' && c <= '9') || c == '_';
  const auto u = static_cast<UChar32>(c);
  if (u_hasBinaryProperty(u, UCHAR_ALPHABETIC) || u_hasBinaryProperty(u, UCHAR_JOIN_CONTROL)) return true;
  const int8_t t = u_charType(u);
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK ||
         t == U_DECIMAL_DIGIT_NUMBER || t == U_CONNECTOR_PUNCTUATION;
}

bool is_control(char32_t c) { return u_charType(static_cast<UChar32>(c)) == U_CONTROL_CHAR; }

bool is_punctuation(char32_t c) {
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool is_mark_nonspacing(char32_t c) { return u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK; }

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void append_lowercase(char32_t c, std::vector<char32_t>& out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  // A lone character has no casing context, so ICU's root mapping equals Rust's per-char one.
  UChar src[2] = {0, 0};
  int32_t src_len = 0;
  UBool err = false;
  U16_APPEND(src, src_len, 2, static_cast<UChar32>(c), err);
  UChar dst[16];
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = u_strToLower(dst, 16, src, src_len, "", &status);
  if (U_FAILURE(status) || err) {
    out.push_back(c);
    return;
  }
  for (int32_t i = 0; i < n;) {
    UChar32 cp;
    U16_NEXT(dst, i, n, cp);
    out.push_back(static_cast<char32_t>(cp));
  }
}

namespace {

const icu::Normalizer2* normalizer_for(NormalizationForm form, UErrorCode& status) {
  switch (form) {
    case NormalizationForm::kNfc: return icu::Normalizer2::getNFCInstance(status);
    case NormalizationForm::kNfd: return icu::Normalizer2::getNFDInstance(status);
    case NormalizationForm::kNfkc: return icu::Normalizer2::getNFKCInstance(status);
    case NormalizationForm::kNfkd: return icu::Normalizer2::getNFKDInstance(status);
  }
  return nullptr;
}

std::vector<char32_t> code_points(const icu::UnicodeString& u) {
  std::vector<char32_t> out;
  for (int32_t i = 0; i < u.length();) {
    const UChar32 cp = u.char32At(i);
    out.push_back(static_cast<char32_t>(cp));
    i += U16_LENGTH(cp);
  }
  return out;
}

}  // namespace

bool is_normalized(std::string_view s, NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = normalizer_for(form, status);
  if (U_FAILURE(status) || !n) return false;
  const auto u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  const UBool ok = n->isNormalized(u, status);
  return U_SUCCESS(status) && ok;
}

Result<std::vector<std::pair<char32_t, int>>> normalize_with_changes(std::string_view s, NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = normalizer_for(form, status);
  if (U_FAILURE(status) || !n) return Error::make(ErrorKind::kInternal, "ICU normalizer unavailable");
  std::vector<std::pair<char32_t, int>> out;
  out.reserve(s.size());
  // Normalize segment by segment (a segment starts at a character with a normalization boundary
  // before it) so every output character can be attributed to the input characters it came from.
  std::vector<char32_t> segment;
  auto flush = [&]() -> Result<void> {
    if (segment.empty()) return {};
    icu::UnicodeString u;
    for (char32_t c : segment) u.append(static_cast<UChar32>(c));
    UErrorCode st = U_ZERO_ERROR;
    const icu::UnicodeString normalized = n->normalize(u, st);
    if (U_FAILURE(st)) return Error::make(ErrorKind::kInternal, "ICU normalization failed");
    const std::vector<char32_t> cps = code_points(normalized);
    const int in_n = static_cast<int>(segment.size());
    const int out_n = static_cast<int>(cps.size());
    for (int i = 0; i < out_n; ++i) {
      int change = 0;
      if (i >= in_n) change = 1;
      else if (i == out_n - 1 && out_n < in_n) change = -(in_n - out_n);
      out.emplace_back(cps[i], change);
    }
    if (out_n == 0 && !out.empty()) out.back().second -= in_n;  // everything removed
    segment.clear();
    return {};
  };
  for (size_t i = 0; i < s.size();) {
    const char32_t c = utf8::next(s, i);
    if (!segment.empty() && n->hasBoundaryBefore(static_cast<UChar32>(c))) TGI_TRY(flush());
    segment.push_back(c);
  }
  TGI_TRY(flush());
  return out;
}

}  // namespace tgi::tokenizer::unicode
