#include "chat/jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <unordered_map>

#include "chat/jinja/access.h"
#include "chat/jinja/python_ops.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

// ---------------------------------------------------------------- argument helpers

Value arg_or(const CallArgs& args, size_t position, std::string_view name, Value fallback) {
  const Value* v = args.get(position, name);
  return v ? *v : fallback;
}

// jinja2's soft_str: str() for everything; undefined is "".
std::string soft_str(const Value& v) { return v.is_string() ? v.as_string() : v.str(); }

int64_t python_len(const Value& v) {
  switch (v.type()) {
    case Value::Type::kString: return static_cast<int64_t>(code_point_count(v.as_string()));
    case Value::Type::kList:
      if (v.is_generator()) break;
      return static_cast<int64_t>(v.as_list().size());
    case Value::Type::kDict: return static_cast<int64_t>(v.as_dict().entries.size());
    case Value::Type::kUndefined: return 0;
    default: break;
  }
  fail(ErrorType::kType, "object of type '" + v.type_name() + "' has no len()");
}

bool is_strip_char(uint32_t cp, const std::vector<uint32_t>* chars) {
  if (!chars) return is_space(cp);
  return std::find(chars->begin(), chars->end(), cp) != chars->end();
}

std::string python_strip(const std::string& s, const Value* chars_value, bool left, bool right) {
  std::vector<uint32_t> chars;
  const std::vector<uint32_t>* set = nullptr;
  if (chars_value && !chars_value->is_none() && !chars_value->is_undefined()) {
    if (!chars_value->is_string()) fail(ErrorType::kType, "strip arg must be None or str");
    chars = to_code_points(chars_value->as_string());
    set = &chars;
  }
  auto cps = to_code_points(s);
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && is_strip_char(cps[b], set)) ++b;
  }
  if (right) {
    while (e > b && is_strip_char(cps[e - 1], set)) --e;
  }
  if (b == 0 && e == cps.size()) return s;
  return from_code_points(cps, b, e);
}

List python_split(const std::string& s, const Value* sep_value, int64_t maxsplit, bool from_right) {
  List parts;
  if (sep_value && !sep_value->is_none() && !sep_value->is_undefined()) {
    if (!sep_value->is_string()) fail(ErrorType::kType, "must be str or None, not " + sep_value->type_name());
    const std::string& sep = sep_value->as_string();
    if (sep.empty()) fail(ErrorType::kType, "empty separator");
    std::vector<std::string> pieces;
    if (!from_right) {
      size_t start = 0;
      while (maxsplit < 0 || static_cast<int64_t>(pieces.size()) < maxsplit) {
        size_t at = s.find(sep, start);
        if (at == std::string::npos) break;
        pieces.push_back(s.substr(start, at - start));
        start = at + sep.size();
      }
      pieces.push_back(s.substr(start));
    } else {
      size_t end = s.size();
      std::vector<std::string> reversed;
      while (maxsplit < 0 || static_cast<int64_t>(reversed.size()) < maxsplit) {
        if (end < sep.size()) break;
        size_t at = s.rfind(sep, end - sep.size());
        if (at == std::string::npos) break;
        reversed.push_back(s.substr(at + sep.size(), end - at - sep.size()));
        end = at;
      }
      reversed.push_back(s.substr(0, end));
      pieces.assign(reversed.rbegin(), reversed.rend());
    }
    for (auto& p : pieces) parts.emplace_back(std::move(p));
    return parts;
  }
  // Whitespace split: runs of whitespace separate, ends are ignored.
  auto cps = to_code_points(s);
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0, n = cps.size();
  while (i < n) {
    while (i < n && is_space(cps[i])) ++i;
    if (i >= n) break;
    size_t start = i;
    while (i < n && !is_space(cps[i])) ++i;
    words.emplace_back(start, i);
  }
  if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
    if (!from_right) {
      size_t keep = static_cast<size_t>(maxsplit);
      size_t rest_start = words[keep].first;
      size_t rest_end = n;
      while (rest_end > rest_start && is_space(cps[rest_end - 1])) --rest_end;
      words.resize(keep);
      words.emplace_back(rest_start, rest_end);
    } else {
      size_t drop = words.size() - static_cast<size_t>(maxsplit);
      size_t rest_end = words[drop - 1].second;
      size_t rest_start = 0;
      while (rest_start < rest_end && is_space(cps[rest_start])) ++rest_start;
      words.erase(words.begin(), words.begin() + static_cast<long>(drop));
      words.insert(words.begin(), {rest_start, rest_end});
    }
  }
  for (auto [b, e] : words) parts.emplace_back(from_code_points(cps, b, e));
  return parts;
}

std::string python_replace(const std::string& s, const std::string& old, const std::string& replacement,
                           int64_t count, EvalContext& context) {
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement between every character (and at both ends).
    auto cps = to_code_points(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += replacement;
        ++done;
      }
      if (i < cps.size()) utf8::append_lossless(out, cps[i]);
      context.check_size(out.size());
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t at = s.find(old, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += replacement;
    context.check_size(out.size());
    start = at + old.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  return out;
}

// jinja2's title filter (not str.title): the regex ([-\s({\[<]+) splits the string into runs of
// separators and the words between them, and each piece becomes piece[0].upper() +
// piece[1:].lower(), so a word's final sigma is judged within piece[1:] alone. Separator runs are
// copied, as they have no case mappings.
bool is_title_separator(uint32_t cp) {
  return cp == '-' || is_space(cp) || cp == '(' || cp == '{' || cp == '[' || cp == '<';
}

std::string jinja_title(const std::string& s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out = s;
    bool word_start = true;
    for (char& c : out) {
      if (is_title_separator(static_cast<unsigned char>(c))) {
        word_start = true;
      } else {
        c = word_start ? (c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c)
                       : (c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
        word_start = false;
      }
    }
    return out;
  }
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    bool separator = is_title_separator(utf8::next_lossless(s, i));
    size_t rest = i;
    size_t end = i;
    while (end < s.size()) {
      size_t next = end;
      if (is_title_separator(utf8::next_lossless(s, next)) != separator) break;
      end = next;
    }
    std::string_view head = std::string_view(s).substr(start, rest - start);
    std::string_view tail = std::string_view(s).substr(rest, end - rest);
    if (separator) {
      out += head;
      out += tail;
    } else {
      out += upper(head);
      out += lower(tail);
    }
    i = end;
  }
  return out;
}

