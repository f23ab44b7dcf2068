#include "tokenizer/post_processors.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tokenizer/json_fields.h"
#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

struct SpecialPiece {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

// One template item: the input sequence or a special token's ids.
struct TemplateItem {
  bool is_sequence = false;
  SpecialPiece special;
};

class TemplateProcessor final : public PostProcessor {
 public:
  explicit TemplateProcessor(std::vector<TemplateItem> items) : items_(std::move(items)) {}
  void process(Encoding& e, bool add_special_tokens) const override {
    if (!add_special_tokens) return;
    Encoding out;
    for (const auto& item : items_) {
      if (item.is_sequence) {
        out.ids.insert(out.ids.end(), e.ids.begin(), e.ids.end());
        out.tokens.insert(out.tokens.end(), e.tokens.begin(), e.tokens.end());
        out.offsets.insert(out.offsets.end(), e.offsets.begin(), e.offsets.end());
      } else {
        out.ids.insert(out.ids.end(), item.special.ids.begin(), item.special.ids.end());
        out.tokens.insert(out.tokens.end(), item.special.tokens.begin(), item.special.tokens.end());
        out.offsets.insert(out.offsets.end(), item.special.ids.size(), {0, 0});
      }
    }
    e = std::move(out);
  }
  size_t added_tokens() const override {
    size_t n = 0;
    for (const auto& item : items_) n += item.is_sequence ? 0 : item.special.ids.size();
    return n;
  }

 private:
  std::vector<TemplateItem> items_;
};

// tokenizers' ByteLevel process_offsets: leading/trailing spaces leave the offsets.
void trim_offsets(Encoding& e, bool add_prefix_space) {
  for (size_t i = 0; i < e.tokens.size(); ++i) {
    const std::string& token = e.tokens[i];
    auto& [begin, end] = e.offsets[i];
    std::vector<char32_t> chars;
    for (size_t k = 0; k < token.size();) chars.push_back(utf8::next(token, k));
    auto is_space = [](char32_t c) { return c == 0x120 || unicode::is_whitespace(c); };
    size_t leading = 0, trailing = 0;
    while (leading < chars.size() && is_space(chars[leading])) ++leading;
    while (trailing < chars.size() && is_space(chars[chars.size() - 1 - trailing])) ++trailing;
    if (leading > 0) {
      const bool is_first = i == 0 || begin == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      begin = std::min(begin + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = std::max(end - trailing, begin);
  }
}

class ByteLevelProcessor final : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim, bool add_prefix_space) : trim_(trim), add_prefix_space_(add_prefix_space) {}
  void process(Encoding& e, bool) const override {
    if (trim_) trim_offsets(e, add_prefix_space_);
  }

 private:
  bool trim_, add_prefix_space_;
};

// RobertaProcessing / BertProcessing: [cls] $A [sep].
class ClsSepProcessor final : public PostProcessor {
 public:
  ClsSepProcessor(std::pair<std::string, int32_t> cls, std::pair<std::string, int32_t> sep, bool trim,
                  bool add_prefix_space)
      : cls_(std::move(cls)), sep_(std::move(sep)), trim_(trim), add_prefix_space_(add_prefix_space) {}
  void process(Encoding& e, bool add_special_tokens) const override {
    if (trim_) trim_offsets(e, add_prefix_space_);
    if (!add_special_tokens) return;
    e.ids.insert(e.ids.begin(), cls_.second);
    e.tokens.insert(e.tokens.begin(), cls_.first);
    e.offsets.insert(e.offsets.begin(), {0, 0});
    e.ids.push_back(sep_.second);
    e.tokens.push_back(sep_.first);
    e.offsets.push_back({0, 0});
  }
  size_t added_tokens() const override { return 2; }

