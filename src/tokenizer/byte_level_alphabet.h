#pragma once
// GPT-2's reversible byte <-> printable character mapping used by ByteLevel components.
#include <array>
#include <cstdint>
#include <string>

namespace tgi::tokenizer::byte_level {

// Character standing for byte b.
char32_t char_for_byte(uint8_t b);
// UTF-8 of char_for_byte(b), precomputed.
const std::string& utf8_for_byte(uint8_t b);
// The byte a character stands for, or -1 when it is not part of the alphabet.
int byte_for_char(char32_t c);

}  // namespace tgi::tokenizer::byte_level