std::vector<std::string> python_splitlines(const std::string& s) {
  std::vector<std::string> lines;
  std::string current;
  size_t i = 0;
  bool pending = false;
  while (i < s.size()) {
    size_t start = i;
    uint32_t cp = utf8::next_lossless(s, i);
    bool is_break = cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) || cp == 0x85 ||
                    cp == 0x2028 || cp == 0x2029;
    if (is_break) {
      if (cp == '\r' && i < s.size() && s[i] == '\n') ++i;
      lines.push_back(std::move(current));
      current.clear();
      pending = false;
    } else {
      current.append(s, start, i - start);
      pending = true;
    }
  }
  if (pending) lines.push_back(std::move(current));
  return lines;
}

// jinja2's environment.getattr with dotted paths ("function.name") and integer parts.
Value attribute_path(const Value& object, const std::string& path) {
  Value current = object;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && part.size() < 18 && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    current = numeric ? get_item(current, Value(static_cast<int64_t>(std::stoll(part)))) : get_item(current, Value(part));
    if (dot == std::string::npos) return current;
    if (current.is_undefined()) return current;
    start = dot + 1;
  }
}

// The comparison key used by sort/unique/dictsort: lower-cased strings unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(lower(v.as_string()));
  return v;
}

// ---------------------------------------------------------------- json

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    uint32_t cp = utf8::next_lossless(s, i);
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
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
    case Value::Type::kString: return key.as_string();
    case Value::Type::kBool: return key.as_bool() ? "true" : "false";
    case Value::Type::kNone: return "null";
    case Value::Type::kInt: return std::to_string(key.as_int());
    case Value::Type::kFloat: return format_float(key.as_float());
    default: fail(ErrorType::kType, "keys must be str, int, float, bool or None, not " + key.type_name());
  }
}

void json_dump(std::string& out, const Value& v, const JsonStyle& style, int level, int depth) {
  if (depth > 512) fail(ErrorType::kLimit, "value nested too deeply for tojson");
  auto newline = [&](int lvl) {
    out += '\n';
    for (int k = 0; k < lvl; ++k) out += *style.indent;
  };
  switch (v.type()) {
    case Value::Type::kNone: out += "null"; return;
    case Value::Type::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Type::kInt: out += std::to_string(v.as_int()); return;
    case Value::Type::kFloat: {
      double d = v.as_float();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else out += format_float(d);
      return;
    }
    case Value::Type::kString: json_string(out, v.as_string(), style.ensure_ascii); return;
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
        std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
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
    default: break;
  }
  fail(ErrorType::kType, "Object of type " + v.type_name() + " is not JSON serializable");
}

// ---------------------------------------------------------------- callables

class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string method) : self_(std::move(self)), method_(std::move(method)) {}
  Value call(EvalContext& context, CallArgs& args) override {
    return call_method(context, self_, method_, args);
  }
  std::string name() const override { return method_; }

 private:
  Value self_;
  std::string method_;
};

class Builtin : public Callable {
 public:
  using Fn = std::function<Value(EvalContext&, CallArgs&)>;
  Builtin(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  Value call(EvalContext& context, CallArgs& args) override { return fn_(context, args); }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  Fn fn_;
};

class Cycler : public Callable, public std::enable_shared_from_this<Cycler> {
 public:
  explicit Cycler(List items) : items_(std::move(items)) {}
  Value call(EvalContext&, CallArgs&) override { fail(ErrorType::kType, "'Cycler' object is not callable"); }
  std::string name() const override { return "Cycler"; }
  Value attribute(const std::string& name) override {
    if (name == "current") return items_.empty() ? Value::none() : items_[position_ % items_.size()];
    auto self = shared_from_this();
    if (name == "next") {
      return Value(
          std::shared_ptr<Callable>(std::make_shared<Builtin>("next", [self](EvalContext&, CallArgs&) {
            if (self->items_.empty()) return Value::none();
            Value v = self->items_[self->position_ % self->items_.size()];
            ++self->position_;
            return v;
          })));
    }
    if (name == "reset") {
      return Value(
          std::shared_ptr<Callable>(std::make_shared<Builtin>("reset", [self](EvalContext&, CallArgs&) {
            self->position_ = 0;
            return Value::none();
          })));
    }
    return Callable::attribute(name);
  }

