#include "chat/jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {

// Data nesting bound: deeper input (or template-built nesting) is refused rather than recursed into.
constexpr int kMaxDataDepth = 512;

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : entries) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.is_string() && k.as_string() == key) return &v;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : entries) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

Value Callable::attribute(const std::string& name) {
  return Value::undefined("'" + this->name() + "' object has no attribute '" + name + "'");
}

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.ptr_ = std::make_shared<std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.type_ = Type::kNone;
  return v;
}

Value::Value(bool b) : type_(Type::kBool) { bool_ = b; }
Value::Value(int64_t i) : type_(Type::kInt) { int_ = i; }
Value::Value(double d) : type_(Type::kFloat) { float_ = d; }
Value::Value(std::string s) : type_(Type::kString), ptr_(std::make_shared<std::string>(std::move(s))) {}
Value::Value(List list, bool is_tuple) : type_(Type::kList) {
  ptr_ = std::make_shared<ListData>(ListData{std::move(list), is_tuple, false});
}
Value::Value(Dict dict) : type_(Type::kDict), ptr_(std::make_shared<Dict>(std::move(dict))) {}
Value::Value(std::shared_ptr<Callable> callable) : type_(Type::kCallable), ptr_(std::move(callable)) {}
Value::Value(std::shared_ptr<Namespace> ns) : type_(Type::kNamespace), ptr_(std::move(ns)) {}

Value Value::markup(std::string s) {
  Value v(std::move(s));
  v.markup_ = true;
  return v;
}

Value Value::generator(List items) {
  Value v;
  v.type_ = Type::kList;
  v.ptr_ = std::make_shared<ListData>(ListData{std::move(items), false, true});
  return v;
}

double Value::as_float() const {
  switch (type_) {
    case Type::kFloat: return float_;
    case Type::kInt: return static_cast<double>(int_);
    case Type::kBool: return bool_ ? 1.0 : 0.0;
    default: return 0.0;
  }
}

const std::string& Value::undefined_hint() const {
  static const std::string empty;
  return type_ == Type::kUndefined && ptr_ ? *static_cast<const std::string*>(ptr_.get()) : empty;
}

bool Value::truthy() const {
  switch (type_) {
    case Type::kUndefined:
    case Type::kNone: return false;
    case Type::kBool: return bool_;
    case Type::kInt: return int_ != 0;
    case Type::kFloat: return float_ != 0.0;
    case Type::kString: return !as_string().empty();
    case Type::kList: return is_generator() || !as_list().empty();
    case Type::kDict: return !as_dict().entries.empty();
    case Type::kCallable:
    case Type::kNamespace: return true;
  }
  return false;
}

std::string format_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]D[.DDD]e(+|-)XX  -> digits and decimal exponent
  bool negative = sci[0] == '-';
  size_t e_pos = sci.find('e');
  std::string mantissa = sci.substr(negative ? 1 : 0, e_pos - (negative ? 1 : 0));
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent >= -5 + 1 && exponent < 16) {
    // Fixed notation, as repr() does for 1e-4 <= |d| < 1e16.
    if (exponent < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out += digits;
    } else if (static_cast<int>(digits.size()) <= exponent + 1) {
      out += digits;
      out.append(static_cast<size_t>(exponent + 1 - static_cast<int>(digits.size())), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exponent + 1));
      out += '.';
      out += digits.substr(static_cast<size_t>(exponent + 1));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  out += exp_buf;
  return out;
}

std::string repr_string(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    uint32_t cp = utf8::next_lossless(s, i);
    char buf[16];
    if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa1) || cp == 0xad) {
      std::snprintf(buf, sizeof buf, "\\x%02x", cp);
      out += buf;
    } else if (!is_printable(cp)) {
      if (cp > 0xffff) {
        std::snprintf(buf, sizeof buf, "\\U%08x", cp);
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      }
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += quote;
  return out;
}

std::string Value::str() const {
  switch (type_) {
    case Type::kUndefined: return "";
    case Type::kNone: return "None";
    case Type::kBool: return bool_ ? "True" : "False";
    case Type::kInt: return std::to_string(int_);
    case Type::kFloat: return format_float(float_);
    case Type::kString: return as_string();
    default: return repr();
  }
}

