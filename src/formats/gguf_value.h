#pragma once
// One GGUF metadata value: a scalar, a string, or a (possibly nested) array of values.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tgi::formats {

// Values are the on-disk ids of GGUF's metadata value types.
enum class GgufValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

std::string_view gguf_value_type_name(GgufValueType type);

struct GgufValue;

struct GgufArray {
  GgufValueType element_type = GgufValueType::kU8;
  std::vector<GgufValue> items;
  friend bool operator==(const GgufArray& a, const GgufArray& b);
};

struct GgufValue {
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, GgufArray, uint64_t, int64_t, double>;

  GgufValueType type = GgufValueType::kU8;
  Storage storage;

  static GgufValue u8(uint8_t v) { return {GgufValueType::kU8, v}; }
  static GgufValue i8(int8_t v) { return {GgufValueType::kI8, v}; }
  static GgufValue u16(uint16_t v) { return {GgufValueType::kU16, v}; }
  static GgufValue i16(int16_t v) { return {GgufValueType::kI16, v}; }
  static GgufValue u32(uint32_t v) { return {GgufValueType::kU32, v}; }
  static GgufValue i32(int32_t v) { return {GgufValueType::kI32, v}; }
  static GgufValue f32(float v) { return {GgufValueType::kF32, v}; }
  static GgufValue boolean(bool v) { return {GgufValueType::kBool, v}; }
  static GgufValue string(std::string v) { return {GgufValueType::kString, std::move(v)}; }
  static GgufValue u64(uint64_t v) { return {GgufValueType::kU64, v}; }
  static GgufValue i64(int64_t v) { return {GgufValueType::kI64, v}; }
  static GgufValue f64(double v) { return {GgufValueType::kF64, v}; }
  static GgufValue array(GgufValueType element_type, std::vector<GgufValue> items) {
    return {GgufValueType::kArray, GgufArray{element_type, std::move(items)}};
  }
  static GgufValue string_array(const std::vector<std::string>& items);
  static GgufValue i32_array(const std::vector<int32_t>& items);
  static GgufValue f32_array(const std::vector<float>& items);

  // Any integer type (bool excluded) that fits int64_t.
  std::optional<int64_t> as_int() const;
  // Any integer or float type.
  std::optional<double> as_double() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const { return std::get_if<std::string>(&storage); }
  const GgufArray* as_array() const { return std::get_if<GgufArray>(&storage); }
  // An array of strings as a vector; nullopt if this is not one.
  std::optional<std::vector<std::string>> as_strings() const;
  // An array of integers/floats as numbers; nullopt if this is not one.
  std::optional<std::vector<int64_t>> as_ints() const;
  std::optional<std::vector<double>> as_doubles() const;

  friend bool operator==(const GgufValue& a, const GgufValue& b);
};

}  // namespace tgi::formats