 private:
  List items_;
  size_t position_ = 0;
};

Value make_builtin(std::string name, Builtin::Fn fn) {
  return Value(std::shared_ptr<Callable>(std::make_shared<Builtin>(std::move(name), std::move(fn))));
}

std::string strftime_value(const std::tm& now, const std::string& format) {
  if (format.empty()) return "";
  std::string out(format.size() * 4 + 64, '\0');
  size_t n = std::strftime(out.data(), out.size(), format.c_str(), &now);
  if (n == 0) fail(ErrorType::kType, "strftime format produced no output or is too long");
  out.resize(n);
  return out;
}

// ---------------------------------------------------------------- filters

using FilterFn = Value (*)(EvalContext&, const Value&, CallArgs&);

List to_items(const Value& v) { return iterate(v); }

Value filter_tojson(EvalContext& context, const Value& v, CallArgs& args) {
  JsonStyle style;
  style.ensure_ascii = arg_or(args, 0, "ensure_ascii", Value(false)).truthy();
  Value indent = arg_or(args, 1, "indent", Value::none());
  if (indent.is_int() || indent.is_bool()) {
    if (indent.as_int() > 256) fail(ErrorType::kType, "tojson indent too large");
    style.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.as_int())), ' ');
  } else if (indent.is_string()) {
    style.indent = indent.as_string();
  } else if (!indent.is_none() && !indent.is_undefined()) {
    fail(ErrorType::kType, "indent must be an int or a string");
  }
  if (style.indent) style.item_separator = ",";
  Value separators = arg_or(args, 2, "separators", Value::none());
  if (separators.is_list() && separators.as_list().size() == 2) {
    style.item_separator = soft_str(separators.as_list()[0]);
    style.key_separator = soft_str(separators.as_list()[1]);
  }
  style.sort_keys = arg_or(args, 3, "sort_keys", Value(false)).truthy();
  std::string out;
  json_dump(out, v, style, 0, 0);
  context.check_size(out.size());
  return Value(std::move(out));
}

Value filter_trim(EvalContext&, const Value& v, CallArgs& args) {
  const Value* chars = args.get(0, "chars");
  return Value(python_strip(soft_str(v), chars, true, true));
}

Value filter_length(EvalContext&, const Value& v, CallArgs&) {
  return Value(python_len(v));
}

Value filter_items(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value(List{});
  if (!v.is_dict()) fail(ErrorType::kType, "Can only get item pairs from a mapping.");
  List items;
  for (const auto& [k, val] : v.as_dict().entries) items.emplace_back(List{k, val}, true);
  return Value(std::move(items));
}

Value filter_join(EvalContext& context, const Value& v, CallArgs& args) {
  std::string sep = soft_str(arg_or(args, 0, "d", Value(std::string())));
  Value attribute = arg_or(args, 1, "attribute", Value::none());
  std::string out;
  bool first = true;
  for (const auto& item : to_items(v)) {
    if (!first) out += sep;
    first = false;
    out += soft_str(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)));
    context.check_size(out.size());
  }
  return Value(std::move(out));
}

Value filter_map(EvalContext& context, const Value& v, CallArgs& args) {
  List out;
  if (!v.truthy()) return Value::generator(std::move(out));  // jinja2: `if value:` before iterating
  if (const Value* attribute = args.keyword("attribute")) {
    const Value* fallback = args.keyword("default");
    for (const auto& item : to_items(v)) {
      Value x = attribute_path(item, soft_str(*attribute));
      out.push_back(x.is_undefined() && fallback ? *fallback : x);
    }
    return Value::generator(std::move(out));
  }
  if (args.args.empty()) fail(ErrorType::kRuntime, "map requires a filter argument");
  std::string filter_name = soft_str(args.args[0]);
  CallArgs rest;
  rest.args.assign(args.args.begin() + 1, args.args.end());
  rest.kwargs = args.kwargs;
  for (const auto& item : to_items(v)) {
    CallArgs copy = rest;
    out.push_back(context.filter(filter_name, item, copy));
  }
  return Value::generator(std::move(out));
}

Value select_impl(EvalContext& context, const Value& v, CallArgs& args, bool by_attribute, bool keep_when) {
  List out;
  if (!v.truthy()) return Value::generator(std::move(out));  // jinja2: `if value:` before iterating
  size_t test_position = by_attribute ? 1 : 0;
  std::string attribute = by_attribute ? soft_str(arg_or(args, 0, "attribute", Value(std::string()))) : "";
  bool has_test = args.args.size() > test_position;
  std::string test_name = has_test ? soft_str(args.args[test_position]) : "";
  CallArgs test_args;
  if (has_test) test_args.args.assign(args.args.begin() + static_cast<long>(test_position) + 1, args.args.end());
  for (const auto& item : to_items(v)) {
    Value subject = by_attribute ? attribute_path(item, attribute) : item;
    bool result;
    if (has_test) {
      CallArgs copy = test_args;
      result = context.test(test_name, subject, copy);
    } else {
      result = subject.truthy();
    }
    if (result == keep_when) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value filter_select(EvalContext& r, const Value& v, CallArgs& a) {
  return select_impl(r, v, a, false, true);
}
Value filter_reject(EvalContext& r, const Value& v, CallArgs& a) {
  return select_impl(r, v, a, false, false);
}
Value filter_selectattr(EvalContext& r, const Value& v, CallArgs& a) {
  return select_impl(r, v, a, true, true);
}
Value filter_rejectattr(EvalContext& r, const Value& v, CallArgs& a) {
  return select_impl(r, v, a, true, false);
}

Value filter_first(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_string()) {
    if (v.as_string().empty()) return Value::undefined("No first item, sequence was empty.");
    size_t i = 0;
    utf8::next_lossless(v.as_string(), i);
    return Value(v.as_string().substr(0, i));
  }
  List items = to_items(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value filter_last(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_generator()) fail(ErrorType::kType, "'generator' object is not reversible");
  List items = to_items(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value filter_default(EvalContext&, const Value& v, CallArgs& args) {
  Value fallback = arg_or(args, 0, "default_value", Value(std::string()));
  bool boolean = arg_or(args, 1, "boolean", Value(false)).truthy();
  if (v.is_undefined() || (boolean && !v.truthy())) return fallback;
  return v;
}

Value filter_upper(EvalContext&, const Value& v, CallArgs&) {
  return Value(upper(soft_str(v)));
}
Value filter_lower(EvalContext&, const Value& v, CallArgs&) {
  return Value(lower(soft_str(v)));
}
Value filter_title(EvalContext&, const Value& v, CallArgs&) {
  return Value(jinja_title(soft_str(v)));
}
Value filter_capitalize(EvalContext&, const Value& v, CallArgs&) {
  return Value(capitalize(soft_str(v)));
}

Value filter_replace(EvalContext& context, const Value& v, CallArgs& args) {
  std::string old = soft_str(arg_or(args, 0, "old", Value(std::string())));
  std::string replacement = soft_str(arg_or(args, 1, "new", Value(std::string())));
  Value count = arg_or(args, 2, "count", Value::none());
  return Value(python_replace(soft_str(v), old, replacement, count.is_none() ? -1 : count.as_int(), context));
}

Value filter_indent(EvalContext& context, const Value& v, CallArgs& args) {
  Value width = arg_or(args, 0, "width", Value(int64_t{4}));
  bool first = arg_or(args, 1, "first", Value(false)).truthy();
  bool blank = arg_or(args, 2, "blank", Value(false)).truthy();
  if (!width.is_string() && width.as_int() > 4096) fail(ErrorType::kType, "indent width too large");
  std::string indention = width.is_string() ? width.as_string() : std::string(static_cast<size_t>(std::max<int64_t>(0, width.as_int())), ' ');
  std::string s = soft_str(v) + "\n";
  std::vector<std::string> lines = python_splitlines(s);
  std::string out;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) out += "\n" + indention;
      out += lines[i];
    }
  } else if (!lines.empty()) {
    out = lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      out += "\n";
      if (!lines[i].empty()) out += indention;
      out += lines[i];
      context.check_size(out.size());
    }
  }
  if (first) out = indention + out;
  return Value(std::move(out));
}

