#pragma once
// Splits a template into text and tag tokens, applying whitespace control the way jinja2 does
// with trim_blocks=True and lstrip_blocks=True (transformers' settings), plus `-`/`+` markers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tgi::chat::jinja {

enum class TokenKind { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOperator, kEof };

struct Token {
  TokenKind kind;
  std::string text;  // text, name, operator, or the unescaped string literal
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

// Throws TemplateError(kSyntax) on unterminated tags or strings.
std::vector<Token> tokenize(std::string_view source);

}  // namespace tgi::chat::jinja
