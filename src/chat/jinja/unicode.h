#pragma once
// The Unicode facts Python string methods need: code points (decoded with the tokenizer's shared
// lossless UTF-8 decoder), whitespace, printability, character classes and Python 3's full,
// language-independent case mapping (ICU's root-locale data).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/utf8.h"

namespace tgi::chat::jinja {

namespace utf8 = tgi::tokenizer::utf8;

// Strings are decoded with utf8::next_lossless: a byte of ill-formed UTF-8 becomes the code point
// U+DC80 + byte (as with Python's surrogateescape), and encoding gives the same byte back.
std::vector<uint32_t> to_code_points(std::string_view s);
std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t code_point_count(std::string_view s);

bool is_space(uint32_t cp);  // str.isspace / str.split() / str.strip()
bool is_printable(uint32_t cp);
bool is_alpha(uint32_t cp);  // general category L*
bool is_digit(uint32_t cp);
bool is_upper(uint32_t cp);  // Unicode Uppercase property
bool is_lower(uint32_t cp);  // Unicode Lowercase property
bool is_title(uint32_t cp);  // general category Lt
bool is_cased(uint32_t cp);

// Python 3's str.upper(), lower(), title(), capitalize(), swapcase() and casefold(): full
// (SpecialCasing) mappings without language rules, except that lower() turns a final capital sigma
// into ς. Escaped bytes of ill-formed input are uncased and copied through unchanged.
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);
std::string capitalize(std::string_view s);
std::string swapcase(std::string_view s);
std::string casefold(std::string_view s);
// str.isupper() and str.islower().
bool is_upper_string(std::string_view s);
bool is_lower_string(std::string_view s);

}  // namespace tgi::chat::jinja
