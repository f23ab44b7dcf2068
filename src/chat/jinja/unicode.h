#pragma once
// The few Unicode facts Python string methods need: UTF-8 decoding, whitespace, printability and
// simple case mapping (ASCII, Latin-1, Greek, Cyrillic; other scripts are left unchanged).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tgi::chat::jinja {

// Decodes the code point at s[i] and advances i; invalid bytes decode as themselves (U+0080..FF).
uint32_t decode_utf8(std::string_view s, size_t& i);
void append_utf8(std::string& out, uint32_t cp);
std::vector<uint32_t> to_code_points(std::string_view s);
std::string from_code_points(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t code_point_count(std::string_view s);

bool is_space(uint32_t cp);  // str.isspace / str.split() / str.strip()
bool is_printable(uint32_t cp);
bool is_alpha(uint32_t cp);
bool is_digit(uint32_t cp);
bool is_upper(uint32_t cp);
bool is_lower(uint32_t cp);
uint32_t to_upper(uint32_t cp);
uint32_t to_lower(uint32_t cp);

std::string upper(std::string_view s);
std::string lower(std::string_view s);

}  // namespace tgi::chat::jinja
