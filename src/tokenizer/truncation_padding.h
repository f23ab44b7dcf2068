#pragma once
// tokenizer.json "truncation" and "padding": applied by encode() exactly as Hugging Face
// tokenizers' encode applies them to a single sequence (TGI's router encodes with the file's
// settings in force, so its token counts include them): truncate before post-processing, keeping
// room for the special tokens it adds; pad after.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

enum class Side { kLeft, kRight };

struct TruncationParams {
  enum class Strategy { kLongestFirst, kOnlyFirst, kOnlySecond };
  size_t max_length = 0;
  Strategy strategy = Strategy::kLongestFirst;
  size_t stride = 0;
  Side direction = Side::kRight;  // which end loses tokens
};

struct PaddingParams {
  std::optional<size_t> fixed_length;  // "Fixed": n; "BatchLongest" pads a single sequence to itself
  Side direction = Side::kRight;
  std::optional<size_t> pad_to_multiple_of;
  int32_t pad_id = 0;
  std::string pad_token = "[PAD]";
};

// null -> nullopt.
Result<std::optional<TruncationParams>> parse_truncation(const nlohmann::json& j);
Result<std::optional<PaddingParams>> parse_padding(const nlohmann::json& j);

// `special_tokens_added` is what the post-processor will add (0 without add_special_tokens).
Result<void> truncate(Encoding& e, const TruncationParams& params, size_t special_tokens_added);
void pad(Encoding& e, const PaddingParams& params);

}  // namespace tgi::tokenizer
