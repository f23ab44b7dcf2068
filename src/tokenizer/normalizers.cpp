#include "tokenizer/normalizers.h"

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/unicode_props.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  Result<void> normalize(NormalizedString& s) const override {
    for (const auto& p : parts_) TGI_TRY(p->normalize(s));
    return {};
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(unicode::NormalizationForm form) : form_(form) {}
  Result<void> normalize(NormalizedString& s) const override {
    // Most text is already normalized: skip the alignment bookkeeping then.
    bool ascii = true;
    for (unsigned char c : s.get()) ascii = ascii && c < 0x80;
    if (ascii || unicode::is_normalized(s.get(), form_)) return {};
    return s.normalize_unicode(static_cast<int>(form_));
  }

 private:
  unicode::NormalizationForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  Result<void> normalize(NormalizedString& s) const override {
    s.lowercase();
    return {};
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  Result<void> normalize(NormalizedString& s) const override {
    if (left_ && right_) {
      s.strip(true, true);
    } else {
      if (left_) s.strip(true, false);
      if (right_) s.strip(false, true);
    }
    return {};
  }

 private:
  bool left_, right_;
};

class StripAccentsNormalizer final : public Normalizer {
 public:
  Result<void> normalize(NormalizedString& s) const override {
    s.filter([](char32_t c) { return !unicode::is_mark_nonspacing(c); });
    return {};
  }
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  Result<void> normalize(NormalizedString& s) const override { return s.replace(pattern_, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  Result<void> normalize(NormalizedString& s) const override {
    if (!s.empty()) s.prepend(prefix_);
    return {};
  }

 private:
  std::string prefix_;
};

void map_chars(NormalizedString& s, char32_t (*f)(char32_t)) {
  CharChanges changes;
  for (size_t i = 0; i < s.get().size();) changes.emplace_back(f(utf8::next(s.get(), i)), 0);
  s.transform(changes, 0);
}

class NmtNormalizer final : public Normalizer {
 public:
  Result<void> normalize(NormalizedString& s) const override {
    s.filter([](char32_t c) {
      return !((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F ||
               c == 0x9F);
    });
    map_chars(s, [](char32_t c) -> char32_t {
      switch (c) {
        case 0x09: case 0x0A: case 0x0C: case 0x0D: case 0x1680: case 0x2028: case 0x2029: case 0x2581:
        case 0xFEFF: case 0xFFFD:
          return ' ';
        default:
          return (c >= 0x200B && c <= 0x200F) ? U' ' : c;
      }
    });
    return {};
  }
};

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, std::optional<bool> strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents), lowercase_(lowercase) {}
  Result<void> normalize(NormalizedString& s) const override {
    if (clean_text_) {
      s.filter([](char32_t c) {
        if (c == 0 || c == 0xFFFD) return false;
        if (c == '\t' || c == '\n' || c == '\r') return true;
        return !unicode::is_control(c) && !is_other_category(c);
      });
      map_chars(s, [](char32_t c) -> char32_t {
        return (c == '\t' || c == '\n' || c == '\r' || unicode::is_whitespace(c)) ? U' ' : c;
      });
    }
    if (chinese_) {
      CharChanges changes;
      for (size_t i = 0; i < s.get().size();) {
        const char32_t c = utf8::next(s.get(), i);
        if (unicode::is_chinese_char(c)) {
          changes.emplace_back(U' ', 0);
          changes.emplace_back(c, 1);
          changes.emplace_back(U' ', 1);
        } else {
          changes.emplace_back(c, 0);
        }
      }
      s.transform(changes, 0);
    }
    const bool strip = strip_accents_.value_or(lowercase_);
    if (strip) {
      TGI_TRY(s.normalize_unicode(static_cast<int>(unicode::NormalizationForm::kNfd)));
      s.filter([](char32_t c) { return !unicode::is_mark_nonspacing(c); });
    }
    if (lowercase_) s.lowercase();
    return {};
  }

 private:
  // Rust's char::is_other: general category C* (Cc, Cf, Cs, Co, Cn).
  static bool is_other_category(char32_t c);
  bool clean_text_, chinese_;
  std::optional<bool> strip_accents_;
  bool lowercase_;
};

class ByteLevelNormalizer final : public Normalizer {
 public:
  Result<void> normalize(NormalizedString& s) const override {
    if (s.empty()) return {};
    CharChanges changes;
    const std::string& str = s.get();
    changes.reserve(str.size());
    for (size_t i = 0; i < str.size();) {
      const size_t n = utf8::char_len(static_cast<unsigned char>(str[i]));
      for (size_t k = 0; k < n; ++k)
        changes.emplace_back(byte_level::char_for_byte(static_cast<uint8_t>(str[i + k])), k > 0 ? 1 : 0);
      i += n;
    }
    s.transform(changes, 0);
    return {};
  }
};

}  // namespace

}  // namespace tgi::tokenizer