Value filter_list(EvalContext&, const Value& v, CallArgs&) {
  return Value(to_items(v));
}
Value filter_string(EvalContext&, const Value& v, CallArgs&) {
  return Value(soft_str(v));
}

Value filter_int(EvalContext&, const Value& v, CallArgs& args) {
  Value fallback = arg_or(args, 0, "default", Value(int64_t{0}));
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) return std::fabs(v.as_float()) < 9.2e18 ? Value(static_cast<int64_t>(v.as_float())) : fallback;
  if (v.is_string()) {
    std::string s = python_strip(v.as_string(), nullptr, true, true);
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return Value(static_cast<int64_t>(i));
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::fabs(d) < 9.2e18) return Value(static_cast<int64_t>(d));
  }
  return fallback;
}

Value filter_float(EvalContext&, const Value& v, CallArgs& args) {
  Value fallback = arg_or(args, 0, "default", Value(0.0));
  if (v.is_number()) return Value(v.as_float());
  if (v.is_string()) {
    std::string s = python_strip(v.as_string(), nullptr, true, true);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
  }
  return fallback;
}

Value filter_abs(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_float()) return Value(std::fabs(v.as_float()));
  if (v.is_int() || v.is_bool()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  fail(ErrorType::kType, "bad operand type for abs(): '" + v.type_name() + "'");
}

Value filter_round(EvalContext&, const Value& v, CallArgs& args) {
  int64_t precision = arg_or(args, 0, "precision", Value(int64_t{0})).as_int();
  std::string method = soft_str(arg_or(args, 1, "method", Value("common")));
  if (!v.is_number()) fail(ErrorType::kType, "type " + v.type_name() + " doesn't define __round__ method");
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_float() * scale;
  if (method == "ceil") x = std::ceil(x);
  else if (method == "floor") x = std::floor(x);
  else x = std::nearbyint(x);  // Python's round(): halves go to the even neighbour
  return Value(x / scale);
}

Value filter_unique(EvalContext&, const Value& v, CallArgs& args) {
  bool case_sensitive = arg_or(args, 0, "case_sensitive", Value(false)).truthy();
  Value attribute = arg_or(args, 1, "attribute", Value::none());
  List out, seen;
  for (const auto& item : to_items(v)) {
    Value key = sort_key(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)), case_sensitive);
    bool found = std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); });
    if (!found) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::generator(std::move(out));
}

Value filter_sort(EvalContext&, const Value& v, CallArgs& args) {
  bool reverse = arg_or(args, 0, "reverse", Value(false)).truthy();
  bool case_sensitive = arg_or(args, 1, "case_sensitive", Value(false)).truthy();
  Value attribute = arg_or(args, 2, "attribute", Value::none());
  List items = to_items(v);
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) {
    keyed.emplace_back(sort_key(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)), case_sensitive), item);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return reverse ? less_than(b.first, a.first) : less_than(a.first, b.first);
  });
  List out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value(std::move(out));
}

Value filter_dictsort(EvalContext&, const Value& v, CallArgs& args) {
  bool case_sensitive = arg_or(args, 0, "case_sensitive", Value(false)).truthy();
  std::string by = soft_str(arg_or(args, 1, "by", Value("key")));
  bool reverse = arg_or(args, 2, "reverse", Value(false)).truthy();
  if (!v.is_dict()) fail(ErrorType::kType, "dictsort requires a mapping");
  size_t position = by == "value" ? 1 : 0;
  List items;
  for (const auto& [k, val] : v.as_dict().entries) items.emplace_back(List{k, val}, true);
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    Value x = sort_key(a.as_list()[position], case_sensitive);
    Value y = sort_key(b.as_list()[position], case_sensitive);
    return reverse ? less_than(y, x) : less_than(x, y);
  });
  return Value(std::move(items));
}

