#include "server/json_fields.h"

#include <limits>

#include <fmt/format.h>

namespace tgi::server {

std::string join_path(const std::string& path, const char* name) {
  return path.empty() ? std::string(name) : path + "." + name;
}

Error shape_error(const std::string& path, const std::string& message) {
  if (path.empty()) return Error{ErrorKind::kInvalidArgument, message};
  return Error{ErrorKind::kInvalidArgument, path + ": " + message};
}

std::string describe_json_value(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return fmt::format("boolean `{}`", value.get<bool>());
    case json::value_t::number_integer: return fmt::format("integer `{}`", value.get<int64_t>());
    case json::value_t::number_unsigned: return fmt::format("integer `{}`", value.get<uint64_t>());
    case json::value_t::number_float: return fmt::format("floating point `{}`", value.get<double>());
    case json::value_t::string: return fmt::format("string {}", value.dump());
    case json::value_t::array: return "sequence";
    case json::value_t::object: return "map";
    default: return "value";
  }
}

namespace {

Error invalid_type(const std::string& path, const json& value, const char* expected) {
  return shape_error(path, fmt::format("invalid type: {}, expected {}", describe_json_value(value), expected));
}

template <typename Int>
Result<Int> decode_integer(const json& value, const std::string& path, const char* expected) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<Int>::max()))
      return shape_error(path, fmt::format("invalid value: integer `{}`, expected {}", v, expected));
    return static_cast<Int>(v);
  }
  if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    if (v < static_cast<int64_t>(std::numeric_limits<Int>::min()) ||
        (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<Int>::max())))
      return shape_error(path, fmt::format("invalid value: integer `{}`, expected {}", v, expected));
    return static_cast<Int>(v);
  }
  return invalid_type(path, value, expected);
}

template <typename T>
Result<T> decode(const json& value, const std::string& path);

template <>
Result<bool> decode<bool>(const json& value, const std::string& path) {
  if (!value.is_boolean()) return invalid_type(path, value, "a boolean");
  return value.get<bool>();
}
template <>
Result<float> decode<float>(const json& value, const std::string& path) {
  if (!value.is_number()) return invalid_type(path, value, "f32");
  return static_cast<float>(value.get<double>());
}
template <>
Result<int32_t> decode<int32_t>(const json& value, const std::string& path) {
  return decode_integer<int32_t>(value, path, "i32");
}
template <>
Result<uint32_t> decode<uint32_t>(const json& value, const std::string& path) {
  return decode_integer<uint32_t>(value, path, "u32");
}
template <>
Result<uint64_t> decode<uint64_t>(const json& value, const std::string& path) {
  return decode_integer<uint64_t>(value, path, "u64");
}
template <>
Result<std::string> decode<std::string>(const json& value, const std::string& path) {
  if (!value.is_string()) return invalid_type(path, value, "a string");
  return value.get<std::string>();
}
template <>
Result<std::vector<std::string>> decode<std::vector<std::string>>(const json& value, const std::string& path) {
  if (!value.is_array()) return invalid_type(path, value, "a sequence");
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    if (!item.is_string()) return invalid_type(fmt::format("{}[{}]", path, i), item, "a string");
    out.push_back(item.get<std::string>());
  }
  return out;
}
template <>
Result<json> decode<json>(const json& value, const std::string&) {
  return value;
}

}  // namespace

template <typename T>
Result<std::optional<T>> read_field(const json& object, const std::string& path, const char* name,
                                    bool null_allowed) {
  auto it = object.find(name);
  if (it == object.end()) return std::optional<T>{};
  const std::string field_path = join_path(path, name);
  if (it->is_null()) {
    if (null_allowed) return std::optional<T>{};
    if constexpr (std::is_same_v<T, bool>) return invalid_type(field_path, *it, "a boolean");
    else if constexpr (std::is_same_v<T, std::vector<std::string>>) return invalid_type(field_path, *it, "a sequence");
    else return invalid_type(field_path, *it, "a value");
  }
  TGI_ASSIGN_OR_RETURN(T value, decode<T>(*it, field_path));
  return std::optional<T>(std::move(value));
}

template <typename T>
Result<T> read_required(const json& object, const std::string& path, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return shape_error(path, fmt::format("missing field `{}`", name));
  return decode<T>(*it, join_path(path, name));
}

template Result<std::optional<bool>> read_field<bool>(const json&, const std::string&, const char*, bool);
template Result<std::optional<float>> read_field<float>(const json&, const std::string&, const char*, bool);
template Result<std::optional<int32_t>> read_field<int32_t>(const json&, const std::string&, const char*, bool);
template Result<std::optional<uint32_t>> read_field<uint32_t>(const json&, const std::string&, const char*, bool);
template Result<std::optional<uint64_t>> read_field<uint64_t>(const json&, const std::string&, const char*, bool);
template Result<std::optional<std::string>> read_field<std::string>(const json&, const std::string&, const char*, bool);
template Result<std::optional<std::vector<std::string>>> read_field<std::vector<std::string>>(
    const json&, const std::string&, const char*, bool);
template Result<std::optional<json>> read_field<json>(const json&, const std::string&, const char*, bool);
template Result<std::string> read_required<std::string>(const json&, const std::string&, const char*);
template Result<json> read_required<json>(const json&, const std::string&, const char*);

}  // namespace tgi::server
