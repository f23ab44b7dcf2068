#pragma once
// Standard base64 (RFC 4648 alphabet), as tokenizer.json stores binary blobs such as the
// SentencePiece precompiled_charsmap.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tgi::tokenizer {

// Padding may be present or not; any other character, or a length no encoder produces, is an error.
Result<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace tgi::tokenizer
