#pragma once
// The line protocol of `tgi tokenize`: one JSON string per input line -> one JSON object
// {"ids", "tokens", "offsets"} per output line; in decode mode one JSON id array per line ->
// {"text"}. A bad line yields {"error": ...} and processing goes on.
#include <istream>
#include <ostream>

#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

struct TokenizeStreamOptions {
  bool add_special_tokens = true;
  bool decode = false;
  bool skip_special_tokens = false;  // decode mode
};

// Returns the number of lines that failed.
size_t run_tokenize_stream(const Tokenizer& tokenizer, std::istream& in, std::ostream& out,
                           const TokenizeStreamOptions& options);

}  // namespace tgi::tokenizer