Value filter_batch(EvalContext&, const Value& v, CallArgs& args) {
  int64_t count = arg_or(args, 0, "linecount", Value(int64_t{1})).as_int();
  if (count <= 0) fail(ErrorType::kType, "batch size must be positive");
  Value fill = arg_or(args, 1, "fill_with", Value::none());
  List out, current;
  for (auto& item : to_items(v)) {
    current.push_back(std::move(item));
    if (static_cast<int64_t>(current.size()) == count) {
      out.emplace_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) {
    if (!fill.is_none()) {
      while (static_cast<int64_t>(current.size()) < count) current.push_back(fill);
    }
    out.emplace_back(std::move(current));
  }
  return Value::generator(std::move(out));
}

Value filter_wordcount(EvalContext&, const Value& v, CallArgs&) {
  // jinja2 counts \w+ matches.
  std::string s = soft_str(v);
  int64_t count = 0;
  bool in_word = false;
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = utf8::next_lossless(s, i);
    bool word = is_alpha(cp) || is_digit(cp) || cp == '_' || cp > 0x7f;
    if (word && !in_word) ++count;
    in_word = word;
  }
  return Value(count);
}

Value filter_safe(EvalContext&, const Value& v, CallArgs&) {
  return Value::markup(soft_str(v));
}

Value filter_escape(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_markup()) return v;
  return Value::markup(html_escape(soft_str(v)));
}

Value filter_forceescape(EvalContext&, const Value& v, CallArgs&) {
  return Value::markup(html_escape(soft_str(v)));
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

Value filter_center(EvalContext& context, const Value& v, CallArgs& args) {
  std::string s = soft_str(v);
  int64_t width = arg_or(args, 0, "width", Value(int64_t{80})).as_int();
  context.check_size(static_cast<size_t>(std::max<int64_t>(0, width)));
  int64_t len = static_cast<int64_t>(code_point_count(s));
  if (width <= len) return Value(s);
  int64_t total = width - len;
  int64_t left = total / 2 + (total & width & 1);
  return Value(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(total - left), ' '));
}

Value min_max(EvalContext&, const Value& v, CallArgs& args, bool want_max) {
  bool case_sensitive = arg_or(args, 0, "case_sensitive", Value(false)).truthy();
  Value attribute = arg_or(args, 1, "attribute", Value::none());
  List items = to_items(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  auto key = [&](const Value& item) { return sort_key(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)), case_sensitive); };
  for (size_t i = 1; i < items.size(); ++i) {
    bool better = want_max ? less_than(key(items[best]), key(items[i])) : less_than(key(items[i]), key(items[best]));
    if (better) best = i;
  }
  return items[best];
}
Value filter_min(EvalContext& r, const Value& v, CallArgs& a) {
  return min_max(r, v, a, false);
}
Value filter_max(EvalContext& r, const Value& v, CallArgs& a) {
  return min_max(r, v, a, true);
}

Value filter_sum(EvalContext&, const Value& v, CallArgs& args) {
  Value attribute = arg_or(args, 0, "attribute", Value::none());
  Value total = arg_or(args, 1, "start", Value(int64_t{0}));
  for (const auto& item : to_items(v)) {
    Value x = attribute.is_none() ? item : attribute_path(item, soft_str(attribute));
    if (!x.is_number() || !total.is_number()) fail(ErrorType::kType, "unsupported operand type(s) for +: '" + total.type_name() + "' and '" + x.type_name() + "'");
    total = total.is_float() || x.is_float() ? Value(total.as_float() + x.as_float()) : Value(total.as_int() + x.as_int());
  }
  return total;
}

Value filter_reverse(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_string()) {
    auto cps = to_code_points(v.as_string());
    std::reverse(cps.begin(), cps.end());
    return Value(from_code_points(cps, 0, cps.size()));
  }
  List items = to_items(v);
  std::reverse(items.begin(), items.end());
  return Value::generator(std::move(items));
}

Value filter_attr(EvalContext&, const Value& v, CallArgs& args) {
  return get_attribute(v, soft_str(arg_or(args, 0, "name", Value(std::string()))));
}

Value filter_format(EvalContext&, const Value& v, CallArgs& args) {
  if (!args.kwargs.empty() && !args.args.empty()) fail(ErrorType::kType, "can't handle positional and keyword arguments at the same time");
  if (!args.kwargs.empty()) {
    Dict d;
    for (const auto& [k, val] : args.kwargs) d.set(Value(k), val);
    return Value(percent_format(soft_str(v), Value(std::move(d))));
  }
  return Value(percent_format(soft_str(v), Value(args.args, true)));
}

Value filter_pprint(EvalContext&, const Value& v, CallArgs&) {
  return Value(v.repr());
}

Value filter_truncate(EvalContext&, const Value& v, CallArgs& args) {
  std::string s = soft_str(v);
  int64_t length = arg_or(args, 0, "length", Value(int64_t{255})).as_int();
  bool killwords = arg_or(args, 1, "killwords", Value(false)).truthy();
  std::string end = soft_str(arg_or(args, 2, "end", Value("...")));
  int64_t leeway = arg_or(args, 3, "leeway", Value(int64_t{5})).as_int();
  auto cps = to_code_points(s);
  int64_t n = static_cast<int64_t>(cps.size());
  if (n <= length + leeway) return Value(s);
  int64_t keep = std::max<int64_t>(0, length - static_cast<int64_t>(code_point_count(end)));
  std::string head = from_code_points(cps, 0, static_cast<size_t>(keep));
  if (killwords) return Value(head + end);
  size_t space = head.rfind(' ');
  if (space != std::string::npos) head.resize(space);
  return Value(head + end);
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      {"tojson", filter_tojson}, {"trim", filter_trim}, {"length", filter_length}, {"count", filter_length},
      {"items", filter_items}, {"join", filter_join}, {"map", filter_map}, {"select", filter_select},
      {"reject", filter_reject}, {"selectattr", filter_selectattr}, {"rejectattr", filter_rejectattr},
      {"first", filter_first}, {"last", filter_last}, {"default", filter_default}, {"d", filter_default},
      {"upper", filter_upper}, {"lower", filter_lower}, {"title", filter_title}, {"capitalize", filter_capitalize},
      {"replace", filter_replace}, {"indent", filter_indent}, {"list", filter_list}, {"string", filter_string},
      {"int", filter_int}, {"float", filter_float}, {"abs", filter_abs}, {"round", filter_round},
      {"unique", filter_unique}, {"sort", filter_sort}, {"dictsort", filter_dictsort}, {"batch", filter_batch},
      {"wordcount", filter_wordcount}, {"safe", filter_safe}, {"e", filter_escape}, {"escape", filter_escape},
      {"forceescape", filter_forceescape}, {"center", filter_center}, {"min", filter_min}, {"max", filter_max},
      {"sum", filter_sum}, {"reverse", filter_reverse}, {"attr", filter_attr}, {"format", filter_format},
      {"pprint", filter_pprint}, {"truncate", filter_truncate},
  };
  return table;
}

