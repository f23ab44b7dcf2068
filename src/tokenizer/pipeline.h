#pragma once
// Everything a tokenizer.json describes, parsed and ready to run.
#include <memory>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/byte_level_fast_path.h"
#include "tokenizer/decoders.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer_json_reader.h"
#include "tokenizer/truncation_padding.h"

namespace tgi::tokenizer {

class TokenizerPipeline {
 public:
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  AddedVocabulary added;
  std::optional<ByteLevelFastPath> byte_level_fast_path;  // set when the pipeline has that shape
  std::optional<TruncationParams> truncation;
  std::optional<PaddingParams> padding;

  // Truncation, post-processing and padding of one encoded sequence, in the reference's order.
  Result<void> finish(Encoding& e, bool add_special_tokens) const;

  static Result<std::unique_ptr<TokenizerPipeline>> from_json(TokenizerJson parsed);
};

// tokenizer.json "model" (models.cpp); `parsed` may hold its vocab/merges already scanned.
Result<std::unique_ptr<Model>> parse_model(const nlohmann::json& j, TokenizerJson& parsed);

}  // namespace tgi::tokenizer
