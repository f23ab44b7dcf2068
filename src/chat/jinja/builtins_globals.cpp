// The globals of transformers' jinja2 environment: range, namespace, dict, raise_exception,
// strftime_now, cycler, joiner.
#include "chat/jinja/builtins.h"

#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "chat/jinja/access.h"
#include "chat/jinja/builtins_internal.h"
#include "chat/jinja/template_error.h"

namespace tgi::chat::jinja {
namespace {

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

Value global_range(EvalContext& context, CallArgs& args) {
  if (args.args.empty() || args.args.size() > 3) fail(ErrorType::kType, "range expected 1 to 3 arguments");
  for (const auto& a : args.args) {
    if (!a.is_int() && !a.is_bool())
      fail(ErrorType::kType, "'" + a.type_name() + "' object cannot be interpreted as an integer");
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
  if (count > 100000)
    fail(ErrorType::kSecurity, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  context.count_iterations(count / 16);
  List out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k)
    out.emplace_back(static_cast<int64_t>(start + static_cast<__int128>(k) * step));
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

}  // namespace tgi::chat::jinja
