// jinja2's filters (`x|trim`, `items|map(attribute='name')`), looked up by name.
#include "chat/jinja/builtins.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chat/jinja/access.h"
#include "chat/jinja/builtins_internal.h"
#include "chat/jinja/python_ops.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

using FilterFn = Value (*)(EvalContext&, const Value&, CallArgs&);

List to_items(const Value& v) {
  return iterate(v);
}

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
  if (has_test)
    test_args.args.assign(args.args.begin() + static_cast<long>(test_position) + 1, args.args.end());
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
  std::string indention = width.is_string()
                              ? width.as_string()
                              : std::string(static_cast<size_t>(std::max<int64_t>(0, width.as_int())), ' ');
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
  if (v.is_float())
    return std::fabs(v.as_float()) < 9.2e18 ? Value(static_cast<int64_t>(v.as_float())) : fallback;
  if (v.is_string()) {
    std::string s = python_strip(v.as_string(), nullptr, true, true);
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return Value(static_cast<int64_t>(i));
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::fabs(d) < 9.2e18)
      return Value(static_cast<int64_t>(d));
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
  if (method == "ceil")
    x = std::ceil(x);
  else if (method == "floor")
    x = std::floor(x);
  else
    x = std::nearbyint(x);  // Python's round(): halves go to the even neighbour
  return Value(x / scale);
}

Value filter_unique(EvalContext&, const Value& v, CallArgs& args) {
  bool case_sensitive = arg_or(args, 0, "case_sensitive", Value(false)).truthy();
  Value attribute = arg_or(args, 1, "attribute", Value::none());
  List out, seen;
  for (const auto& item : to_items(v)) {
    Value key =
        sort_key(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)), case_sensitive);
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
    keyed.emplace_back(
        sort_key(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)), case_sensitive),
        item);
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

Value filter_center(EvalContext& context, const Value& v, CallArgs& args) {
  std::string s = soft_str(v);
  int64_t width = arg_or(args, 0, "width", Value(int64_t{80})).as_int();
  context.check_size(static_cast<size_t>(std::max<int64_t>(0, width)));
  int64_t len = static_cast<int64_t>(code_point_count(s));
  if (width <= len) return Value(s);
  int64_t total = width - len;
  int64_t left = total / 2 + (total & width & 1);
  return Value(std::string(static_cast<size_t>(left), ' ') + s +
               std::string(static_cast<size_t>(total - left), ' '));
}

Value min_max(EvalContext&, const Value& v, CallArgs& args, bool want_max) {
  bool case_sensitive = arg_or(args, 0, "case_sensitive", Value(false)).truthy();
  Value attribute = arg_or(args, 1, "attribute", Value::none());
  List items = to_items(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  auto key = [&](const Value& item) {
    return sort_key(attribute.is_none() ? item : attribute_path(item, soft_str(attribute)), case_sensitive);
  };
  for (size_t i = 1; i < items.size(); ++i) {
    bool better =
        want_max ? less_than(key(items[best]), key(items[i])) : less_than(key(items[i]), key(items[best]));
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
    if (!x.is_number() || !total.is_number())
      fail(ErrorType::kType,
           "unsupported operand type(s) for +: '" + total.type_name() + "' and '" + x.type_name() + "'");
    total = total.is_float() || x.is_float() ? Value(total.as_float() + x.as_float())
                                             : Value(total.as_int() + x.as_int());
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
  if (!args.kwargs.empty() && !args.args.empty())
    fail(ErrorType::kType, "can't handle positional and keyword arguments at the same time");
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
      {"tojson", filter_tojson},
      {"trim", filter_trim},
      {"length", filter_length},
      {"count", filter_length},
      {"items", filter_items},
      {"join", filter_join},
      {"map", filter_map},
      {"select", filter_select},
      {"reject", filter_reject},
      {"selectattr", filter_selectattr},
      {"rejectattr", filter_rejectattr},
      {"first", filter_first},
      {"last", filter_last},
      {"default", filter_default},
      {"d", filter_default},
      {"upper", filter_upper},
      {"lower", filter_lower},
      {"title", filter_title},
      {"capitalize", filter_capitalize},
      {"replace", filter_replace},
      {"indent", filter_indent},
      {"list", filter_list},
      {"string", filter_string},
      {"int", filter_int},
      {"float", filter_float},
      {"abs", filter_abs},
      {"round", filter_round},
      {"unique", filter_unique},
      {"sort", filter_sort},
      {"dictsort", filter_dictsort},
      {"batch", filter_batch},
      {"wordcount", filter_wordcount},
      {"safe", filter_safe},
      {"e", filter_escape},
      {"escape", filter_escape},
      {"forceescape", filter_forceescape},
      {"center", filter_center},
      {"min", filter_min},
      {"max", filter_max},
      {"sum", filter_sum},
      {"reverse", filter_reverse},
      {"attr", filter_attr},
      {"format", filter_format},
      {"pprint", filter_pprint},
      {"truncate", filter_truncate},
  };
  return table;
}

}  // namespace

Value filter_items(EvalContext&, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value(List{});
  if (!v.is_dict()) fail(ErrorType::kType, "Can only get item pairs from a mapping.");
  List items;
  for (const auto& [k, val] : v.as_dict().entries) items.emplace_back(List{k, val}, true);
  return Value(std::move(items));
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool has_filter(std::string_view name) {
  return filters().count(name) > 0;
}

Value apply_filter(EvalContext& context, std::string_view name, const Value& operand, CallArgs& args) {
  const auto& table = filters();
  auto it = table.find(name);
  if (it == table.end()) fail(ErrorType::kRuntime, "No filter named '" + std::string(name) + "' found.");
  return it->second(context, operand, args);
}

}  // namespace tgi::chat::jinja
