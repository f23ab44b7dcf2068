#include "tokenizer/tokenizer_json_reader.h"

#include <charconv>

#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {

// A forward-only scanner over JSON text; every method reports malformed input as false.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  size_t pos() const { return i_; }
  bool at_end() { return (skip_ws(), i_ >= s_.size()); }
  char peek() { return (skip_ws(), i_ < s_.size() ? s_[i_] : '\0'); }
  bool consume(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  bool string(std::string& out) {
    out.clear();
    if (!consume('"')) return false;
    while (i_ < s_.size()) {
      const size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' && static_cast<unsigned char>(s_[i_]) >= 0x20) ++i_;
      out.append(s_.substr(start, i_ - start));
      if (i_ >= s_.size()) return false;
      const char c = s_[i_++];
      if (c == '"') return utf8::is_valid(out);
      if (c != '\\') return false;  // raw control character
      if (i_ >= s_.size()) return false;
      switch (s_[i_++]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          utf8::append(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool integer(int64_t& v) {
    skip_ws();
    const char* b = s_.data() + i_;
    const char* e = s_.data() + s_.size();
    auto [ptr, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || ptr == b) return false;
    if (ptr < e && (*ptr == '.' || *ptr == 'e' || *ptr == 'E')) return false;
    i_ += static_cast<size_t>(ptr - b);
    return true;
  }

  // Skips any JSON value; structure is checked again by nlohmann when the span is re-parsed.
  bool skip_value() {
    skip_ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      int depth = 0;
      while (i_ < s_.size()) {
        const char d = s_[i_];
        if (d == '"') {
          if (!skip_string()) return false;
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++i_;
            return true;
          }
        }
        ++i_;
      }
      return false;
    }
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' && s_[i_] != '\n' &&
           s_[i_] != '\r' && s_[i_] != '\t')
      ++i_;
    return true;
  }

  std::string_view span(size_t from, size_t to) const { return s_.substr(from, to - from); }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool skip_string() {
    ++i_;  // opening quote
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '\\') ++i_;
      else if (c == '"') return true;
    }
    return false;
  }
  bool hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

Error malformed(const char* what, size_t pos) {
  return Error::make(ErrorKind::kInvalidArgument, "tokenizer.json is not valid JSON ({} near byte {})", what, pos);
}

Result<std::vector<std::pair<std::string, int64_t>>> read_vocab(Cursor& c) {
  std::vector<std::pair<std::string, int64_t>> vocab;
  if (!c.consume('{')) return malformed("vocab", c.pos());
  if (c.consume('}')) return vocab;
  std::string key;
  do {
    int64_t id;
    if (!c.string(key)) return malformed("vocab key", c.pos());
    if (!c.consume(':')) return malformed("vocab", c.pos());
    if (!c.integer(id)) return Error::make(ErrorKind::kInvalidArgument, "vocab id of {:?} is not an integer", key);
    vocab.emplace_back(key, id);
  } while (c.consume(','));
  if (!c.consume('}')) return malformed("vocab", c.pos());
  return vocab;
}

Result<std::vector<std::pair<std::string, std::string>>> read_merges(Cursor& c) {
  std::vector<std::pair<std::string, std::string>> merges;
  if (!c.consume('[')) return malformed("merges", c.pos());
  if (c.consume(']')) return merges;
  std::string a, b;
  do {
    if (c.peek() == '"') {
      // Legacy "left right" form; "#version" lines are comments.
      if (!c.string(a)) return malformed("merge", c.pos());
      if (a.rfind("#version", 0) == 0) continue;
      const size_t space = a.find(' ');
      if (space == std::string::npos || a.find(' ', space + 1) != std::string::npos)
        return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} is not \"left right\": {:?}", merges.size() + 1, a);
      merges.emplace_back(a.substr(0, space), a.substr(space + 1));
    } else {
      if (!c.consume('[') || !c.string(a) || !c.consume(',') || !c.string(b) || !c.consume(']'))
        return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} is malformed", merges.size() + 1);
      merges.emplace_back(a, b);
    }
  } while (c.consume(','));
  if (!c.consume(']')) return malformed("merges", c.pos());
  return merges;
}

}  // namespace

Result<TokenizerJson> read_tokenizer_json(std::string_view text) {
  TokenizerJson out;
  Cursor c(text);
  // Rebuilt document text without model.vocab/model.merges.
  std::string rest = "{";
  auto append_member = [](std::string& dst, std::string_view raw_key, std::string_view raw_value) {
    if (dst.size() > 1) dst += ',';
    dst += raw_key;
    dst += ':';
    dst += raw_value;
  };
  if (!c.consume('{')) {
    if (nlohmann::json::accept(text)) return Error::make(ErrorKind::kInvalidArgument, "tokenizer.json must be a JSON object");
    return malformed("top level", c.pos());
  }
  std::string key;
  if (c.peek() != '}') {
    do {
      c.peek();
      const size_t key_begin = c.pos();
      if (!c.string(key)) return malformed("key", c.pos());
      const std::string_view raw_key = c.span(key_begin, c.pos());
      if (!c.consume(':')) return malformed("':'", c.pos());
      c.peek();
      const size_t value_begin = c.pos();
      if (key == "model" && c.peek() == '{') {
        std::string model = "{";
        c.consume('{');
        if (c.peek() != '}') {
          std::string mkey;
          do {
            c.peek();
            const size_t mk_begin = c.pos();
            if (!c.string(mkey)) return malformed("model key", c.pos());
            const std::string_view raw_mkey = c.span(mk_begin, c.pos());
            if (!c.consume(':')) return malformed("':'", c.pos());
            c.peek();
            const size_t mv_begin = c.pos();
            if (mkey == "vocab" && c.peek() == '{') {
              TGI_ASSIGN_OR_RETURN(out.vocab, read_vocab(c));
            } else if (mkey == "merges" && c.peek() == '[') {
              TGI_ASSIGN_OR_RETURN(out.merges, read_merges(c));
            } else {
              if (!c.skip_value()) return malformed("model value", c.pos());
              append_member(model, raw_mkey, c.span(mv_begin, c.pos()));
            }
          } while (c.consume(','));
        }
        if (!c.consume('}')) return malformed("model", c.pos());
        model += '}';
        append_member(rest, raw_key, model);
      } else {
        if (!c.skip_value()) return malformed("value", c.pos());
        append_member(rest, raw_key, c.span(value_begin, c.pos()));
      }
    } while (c.consume(','));
  }
  if (!c.consume('}') || !c.at_end()) return malformed("top level", c.pos());
  rest += '}';
  out.document = nlohmann::json::parse(rest, nullptr, false);
  if (out.document.is_discarded()) return Error::make(ErrorKind::kInvalidArgument, "tokenizer.json is not valid JSON");
  return out;
}

}  // namespace tgi::tokenizer