// ---------------------------------------------------------------- tests

bool test_value(EvalContext& context, std::string_view name, const Value& v, CallArgs& args) {
  auto arg0 = [&]() -> const Value& {
    if (args.args.empty()) fail(ErrorType::kType, "test '" + std::string(name) + "' needs an argument");
    return args.args[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  if (name == "sequence") return v.is_string() || (v.is_list() && !v.is_generator()) || v.is_dict() || v.is_undefined();
  if (name == "callable") return v.is_callable();
  if (name == "sameas") {
    const Value& o = arg0();
    if (v.is_none() || v.is_bool() || v.is_undefined()) return v.type() == o.type() && equals(v, o);
    return v.type() == o.type() && equals(v, o) && (v.is_int() || v.is_string());
  }
  if (name == "escaped") return false;
  if (name == "in") return contains(arg0(), v);
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, arg0());
  if (name == "ne" || name == "!=") return !equals(v, arg0());
  if (name == "lt" || name == "lessthan" || name == "<") return less_than(v, arg0());
  if (name == "le" || name == "<=") return !less_than(arg0(), v);
  if (name == "gt" || name == "greaterthan" || name == ">") return less_than(arg0(), v);
  if (name == "ge" || name == ">=") return !less_than(v, arg0());
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int() && !v.is_bool()) fail(ErrorType::kType, "test '" + std::string(name) + "' needs an integer");
    int64_t x = v.as_int();
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    int64_t d = arg0().as_int();
    if (d == 0) fail(ErrorType::kType, "integer division or modulo by zero");
    return x % d == 0;
  }
  if (name == "lower") return v.is_string() && is_lower_string(v.as_string());
  if (name == "upper") return v.is_string() && is_upper_string(v.as_string());
  if (name == "filter") return filters().count(soft_str(arg0())) > 0;
  if (name == "test") {
    static const char* const kTests[] = {"defined", "undefined", "none", "boolean", "true", "false", "integer", "float",
                                         "number", "string", "mapping", "iterable", "sequence", "callable", "sameas",
                                         "escaped", "in", "eq", "ne", "lt", "le", "gt", "ge", "odd", "even",
                                         "divisibleby", "lower", "upper", "filter", "test"};
    std::string n = soft_str(arg0());
    return std::any_of(std::begin(kTests), std::end(kTests), [&](const char* t) { return n == t; });
  }
  (void)context;
  fail(ErrorType::kRuntime, "No test named '" + std::string(name) + "' found.");
}

// ---------------------------------------------------------------- methods

bool is_mutating_method(const Value& self, std::string_view name) {
  if (self.is_list()) {
    return name == "append" || name == "extend" || name == "insert" || name == "pop" || name == "remove" ||
           name == "reverse" || name == "sort" || name == "clear";
  }
  if (self.is_dict()) {
    return name == "pop" || name == "popitem" || name == "setdefault" || name == "update" || name == "clear";
  }
  return false;
}

const char* const kStringMethods[] = {
    "startswith", "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "replace", "upper", "lower",
    "title", "capitalize", "swapcase", "format", "join", "find", "rfind", "index", "rindex", "count",
    "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal", "splitlines",
    "center", "ljust", "rjust", "zfill", "removeprefix", "removesuffix", "casefold", "partition", "rpartition"};
const char* const kDictMethods[] = {"get", "items", "keys", "values", "copy"};
const char* const kListMethods[] = {"index", "count", "copy"};

template <size_t N>
bool in_table(const char* const (&table)[N], std::string_view name) {
  return std::any_of(std::begin(table), std::end(table), [&](const char* m) { return name == m; });
}