#include <unicode/uchar.h>

namespace tgi::tokenizer {
namespace {
bool BertNormalizer::is_other_category(char32_t c) {
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_SURROGATE: case U_PRIVATE_USE_CHAR: case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}
}  // namespace

Result<Pattern> parse_pattern(const json& j) {
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "pattern must be {{\"String\"|\"Regex\": ...}}");
  if (auto it = j.find("String"); it != j.end() && it->is_string()) return Pattern::literal(it->get<std::string>());
  if (auto it = j.find("Regex"); it != j.end() && it->is_string()) return Pattern::regex(it->get<std::string>());
  return Error::make(ErrorKind::kInvalidArgument, "pattern must be {{\"String\"|\"Regex\": ...}}");
}

Result<std::unique_ptr<Normalizer>> parse_normalizer(const json& j) {
  if (j.is_null()) return std::unique_ptr<Normalizer>();
  TGI_ASSIGN_OR_RETURN(std::string type, json_fields::type_of(j, "normalizer"));
  if (type == "Sequence") {
    TGI_ASSIGN_OR_RETURN(const json* list, json_fields::array(j, "normalizers"));
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (const auto& item : *list) {
      TGI_ASSIGN_OR_RETURN(auto n, parse_normalizer(item));
      if (n) parts.push_back(std::move(n));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(parts)));
  }
  if (type == "NFC") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(unicode::NormalizationForm::kNfc));
  if (type == "NFD") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(unicode::NormalizationForm::kNfd));
  if (type == "NFKC") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(unicode::NormalizationForm::kNfkc));
  if (type == "NFKD") return std::unique_ptr<Normalizer>(new UnicodeNormalizer(unicode::NormalizationForm::kNfkd));
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new LowercaseNormalizer());
  if (type == "StripAccents") return std::unique_ptr<Normalizer>(new StripAccentsNormalizer());
  if (type == "Nmt") return std::unique_ptr<Normalizer>(new NmtNormalizer());
  if (type == "ByteLevel") return std::unique_ptr<Normalizer>(new ByteLevelNormalizer());
  if (type == "Strip") {
    TGI_ASSIGN_OR_RETURN(bool left, json_fields::boolean(j, "strip_left", true));
    TGI_ASSIGN_OR_RETURN(bool right, json_fields::boolean(j, "strip_right", true));
    return std::unique_ptr<Normalizer>(new StripNormalizer(left, right));
  }
  if (type == "Replace") {
    auto pattern_it = j.find("pattern");
    if (pattern_it == j.end()) return Error::make(ErrorKind::kInvalidArgument, "Replace normalizer needs a pattern");
    TGI_ASSIGN_OR_RETURN(Pattern pattern, parse_pattern(*pattern_it));
    TGI_ASSIGN_OR_RETURN(std::string content, json_fields::string(j, "content"));
    return std::unique_ptr<Normalizer>(new ReplaceNormalizer(std::move(pattern), std::move(content)));
  }
  if (type == "Prepend") {
    TGI_ASSIGN_OR_RETURN(std::string prefix, json_fields::string(j, "prepend"));
    return std::unique_ptr<Normalizer>(new PrependNormalizer(std::move(prefix)));
  }
  if (type == "BertNormalizer") {
    TGI_ASSIGN_OR_RETURN(bool clean, json_fields::boolean(j, "clean_text", true));
    TGI_ASSIGN_OR_RETURN(bool chinese, json_fields::boolean(j, "handle_chinese_chars", true));
    TGI_ASSIGN_OR_RETURN(bool lower, json_fields::boolean(j, "lowercase", true));
    std::optional<bool> strip;
    if (auto it = j.find("strip_accents"); it != j.end() && it->is_boolean()) strip = it->get<bool>();
    return std::unique_ptr<Normalizer>(new BertNormalizer(clean, chinese, strip, lower));
  }
  if (type == "Precompiled") return make_precompiled_normalizer(j);
  return Error::make(ErrorKind::kUnsupported, "unsupported normalizer type {:?}", type);
}

}  // namespace tgi::tokenizer
