#include "formats/gguf_tokenizer.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tgi::formats {
namespace {

using nlohmann::json;

constexpr const char* kSpaceMark = "\u2581";  // SentencePiece's "▁"

// Byte-level pre-tokenizer regexes, as the Hugging Face tokenizer.json files of these families
// (and llama.cpp's table for the same tokenizer.ggml.pre names) spell them.
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
constexpr const char* kDeepseekV3Regexes[] = {
    "\\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+"
    "[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
};

json byte_level(bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", trim_offsets}, {"use_regex", use_regex}};
}

json split_then_byte_level(const std::vector<std::string>& regexes, bool trim_offsets) {
  json steps = json::array();
  for (const auto& r : regexes) {
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", r}}}, {"behavior", "Isolated"}, {"invert", false}});
  }
  steps.push_back(byte_level(trim_offsets, false));
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

struct PreTokenizerFamily {
  json pre_tokenizer;
  json normalizer;  // null when none
  bool ignore_merges = false;
  bool add_bos = false;  // llama.cpp's default when tokenizer.ggml.add_bos_token is absent
};

std::optional<PreTokenizerFamily> pre_tokenizer_family(const std::string& name) {
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") {
    return PreTokenizerFamily{split_then_byte_level({kLlama3Regex}, true), nullptr, true, true};
  }
  if (name == "qwen2") {
    return PreTokenizerFamily{split_then_byte_level({kQwen2Regex}, false), json{{"type", "NFC"}}, false, false};
  }
  if (name == "deepseek-v3") {
    std::vector<std::string> regexes(std::begin(kDeepseekV3Regexes), std::end(kDeepseekV3Regexes));
    return PreTokenizerFamily{split_then_byte_level(regexes, true), nullptr, false, false};
  }
  // GPT-2's own regex, built into ByteLevel. llama.cpp's "default" differs from it only on
  // digit runs and some punctuation; it is the closest Hugging Face pipeline.
  if (name == "gpt-2" || name == "gpt2" || name == "default") {
    return PreTokenizerFamily{byte_level(true, true), nullptr, false, false};
  }
  return std::nullopt;
}

json template_processing(const std::vector<std::pair<std::string, int64_t>>& before,
                         const std::vector<std::pair<std::string, int64_t>>& after) {
  json special_tokens = json::object();
  auto piece = [&](const std::pair<std::string, int64_t>& t, int type_id) {
    special_tokens[t.first] = {{"id", t.first}, {"ids", {t.second}}, {"tokens", {t.first}}};
    return json{{"SpecialToken", {{"id", t.first}, {"type_id", type_id}}}};
  };
  json single = json::array(), pair = json::array();
  for (int type_id = 0; type_id < 2; ++type_id) {
    json& out = type_id == 0 ? single : pair;
    for (const auto& t : before) out.push_back(piece(t, type_id));
    out.push_back({{"Sequence", {{"id", type_id == 0 ? "A" : "B"}, {"type_id", type_id}}}});
    for (const auto& t : after) out.push_back(piece(t, type_id));
  }
  // A pair is the first sequence's template followed by the second's.
  json full_pair = single;
  for (auto& p : pair) full_pair.push_back(std::move(p));
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", full_pair}, {"special_tokens", special_tokens}};
}

// Byte offsets where a UTF-8 string can be cut into two non-empty strings.
std::vector<size_t> char_boundaries(std::string_view s) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) cuts.push_back(i);
  }
  return cuts;
}

// transformers' SentencePiece converter: every way of cutting a normal piece into two vocabulary
// pieces is a merge; merges are ranked by the piece's score, highest first (stable, so equal
// scores keep vocabulary order), and the cuts of one piece by the ids of their halves.
json merges_from_scores(const std::vector<std::string>& tokens, const std::vector<int32_t>& types,
                        const std::vector<double>& scores, const std::unordered_map<std::string_view, int64_t>& ids) {
  struct Merge {
    int64_t left, right;
    double score;
  };
  std::vector<Merge> merges;
  std::vector<Merge> local;
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (types[id] != static_cast<int32_t>(GgufTokenType::kNormal)) continue;
    const std::string_view piece = tokens[id];
    local.clear();
    for (size_t cut : char_boundaries(piece)) {
      const auto l = ids.find(piece.substr(0, cut));
      if (l == ids.end()) continue;
      const auto r = ids.find(piece.substr(cut));
      if (r == ids.end()) continue;
      local.push_back({l->second, r->second, scores[id]});
    }
    std::sort(local.begin(), local.end(),
              [](const Merge& a, const Merge& b) { return std::tie(a.left, a.right) < std::tie(b.left, b.right); });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  json out = json::array();
  for (const Merge& m : merges) out.push_back(json::array({tokens[m.left], tokens[m.right]}));
  return out;
}

