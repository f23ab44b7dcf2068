#include "tokenizer/pre_tokenizers.h"

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

// Splits every untokenized piece with one pattern.
class PatternSplitter final : public PreTokenizer {
 public:
  PatternSplitter(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  Result<void> pre_tokenize(PreTokenizedString& s) const override {
    return s.split([&](NormalizedString&& n) { return n.split(pattern_, behavior_, invert_); });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  Result<void> pre_tokenize(PreTokenizedString& s) const override {
    for (const auto& p : parts_) TGI_TRY(p->pre_tokenize(s));
    return {};
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

// GPT-2's pattern, used when ByteLevel has use_regex.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

void byte_level_transform(NormalizedString& n) {
  const std::string& str = n.get();
  bool ascii_printable = true;
  CharChanges changes;
  changes.reserve(str.size());
  for (size_t i = 0; i < str.size();) {
    const size_t len = utf8::char_len(static_cast<unsigned char>(str[i]));
    for (size_t k = 0; k < len; ++k) {
      const auto b = static_cast<uint8_t>(str[i + k]);
      const char32_t c = byte_level::char_for_byte(b);
      ascii_printable = ascii_printable && c == b && b < 0x80;
      changes.emplace_back(c, k > 0 ? 1 : 0);
    }
    i += len;
  }
  if (ascii_printable) return;  // identity mapping: alignments unchanged
  n.transform(changes, 0);
}

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, std::optional<Pattern> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}
  Result<void> pre_tokenize(PreTokenizedString& s) const override {
    TGI_TRY(s.split([&](NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
      if (add_prefix_space_ && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      if (regex_) return n.split(*regex_, SplitBehavior::kIsolated);
      std::vector<NormalizedString> one;
      one.push_back(std::move(n));
      return one;
    }));
    for (auto& split : s.splits)
      if (!split.tokens) byte_level_transform(split.normalized);
    return {};
  }

 private:
  bool add_prefix_space_;
  std::optional<Pattern> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split), space_(Pattern::literal(" ")),
        replacement_pattern_(Pattern::literal(replacement_)) {}
  Result<void> pre_tokenize(PreTokenizedString& s) const override {
    return s.split([&](NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
      TGI_TRY(n.replace(space_, replacement_));
      const bool starts = n.get().compare(0, replacement_.size(), replacement_) == 0;
      if (scheme_ == PrependScheme::kAlways && !starts) n.prepend(replacement_);
      if (scheme_ == PrependScheme::kFirst && !starts && n.original_begin() == 0) n.prepend(replacement_);
      if (split_) return n.split(replacement_pattern_, SplitBehavior::kMergedWithNext);
      std::vector<NormalizedString> one;
      one.push_back(std::move(n));
      return one;
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  Pattern space_;
  Pattern replacement_pattern_;
};

class BertPreTokenizer final : public PreTokenizer {
 public:
  Result<void> pre_tokenize(PreTokenizedString& s) const override {
    static const Pattern whitespace = Pattern::predicate([](char32_t c) { return unicode::is_whitespace(c); });
    static const Pattern punct = Pattern::predicate(is_bert_punctuation);
    TGI_TRY(s.split([&](NormalizedString&& n) { return n.split(whitespace, SplitBehavior::kRemoved); }));
    return s.split([&](NormalizedString&& n) { return n.split(punct, SplitBehavior::kIsolated); });
  }
  static bool is_bert_punctuation(char32_t c) {
    const bool ascii_punct = c < 0x80 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                                          (c >= 123 && c <= 126));
    return ascii_punct || unicode::is_punctuation(c);
  }
};

}  // namespace

Result<SplitBehavior> parse_split_behavior(const std::string& name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return Error::make(ErrorKind::kInvalidArgument, "unknown split behavior {:?}", name);
}

Result<std::unique_ptr<PreTokenizer>> parse_pre_tokenizer(const json& j) {
  if (j.is_null()) return std::unique_ptr<PreTokenizer>();
  TGI_ASSIGN_OR_RETURN(std::string type, json_fields::type_of(j, "pre_tokenizer"));
  if (type == "Sequence") {
    TGI_ASSIGN_OR_RETURN(const json* list, json_fields::array(j, "pretokenizers"));
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (const auto& item : *list) {
      TGI_ASSIGN_OR_RETURN(auto p, parse_pre_tokenizer(item));
      if (p) parts.push_back(std::move(p));
    }
    return std::unique_ptr<PreTokenizer>(new SequencePreTokenizer(std::move(parts)));
  }
  if (type == "Split") {
    auto it = j.find("pattern");
    if (it == j.end()) return Error::make(ErrorKind::kInvalidArgument, "Split pre-tokenizer needs a pattern");
    TGI_ASSIGN_OR_RETURN(Pattern pattern, parse_pattern(*it));
    TGI_ASSIGN_OR_RETURN(std::string behavior_name, json_fields::string(j, "behavior"));
    TGI_ASSIGN_OR_RETURN(SplitBehavior behavior, parse_split_behavior(behavior_name));
    TGI_ASSIGN_OR_RETURN(bool invert, json_fields::boolean(j, "invert", false));
    return std::unique_ptr<PreTokenizer>(new PatternSplitter(std::move(pattern), behavior, invert));
  }
  if (type == "ByteLevel") {
    TGI_ASSIGN_OR_RETURN(bool add_prefix_space, json_fields::boolean(j, "add_prefix_space", true));
    TGI_ASSIGN_OR_RETURN(bool use_regex, json_fields::boolean(j, "use_regex", true));
    std::optional<Pattern> regex;
    if (use_regex) {
      TGI_ASSIGN_OR_RETURN(Pattern p, Pattern::regex(kGpt2Pattern));
      regex = std::move(p);
    }
    return std::unique_ptr<PreTokenizer>(new ByteLevelPreTokenizer(add_prefix_space, std::move(regex)));
  }
  if (type == "Metaspace") {
    TGI_ASSIGN_OR_RETURN(std::string replacement, json_fields::string(j, "replacement"));
    if (utf8::count_chars(replacement) != 1)
      return Error::make(ErrorKind::kInvalidArgument, "Metaspace replacement must be one character");
    TGI_ASSIGN_OR_RETURN(std::string scheme_name, json_fields::string_or(j, "prepend_scheme", "always"));
    PrependScheme scheme;
    if (scheme_name == "always") scheme = PrependScheme::kAlways;
    else if (scheme_name == "first") scheme = PrependScheme::kFirst;
    else if (scheme_name == "never") scheme = PrependScheme::kNever;
    else return Error::make(ErrorKind::kInvalidArgument, "unknown Metaspace prepend_scheme {:?}", scheme_name);
    if (auto it = j.find("add_prefix_space"); it != j.end() && it->is_boolean() && !it->get<bool>()) {
      if (scheme != PrependScheme::kNever)
        return Error::make(ErrorKind::kInvalidArgument, "add_prefix_space does not match declared prepend_scheme");
    }
    TGI_ASSIGN_OR_RETURN(bool split, json_fields::boolean(j, "split", true));
    return std::unique_ptr<PreTokenizer>(new MetaspacePreTokenizer(std::move(replacement), scheme, split));
  }
  if (type == "Whitespace") {
    TGI_ASSIGN_OR_RETURN(Pattern p, Pattern::regex(R"(\w+|[^\w\s]+)"));
    return std::unique_ptr<PreTokenizer>(new PatternSplitter(std::move(p), SplitBehavior::kRemoved, true));
  }
  if (type == "WhitespaceSplit") {
    return std::unique_ptr<PreTokenizer>(new PatternSplitter(
        Pattern::predicate([](char32_t c) { return unicode::is_whitespace(c); }), SplitBehavior::kRemoved, false));
  }
  if (type == "Digits") {
    TGI_ASSIGN_OR_RETURN(bool individual, json_fields::boolean(j, "individual_digits", false));
    return std::unique_ptr<PreTokenizer>(
        new PatternSplitter(Pattern::predicate([](char32_t c) { return unicode::is_numeric(c); }),
                            individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false));
  }
  if (type == "Punctuation") {
    TGI_ASSIGN_OR_RETURN(std::string behavior_name, json_fields::string_or(j, "behavior", "Isolated"));
    TGI_ASSIGN_OR_RETURN(SplitBehavior behavior, parse_split_behavior(behavior_name));
    return std::unique_ptr<PreTokenizer>(
        new PatternSplitter(Pattern::predicate(BertPreTokenizer::is_bert_punctuation), behavior, false));
  }
  if (type == "BertPreTokenizer") return std::unique_ptr<PreTokenizer>(new BertPreTokenizer());
  if (type == "CharDelimiterSplit") {
    TGI_ASSIGN_OR_RETURN(std::string delimiter, json_fields::string(j, "delimiter"));
    if (utf8::count_chars(delimiter) != 1)
      return Error::make(ErrorKind::kInvalidArgument, "CharDelimiterSplit delimiter must be one character");
    size_t i = 0;
    const char32_t d = utf8::next(delimiter, i);
    return std::unique_ptr<PreTokenizer>(
        new PatternSplitter(Pattern::predicate([d](char32_t c) { return c == d; }), SplitBehavior::kRemoved, false));
  }
  return Error::make(ErrorKind::kUnsupported, "unsupported pre_tokenizer type {:?}", type);
}

}  // namespace tgi::tokenizer
