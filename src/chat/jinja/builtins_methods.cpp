// Python methods on str, dict and list (`content.strip()`, `message.get('x')`), called or bound.
#include "chat/jinja/builtins.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "chat/jinja/access.h"
#include "chat/jinja/builtins_internal.h"
#include "chat/jinja/python_ops.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

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
    "startswith", "endswith",  "split",     "rsplit",  "strip",      "lstrip",       "rstrip",
    "replace",    "upper",     "lower",     "title",   "capitalize", "swapcase",     "format",
    "join",       "find",      "rfind",     "index",   "rindex",     "count",        "isdigit",
    "isalpha",    "isalnum",   "isspace",   "isupper", "islower",    "isnumeric",    "isdecimal",
    "splitlines", "center",    "ljust",     "rjust",   "zfill",      "removeprefix", "removesuffix",
    "casefold",   "partition", "rpartition"};
const char* const kDictMethods[] = {"get", "items", "keys", "values", "copy"};
const char* const kListMethods[] = {"index", "count", "copy"};

template <size_t N>
bool in_table(const char* const (&table)[N], std::string_view name) {
  return std::any_of(std::begin(table), std::end(table), [&](const char* m) { return name == m; });
}

Value string_method(EvalContext& context, const std::string& s, const std::string& name, CallArgs& args) {
  auto str_arg = [&](size_t i, const char* n) {
    const Value* v = args.get(i, n);
    if (!v || !v->is_string())
      fail(ErrorType::kType,
           name + "() argument must be str, not " + (v ? v->type_name() : std::string("nothing")));
    return v->as_string();
  };
  if (name == "startswith" || name == "endswith") {
    const Value* prefix = args.get(0, "prefix");
    if (!prefix) fail(ErrorType::kType, name + "() takes at least 1 argument (0 given)");
    List options = prefix->is_tuple() ? prefix->as_list() : List{*prefix};
    for (const auto& o : options) {
      if (!o.is_string())
        fail(ErrorType::kType, name + " first arg must be str or a tuple of str, not " + o.type_name());
      const std::string& p = o.as_string();
      if (p.size() > s.size()) continue;
      if (name == "startswith" ? s.compare(0, p.size(), p) == 0
                               : s.compare(s.size() - p.size(), p.size(), p) == 0)
        return Value(true);
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
      if (!item.is_string())
        fail(ErrorType::kType, "sequence item: expected str instance, " + item.type_name() + " found");
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
    return Value(!p.empty() && p.size() <= s.size() && s.compare(s.size() - p.size(), p.size(), p) == 0
                     ? s.substr(0, s.size() - p.size())
                     : s);
  }
  if (name == "partition" || name == "rpartition") {
    std::string sep = str_arg(0, "sep");
    if (sep.empty()) fail(ErrorType::kType, "empty separator");
    size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (at == std::string::npos) {
      return name == "partition" ? Value(List{Value(s), Value(""), Value("")}, true)
                                 : Value(List{Value(""), Value(""), Value(s)}, true);
    }
    return Value(List{Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))}, true);
  }
  fail(ErrorType::kUndefined, "'str object' has no attribute '" + name + "'");
}

}  // namespace

bool has_method(const Value& self, std::string_view name) {
  switch (self.type()) {
    case Value::Type::kString:
      return in_table(kStringMethods, name);
    case Value::Type::kDict:
      return in_table(kDictMethods, name) || is_mutating_method(self, name);
    case Value::Type::kList:
      return !self.is_generator() && (in_table(kListMethods, name) || is_mutating_method(self, name));
    default:
      return false;
  }
}

Value bound_method(const Value& self, const std::string& name) {
  return Value(std::shared_ptr<Callable>(std::make_shared<BoundMethod>(self, name)));
}

Value call_method(EvalContext& context, const Value& self, const std::string& name, CallArgs& args) {
  if (is_mutating_method(self, name)) {
    fail(ErrorType::kSecurity,
         "access to attribute '" + name + "' of '" + self.type_name() + "' object is unsafe.");
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
    if (name == "count")
      return Value(static_cast<int64_t>(
          std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, *x); })));
    for (size_t i = 0; i < items.size(); ++i) {
      if (equals(items[i], *x)) return Value(static_cast<int64_t>(i));
    }
    fail(ErrorType::kType, x->repr() + " is not in list");
  }
  fail(ErrorType::kUndefined, "'" + self.type_name() + " object' has no attribute '" + name + "'");
}

}  // namespace tgi::chat::jinja
