#include "chat/jinja/access.h"

#include "chat/jinja/builtins.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

std::string undefined_attr_hint(const Value& object, const std::string& name) {
  if (object.is_none()) return "'None' has no attribute '" + name + "'";
  return "'" + object.type_name() + " object' has no attribute '" + name + "'";
}

}  // namespace

[[noreturn]] void fail_undefined(const Value& v) {
  const std::string& hint = v.undefined_hint();
  fail(ErrorType::kUndefined, hint.empty() ? "undefined value" : hint);
}

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) fail_undefined(object);
  if (!name.empty() && name[0] == '_') {
    fail(ErrorType::kSecurity,
         "access to attribute '" + name + "' of '" + object.type_name() + "' object is unsafe.");
  }
  switch (object.type()) {
    case Value::Type::kDict: {
      if (has_method(object, name)) return bound_method(object, name);
      if (const Value* v = object.as_dict().find(std::string_view(name))) return *v;
      break;
    }
    case Value::Type::kNamespace: {
      if (const Value* v = object.as_namespace().attributes.find(std::string_view(name))) return *v;
      break;
    }
    case Value::Type::kString:
    case Value::Type::kList:
      if (has_method(object, name)) return bound_method(object, name);
      break;
    case Value::Type::kCallable:
      return object.as_callable().attribute(name);
    default:
      break;
  }
  return Value::undefined(undefined_attr_hint(object, name));
}

Value get_item(const Value& object, const Value& index) {
  if (object.is_undefined()) fail_undefined(object);
  switch (object.type()) {
    case Value::Type::kDict: {
      if (const Value* v = object.as_dict().find(index)) return *v;
      if (index.is_string() && !index.as_string().empty() && index.as_string()[0] != '_' &&
          has_method(object, index.as_string())) {
        return bound_method(object, index.as_string());
      }
      break;
    }
    case Value::Type::kNamespace:
      if (index.is_string()) return get_attribute(object, index.as_string());
      break;
    case Value::Type::kList:
    case Value::Type::kString: {
      if (object.is_generator()) break;
      if (!index.is_int() && !index.is_bool()) {
        if (index.is_string()) return get_attribute(object, index.as_string());
        break;
      }
      int64_t i = index.as_int();
      if (object.is_list()) {
        int64_t n = static_cast<int64_t>(object.as_list().size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return object.as_list()[static_cast<size_t>(i)];
      } else {
        const std::string& s = object.as_string();
        auto cps = to_code_points(s);
        int64_t n = static_cast<int64_t>(cps.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n)
          return Value(from_code_points(cps, static_cast<size_t>(i), static_cast<size_t>(i) + 1));
      }
      break;
    }
    default:
      break;
  }
  std::string what = object.is_none() ? "None" : object.type_name() + " object";
  return Value::undefined(what + " has no element " + index.repr());
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::kString:
      if (!item.is_string()) {
        fail(ErrorType::kType, "'in <string>' requires string as left operand, not " + item.type_name());
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Type::kList:
      for (const auto& v : container.as_list()) {
        if (equals(v, item)) return true;
      }
      return false;
    case Value::Type::kDict:
      return container.as_dict().find(item) != nullptr;
    case Value::Type::kUndefined:
      return false;
    default:
      fail(ErrorType::kType, "argument of type '" + container.type_name() + "' is not iterable");
  }
}

List iterate(const Value& value) {
  switch (value.type()) {
    case Value::Type::kList:
      return value.as_list();
    case Value::Type::kDict: {
      List keys;
      keys.reserve(value.as_dict().entries.size());
      for (const auto& [k, v] : value.as_dict().entries) keys.push_back(k);
      return keys;
    }
    case Value::Type::kString: {
      List chars;
      const std::string& s = value.as_string();
      size_t i = 0;
      while (i < s.size()) {
        size_t start = i;
        utf8::next_lossless(s, i);
        chars.emplace_back(s.substr(start, i - start));
      }
      return chars;
    }
    case Value::Type::kUndefined:
      return {};
    default:
      fail(ErrorType::kType, "'" + value.type_name() + "' object is not iterable");
  }
}

}  // namespace tgi::chat::jinja
