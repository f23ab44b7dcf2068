#include "chat/jinja/lexer.h"

#include <cstring>

#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit_char(char c) { return c >= '0' && c <= '9'; }

// jinja2 drops a single trailing newline and normalizes \r\n and \r to \n.
std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Python string-literal escapes as jinja2 applies them to template strings.
std::string unescape(std::string_view body, int line) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    auto hex = [&](size_t digits) -> uint32_t {
      if (i + digits >= body.size()) {
        fail(ErrorType::kSyntax, "truncated \\x/\\u escape in string literal on line " + std::to_string(line));
      }
      uint32_t v = 0;
      for (size_t k = 1; k <= digits; ++k) {
        char h = body[i + k];
        v <<= 4;
        if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
        else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
        else fail(ErrorType::kSyntax, "invalid escape in string literal on line " + std::to_string(line));
      }
      i += digits;
      return v;
    };
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\n': break;  // line continuation
      case 'x':
        utf8::append(out, hex(2));
        break;
      case 'u':
        utf8::append(out, hex(4));
        break;
      case 'U':
        utf8::append(out, hex(8));
        break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
            v = v * 8 + static_cast<uint32_t>(body[++i] - '0');
          }
          utf8::append(out, v);
        } else {
          out += '\\';  // unknown escapes stay as written, as in Python
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_source(source)) {}

  std::vector<Token> run() {
    bool line_starting = true;
    bool strip_next_text = false;
    while (pos_ < src_.size()) {
      size_t tag = find_tag(pos_);
      std::string text = src_.substr(pos_, tag - pos_);
      if (strip_next_text) {
        size_t k = 0;
        while (k < text.size() && is_ws(text[k])) ++k;
        line_starting = k > 0 ? text[k - 1] == '\n' : line_starting;
        text.erase(0, k);
        strip_next_text = false;
      }
      if (tag == src_.size()) {
        emit_text(std::move(text));
        break;
      }
      char kind = src_[tag + 1];
      char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (sign == '-') {
        size_t end = text.size();
        while (end > 0 && is_ws(text[end - 1])) --end;
        text.resize(end);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: drop spaces/tabs between a line start and a block or comment tag.
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if (l_pos > 0 || line_starting) {
          bool only_ws = l_pos < text.size();
          for (size_t k = l_pos; k < text.size(); ++k) only_ws = only_ws && is_ws(text[k]);
          if (only_ws) text.resize(l_pos);
        }
      }
      emit_text(std::move(text));
      pos_ = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      char end_sign = '\0';
      if (kind == '#') {
        size_t close = src_.find("#}", pos_);
        if (close == std::string::npos) fail(ErrorType::kSyntax, "unterminated comment on line " + std::to_string(line_));
        end_sign = close > pos_ && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : '\0';
        count_lines(pos_, close);
        pos_ = close + 2;
      } else {
        end_sign = lex_tag(kind == '%');
      }
      // After the tag: `-` strips all following whitespace, trim_blocks eats one newline after
      // a block or comment (not after `}}`), `+` keeps everything.
      line_starting = false;
      if (end_sign == '-') {
        strip_next_text = true;
      } else if (end_sign != '+' && kind != '{' && pos_ < src_.size() && src_[pos_] == '\n') {
        ++pos_;
        ++line_;
        line_starting = true;
      }
      if (kind == '%' && is_raw_block()) lex_raw_body(strip_next_text, line_starting);
    }
    tokens_.push_back(Token{TokenKind::kEof, "", 0, 0, line_});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    size_t i = from;
    while (true) {
      i = src_.find('{', i);
      if (i == std::string::npos || i + 1 >= src_.size()) return src_.size();
      char c = src_[i + 1];
      if (c == '{' || c == '%' || c == '#') return i;
      ++i;
    }
  }

  void count_lines(size_t from, size_t to) {
    for (size_t k = from; k < to; ++k) line_ += src_[k] == '\n';
  }

  void emit_text(std::string text) {
    if (text.empty()) return;
    int line = line_;
    for (char c : text) line_ += c == '\n';
    tokens_.push_back(Token{TokenKind::kText, std::move(text), 0, 0, line});
  }

  // Lexes the inside of {% %} or {{ }} and returns the sign before the closing delimiter.
  char lex_tag(bool block) {
    tokens_.push_back(Token{block ? TokenKind::kBlockBegin : TokenKind::kVarBegin, "", 0, 0, line_});
    int depth = 0;  // inside (), [] or {} a closing delimiter is an operator, as in jinja2
    while (true) {
      while (pos_ < src_.size() && is_ws(src_[pos_])) {
        line_ += src_[pos_] == '\n';
        ++pos_;
      }
      if (pos_ >= src_.size()) fail(ErrorType::kSyntax, "unexpected end of template, tag opened near line " + std::to_string(line_) + " is not closed");
      if (depth == 0) {
        const char* close = block ? "%}" : "}}";
        for (char sign : {'-', '+', '\0'}) {
          if (sign == '+' && !block) continue;
          size_t at = pos_ + (sign ? 1 : 0);
          if ((sign == '\0' || src_[pos_] == sign) && src_.compare(at, 2, close) == 0) {
            pos_ = at + 2;
            tokens_.push_back(Token{block ? TokenKind::kBlockEnd : TokenKind::kVarEnd, "", 0, 0, line_});
            return sign;
          }
        }
      }
      char c = src_[pos_];
      if (is_name_start(c)) {
        size_t start = pos_;
        while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
        tokens_.push_back(Token{TokenKind::kName, src_.substr(start, pos_ - start), 0, 0, line_});
      } else if (is_digit_char(c)) {
        lex_number();
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~",
                                           "<",  ">",  "=",  ".",  ":",  "|",  ",", "(", ")", "[", "]", "{",
                                           "}",  ";"};
        bool matched = false;
        for (const char* op : kOps) {
          size_t len = std::strlen(op);
          if (src_.compare(pos_, len, op) == 0) {
            if (op[0] == '(' || op[0] == '[' || op[0] == '{') ++depth;
            if (op[0] == ')' || op[0] == ']' || op[0] == '}') {
              if (depth == 0) fail(ErrorType::kSyntax, std::string("unexpected '") + op + "' on line " + std::to_string(line_));
              --depth;
            }
            tokens_.push_back(Token{TokenKind::kOperator, op, 0, 0, line_});
            pos_ += len;
            matched = true;
            break;
          }
        }
        if (!matched) fail(ErrorType::kSyntax, std::string("unexpected character '") + c + "' on line " + std::to_string(line_));
      }
    }
  }

  void lex_number() {
    size_t start = pos_;
    std::string digits;
    auto take_digits = [&] {
      while (pos_ < src_.size() && (is_digit_char(src_[pos_]) || (src_[pos_] == '_' && pos_ + 1 < src_.size() && is_digit_char(src_[pos_ + 1])))) {
        if (src_[pos_] != '_') digits += src_[pos_];
        ++pos_;
      }
    };
    take_digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit_char(src_[pos_ + 1])) {
      is_float = true;
      digits += src_[pos_++];
      take_digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t save = pos_;
      std::string save_digits = digits;
      digits += 'e';
      ++pos_;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) digits += src_[pos_++];
      if (pos_ < src_.size() && is_digit_char(src_[pos_])) {
        is_float = true;
        take_digits();
      } else {
        pos_ = save;
        digits = save_digits;
      }
    }
    Token token{is_float ? TokenKind::kFloat : TokenKind::kInt, src_.substr(start, pos_ - start), 0, 0, line_};
    if (is_float) {
      token.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      errno = 0;
      token.int_value = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == ERANGE) fail(ErrorType::kSyntax, "integer literal too large on line " + std::to_string(line_));
    }
    tokens_.push_back(std::move(token));
  }

  void lex_string(char quote) {
    size_t start = ++pos_;
    int line = line_;
    while (pos_ < src_.size() && src_[pos_] != quote) {
      if (src_[pos_] == '\\') ++pos_;
      if (pos_ < src_.size() && src_[pos_] == '\n') ++line_;
      ++pos_;
    }
    if (pos_ >= src_.size()) fail(ErrorType::kSyntax, "unterminated string literal on line " + std::to_string(line));
    tokens_.push_back(Token{TokenKind::kString, unescape(std::string_view(src_).substr(start, pos_ - start), line), 0, 0, line});
    ++pos_;
  }

  bool is_raw_block() const {
    size_t n = tokens_.size();
    return n >= 3 && tokens_[n - 3].kind == TokenKind::kBlockBegin && tokens_[n - 2].kind == TokenKind::kName &&
           tokens_[n - 2].text == "raw" && tokens_[n - 1].kind == TokenKind::kBlockEnd;
  }

  // {% raw %}...{% endraw %}: the body is text, verbatim.
  void lex_raw_body(bool& strip_next_text, bool& line_starting) {
    tokens_.resize(tokens_.size() - 3);
    size_t search = pos_;
    while (true) {
      size_t tag = src_.find("{%", search);
      if (tag == std::string::npos) fail(ErrorType::kSyntax, "missing {% endraw %}");
      size_t k = tag + 2;
      char sign = k < src_.size() && (src_[k] == '-' || src_[k] == '+') ? src_[k++] : '\0';
      while (k < src_.size() && is_ws(src_[k])) ++k;
      if (src_.compare(k, 6, "endraw") != 0) {
        search = tag + 2;
        continue;
      }
      k += 6;
      while (k < src_.size() && is_ws(src_[k])) ++k;
      char end_sign = k < src_.size() && (src_[k] == '-' || src_[k] == '+') ? src_[k++] : '\0';
      if (src_.compare(k, 2, "%}") != 0) fail(ErrorType::kSyntax, "malformed {% endraw %}");
      std::string body = src_.substr(pos_, tag - pos_);
      if (strip_next_text) {
        size_t s = 0;
        while (s < body.size() && is_ws(body[s])) ++s;
        body.erase(0, s);
      }
      if (sign == '-') {
        while (!body.empty() && is_ws(body.back())) body.pop_back();
      }
      emit_text(std::move(body));
      pos_ = k + 2;
      strip_next_text = end_sign == '-';
      line_starting = false;
      if (end_sign == '\0' && pos_ < src_.size() && src_[pos_] == '\n') {
        ++pos_;
        line_starting = true;
      }
      return;
    }
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace tgi::chat::jinja
