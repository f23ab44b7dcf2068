#include "chat/output/literal_to_json.h"

#include <cctype>
#include <cstring>

#include <nlohmann/json.hpp>

#include "chat/output/text_emitter.h"

namespace tgi::chat {
namespace {

using Json = nlohmann::ordered_json;

// A small recursive-descent reader; every method leaves pos_ after what it read and reports
// failure by returning false (the inputs are model output: no exceptions).
class LiteralReader {
 public:
  LiteralReader(std::string_view text, std::string_view string_quote) : text_(text), quote_(string_quote) {}

  bool at_end() {
    skip();
    return pos_ >= text_.size();
  }
  bool eat(char c) {
    skip();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool identifier(std::string& out) {
    skip();
    size_t b = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '_' || text_[pos_] == '-' || text_[pos_] == '.')) {
      ++pos_;
    }
    out = std::string(text_.substr(b, pos_ - b));
    return !out.empty();
  }

  bool value(Json& out, int depth = 0) {
    if (depth > 64) return false;
    skip();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (!quote_.empty() && text_.substr(pos_, quote_.size()) == quote_) return gemma_string(out);
    if (quote_.empty() && (c == '\'' || c == '"')) return python_string(out);
    if (c == '[' || (quote_.empty() && c == '(')) return list(out, c == '[' ? ']' : ')', depth);
    if (c == '{') return object(out, depth);
    size_t b = pos_;
    while (pos_ < text_.size() && !std::strchr(",)]}:", text_[pos_]) && !is_space(text_[pos_])) ++pos_;
    std::string word(text_.substr(b, pos_ - b));
    if (word == "True" || word == "true") return out = true, true;
    if (word == "False" || word == "false") return out = false, true;
    if (word == "None" || word == "null") return out = nullptr, true;
    auto number = Json::parse(word, nullptr, false);
    if (number.is_number()) return out = number, true;
    return false;
  }

  // key=value pairs; positional arguments are not expressible as JSON objects.
  bool kwargs(Json& out) {
    out = Json::object();
    while (!at_end()) {
      std::string key;
      if (!identifier(key) || !eat('=')) return false;
      Json v;
      if (!value(v)) return false;
      out[key] = std::move(v);
      if (!eat(',')) return at_end();
    }
    return true;
  }

  bool object(Json& out, int depth) {
    ++pos_;  // '{'
    out = Json::object();
    while (!eat('}')) {
      Json key;
      std::string bare;
      skip();
      if (pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"' ||
                                  (!quote_.empty() && text_.substr(pos_, quote_.size()) == quote_))) {
        if (!value(key, depth + 1) || !key.is_string()) return false;
        bare = key.get<std::string>();
      } else if (!identifier(bare)) {
        return false;
      }
      if (!eat(':')) return false;
      Json v;
      if (!value(v, depth + 1)) return false;
      out[bare] = std::move(v);
      if (!eat(',')) {
        if (!eat('}')) return false;
        break;
      }
    }
    return true;
  }

 private:
  void skip() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  bool list(Json& out, char close, int depth) {
    ++pos_;
    out = Json::array();
    while (!eat(close)) {
      Json v;
      if (!value(v, depth + 1)) return false;
      out.push_back(std::move(v));
      if (!eat(',')) {
        if (!eat(close)) return false;
        break;
      }
    }
    return true;
  }

  bool gemma_string(Json& out) {
    size_t b = pos_ + quote_.size();
    size_t e = text_.find(quote_, b);
    if (e == std::string_view::npos) return false;
    out = std::string(text_.substr(b, e - b));
    pos_ = e + quote_.size();
    return true;
  }

  bool python_string(Json& out) {
    char q = text_[pos_++];
    std::string s;
    while (pos_ < text_.size() && text_[pos_] != q) {
      char c = text_[pos_++];
      if (c == '\\' && pos_ < text_.size()) {
        char e = text_[pos_++];
        switch (e) {
          case 'n':
            s += '\n';
            break;
          case 't':
            s += '\t';
            break;
          case 'r':
            s += '\r';
            break;
          default:
            s += e;
            break;
        }
      } else {
        s += c;
      }
    }
    if (pos_ >= text_.size()) return false;
    ++pos_;
    out = std::move(s);
    return true;
  }

  std::string_view text_;
  std::string_view quote_;  // Gemma 4's string delimiter, or "" for Python quotes
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> python_kwargs_to_json(std::string_view kwargs) {
  LiteralReader reader(kwargs, "");
  Json out;
  if (!reader.kwargs(out)) return std::nullopt;
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<std::string> gemma4_object_to_json(std::string_view object) {
  LiteralReader reader(object, "<|\"|>");
  Json out;
  if (!reader.value(out) || !out.is_object() || !reader.at_end()) return std::nullopt;
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace tgi::chat
