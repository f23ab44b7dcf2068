#include "tokenizer/tokenizer_config_loader.h"

#include <nlohmann/json.hpp>

#include "tokenizer/pipeline.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

// A special token is written either as a string or as an AddedToken object {"content": ...}.
std::optional<std::string> token_text(const json& root, const char* key) {
  auto it = root.find(key);
  if (it == root.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto c = it->find("content");
    if (c != it->end() && c->is_string()) return c->get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

Result<TokenizerConfig> parse_tokenizer_config(std::string_view json_text, const Tokenizer& tokenizer) {
  json root = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (root.is_discarded() || !root.is_object())
    return Error::make(ErrorKind::kInvalidArgument, "tokenizer_config.json is not a JSON object");
  TokenizerConfig c;
  auto with_id = [&](const char* key, std::optional<std::string>& text, std::optional<int32_t>& id) {
    text = token_text(root, key);
    if (text) id = tokenizer.token_to_id(*text);
  };
  with_id("bos_token", c.bos_token, c.bos_token_id);
  with_id("eos_token", c.eos_token, c.eos_token_id);
  with_id("pad_token", c.pad_token, c.pad_token_id);
  with_id("unk_token", c.unk_token, c.unk_token_id);
  if (auto it = root.find("additional_special_tokens"); it != root.end() && it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) c.additional_special_tokens.push_back(t.get<std::string>());
      else if (t.is_object() && t.contains("content") && t["content"].is_string())
        c.additional_special_tokens.push_back(t["content"].get<std::string>());
    }
  }
  if (auto it = root.find("tokenizer_class"); it != root.end() && it->is_string()) c.tokenizer_class = it->get<std::string>();
  const bool llama = c.tokenizer_class == "LlamaTokenizer" || c.tokenizer_class == "LlamaTokenizerFast";
  c.add_bos_token = llama;
  c.add_eos_token = false;
  if (auto it = root.find("add_bos_token"); it != root.end() && it->is_boolean()) c.add_bos_token = it->get<bool>();
  if (auto it = root.find("add_eos_token"); it != root.end() && it->is_boolean()) c.add_eos_token = it->get<bool>();
  if (auto it = root.find("clean_up_tokenization_spaces"); it != root.end() && it->is_boolean())
    c.clean_up_tokenization_spaces = it->get<bool>();
  if (auto it = root.find("model_max_length"); it != root.end() && it->is_number()) {
    // transformers writes ~1e30 for "no limit".
    const double v = it->get<double>();
    if (v > 0 && v < 1e18) c.model_max_length = static_cast<uint64_t>(v);
  }
  if (auto it = root.find("chat_template"); it != root.end()) {
    if (it->is_string()) {
      c.chat_template = it->get<std::string>();
    } else if (it->is_array()) {
      for (const auto& entry : *it) {
        if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") || !entry["name"].is_string() ||
            !entry["template"].is_string())
          return Error::make(ErrorKind::kInvalidArgument, "chat_template list entries need \"name\" and \"template\"");
        c.named_chat_templates[entry["name"].get<std::string>()] = entry["template"].get<std::string>();
      }
      if (auto d = c.named_chat_templates.find("default"); d != c.named_chat_templates.end()) c.chat_template = d->second;
    }
  }
  return c;
}

Result<void> apply_tgi_post_processor_override(TokenizerPipeline& pipeline, const TokenizerConfig& config,
                                               const Tokenizer& tokenizer) {
  if (config.tokenizer_class != "LlamaTokenizer" && config.tokenizer_class != "LlamaTokenizerFast") return {};
  std::optional<std::pair<std::string, int32_t>> bos, eos;
  if (config.add_bos_token) {
    if (!config.bos_token) return {};  // TGI keeps the tokenizer.json post-processor then
    auto id = tokenizer.token_to_id(*config.bos_token);
    if (!id) return Error::make(ErrorKind::kInvalidArgument, "bos_token {:?} is not in the vocabulary", *config.bos_token);
    bos = std::make_pair(*config.bos_token, *id);
  }
  if (config.add_eos_token) {
    if (!config.eos_token) return {};
    auto id = tokenizer.token_to_id(*config.eos_token);
    if (!id) return Error::make(ErrorKind::kInvalidArgument, "eos_token {:?} is not in the vocabulary", *config.eos_token);
    eos = std::make_pair(*config.eos_token, *id);
  }
  pipeline.post_processor = make_bos_eos_processor(std::move(bos), std::move(eos));
  return {};
}

}  // namespace tgi::tokenizer
