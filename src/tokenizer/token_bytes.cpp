#include "tokenizer/token_bytes.h"

#include "tokenizer/pipeline.h"

namespace tgi::tokenizer {

std::vector<std::string> token_bytes(const Tokenizer& tokenizer) {
  const TokenizerPipeline& pipeline = tokenizer.pipeline();
  const int32_t n = tokenizer.vocab_size();
  std::vector<std::string> out(static_cast<size_t>(n));
  // "a" stands for a plain token ahead of the one we decode; its own decoding is stripped again.
  const std::string anchor = "a";
  auto decode_raw = [&](std::vector<std::string> tokens) {
    if (!pipeline.decoder) {
      std::string joined;
      for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
      return joined;
    }
    pipeline.decoder->decode_chain_raw(tokens);
    std::string joined;
    for (const auto& t : tokens) joined += t;
    return joined;
  };
  const std::string anchor_alone = decode_raw({anchor});
  for (int32_t id = 0; id < n; ++id) {
    if (tokenizer.is_special(id)) continue;
    const std::optional<std::string> token = tokenizer.id_to_token(id);
    if (!token || token->empty()) continue;
    std::string both = decode_raw({anchor, *token});
    if (both.compare(0, anchor_alone.size(), anchor_alone) == 0) {
      out[id] = both.substr(anchor_alone.size());
    } else {
      out[id] = decode_raw({*token});
    }
  }
  return out;
}

}  // namespace tgi::tokenizer