Result<json> merges_from_metadata(const GgufFile& file) {
  const GgufValue* value = file.find_value("tokenizer.ggml.merges");
  if (!value) return Error::make(ErrorKind::kCorruptData, "a gpt2 GGUF tokenizer needs tokenizer.ggml.merges");
  auto merges = value->as_strings();
  if (!merges) return Error::make(ErrorKind::kCorruptData, "tokenizer.ggml.merges is not an array of strings");
  json out = json::array();
  for (const std::string& merge : *merges) {
    // llama.cpp looks for the separating space from the second byte on: a left half may be " ".
    const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string::npos;
    if (space == std::string::npos || space + 1 >= merge.size()) {
      return Error::make(ErrorKind::kCorruptData, "tokenizer.ggml.merges entry '{}' is not two space-separated tokens",
                         merge.substr(0, 64));
    }
    out.push_back(json::array({merge.substr(0, space), merge.substr(space + 1)}));
  }
  return out;
}

// An optional per-token array that must match the vocabulary's length.
template <typename T, typename Read>
Result<std::optional<std::vector<T>>> per_token(const GgufFile& file, const char* key, size_t count, Read read) {
  const GgufValue* value = file.find_value(key);
  if (!value) return std::optional<std::vector<T>>();
  auto items = read(*value);
  if (!items) return Error::make(ErrorKind::kCorruptData, "{} has the wrong type", key);
  if (items->size() != count) {
    return Error::make(ErrorKind::kCorruptData, "{} has {} entries for {} tokens", key, items->size(), count);
  }
  std::vector<T> out(items->begin(), items->end());
  return std::optional<std::vector<T>>(std::move(out));
}

Result<std::optional<int64_t>> token_id(const GgufFile& file, const std::string& key, size_t count) {
  const GgufValue* value = file.find_value(key);
  if (!value) return std::optional<int64_t>();
  const auto id = value->as_int();
  if (!id) return Error::make(ErrorKind::kCorruptData, "{} is not an integer", key);
  // llama.cpp writes -1 (or u32 max) for "none".
  if (*id < 0 || *id == 0xFFFFFFFF) return std::optional<int64_t>();
  if (static_cast<uint64_t>(*id) >= count) {
    return Error::make(ErrorKind::kCorruptData, "{} = {} is outside the vocabulary of {} tokens", key, *id, count);
  }
  return std::optional<int64_t>(*id);
}

Result<std::optional<bool>> flag(const GgufFile& file, const char* key) {
  const GgufValue* value = file.find_value(key);
  if (!value) return std::optional<bool>();
  const auto b = value->as_bool();
  if (!b) return Error::make(ErrorKind::kCorruptData, "{} is not a boolean", key);
  return std::optional<bool>(*b);
}

}  // namespace

