#pragma once
// Everything a tokenizer.json describes, parsed and ready to run.
#include <memory>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/decoders.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"

namespace tgi::tokenizer {

class TokenizerPipeline {
 public:
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  AddedVocabulary added;

  static Result<std::unique_ptr<TokenizerPipeline>> from_json(const nlohmann::json& root);
};

// tokenizer.json "model" (models.cpp).
Result<std::unique_ptr<Model>> parse_model(const nlohmann::json& j);

}  // namespace tgi::tokenizer
