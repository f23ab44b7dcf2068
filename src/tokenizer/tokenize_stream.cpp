#include "tokenizer/tokenize_stream.h"

#include <string>

#include <nlohmann/json.hpp>

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json error_line(const std::string& message) { return json{{"error", message}}; }

json encode_line(const Tokenizer& tokenizer, const json& input, const TokenizeStreamOptions& options) {
  if (!input.is_string()) return error_line("expected a JSON string");
  auto encoding = tokenizer.encode(input.get_ref<const std::string&>(), options.add_special_tokens);
  if (!encoding.ok()) return error_line(encoding.error().message);
  json offsets = json::array();
  for (auto [b, e] : encoding->offsets) offsets.push_back({b, e});
  return json{{"ids", encoding->ids}, {"tokens", encoding->tokens}, {"offsets", std::move(offsets)}};
}

json decode_line(const Tokenizer& tokenizer, const json& input, const TokenizeStreamOptions& options) {
  if (!input.is_array()) return error_line("expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const auto& v : input) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      return error_line("token ids must be non-negative integers");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return json{{"text", tokenizer.decode(ids, options.skip_special_tokens)}};
}

}  // namespace

size_t run_tokenize_stream(const Tokenizer& tokenizer, std::istream& in, std::ostream& out,
                           const TokenizeStreamOptions& options) {
  size_t failures = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    json input = json::parse(line, nullptr, false);
    json result = input.is_discarded() ? error_line("line is not valid JSON")
                  : options.decode     ? decode_line(tokenizer, input, options)
                                       : encode_line(tokenizer, input, options);
    if (result.contains("error")) ++failures;
    out << dump(result) << '\n';
    out.flush();  // interactive use: answer each line as it comes
  }
  return failures;
}

}  // namespace tgi::tokenizer
