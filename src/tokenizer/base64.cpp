#include "tokenizer/base64.h"

namespace tgi::tokenizer {

namespace {
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

Result<std::vector<uint8_t>> base64_decode(std::string_view text) {
  size_t padding = 0;
  while (padding < 2 && text.size() > padding && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding > 0 && text.size() % 4 != 0) return Error::make(ErrorKind::kInvalidArgument, "base64 padding is misplaced");
  const std::string_view body = text.substr(0, text.size() - padding);
  if (body.size() % 4 == 1) return Error::make(ErrorKind::kInvalidArgument, "base64 text has an impossible length");
  std::vector<uint8_t> out;
  out.reserve(body.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int have = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const int v = sextet(body[i]);
    if (v < 0) return Error::make(ErrorKind::kInvalidArgument, "invalid base64 character at offset {}", i);
    bits = (bits << 6) | static_cast<uint32_t>(v);
    have += 6;
    if (have >= 8) {
      have -= 8;
      out.push_back(static_cast<uint8_t>(bits >> have));
      bits &= (1u << have) - 1;
    }
  }
  if (bits != 0) return Error::make(ErrorKind::kInvalidArgument, "base64 text has non-zero trailing bits");
  return out;
}

}  // namespace tgi::tokenizer
