#pragma once
// The dynamic value of the Jinja evaluator, with Python's semantics where chat templates depend on
// them: None vs undefined, truthiness, int vs float, insertion-ordered dicts, immutable containers.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tgi::chat::jinja {

class Value;
class EvalContext;
struct CallArgs;

using List = std::vector<Value>;

// Python dict: insertion ordered; keys are values (strings in practice). Linear lookup is fastest
// for the handful of keys chat messages carry.
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
};

// Anything callable from a template: macros, globals, bound loop helpers.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(EvalContext& context, CallArgs& args) = 0;
  virtual std::string name() const = 0;
  // Attributes of callable objects such as cycler() (`c.next()`, `c.current`); none by default.
  virtual Value attribute(const std::string& name);
};

// jinja2's namespace(): the one mutable object templates may assign attributes on.
struct Namespace {
  Dict attributes;
};

class Value {
 public:
  enum class Type : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kCallable, kNamespace };

  Value() = default;  // undefined
  static Value undefined(std::string hint = {});
  static Value none();
  Value(bool b);                      // NOLINT
  Value(int64_t i);                   // NOLINT
  Value(int i) : Value(int64_t{i}) {}  // NOLINT
  Value(double d);                    // NOLINT
  Value(std::string s);               // NOLINT
  Value(const char* s) : Value(std::string(s)) {}  // NOLINT
  Value(List list, bool is_tuple = false);  // NOLINT
  Value(Dict dict);                   // NOLINT
  Value(std::shared_ptr<Callable> callable);  // NOLINT
  Value(std::shared_ptr<Namespace> ns);       // NOLINT
  static Value generator(List items);  // a lazily-produced sequence in Python (map, select, ...)
  // markupsafe.Markup, what |safe and |escape return: adding a plain string to it escapes that
  // string (templates rely on this, e.g. `"x"|safe + data|tojson`).
  static Value markup(std::string s);
  bool is_markup() const { return type_ == Type::kString && markup_; }

  Type type() const { return type_; }
  bool is_undefined() const { return type_ == Type::kUndefined; }
  bool is_none() const { return type_ == Type::kNone; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_number() const { return type_ == Type::kInt || type_ == Type::kFloat || type_ == Type::kBool; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_list() const { return type_ == Type::kList; }
  bool is_tuple() const { return type_ == Type::kList && list_data().is_tuple; }
  bool is_generator() const { return type_ == Type::kList && list_data().is_generator; }
  bool is_dict() const { return type_ == Type::kDict; }
  bool is_callable() const { return type_ == Type::kCallable; }
  bool is_namespace() const { return type_ == Type::kNamespace; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return type_ == Type::kBool ? int64_t{bool_} : int_; }
  double as_float() const;  // int, bool or float as double
  const std::string& as_string() const { return *static_cast<const std::string*>(ptr_.get()); }
  const List& as_list() const { return list_data().items; }
  const Dict& as_dict() const { return *static_cast<const Dict*>(ptr_.get()); }
  Callable& as_callable() const { return *static_cast<Callable*>(ptr_.get()); }
  Namespace& as_namespace() const { return *static_cast<Namespace*>(ptr_.get()); }
  const std::string& undefined_hint() const;

  bool truthy() const;
  // Python's str(): what `{{ value }}` prints.
  std::string str() const;
  // Python's repr(): strings quoted, containers recursive.
  std::string repr() const;
  std::string repr_at(int depth) const;
  // Python's type name for error messages ("str", "NoneType", "list", ...).
  std::string type_name() const;

  static Value from_json(const nlohmann::ordered_json& json);

 private:
  struct ListData {
    List items;
    bool is_tuple = false;
    bool is_generator = false;
  };
  Type type_ = Type::kUndefined;
  bool markup_ = false;
  union {
    bool bool_;
    int64_t int_ = 0;
    double float_;
  };
  // One owner for every heap payload keeps a Value at 32 bytes; `type_` says what it points to.
  // Strings, lists and dicts are immutable once built, so copies share them.
  std::shared_ptr<void> ptr_;
  const ListData& list_data() const { return *static_cast<const ListData*>(ptr_.get()); }
};

// Python's == (1 == 1.0 == True; [1] != (1,); undefined equals only undefined).
bool equals(const Value& a, const Value& b);
// Python's < for sorting and comparisons; throws a TypeError for unorderable types.
bool less_than(const Value& a, const Value& b);

// Python float repr: shortest round-trip digits, "1.0", "1e-05", "inf".
std::string format_float(double d);
// Python repr of a str: quote choice and escapes as CPython does.
std::string repr_string(std::string_view s);

}  // namespace tgi::chat::jinja
