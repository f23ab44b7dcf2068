#include "tokenizer/decoders.h"

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain(tokens);
  }
  void decode_chain_raw(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain_raw(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    decode_chain_raw(tokens);
    tokens[0] = utf8::repair(tokens[0]);
  }
  void decode_chain_raw(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      const size_t mark = bytes.size();
      bool all = true;
      for (size_t i = 0; i < t.size();) {
        const int b = byte_level::byte_for_char(utf8::next(t, i));
        if (b < 0) {
          all = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!all) {  // a token outside the alphabet (e.g. an added token) passes through as is
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, std::move(bytes));
  }
};

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override { decode(tokens, /*repair=*/true); }
  void decode_chain_raw(std::vector<std::string>& tokens) const override { decode(tokens, /*repair=*/false); }

 private:
  static void decode(std::vector<std::string>& tokens, bool repair) {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (!repair || utf8::is_valid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.emplace_back(utf8::kReplacementUtf8);
      }
      pending.clear();
    };
    for (auto& t : tokens) {
      if (const int b = parse_byte_token(t); b >= 0) {
        pending.push_back(static_cast<char>(b));
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // "<0xNN>" -> NN (u8::from_str_radix also accepts a leading '+').
  static int parse_byte_token(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    if (t[3] == '+') return hex(t[4]);
    const int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const auto& t : tokens) joined += t;
    tokens.assign(1, std::move(joined));
  }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) {
      std::vector<std::pair<size_t, char32_t>> chars;  // (byte offset, char)
      for (size_t i = 0; i < t.size();) {
        const size_t b = i;
        chars.emplace_back(b, utf8::next(t, i));
      }
      size_t start_cut = 0;
      for (size_t i = 0; i < start_ && i < chars.size(); ++i) {
        if (chars[i].second != content_) break;
        start_cut = i + 1;
      }
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        const size_t index = chars.size() - i - 1;
        if (chars[index].second != content_) break;
        stop_cut = index;
      }
      if (stop_cut <= start_cut) {
        t.clear();
        continue;
      }
      const size_t b = start_cut < chars.size() ? chars[start_cut].first : t.size();
      const size_t e = stop_cut < chars.size() ? chars[stop_cut].first : t.size();
      t = t.substr(b, e - b);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    for (auto& t : tokens) {
      matches.clear();
      if (!pattern_.for_each_match(t, matches).ok() || matches.empty()) continue;
      std::string out;
      size_t prev = 0;
      for (auto [b, e] : matches) {
        out.append(t, prev, b - prev);
        out += content_;
        prev = e;
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool prepend) : replacement_(replacement), prepend_(prepend) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string out;
      const std::string& t = tokens[k];
      for (size_t i = 0; i < t.size();) {
        const char32_t c = utf8::next(t, i);
        if (c == replacement_) {
          if (!(k == 0 && prepend_)) out.push_back(' ');
        } else {
          utf8::append(out, c);
        }
      }
      tokens[k] = std::move(out);
    }
  }

 private:
  char32_t replacement_;
  bool prepend_;
};

// BERT's clean-up of spaces before punctuation and in English contractions.
std::string cleanup(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    const std::string f(from), t(to);
    std::string out;
    size_t prev = 0;
    for (size_t pos = s.find(f); pos != std::string::npos; pos = s.find(f, pos + f.size())) {
      out.append(s, prev, pos - prev);
      out += t;
      prev = pos + f.size();
    }
    out.append(s, prev, std::string::npos);
    s = std::move(out);
  }
  return s;
}

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) t.erase(0, prefix_.size());
        else t = " " + t;
      }
      if (cleanup_) t = cleanup(std::move(t));
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeSuffixDecoder final : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    if (suffix_.empty()) return;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string replacement = i + 1 == tokens.size() ? "" : " ";
      std::string& t = tokens[i];
      std::string out;
      size_t prev = 0;
      for (size_t pos = t.find(suffix_); pos != std::string::npos; pos = t.find(suffix_, pos + suffix_.size())) {
        out.append(t, prev, pos - prev);
        out += replacement;
        prev = pos + suffix_.size();
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  std::string suffix_;
};