Value string_method(EvalContext& context, const std::string& s, const std::string& name, CallArgs& args) {
  auto str_arg = [&](size_t i, const char* n) {
    const Value* v = args.get(i, n);
    if (!v || !v->is_string()) fail(ErrorType::kType, name + "() argument must be str, not " + (v ? v->type_name() : std::string("nothing")));
    return v->as_string();
  };
  if (name == "startswith" || name == "endswith") {
    const Value* prefix = args.get(0, "prefix");
    if (!prefix) fail(ErrorType::kType, name + "() takes at least 1 argument (0 given)");
    List options = prefix->is_tuple() ? prefix->as_list() : List{*prefix};
    for (const auto& o : options) {
      if (!o.is_string()) fail(ErrorType::kType, name + " first arg must be str or a tuple of str, not " + o.type_name());
      const std::string& p = o.as_string();
      if (p.size() > s.size()) continue;
      if (name == "startswith" ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0) return Value(true);
    }
    return Value(false);
  }
  if (name == "split" || name == "rsplit") {
    Value maxsplit = arg_or(args, 1, "maxsplit", Value(int64_t{-1}));
    return Value(python_split(s, args.get(0, "sep"), maxsplit.as_int(), name == "rsplit"));
  }
  if (name == "strip") return Value(python_strip(s, args.get(0, "chars"), true, true));
  if (name == "lstrip") return Value(python_strip(s, args.get(0, "chars"), true, false));
  if (name == "rstrip") return Value(python_strip(s, args.get(0, "chars"), false, true));
  if (name == "replace") {
    Value count = arg_or(args, 2, "count", Value(int64_t{-1}));
    return Value(python_replace(s, str_arg(0, "old"), str_arg(1, "new"), count.as_int(), context));
  }
  if (name == "upper") return Value(upper(s));
  if (name == "lower") return Value(lower(s));
  if (name == "casefold") return Value(casefold(s));
  if (name == "title") return Value(title(s));
  if (name == "capitalize") return Value(capitalize(s));
  if (name == "swapcase") return Value(swapcase(s));
  if (name == "format") {
    std::string out = brace_format(s, args);
    context.check_size(out.size());
    return Value(std::move(out));
  }
  if (name == "join") {
    const Value* items = args.get(0, "iterable");
    if (!items) fail(ErrorType::kType, "join() takes exactly one argument (0 given)");
    std::string out;
    bool first = true;
    for (const auto& item : iterate(*items)) {
      if (!item.is_string()) fail(ErrorType::kType, "sequence item: expected str instance, " + item.type_name() + " found");
      if (!first) out += s;
      first = false;
      out += item.as_string();
      context.check_size(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    std::string sub = str_arg(0, "sub");
    if (name == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(code_point_count(s) + 1));
      int64_t n = 0;
      for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
      return Value(n);
    }
    size_t at = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
    if (at == std::string::npos) {
      if (name == "index" || name == "rindex") fail(ErrorType::kType, "substring not found");
      return Value(int64_t{-1});
    }
    return Value(static_cast<int64_t>(code_point_count(std::string_view(s).substr(0, at))));
  }
  auto all_of = [&](bool (*pred)(uint32_t)) {
    if (s.empty()) return false;
    size_t i = 0;
    while (i < s.size()) {
      if (!pred(utf8::next_lossless(s, i))) return false;
    }
    return true;
  };
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") return Value(all_of(is_digit));
  if (name == "isalpha") return Value(all_of(is_alpha));
  if (name == "isalnum") return Value(all_of([](uint32_t c) { return is_alpha(c) || is_digit(c); }));
  if (name == "isspace") return Value(all_of(is_space));
  if (name == "isupper") return Value(is_upper_string(s));
  if (name == "islower") return Value(is_lower_string(s));
  if (name == "splitlines") {
    List out;
    for (auto& line : python_splitlines(s)) out.emplace_back(std::move(line));
    return Value(std::move(out));
  }
  if (name == "center" || name == "ljust" || name == "rjust" || name == "zfill") {
    int64_t width = arg_or(args, 0, "width", Value(int64_t{0})).as_int();
    std::string fill = name == "zfill" ? "0" : soft_str(arg_or(args, 1, "fillchar", Value(" ")));
    int64_t len = static_cast<int64_t>(code_point_count(s));
    if (width <= len) return Value(s);
    context.check_size(static_cast<size_t>(width));
    context.check_size(static_cast<size_t>(width) * fill.size());
    auto pad = [&](int64_t n) {
      std::string p;
      for (int64_t k = 0; k < n; ++k) p += fill;
      return p;
    };
    int64_t total = width - len;
    if (name == "ljust") return Value(s + pad(total));
    if (name == "rjust") return Value(pad(total) + s);
    if (name == "zfill") {
      if (!s.empty() && (s[0] == '-' || s[0] == '+')) return Value(s.substr(0, 1) + pad(total) + s.substr(1));
      return Value(pad(total) + s);
    }
    int64_t left = total / 2 + (total & width & 1);
    return Value(pad(left) + s + pad(total - left));
  }
  if (name == "removeprefix") {
    std::string p = str_arg(0, "prefix");
    return Value(s.compare(0, p.size(), p) == 0 && p.size() <= s.size() ? s.substr(p.size()) : s);
  }
  if (name == "removesuffix") {
    std::string p = str_arg(0, "suffix");
    return Value(!p.empty() && p.size() <= s.size() && s.compare(s.size() - p.size(), p.size(), p) == 0 ? s.substr(0, s.size() - p.size()) : s);
  }
  if (name == "partition" || name == "rpartition") {
    std::string sep = str_arg(0, "sep");
    if (sep.empty()) fail(ErrorType::kType, "empty separator");
    size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (at == std::string::npos) {
      return name == "partition" ? Value(List{Value(s), Value(""), Value("")}, true) : Value(List{Value(""), Value(""), Value(s)}, true);
    }
    return Value(List{Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))}, true);
  }
  fail(ErrorType::kUndefined, "'str object' has no attribute '" + name + "'");
}

// ---------------------------------------------------------------- globals

