// The tojson filter's serializer: Python's json.dumps, byte for byte.
#include "chat/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/builtins_internal.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    uint32_t cp = utf8::next_lossless(s, i);
    char buf[16];
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp > 0x7e)) {
          if (cp > 0xffff) {
            uint32_t v = cp - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
          } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
          }
          out += buf;
        } else {
          out.append(s, start, i - start);
        }
    }
  }
  out += '"';
}

std::string json_key(const Value& key) {
  switch (key.type()) {
    case Value::Type::kString:
      return key.as_string();
    case Value::Type::kBool:
      return key.as_bool() ? "true" : "false";
    case Value::Type::kNone:
      return "null";
    case Value::Type::kInt:
      return std::to_string(key.as_int());
    case Value::Type::kFloat:
      return format_float(key.as_float());
    default:
      fail(ErrorType::kType, "keys must be str, int, float, bool or None, not " + key.type_name());
  }
}

}  // namespace

void json_dump(std::string& out, const Value& v, const JsonStyle& style, int level, int depth) {
  if (depth > 512) fail(ErrorType::kLimit, "value nested too deeply for tojson");
  auto newline = [&](int lvl) {
    out += '\n';
    for (int k = 0; k < lvl; ++k) out += *style.indent;
  };
  switch (v.type()) {
    case Value::Type::kNone:
      out += "null";
      return;
    case Value::Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Type::kInt:
      out += std::to_string(v.as_int());
      return;
    case Value::Type::kFloat: {
      double d = v.as_float();
      if (std::isnan(d))
        out += "NaN";
      else if (std::isinf(d))
        out += d > 0 ? "Infinity" : "-Infinity";
      else
        out += format_float(d);
      return;
    }
    case Value::Type::kString:
      json_string(out, v.as_string(), style.ensure_ascii);
      return;
    case Value::Type::kList: {
      if (v.is_generator()) break;
      const List& items = v.as_list();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += style.item_separator;
        if (style.indent) newline(level + 1);
        json_dump(out, items[i], style, level + 1, depth + 1);
      }
      if (style.indent) newline(level);
      out += ']';
      return;
    }
    case Value::Type::kDict: {
      const auto& entries = v.as_dict().entries;
      if (entries.empty()) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> items;
      items.reserve(entries.size());
      for (const auto& [k, val] : entries) items.emplace_back(json_key(k), &val);
      if (style.sort_keys) {
        std::stable_sort(items.begin(), items.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      }
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += style.item_separator;
        if (style.indent) newline(level + 1);
        json_string(out, items[i].first, style.ensure_ascii);
        out += style.key_separator;
        json_dump(out, *items[i].second, style, level + 1, depth + 1);
      }
      if (style.indent) newline(level);
      out += '}';
      return;
    }
    default:
      break;
  }
  fail(ErrorType::kType, "Object of type " + v.type_name() + " is not JSON serializable");
}

std::string to_json(const Value& value, const JsonStyle& style) {
  std::string out;
  json_dump(out, value, style, 0, 0);
  return out;
}

}  // namespace tgi::chat::jinja