std::string Value::repr() const { return repr_at(0); }

std::string Value::repr_at(int depth) const {
  if (depth > kMaxDataDepth) fail(ErrorType::kLimit, "value nested too deeply to print");
  switch (type_) {
    case Type::kString: return repr_string(as_string());
    case Type::kList: {
      if (is_generator()) return "<generator object>";
      std::string out = is_tuple() ? "(" : "[";
      const auto& items = as_list();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += items[i].repr_at(depth + 1);
      }
      if (is_tuple() && items.size() == 1) out += ',';
      out += is_tuple() ? ")" : "]";
      return out;
    }
    case Type::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : as_dict().entries) {
        if (!first) out += ", ";
        first = false;
        out += k.repr_at(depth + 1);
        out += ": ";
        out += v.repr_at(depth + 1);
      }
      return out + "}";
    }
    case Type::kCallable: return "<function " + as_callable().name() + ">";
    case Type::kNamespace: {
      std::string out = "<Namespace {";
      bool first = true;
      for (const auto& [k, v] : as_namespace().attributes.entries) {
        if (!first) out += ", ";
        first = false;
        out += k.repr_at(depth + 1) + ": " + v.repr_at(depth + 1);
      }
      return out + "}>";
    }
    default: return str();
  }
}

std::string Value::type_name() const {
  switch (type_) {
    case Type::kUndefined: return "Undefined";
    case Type::kNone: return "NoneType";
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kFloat: return "float";
    case Type::kString: return "str";
    case Type::kList: return is_generator() ? "generator" : is_tuple() ? "tuple" : "list";
    case Type::kDict: return "dict";
    case Type::kCallable: return "function";
    case Type::kNamespace: return "Namespace";
  }
  return "object";
}

namespace {
Value from_json_at(const nlohmann::ordered_json& json, int depth);
}  // namespace

Value Value::from_json(const nlohmann::ordered_json& json) { return from_json_at(json, 0); }

namespace {
Value from_json_at(const nlohmann::ordered_json& json, int depth) {
  if (depth > kMaxDataDepth) fail(ErrorType::kLimit, "input JSON nested too deeply");
  using Value = tgi::chat::jinja::Value;
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json_at(item, depth + 1));
      return Value(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict dict;
      dict.entries.reserve(json.size());
      for (const auto& [k, v] : json.items()) dict.entries.emplace_back(Value(k), from_json_at(v, depth + 1));
      return Value(std::move(dict));
    }
    default: return Value::none();
  }
}
}  // namespace

static bool equals_at(const Value& a, const Value& b, int depth);

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

static bool equals_at(const Value& a, const Value& b, int depth) {
  using T = Value::Type;
  if (depth > kMaxDataDepth) fail(ErrorType::kLimit, "values nested too deeply to compare");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case T::kUndefined:
    case T::kNone: return true;
    case T::kString: return a.as_string() == b.as_string();
    case T::kList: {
      if (a.is_tuple() != b.is_tuple() || a.is_generator() || b.is_generator()) return false;
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals_at(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case T::kDict: {
      const auto& x = a.as_dict().entries;
      const auto& y = b.as_dict();
      if (x.size() != y.entries.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = y.find(k);
        if (!other || !equals_at(v, *other, depth + 1)) return false;
      }
      return true;
    }
    case T::kCallable: return &a.as_callable() == &b.as_callable();
    case T::kNamespace: return &a.as_namespace() == &b.as_namespace();
    default: return false;
  }
}

static bool less_than_at(const Value& a, const Value& b, int depth);

bool less_than(const Value& a, const Value& b) { return less_than_at(a, b, 0); }

static bool less_than_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxDataDepth) fail(ErrorType::kLimit, "values nested too deeply to compare");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.as_list();
    const auto& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals_at(x[i], y[i], depth + 1)) return less_than_at(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  fail(ErrorType::kType, "'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

}  // namespace tgi::chat::jinja
