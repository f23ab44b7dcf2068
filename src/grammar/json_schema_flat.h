#pragma once
// The conjunction of JSON-Schema subschemas, flattened (json_schema_compiler's internal model):
// `allOf`, `$ref` and sibling keywords are merged into one Flat of per-type constraints; `anyOf`
// and `oneOf` stay as disjunctions for the compiler to distribute; subschemas of properties and
// items stay as conjunctions (Conj) of pointers into the document, compiled lazily.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "grammar/json_schema_document.h"
#include "grammar/regex.h"

namespace tgi::grammar::json_schema {

enum TypeBit : uint8_t {
  kNull = 1,
  kBool = 2,
  kInt = 4,   // integral numbers
  kFrac = 8,  // numbers that are not integral
  kStr = 16,
  kArr = 32,
  kObj = 64,
  kAllTypes = 127,
};

// A subschema, with anyOf / oneOf switched off when the compiler has distributed them.
struct Elem {
  const Json* schema = nullptr;
  uint32_t skip = 0;
  bool operator==(const Elem&) const = default;
};
inline constexpr uint32_t kSkipAnyOf = 1;
inline constexpr uint32_t kSkipOneOf = 2;

using Conj = std::vector<Elem>;

struct NumberBound {
  bool present = false;
  long double value = 0;
  bool exclusive = false;
};

struct PatternProperty {
  std::string source;
  Regex key;  // decoded key strings that contain a match
  Conj conj;
};

struct Disjunction {
  Elem holder;
  bool one_of = false;
  const Json* branches = nullptr;  // a non-empty array
};

// Which groups of keywords constrain the Flat (to recognise simple `not` operands).
enum ConstraintGroup : uint32_t {
  kGroupType = 1,
  kGroupEnum = 2,
  kGroupNumber = 4,
  kGroupString = 8,
  kGroupArray = 16,
  kGroupObject = 32,
  kGroupOther = 64,
};

struct Flat {
  uint8_t types = kAllTypes;
  uint32_t groups = 0;
  std::optional<std::vector<const Json*>> enum_values;
  std::vector<const Json*> excluded_values;
  // numbers
  NumberBound lo, hi;
  std::vector<const Json*> multiples;  // multipleOf values (positive numbers)
  // strings (code points)
  uint64_t min_length = 0;
  std::optional<uint64_t> max_length;
  std::vector<Regex> string_regexes;  // pattern and format, over decoded characters
  // arrays
  std::vector<Conj> prefix;
  Conj rest;
  uint64_t min_items = 0;
  std::optional<uint64_t> max_items;
  bool unique_items = false;
  std::string unique_at;
  // objects
  std::vector<std::pair<std::string, Conj>> properties;
  std::vector<PatternProperty> patterns;
  Conj additional;
  std::vector<std::string> required;
  uint64_t min_properties = 0;
  std::optional<uint64_t> max_properties;
  std::vector<Conj> property_names;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, Elem>> dependent_schemas;
  std::string dependencies_at;
  // where the last keyword of each group was read (for messages)
  std::string number_at, string_at, array_at, object_at, not_at;
  // left for the compiler
  std::vector<Disjunction> disjunctions;
  std::vector<Elem> nots;
};

}  // namespace tgi::grammar::json_schema
