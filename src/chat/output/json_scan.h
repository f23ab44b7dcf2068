#pragma once
// Finds where a JSON value ends in text that may still be growing, checking only its structure
// (brackets, strings, escapes): the values are parsed for real once complete.
#include <string>
#include <string_view>

namespace tgi::chat {

struct JsonScan {
  enum class Status { kNeedMore, kDone, kInvalid } status = Status::kNeedMore;
  size_t end = 0;  // kDone: one past the value; kInvalid: the offending byte
};

JsonScan scan_json_value(std::string_view text, size_t pos);

// The decoded value of the JSON string literal text[begin, end), or "" if it is not one.
std::string decode_json_string(std::string_view literal);

}  // namespace tgi::chat