Result<char32_t> single_char(const std::string& s, const char* what) {
  if (utf8::count_chars(s) != 1) return Error::make(ErrorKind::kInvalidArgument, "{} must be one character", what);
  size_t i = 0;
  return utf8::next(s, i);
}

}  // namespace

Result<std::unique_ptr<Decoder>> parse_decoder(const json& j) {
  if (j.is_null()) return std::unique_ptr<Decoder>();
  TGI_ASSIGN_OR_RETURN(std::string type, json_fields::type_of(j, "decoder"));
  if (type == "Sequence") {
    TGI_ASSIGN_OR_RETURN(const json* list, json_fields::array(j, "decoders"));
    std::vector<std::unique_ptr<Decoder>> parts;
    for (const auto& item : *list) {
      TGI_ASSIGN_OR_RETURN(auto d, parse_decoder(item));
      if (d) parts.push_back(std::move(d));
    }
    return std::unique_ptr<Decoder>(new SequenceDecoder(std::move(parts)));
  }
  if (type == "ByteLevel") return std::unique_ptr<Decoder>(new ByteLevelDecoder());
  if (type == "ByteFallback") return std::unique_ptr<Decoder>(new ByteFallbackDecoder());
  if (type == "Fuse") return std::unique_ptr<Decoder>(new FuseDecoder());
  if (type == "Strip") {
    TGI_ASSIGN_OR_RETURN(std::string content, json_fields::string(j, "content"));
    TGI_ASSIGN_OR_RETURN(char32_t c, single_char(content, "Strip content"));
    TGI_ASSIGN_OR_RETURN(int64_t start, json_fields::integer_or(j, "start", 0));
    TGI_ASSIGN_OR_RETURN(int64_t stop, json_fields::integer_or(j, "stop", 0));
    if (start < 0 || stop < 0) return Error::make(ErrorKind::kInvalidArgument, "Strip start/stop must be >= 0");
    return std::unique_ptr<Decoder>(new StripDecoder(c, static_cast<size_t>(start), static_cast<size_t>(stop)));
  }
  if (type == "Replace") {
    auto it = j.find("pattern");
    if (it == j.end()) return Error::make(ErrorKind::kInvalidArgument, "Replace decoder needs a pattern");
    TGI_ASSIGN_OR_RETURN(Pattern pattern, parse_pattern(*it));
    TGI_ASSIGN_OR_RETURN(std::string content, json_fields::string(j, "content"));
    return std::unique_ptr<Decoder>(new ReplaceDecoder(std::move(pattern), std::move(content)));
  }
  if (type == "Metaspace") {
    TGI_ASSIGN_OR_RETURN(std::string replacement, json_fields::string(j, "replacement"));
    TGI_ASSIGN_OR_RETURN(char32_t c, single_char(replacement, "Metaspace replacement"));
    TGI_ASSIGN_OR_RETURN(std::string scheme, json_fields::string_or(j, "prepend_scheme", "always"));
    bool prepend = scheme != "never";
    if (auto it = j.find("add_prefix_space"); it != j.end() && it->is_boolean() && !it->get<bool>()) prepend = false;
    return std::unique_ptr<Decoder>(new MetaspaceDecoder(c, prepend));
  }
  if (type == "WordPiece") {
    TGI_ASSIGN_OR_RETURN(std::string prefix, json_fields::string_or(j, "prefix", "##"));
    TGI_ASSIGN_OR_RETURN(bool clean, json_fields::boolean(j, "cleanup", true));
    return std::unique_ptr<Decoder>(new WordPieceDecoder(std::move(prefix), clean));
  }
  if (type == "BPEDecoder") {
    TGI_ASSIGN_OR_RETURN(std::string suffix, json_fields::string_or(j, "suffix", "</w>"));
    return std::unique_ptr<Decoder>(new BpeSuffixDecoder(std::move(suffix)));
  }
  return Error::make(ErrorKind::kUnsupported, "unsupported decoder type {:?}", type);
}

}  // namespace tgi::tokenizer
