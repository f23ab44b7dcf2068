#include "cli/convert_gguf_metadata.h"

#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "formats/gguf_tokenizer.h"

namespace tgi::cli {
namespace {

using formats::GgufValue;
using formats::GgufWriter;
using nlohmann::json;

// llama.cpp's token types.
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

Result<json> read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error::make(ErrorKind::kIo, "cannot read {}", path.string());
  json parsed = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Error::make(ErrorKind::kCorruptData, "{} is not valid JSON", path.string());
  return parsed;
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

// The name llama.cpp's pre-tokenizer table uses for a BPE vocabulary of this model family.
std::string bpe_pre_tokenizer_name(const std::string& model_type) {
  if (model_type == "llama") return "llama-bpe";
  if (model_type == "qwen2" || model_type == "qwen3") return "qwen2";
  return "default";
}

std::optional<std::string> special_token_text(const json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return std::nullopt;
}

// Whether a SentencePiece tokenizer.json puts "▁" before the text: a Prepend normalizer, or a
// Metaspace pre-tokenizer that prepends.
bool prepends_space_mark(const json& tokenizer) {
  bool prepends = false;
  auto visit = [&](const json& node, auto&& self) -> void {
    if (node.is_array()) {
      for (const auto& item : node) self(item, self);
      return;
    }
    if (!node.is_object()) return;
    const std::string type = node.value("type", "");
    if (type == "Prepend") prepends = true;
    if (type == "Metaspace") {
      const std::string scheme = node.value("prepend_scheme", node.value("add_prefix_space", true) ? "always" : "never");
      if (scheme != "never") prepends = true;
    }
    for (const char* key : {"normalizers", "pretokenizers"}) {
      if (node.contains(key)) self(node[key], self);
    }
  };
  visit(tokenizer.value("normalizer", json()), visit);
  visit(tokenizer.value("pre_tokenizer", json()), visit);
  return prepends;
}

bool is_byte_token(const std::string& token) {
  return token.size() == 6 && token.rfind("<0x", 0) == 0 && token.back() == '>';
}

}  // namespace

Result<void> add_tokenizer_metadata(GgufWriter& writer, const std::filesystem::path& dir,
                                    const model::ModelConfig& config, const std::string& arch) {
  (void)arch;
  const auto tokenizer_path = dir / "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path)) return {};
  TGI_ASSIGN_OR_RETURN(json tokenizer, read_json(tokenizer_path));
  json tokenizer_config = json::object();
  if (std::filesystem::exists(dir / "tokenizer_config.json")) {
    TGI_ASSIGN_OR_RETURN(tokenizer_config, read_json(dir / "tokenizer_config.json"));
  }
  const json& model = tokenizer["model"];
  if (!model.is_object() || model.value("type", "") != "BPE" || !model["vocab"].is_object()) {
    return Error::make(ErrorKind::kUnsupported, "only BPE tokenizer.json vocabularies can be written to GGUF");
  }
  // SentencePiece-derived BPE (byte fallback, ▁ for spaces) is llama.cpp's "llama" tokenizer;
  // byte-level BPE is its "gpt2" tokenizer.
  const bool sentencepiece = model.value("byte_fallback", false);

  std::map<int64_t, std::string> by_id;
  for (const auto& [token, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return Error::make(ErrorKind::kCorruptData, "tokenizer.json vocabulary id of '{}' is not a valid id", token);
    }
    by_id[id.get<int64_t>()] = token;
  }
  std::map<int64_t, int32_t> added_types;
  if (tokenizer.contains("added_tokens") && tokenizer["added_tokens"].is_array()) {
    for (const auto& added : tokenizer["added_tokens"]) {
      const int64_t id = added.value("id", int64_t{-1});
      if (id < 0 || !added.contains("content")) continue;
      by_id[id] = added["content"].get<std::string>();
      added_types[id] = added.value("special", false) ? kControl : kUserDefined;
    }
  }
  // llama.cpp (and our reader) rank SentencePiece merges by the score of the merged piece, so a
  // piece's score is minus the rank of the first merge that makes it; pieces no merge makes
  // (characters, bytes) rank below every merge. Scores of -id would lose the order of files whose
  // merges are not in id order (llama2 merges its runs of "▁" last).
  std::map<std::string, int64_t> first_merge_rank;
  if (sentencepiece && model.contains("merges") && model["merges"].is_array()) {
    int64_t rank = 0;
    for (const auto& merge : model["merges"]) {
      std::string merged;
      if (merge.is_string()) {
        const std::string text = merge.get<std::string>();
        const size_t space = text.find(' ');
        if (space == std::string::npos) return Error::make(ErrorKind::kCorruptData, "tokenizer.json has a malformed merge");
        merged = text.substr(0, space) + text.substr(space + 1);
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
        merged = merge[0].get<std::string>() + merge[1].get<std::string>();
      } else {
        return Error::make(ErrorKind::kCorruptData, "tokenizer.json has a malformed merge");
      }
      first_merge_rank.emplace(std::move(merged), rank++);
    }
  }
  const auto merge_count = static_cast<int64_t>(first_merge_rank.size());
  const int64_t highest = by_id.empty() ? -1 : by_id.rbegin()->first;
  const int64_t count = std::max(config.vocab_size, highest + 1);
  if (count > (int64_t{1} << 24)) return Error::make(ErrorKind::kCorruptData, "vocabulary of {} tokens is implausible", count);
  const auto unk = special_token_text(tokenizer_config, "unk_token");

  std::vector<std::string> tokens(count);
  std::vector<int32_t> types(count, kNormal);
  std::vector<float> scores(count, 0.0f);
  for (int64_t id = 0; id < count; ++id) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
      tokens[id] = "[PAD" + std::to_string(id) + "]";
      types[id] = kUnused;
      continue;
    }
    tokens[id] = it->second;
    const auto rank = first_merge_rank.find(it->second);
    scores[id] = -static_cast<float>(rank != first_merge_rank.end() ? rank->second : merge_count + id);
    if (const auto added = added_types.find(id); added != added_types.end()) {
      types[id] = added->second;
      scores[id] = 0.0f;
    }
    if (unk && *unk == tokens[id]) types[id] = kUnknown;
    if (sentencepiece && is_byte_token(tokens[id])) types[id] = kByte;
  }
  writer.set("tokenizer.ggml.model", GgufValue::string(sentencepiece ? "llama" : "gpt2"));
  std::string pre_name = "default";
  if (!sentencepiece) {
    const auto from_regexes = formats::gguf_pre_tokenizer_name(tokenizer.value("pre_tokenizer", json()));
    pre_name = from_regexes ? *from_regexes : bpe_pre_tokenizer_name(config.model_type);
  }
  writer.set("tokenizer.ggml.pre", GgufValue::string(pre_name));
  // llama.cpp prepends "▁" to SentencePiece input unless told otherwise; gemma's tokenizer does not.
  if (sentencepiece) writer.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(prepends_space_mark(tokenizer)));
  writer.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  if (sentencepiece) writer.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  writer.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  if (!sentencepiece && model.contains("merges") && model["merges"].is_array()) {
    std::vector<std::string> merges;
    merges.reserve(model["merges"].size());
    for (const auto& merge : model["merges"]) {
      if (merge.is_string()) {
        merges.push_back(merge.get<std::string>());
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
        merges.push_back(merge[0].get<std::string>() + " " + merge[1].get<std::string>());
      } else {
        return Error::make(ErrorKind::kCorruptData, "tokenizer.json has a malformed merge");
      }
    }
    writer.set("tokenizer.ggml.merges", GgufValue::string_array(merges));
  }

  // Special token ids: the config's, else looked up by the text tokenizer_config.json names.
  std::map<std::string, int64_t> id_of;
  for (int64_t id = 0; id < count; ++id) id_of.emplace(tokens[id], id);
  auto id_for = [&](const char* key) -> std::optional<int64_t> {
    const auto text = special_token_text(tokenizer_config, key);
    if (!text) return std::nullopt;
    const auto it = id_of.find(*text);
    return it == id_of.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  std::optional<int64_t> bos = id_for("bos_token");
  if (!bos) bos = config.bos_token_id;
  std::optional<int64_t> eos = id_for("eos_token");
  if (!eos && !config.eos_token_ids.empty()) eos = config.eos_token_ids.front();
  std::optional<int64_t> pad = id_for("pad_token");
  if (!pad) pad = config.pad_token_id;
  if (bos) writer.set("tokenizer.ggml.bos_token_id", GgufValue::u32(u32(*bos)));
  if (eos) writer.set("tokenizer.ggml.eos_token_id", GgufValue::u32(u32(*eos)));
  if (pad) writer.set("tokenizer.ggml.padding_token_id", GgufValue::u32(u32(*pad)));
  if (const auto u = id_for("unk_token")) writer.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(u32(*u)));
  if (tokenizer_config.contains("add_bos_token") && tokenizer_config["add_bos_token"].is_boolean()) {
    writer.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(tokenizer_config["add_bos_token"].get<bool>()));
  }
  if (tokenizer_config.contains("add_eos_token") && tokenizer_config["add_eos_token"].is_boolean()) {
    writer.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(tokenizer_config["add_eos_token"].get<bool>()));
  }

  std::optional<std::string> chat_template;
  if (tokenizer_config.contains("chat_template") && tokenizer_config["chat_template"].is_string()) {
    chat_template = tokenizer_config["chat_template"].get<std::string>();
  } else if (std::ifstream jinja(dir / "chat_template.jinja"); jinja) {
    chat_template = std::string(std::istreambuf_iterator<char>(jinja), {});
  }
  if (chat_template) writer.set("tokenizer.chat_template", GgufValue::string(*chat_template));
  return {};
}

}  // namespace tgi::cli
