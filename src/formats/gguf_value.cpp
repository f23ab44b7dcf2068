#include "formats/gguf_value.h"

#include <cmath>
#include <limits>

namespace tgi::formats {

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kU8: return "u8";
    case GgufValueType::kI8: return "i8";
    case GgufValueType::kU16: return "u16";
    case GgufValueType::kI16: return "i16";
    case GgufValueType::kU32: return "u32";
    case GgufValueType::kI32: return "i32";
    case GgufValueType::kF32: return "f32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kU64: return "u64";
    case GgufValueType::kI64: return "i64";
    case GgufValueType::kF64: return "f64";
  }
  return "unknown";
}

bool operator==(const GgufArray& a, const GgufArray& b) {
  return a.element_type == b.element_type && a.items == b.items;
}

bool operator==(const GgufValue& a, const GgufValue& b) {
  return a.type == b.type && a.storage == b.storage;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& items) {
  std::vector<GgufValue> values;
  values.reserve(items.size());
  for (const auto& s : items) values.push_back(string(s));
  return array(GgufValueType::kString, std::move(values));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& items) {
  std::vector<GgufValue> values;
  values.reserve(items.size());
  for (int32_t v : items) values.push_back(i32(v));
  return array(GgufValueType::kI32, std::move(values));
}

GgufValue GgufValue::f32_array(const std::vector<float>& items) {
  std::vector<GgufValue> values;
  values.reserve(items.size());
  for (float v : items) values.push_back(f32(v));
  return array(GgufValueType::kF32, std::move(values));
}

std::optional<int64_t> GgufValue::as_int() const {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, uint64_t>) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      storage);
}

std::optional<double> GgufValue::as_double() const {
  if (const auto* f = std::get_if<float>(&storage)) return *f;
  if (const auto* d = std::get_if<double>(&storage)) return *d;
  if (const auto i = as_int()) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&storage)) return *b;
  return std::nullopt;
}

std::optional<std::vector<std::string>> GgufValue::as_strings() const {
  const auto* arr = as_array();
  if (!arr || arr->element_type != GgufValueType::kString) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(arr->items.size());
  for (const auto& item : arr->items) out.push_back(*item.as_string());
  return out;
}

std::optional<std::vector<int64_t>> GgufValue::as_ints() const {
  const auto* arr = as_array();
  if (!arr) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(arr->items.size());
  for (const auto& item : arr->items) {
    const auto v = item.as_int();
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::optional<std::vector<double>> GgufValue::as_doubles() const {
  const auto* arr = as_array();
  if (!arr) return std::nullopt;
  std::vector<double> out;
  out.reserve(arr->items.size());
  for (const auto& item : arr->items) {
    const auto v = item.as_double();
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

}  // namespace tgi::formats