Value global_range(EvalContext& context, CallArgs& args) {
  if (args.args.empty() || args.args.size() > 3) fail(ErrorType::kType, "range expected 1 to 3 arguments");
  for (const auto& a : args.args) {
    if (!a.is_int() && !a.is_bool()) fail(ErrorType::kType, "'" + a.type_name() + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (args.args.size() == 1) {
    stop = args.args[0].as_int();
  } else {
    start = args.args[0].as_int();
    stop = args.args[1].as_int();
    if (args.args.size() == 3) step = args.args[2].as_int();
  }
  if (step == 0) fail(ErrorType::kType, "range() arg 3 must not be zero");
  __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  __int128 stride = step > 0 ? static_cast<__int128>(step) : -static_cast<__int128>(step);
  __int128 wide_count = span > 0 ? (span + stride - 1) / stride : 0;
  int64_t count = wide_count > 100000 ? 100001 : static_cast<int64_t>(wide_count);
  // The jinja2 sandbox refuses ranges longer than 100000 (MAX_RANGE).
  if (count > 100000) fail(ErrorType::kSecurity, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  context.count_iterations(count / 16);
  List out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) out.emplace_back(static_cast<int64_t>(start + static_cast<__int128>(k) * step));
  return Value(std::move(out));
}

Value global_namespace(EvalContext& context, CallArgs& args) {
  auto ns = context.new_namespace();
  for (const auto& a : args.args) {
    if (!a.is_dict()) fail(ErrorType::kType, "namespace() positional argument must be a mapping");
    for (const auto& [k, v] : a.as_dict().entries) ns->attributes.set(k, v);
  }
  for (const auto& [k, v] : args.kwargs) ns->attributes.set(Value(k), v);
  return Value(ns);
}

Value global_dict(EvalContext&, CallArgs& args) {
  Dict d;
  for (const auto& a : args.args) {
    if (a.is_dict()) {
      for (const auto& [k, v] : a.as_dict().entries) d.set(k, v);
    } else {
      for (const auto& pair : iterate(a)) {
        List kv = iterate(pair);
        if (kv.size() != 2) fail(ErrorType::kType, "dictionary update sequence element has wrong length");
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.kwargs) d.set(Value(k), v);
  return Value(std::move(d));
}

Value global_raise_exception(EvalContext&, CallArgs& args) {
  const Value* message = args.get(0, "message");
  fail(ErrorType::kRaised, message ? soft_str(*message) : std::string());
}

Value global_strftime_now(EvalContext& context, CallArgs& args) {
  const Value* format = args.get(0, "format");
  if (!format || !format->is_string()) fail(ErrorType::kType, "strftime_now() needs a format string");
  return Value(strftime_value(context.now(), format->as_string()));
}

Value global_cycler(EvalContext&, CallArgs& args) {
  return Value(std::shared_ptr<Callable>(std::make_shared<Cycler>(args.args)));
}

Value global_joiner(EvalContext&, CallArgs& args) {
  std::string sep = soft_str(arg_or(args, 0, "sep", Value(", ")));
  auto used = std::make_shared<bool>(false);
  return make_builtin("joiner", [sep, used](EvalContext&, CallArgs&) {
    if (!*used) {
      *used = true;
      return Value(std::string());
    }
    return Value(sep);
  });
}

}  // namespace

Value apply_filter(EvalContext& context, std::string_view name, const Value& operand, CallArgs& args) {
  const auto& table = filters();
  auto it = table.find(name);
  if (it == table.end()) fail(ErrorType::kRuntime, "No filter named '" + std::string(name) + "' found.");
  return it->second(context, operand, args);
}

bool apply_test(EvalContext& context, std::string_view name, const Value& operand, CallArgs& args) {
  return test_value(context, name, operand, args);
}

bool has_method(const Value& self, std::string_view name) {
  switch (self.type()) {
    case Value::Type::kString: return in_table(kStringMethods, name);
    case Value::Type::kDict: return in_table(kDictMethods, name) || is_mutating_method(self, name);
    case Value::Type::kList: return !self.is_generator() && (in_table(kListMethods, name) || is_mutating_method(self, name));
    default: return false;
  }
}

Value bound_method(const Value& self, const std::string& name) {
  return Value(std::shared_ptr<Callable>(std::make_shared<BoundMethod>(self, name)));
}

Value call_method(EvalContext& context, const Value& self, const std::string& name, CallArgs& args) {
  if (is_mutating_method(self, name)) {
    fail(ErrorType::kSecurity, "access to attribute '" + name + "' of '" + self.type_name() + "' object is unsafe.");
  }
  if (self.is_string()) return string_method(context, self.as_string(), name, args);
  if (self.is_dict()) {
    const Dict& d = self.as_dict();
    if (name == "get") {
      const Value* key = args.get(0, "key");
      if (!key) fail(ErrorType::kType, "get expected at least 1 argument, got 0");
      const Value* found = d.find(*key);
      return found ? *found : arg_or(args, 1, "default", Value::none());
    }
    if (name == "items") return filter_items(context, self, args);
    if (name == "keys") return Value(iterate(self));
    if (name == "values") {
      List values;
      for (const auto& [k, v] : d.entries) values.push_back(v);
      return Value(std::move(values));
    }
    if (name == "copy") return self;
  }
  if (self.is_list()) {
    if (name == "copy") return Value(self.as_list());
    const Value* x = args.get(0, "value");
    if (!x) fail(ErrorType::kType, name + "() takes exactly one argument (0 given)");
    const List& items = self.as_list();
    if (name == "count") return Value(static_cast<int64_t>(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, *x); })));
    for (size_t i = 0; i < items.size(); ++i) {
      if (equals(items[i], *x)) return Value(static_cast<int64_t>(i));
    }
    fail(ErrorType::kType, x->repr() + " is not in list");
  }
  fail(ErrorType::kUndefined, "'" + self.type_name() + " object' has no attribute '" + name + "'");
}

Value lookup_global(const std::string& name) {
  static const std::unordered_map<std::string, Value> globals = {
      {"range", make_builtin("range", global_range)},
      {"namespace", make_builtin("namespace", global_namespace)},
      {"dict", make_builtin("dict", global_dict)},
      {"raise_exception", make_builtin("raise_exception", global_raise_exception)},
      {"strftime_now", make_builtin("strftime_now", global_strftime_now)},
      {"cycler", make_builtin("cycler", global_cycler)},
      {"joiner", make_builtin("joiner", global_joiner)},
  };
  auto it = globals.find(name);
  return it == globals.end() ? Value() : it->second;
}

std::string to_json(const Value& value, const JsonStyle& style) {
  std::string out;
  json_dump(out, value, style, 0, 0);
  return out;
}

}  // namespace tgi::chat::jinja
