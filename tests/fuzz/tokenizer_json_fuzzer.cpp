// Fuzzes tokenizer.json parsing and, when a file loads, encoding/decoding/streaming with it.
// Input layout: the tokenizer.json text, then optionally "\n\x00\n" and a text to encode.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSeparator("\n\0\n", 3);
  const size_t cut = input.find(kSeparator);
  const std::string_view json = input.substr(0, cut);
  const std::string_view text = cut == std::string_view::npos ? std::string_view("Hello wörld 123 <s>!") : input.substr(cut + 3);
  auto tokenizer = tgi::tokenizer::Tokenizer::from_json_string(json);
  if (!tokenizer.ok()) return 0;
  const auto& t = **tokenizer;
  for (bool special : {true, false}) {
    auto encoding = t.encode(text, special);
    if (!encoding.ok()) continue;
    (void)t.decode(encoding->ids, false);
    (void)t.decode(encoding->ids, true);
    tgi::tokenizer::IncrementalDecoder stream(t);
    for (int32_t id : encoding->ids) (void)stream.push(id);
    (void)stream.flush();
  }
  const int32_t probes[] = {-1, 0, 1, 2, 255, 1 << 20, INT32_MAX};
  for (int32_t id : probes) {
    (void)t.id_to_token(id);
    (void)t.decode(std::span<const int32_t>(&id, 1));
  }
  (void)t.vocab_size();
  return 0;
}
