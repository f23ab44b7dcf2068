#include "tokenizer/truncation_padding.h"

#include <nlohmann/json.hpp>

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

Result<Side> parse_side(const json& j, const char* key, const char* what) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Side::kRight;
  if (it->is_string() && *it == "Left") return Side::kLeft;
  if (it->is_string() && *it == "Right") return Side::kRight;
  return Error::make(ErrorKind::kInvalidArgument, "{} \"{}\" must be \"Left\" or \"Right\"", what, key);
}

Result<std::optional<size_t>> optional_size(const json& j, const char* key, const char* what) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<size_t>();
  if (!it->is_number_unsigned()) return Error::make(ErrorKind::kInvalidArgument, "{} \"{}\" must be a non-negative integer", what, key);
  return std::optional<size_t>(it->get<size_t>());
}

// Keeps `length` tokens, dropping from `side`.
void keep(Encoding& e, size_t length, Side side) {
  if (length >= e.ids.size()) return;
  const size_t from = side == Side::kRight ? 0 : e.ids.size() - length;
  auto cut = [&](auto& v) { v = std::decay_t<decltype(v)>(v.begin() + from, v.begin() + from + length); };
  cut(e.ids);
  cut(e.tokens);
  cut(e.offsets);
}

}  // namespace

Result<std::optional<TruncationParams>> parse_truncation(const json& j) {
  if (j.is_null()) return std::optional<TruncationParams>();
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "\"truncation\" must be an object or null");
  TruncationParams p;
  TGI_ASSIGN_OR_RETURN(auto max_length, optional_size(j, "max_length", "truncation"));
  if (!max_length) return Error::make(ErrorKind::kInvalidArgument, "truncation needs \"max_length\"");
  p.max_length = *max_length;
  TGI_ASSIGN_OR_RETURN(auto stride, optional_size(j, "stride", "truncation"));
  p.stride = stride.value_or(0);
  TGI_ASSIGN_OR_RETURN(p.direction, parse_side(j, "direction", "truncation"));
  if (const auto it = j.find("strategy"); it != j.end() && !it->is_null()) {
    if (*it == "LongestFirst") p.strategy = TruncationParams::Strategy::kLongestFirst;
    else if (*it == "OnlyFirst") p.strategy = TruncationParams::Strategy::kOnlyFirst;
    else if (*it == "OnlySecond") p.strategy = TruncationParams::Strategy::kOnlySecond;
    else return Error::make(ErrorKind::kInvalidArgument, "truncation \"strategy\" must be LongestFirst, OnlyFirst or OnlySecond");
  }
  return std::optional<TruncationParams>(p);
}

Result<std::optional<PaddingParams>> parse_padding(const json& j) {
  if (j.is_null()) return std::optional<PaddingParams>();
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "\"padding\" must be an object or null");
  PaddingParams p;
  if (const auto it = j.find("strategy"); it != j.end() && !it->is_null()) {
    if (it->is_object() && it->contains("Fixed") && (*it)["Fixed"].is_number_unsigned()) {
      p.fixed_length = (*it)["Fixed"].get<size_t>();
    } else if (*it != "BatchLongest") {
      return Error::make(ErrorKind::kInvalidArgument, "padding \"strategy\" must be \"BatchLongest\" or {{\"Fixed\": n}}");
    }
  }
  TGI_ASSIGN_OR_RETURN(p.direction, parse_side(j, "direction", "padding"));
  TGI_ASSIGN_OR_RETURN(p.pad_to_multiple_of, optional_size(j, "pad_to_multiple_of", "padding"));
  TGI_ASSIGN_OR_RETURN(auto pad_id, optional_size(j, "pad_id", "padding"));
  if (pad_id && *pad_id > static_cast<size_t>(INT32_MAX)) return Error::make(ErrorKind::kInvalidArgument, "padding \"pad_id\" is out of range");
  p.pad_id = static_cast<int32_t>(pad_id.value_or(0));
  if (const auto it = j.find("pad_token"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return Error::make(ErrorKind::kInvalidArgument, "padding \"pad_token\" must be a string");
    p.pad_token = it->get<std::string>();
  }
  return std::optional<PaddingParams>(p);
}

Result<void> truncate(Encoding& e, const TruncationParams& params, size_t special_tokens_added) {
  // tokenizers subtracts in usize: more special tokens than max_length wraps to "no limit".
  size_t max_length = params.max_length;
  if (special_tokens_added > 0) {
    if (special_tokens_added > max_length) return {};
    max_length -= special_tokens_added;
  }
  if (max_length == 0) {
    e = Encoding{};
    return {};
  }
  if (e.ids.size() <= max_length) return {};
  if (params.strategy == TruncationParams::Strategy::kOnlySecond) {
    return Error::make(ErrorKind::kInvalidArgument, "Truncation error: Second sequence not provided");
  }
  // The reference asserts (and would abort) here; an error is the safe equivalent.
  if (params.stride >= max_length) {
    return Error::make(ErrorKind::kInvalidArgument,
                       "truncation stride {} must be less than the {} tokens left after special tokens", params.stride,
                       max_length);
  }
  keep(e, max_length, params.direction);
  return {};
}

void pad(Encoding& e, const PaddingParams& params) {
  size_t length = params.fixed_length.value_or(e.ids.size());
  if (params.pad_to_multiple_of && *params.pad_to_multiple_of > 0 && length % *params.pad_to_multiple_of > 0) {
    length += *params.pad_to_multiple_of - length % *params.pad_to_multiple_of;
  }
  if (e.ids.size() >= length) return;
  const size_t n = length - e.ids.size();
  const auto at = [&](auto& v) { return params.direction == Side::kLeft ? v.begin() : v.end(); };
  e.ids.insert(at(e.ids), n, params.pad_id);
  e.tokens.insert(at(e.tokens), n, params.pad_token);
  e.offsets.insert(at(e.offsets), n, std::pair<size_t, size_t>{0, 0});
}

}  // namespace tgi::tokenizer
