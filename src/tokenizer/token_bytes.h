#pragma once
// The exact bytes each token adds to a model's output, for constrained decoding: a grammar runs
// over bytes, and a byte-level or byte-fallback token may hold part of a UTF-8 character, which
// an ordinary decode would repair into U+FFFD.
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

// One entry per id in [0, vocab_size()). Special tokens (and ids with no token) get "": a
// grammar never allows them; the end of a constrained output is decided apart from the bytes.
// A token is decoded after a plain one, so a decoder that treats the first token of a text
// differently (Metaspace's leading space, Strip) gives the bytes the token adds mid-output.
std::vector<std::string> token_bytes(const Tokenizer& tokenizer);

}  // namespace tgi::tokenizer
