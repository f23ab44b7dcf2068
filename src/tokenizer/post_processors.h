#pragma once
// tokenizer.json "post_processor": adds special tokens around an encoded sequence and adjusts
// offsets (single sequences; pairs are not needed by the server).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void process(Encoding& encoding, bool add_special_tokens) const = 0;
  // How many special tokens process() adds to a single sequence (tokenizers' added_tokens(false));
  // truncation keeps room for them.
  virtual size_t added_tokens() const { return 0; }
};

// null -> nullptr. `token_to_id` resolves the ids Roberta/Bert processors name by string.
Result<std::unique_ptr<PostProcessor>> parse_post_processor(const nlohmann::json& j);

// TGI's post-processor for Llama tokenizer classes: [bos] $A [eos] per add_bos/add_eos.
std::unique_ptr<PostProcessor> make_bos_eos_processor(std::optional<std::pair<std::string, int32_t>> bos,
                                                      std::optional<std::pair<std::string, int32_t>> eos);

}  // namespace tgi::tokenizer
