#include "tokenizer/pipeline.h"

#include <nlohmann/json.hpp>

namespace tgi::tokenizer {

namespace {
const nlohmann::json& field(const nlohmann::json& root, const char* key) {
  static const nlohmann::json kNull;
  auto it = root.find(key);
  return it == root.end() ? kNull : *it;
}
}  // namespace

Result<std::unique_ptr<TokenizerPipeline>> TokenizerPipeline::from_json(TokenizerJson parsed) {
  const nlohmann::json& root = parsed.document;
  if (!root.is_object()) return Error::make(ErrorKind::kInvalidArgument, "tokenizer.json must be a JSON object");
  auto p = std::make_unique<TokenizerPipeline>();
  TGI_ASSIGN_OR_RETURN(p->normalizer, parse_normalizer(field(root, "normalizer")));
  TGI_ASSIGN_OR_RETURN(p->pre_tokenizer, parse_pre_tokenizer(field(root, "pre_tokenizer")));
  TGI_ASSIGN_OR_RETURN(p->model, parse_model(field(root, "model"), parsed));
  TGI_ASSIGN_OR_RETURN(p->post_processor, parse_post_processor(field(root, "post_processor")));
  TGI_ASSIGN_OR_RETURN(p->decoder, parse_decoder(field(root, "decoder")));
  TGI_ASSIGN_OR_RETURN(p->truncation, parse_truncation(field(root, "truncation")));
  TGI_ASSIGN_OR_RETURN(p->padding, parse_padding(field(root, "padding")));
  std::vector<AddedToken> added;
  if (const auto& list = field(root, "added_tokens"); !list.is_null()) {
    if (!list.is_array()) return Error::make(ErrorKind::kInvalidArgument, "\"added_tokens\" must be a list");
    for (const auto& t : list) {
      if (!t.is_object() || !t.contains("content") || !t["content"].is_string())
        return Error::make(ErrorKind::kInvalidArgument, "added token without string \"content\"");
      AddedToken a;
      a.content = t["content"].get<std::string>();
      auto flag = [&](const char* key, bool fallback) {
        auto it = t.find(key);
        return it != t.end() && it->is_boolean() ? it->get<bool>() : fallback;
      };
      a.special = flag("special", false);
      a.single_word = flag("single_word", false);
      a.lstrip = flag("lstrip", false);
      a.rstrip = flag("rstrip", false);
      a.normalized = flag("normalized", !a.special);
      added.push_back(std::move(a));
    }
  }
  TGI_TRY(p->added.add_tokens(added, *p->model, p->normalizer.get()));
  TGI_ASSIGN_OR_RETURN(p->byte_level_fast_path, ByteLevelFastPath::plan(root));
  return p;
}

Result<void> TokenizerPipeline::finish(Encoding& e, bool add_special_tokens) const {
  if (truncation) {
    const size_t special = add_special_tokens && post_processor ? post_processor->added_tokens() : 0;
    TGI_TRY(truncate(e, *truncation, special));
  }
  if (post_processor) post_processor->process(e, add_special_tokens);
  if (padding) pad(e, *padding);
  return {};
}

}  // namespace tgi::tokenizer
