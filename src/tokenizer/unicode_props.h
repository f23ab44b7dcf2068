#pragma once
// Unicode character properties with the meaning Rust's `char` methods and `regex` classes give
// them (tokenizers is written against those), backed by ICU's data tables.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tgi::tokenizer::unicode {

bool is_whitespace(char32_t c);    // char::is_whitespace (White_Space)
bool is_word_char(char32_t c);     // regex \w
bool is_alphabetic(char32_t c);    // char::is_alphabetic
bool is_numeric(char32_t c);       // char::is_numeric (Nd, Nl, No)
bool is_alphanumeric(char32_t c);  // char::is_alphanumeric
bool is_control(char32_t c);       // char::is_control (Cc)
bool is_punctuation(char32_t c);   // general category P*
bool is_mark_nonspacing(char32_t c);  // Mn
bool is_chinese_char(char32_t c);  // BERT's CJK ranges
// char::to_lowercase (full, context-free mapping).
void append_lowercase(char32_t c, std::vector<char32_t>& out);

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };
// The normalized characters of `s` with tokenizers' alignment changes: 0 replaces one input
// character, +1 inserts a character, -n also consumes n more input characters.
Result<std::vector<std::pair<char32_t, int>>> normalize_with_changes(std::string_view s, NormalizationForm form);
bool is_normalized(std::string_view s, NormalizationForm form);

}  // namespace tgi::tokenizer::unicode