std::optional<std::string> gguf_pre_tokenizer_name(const json& pre_tokenizer) {
  if (!pre_tokenizer.is_object()) return std::nullopt;
  const std::string type = pre_tokenizer.value("type", "");
  if (type == "ByteLevel") {
    if (pre_tokenizer.value("use_regex", true) && !pre_tokenizer.value("add_prefix_space", false)) return "gpt-2";
    return std::nullopt;
  }
  if (type != "Sequence" || !pre_tokenizer.contains("pretokenizers") || !pre_tokenizer["pretokenizers"].is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> regexes;
  bool ends_in_byte_level = false;
  for (const auto& step : pre_tokenizer["pretokenizers"]) {
    if (ends_in_byte_level || !step.is_object()) return std::nullopt;
    const std::string step_type = step.value("type", "");
    if (step_type == "ByteLevel" && !step.value("use_regex", true) && !step.value("add_prefix_space", false)) {
      ends_in_byte_level = true;
    } else if (step_type == "Split" && step.value("behavior", "") == "Isolated" && !step.value("invert", false) &&
               step.contains("pattern") && step["pattern"].is_object() && step["pattern"].contains("Regex") &&
               step["pattern"]["Regex"].is_string()) {
      regexes.push_back(step["pattern"]["Regex"].get<std::string>());
    } else {
      return std::nullopt;
    }
  }
  if (!ends_in_byte_level) return std::nullopt;
  if (regexes == std::vector<std::string>{kLlama3Regex}) return "llama-bpe";
  if (regexes == std::vector<std::string>{kQwen2Regex}) return "qwen2";
  if (regexes == std::vector<std::string>(std::begin(kDeepseekV3Regexes), std::end(kDeepseekV3Regexes))) {
    return "deepseek-v3";
  }
  return std::nullopt;
}

Result<GgufTokenizer> gguf_tokenizer(const GgufFile& file) {
  TGI_ASSIGN_OR_RETURN(const std::string model, file.get_string("tokenizer.ggml.model"));
  if (model != "llama" && model != "gpt2") {
    return Error::make(ErrorKind::kUnsupported,
                       "GGUF tokenizer model '{}' is not supported (only \"llama\" and \"gpt2\")", model);
  }
  const bool sentencepiece = model == "llama";
  const GgufValue* tokens_value = file.find_value("tokenizer.ggml.tokens");
  if (!tokens_value) return Error::make(ErrorKind::kCorruptData, "GGUF file has no tokenizer.ggml.tokens");
  auto tokens_read = tokens_value->as_strings();
  if (!tokens_read) return Error::make(ErrorKind::kCorruptData, "tokenizer.ggml.tokens is not an array of strings");
  const std::vector<std::string> tokens = std::move(*tokens_read);
  const size_t count = tokens.size();
  if (count == 0) return Error::make(ErrorKind::kCorruptData, "tokenizer.ggml.tokens is empty");
  if (count > (size_t{1} << 24)) return Error::make(ErrorKind::kCorruptData, "a vocabulary of {} tokens is implausible", count);

  TGI_ASSIGN_OR_RETURN(auto types_read, per_token<int32_t>(file, "tokenizer.ggml.token_type", count,
                                                           [](const GgufValue& v) { return v.as_ints(); }));
  const std::vector<int32_t> types =
      types_read ? std::move(*types_read) : std::vector<int32_t>(count, static_cast<int32_t>(GgufTokenType::kNormal));
  TGI_ASSIGN_OR_RETURN(auto scores_read, per_token<double>(file, "tokenizer.ggml.scores", count,
                                                           [](const GgufValue& v) { return v.as_doubles(); }));
  const std::vector<double> scores = scores_read ? std::move(*scores_read) : std::vector<double>(count, 0.0);

  // llama.cpp's defaults where the file is silent.
  std::string pre_name = "default";
  if (const GgufValue* pre = file.find_value("tokenizer.ggml.pre"); pre && pre->as_string()) pre_name = *pre->as_string();
  std::optional<PreTokenizerFamily> family;
  if (!sentencepiece) {
    family = pre_tokenizer_family(pre_name);
    if (!family) {
      return Error::make(ErrorKind::kUnsupported,
                         "GGUF pre-tokenizer '{}' is not supported (llama-bpe, qwen2, deepseek-v3, gpt-2/default)",
                         pre_name);
    }
  }
  TGI_ASSIGN_OR_RETURN(auto bos, token_id(file, "tokenizer.ggml.bos_token_id", count));
  TGI_ASSIGN_OR_RETURN(auto eos, token_id(file, "tokenizer.ggml.eos_token_id", count));
  TGI_ASSIGN_OR_RETURN(auto unk, token_id(file, "tokenizer.ggml.unknown_token_id", count));
  TGI_ASSIGN_OR_RETURN(auto pad, token_id(file, "tokenizer.ggml.padding_token_id", count));
  if (sentencepiece) {
    if (!file.find_value("tokenizer.ggml.bos_token_id") && count > 1) bos = 1;
    if (!file.find_value("tokenizer.ggml.eos_token_id") && count > 2) eos = 2;
    if (!file.find_value("tokenizer.ggml.unknown_token_id")) unk = 0;
  }
  TGI_ASSIGN_OR_RETURN(auto add_bos_read, flag(file, "tokenizer.ggml.add_bos_token"));
  TGI_ASSIGN_OR_RETURN(auto add_eos_read, flag(file, "tokenizer.ggml.add_eos_token"));
  TGI_ASSIGN_OR_RETURN(auto add_space_prefix_read, flag(file, "tokenizer.ggml.add_space_prefix"));
  const bool add_bos = add_bos_read.value_or(sentencepiece || family->add_bos) && bos.has_value();
  const bool add_eos = add_eos_read.value_or(false) && eos.has_value();
  const bool add_space_prefix = add_space_prefix_read.value_or(sentencepiece);

  // Vocabulary: unused slots (llama.cpp's "[PAD<n>]" fillers) are no tokens at all. Control,
  // unknown and user-defined tokens are added tokens matched on the raw text, as llama.cpp does;
  // a SentencePiece vocabulary keeps them in the model too (as transformers' converter does).
  json vocab = json::object();
  json added_tokens = json::array();
  std::unordered_map<std::string_view, int64_t> ids;
  ids.reserve(count);
  for (size_t id = 0; id < count; ++id) {
    const auto type = static_cast<GgufTokenType>(types[id]);
    if (type == GgufTokenType::kUnused) continue;
    const bool added = type == GgufTokenType::kControl || type == GgufTokenType::kUnknown ||
                       type == GgufTokenType::kUserDefined;
    if (added) {
      added_tokens.push_back({{"id", id},
                              {"content", tokens[id]},
                              {"single_word", false},
                              {"lstrip", false},
                              {"rstrip", false},
                              {"normalized", false},
                              {"special", type != GgufTokenType::kUserDefined}});
    }
    if (added && !sentencepiece) continue;
    if (!ids.emplace(tokens[id], static_cast<int64_t>(id)).second) continue;  // first of duplicates wins
    vocab[tokens[id]] = id;
  }

  json doc;
  doc["version"] = "1.0";
  doc["truncation"] = nullptr;
  doc["padding"] = nullptr;
  doc["added_tokens"] = std::move(added_tokens);
  json bpe = {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", nullptr},
              {"continuing_subword_prefix", nullptr},
              {"end_of_word_suffix", nullptr},
              {"fuse_unk", sentencepiece},
              {"byte_fallback", sentencepiece},
              {"ignore_merges", !sentencepiece && family->ignore_merges}};
  if (sentencepiece) {
    if (unk && types[*unk] != static_cast<int32_t>(GgufTokenType::kUnused)) bpe["unk_token"] = tokens[*unk];
    json replace_space = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}};
    if (add_space_prefix) {
      doc["normalizer"] = {{"type", "Sequence"},
                           {"normalizers", {{{"type", "Prepend"}, {"prepend", kSpaceMark}}, replace_space}}};
    } else {
      doc["normalizer"] = replace_space;
    }
    doc["pre_tokenizer"] = nullptr;
    json decoders = {{{"type", "Replace"}, {"pattern", {{"String", kSpaceMark}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}}};
    if (add_space_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    doc["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
    bpe["merges"] = merges_from_scores(tokens, types, scores, ids);
  } else {
    doc["normalizer"] = family->normalizer;
    doc["pre_tokenizer"] = family->pre_tokenizer;
    doc["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    TGI_ASSIGN_OR_RETURN(bpe["merges"], merges_from_metadata(file));
  }
  bpe["vocab"] = std::move(vocab);

  std::vector<std::pair<std::string, int64_t>> before, after;
  if (add_bos) before.emplace_back(tokens[*bos], *bos);
  if (add_eos) after.emplace_back(tokens[*eos], *eos);
  doc["post_processor"] = before.empty() && after.empty() ? json(nullptr) : template_processing(before, after);
  doc["model"] = std::move(bpe);

  GgufTokenizer out;
  out.bos_token_id = bos;
  out.eos_token_id = eos;
  json& config = out.tokenizer_config;
  config = json::object();
  if (bos) config["bos_token"] = tokens[*bos];
  if (eos) config["eos_token"] = tokens[*eos];
  if (unk) config["unk_token"] = tokens[*unk];
  if (pad) config["pad_token"] = tokens[*pad];
  config["add_bos_token"] = add_bos;
  config["add_eos_token"] = add_eos;
  if (const GgufValue* chat = file.find_value("tokenizer.chat_template"); chat && chat->as_string()) {
    config["chat_template"] = *chat->as_string();
  }
  out.tokenizer_json = std::move(doc);
  return out;
}

}  // namespace tgi::formats
