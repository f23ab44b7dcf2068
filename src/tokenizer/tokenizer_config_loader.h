#pragma once
// tokenizer_config.json: special tokens, add_bos/add_eos, chat templates, model_max_length.
#include <string_view>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

// Token ids are resolved through `tokenizer`.
Result<TokenizerConfig> parse_tokenizer_config(std::string_view json_text, const Tokenizer& tokenizer);

// TGI replaces the post-processor of Llama tokenizer classes with [bos] $A [eos] according to
// add_bos_token (default true) and add_eos_token (default false), as transformers does.
Result<void> apply_tgi_post_processor_override(TokenizerPipeline& pipeline, const TokenizerConfig& config,
                                               const Tokenizer& tokenizer);

}  // namespace tgi::tokenizer