 private:
  std::pair<std::string, int32_t> cls_, sep_;
  bool trim_, add_prefix_space_;
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void process(Encoding& e, bool add_special_tokens) const override {
    for (const auto& p : parts_) p->process(e, add_special_tokens);
  }
  size_t added_tokens() const override {
    size_t n = 0;
    for (const auto& p : parts_) n += p->added_tokens();
    return n;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

Result<std::pair<std::string, int32_t>> token_pair(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() || !(*it)[1].is_number_integer())
    return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be [token, id]", key);
  const int64_t id = (*it)[1].get<int64_t>();
  if (id < 0 || id > INT32_MAX) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" id out of range", key);
  return std::make_pair((*it)[0].get<std::string>(), static_cast<int32_t>(id));
}

Result<std::vector<TemplateItem>> parse_template(const json& tmpl, const json& special_tokens) {
  std::vector<TemplateItem> items;
  auto special = [&](const std::string& name) -> Result<TemplateItem> {
    auto it = special_tokens.find(name);
    if (it == special_tokens.end() || !it->is_object())
      return Error::make(ErrorKind::kInvalidArgument, "template uses special token {:?} that is not defined", name);
    TemplateItem item;
    static const json kMissing;
    auto ids_it = it->find("ids");
    auto tokens_it = it->find("tokens");
    const json& ids = ids_it != it->end() ? *ids_it : kMissing;  // const operator[] on a missing key is UB
    const json& tokens = tokens_it != it->end() ? *tokens_it : kMissing;
    if (!ids.is_array() || !tokens.is_array() || ids.size() != tokens.size())
      return Error::make(ErrorKind::kInvalidArgument, "special token {:?} needs ids and tokens of equal length", name);
    for (size_t k = 0; k < ids.size(); ++k) {
      if (!ids[k].is_number_integer() || !tokens[k].is_string())
        return Error::make(ErrorKind::kInvalidArgument, "special token {:?} has malformed ids/tokens", name);
      const int64_t id = ids[k].get<int64_t>();
      if (id < 0 || id > INT32_MAX) return Error::make(ErrorKind::kInvalidArgument, "special token id out of range");
      item.special.ids.push_back(static_cast<int32_t>(id));
      item.special.tokens.push_back(tokens[k].get<std::string>());
    }
    return item;
  };
  auto from_string = [&](const std::string& piece) -> Result<TemplateItem> {
    // "$A", "$B:1", "$:0", "[CLS]", "[CLS]:0"
    std::string name = piece.substr(0, piece.find(':'));
    if (!name.empty() && name[0] == '$') {
      TemplateItem item;
      item.is_sequence = true;
      return item;
    }
    return special(name);
  };
  if (tmpl.is_string()) {
    const std::string s = tmpl.get<std::string>();
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t next = s.find(' ', pos);
      const std::string piece = s.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      if (!piece.empty()) {
        TGI_ASSIGN_OR_RETURN(TemplateItem item, from_string(piece));
        items.push_back(std::move(item));
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    return items;
  }
  if (!tmpl.is_array()) return Error::make(ErrorKind::kInvalidArgument, "template must be a list or a string");
  for (const auto& piece : tmpl) {
    if (piece.is_string()) {
      TGI_ASSIGN_OR_RETURN(TemplateItem item, from_string(piece.get<std::string>()));
      items.push_back(std::move(item));
    } else if (piece.is_object() && piece.contains("Sequence")) {
      TemplateItem item;
      item.is_sequence = true;
      items.push_back(std::move(item));
    } else if (piece.is_object() && piece.contains("SpecialToken") && piece["SpecialToken"].is_object() &&
               piece["SpecialToken"].contains("id") && piece["SpecialToken"]["id"].is_string()) {
      TGI_ASSIGN_OR_RETURN(TemplateItem item, special(piece["SpecialToken"]["id"].get<std::string>()));
      items.push_back(std::move(item));
    } else {
      return Error::make(ErrorKind::kInvalidArgument, "malformed template piece");
    }
  }
  return items;
}

}  // namespace

Result<std::unique_ptr<PostProcessor>> parse_post_processor(const json& j) {
  if (j.is_null()) return std::unique_ptr<PostProcessor>();
  TGI_ASSIGN_OR_RETURN(std::string type, json_fields::type_of(j, "post_processor"));
  if (type == "Sequence") {
    TGI_ASSIGN_OR_RETURN(const json* list, json_fields::array(j, "processors"));
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (const auto& item : *list) {
      TGI_ASSIGN_OR_RETURN(auto p, parse_post_processor(item));
      if (p) parts.push_back(std::move(p));
    }
    return std::unique_ptr<PostProcessor>(new SequenceProcessor(std::move(parts)));
  }
  if (type == "ByteLevel") {
    TGI_ASSIGN_OR_RETURN(bool trim, json_fields::boolean(j, "trim_offsets", true));
    TGI_ASSIGN_OR_RETURN(bool prefix, json_fields::boolean(j, "add_prefix_space", true));
    return std::unique_ptr<PostProcessor>(new ByteLevelProcessor(trim, prefix));
  }
  if (type == "TemplateProcessing") {
    auto single = j.find("single");
    if (single == j.end()) return Error::make(ErrorKind::kInvalidArgument, "TemplateProcessing needs \"single\"");
    static const json kEmpty = json::object();
    auto st = j.find("special_tokens");
    const json& specials = st != j.end() && st->is_object() ? *st : kEmpty;
    TGI_ASSIGN_OR_RETURN(auto items, parse_template(*single, specials));
    return std::unique_ptr<PostProcessor>(new TemplateProcessor(std::move(items)));
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    TGI_ASSIGN_OR_RETURN(auto cls, token_pair(j, "cls"));
    TGI_ASSIGN_OR_RETURN(auto sep, token_pair(j, "sep"));
    const bool roberta = type == "RobertaProcessing";
    TGI_ASSIGN_OR_RETURN(bool trim, json_fields::boolean(j, "trim_offsets", true));
    TGI_ASSIGN_OR_RETURN(bool prefix, json_fields::boolean(j, "add_prefix_space", true));
    return std::unique_ptr<PostProcessor>(
        new ClsSepProcessor(std::move(cls), std::move(sep), roberta && trim, prefix));
  }
  return Error::make(ErrorKind::kUnsupported, "unsupported post_processor type {:?}", type);
}

std::unique_ptr<PostProcessor> make_bos_eos_processor(std::optional<std::pair<std::string, int32_t>> bos,
                                                      std::optional<std::pair<std::string, int32_t>> eos) {
  std::vector<TemplateItem> items;
  if (bos) items.push_back(TemplateItem{false, SpecialPiece{{bos->second}, {bos->first}}});
  items.push_back(TemplateItem{true, {}});
  if (eos) items.push_back(TemplateItem{false, SpecialPiece{{eos->second}, {eos->first}}});
  return std::unique_ptr<PostProcessor>(new TemplateProcessor(std::move(items)));
}

}  // namespace tgi::tokenizer
