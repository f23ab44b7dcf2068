#include "chat/jinja/python_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

// Python's slice.indices(): clamps start/stop for a sequence of length n.
void slice_indices(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step, int64_t& b, int64_t& e) {
  auto adjust = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  b = adjust(start, step < 0 ? n - 1 : 0);
  e = adjust(stop, step < 0 ? -1 : n);
}

std::string format_number_spec(const Value& v, const std::string& flags, int width, int precision, char conv) {
  std::string spec = "%" + flags;
  if (width >= 0) spec += std::to_string(width);
  if (precision >= 0) spec += "." + std::to_string(precision);
  char buf[512];
  if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o') {
    if (!v.is_number()) fail(ErrorType::kType, "%" + std::string(1, conv) + " format: a real number is required, not " + v.type_name());
    spec += "ll";
    spec += conv == 'i' ? 'd' : conv;
    if (v.is_float() && !(std::fabs(v.as_float()) < 9.2e18)) fail(ErrorType::kType, "cannot convert float to integer");
    long long x = v.is_float() ? static_cast<long long>(std::trunc(v.as_float())) : static_cast<long long>(v.as_int());
    std::snprintf(buf, sizeof buf, spec.c_str(), x);
  } else {
    if (!v.is_number()) fail(ErrorType::kType, "must be real number, not " + v.type_name());
    if (precision < 0) spec += ".6";
    spec += conv;
    std::snprintf(buf, sizeof buf, spec.c_str(), v.as_float());
  }
  return buf;
}

}  // namespace

Value python_slice(const Value& object, std::optional<int64_t> start, std::optional<int64_t> stop, std::optional<int64_t> step_opt) {
  int64_t step = step_opt.value_or(1);
  if (step == 0) fail(ErrorType::kType, "slice step cannot be zero");
  if (object.is_string()) {
    const std::string& s = object.as_string();
    auto cps = to_code_points(s);
    int64_t b, e;
    slice_indices(static_cast<int64_t>(cps.size()), start, stop, step, b, e);
    std::string out;
    for (int64_t i = b; step > 0 ? i < e : i > e;) {
      utf8::append_lossless(out, cps[static_cast<size_t>(i)]);
      if (__builtin_add_overflow(i, step, &i)) break;
    }
    return Value(std::move(out));
  }
  if (object.is_list() && !object.is_generator()) {
    const List& items = object.as_list();
    int64_t b, e;
    slice_indices(static_cast<int64_t>(items.size()), start, stop, step, b, e);
    List out;
    for (int64_t i = b; step > 0 ? i < e : i > e;) {
      out.push_back(items[static_cast<size_t>(i)]);
      if (__builtin_add_overflow(i, step, &i)) break;
    }
    return Value(std::move(out), object.is_tuple());
  }
  if (object.is_none()) fail(ErrorType::kType, "'NoneType' object is not subscriptable");
  return Value::undefined(object.type_name() + " object has no element slice");
}

std::string percent_format(const std::string& format, const Value& args) {
  List positional;
  const Dict* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.as_list();
  } else if (args.is_dict()) {
    mapping = &args.as_dict();
    positional.push_back(args);
  } else {
    positional.push_back(args);
  }
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (++i >= format.size()) fail(ErrorType::kType, "incomplete format");
    const Value* arg = nullptr;
    if (format[i] == '(') {
      size_t close = format.find(')', i);
      if (close == std::string::npos || !mapping) fail(ErrorType::kType, "format requires a mapping");
      arg = mapping->find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!arg) fail(ErrorType::kType, "format key not found");
      i = close + 1;
    }
    std::string flags;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) flags += format[i++];
    int width = -1, precision = -1;
    auto read_number = [&](int& value) {
      value = 0;
      while (i < format.size() && is_digit(static_cast<uint8_t>(format[i]))) {
        value = value * 10 + (format[i++] - '0');
        if (value > 4096) fail(ErrorType::kType, "format width or precision too large");
      }
    };
    if (i < format.size() && is_digit(static_cast<uint8_t>(format[i]))) read_number(width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      read_number(precision);
    }
    if (i >= format.size()) fail(ErrorType::kType, "incomplete format");
    char conv = format[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (!arg) {
      if (next >= positional.size()) fail(ErrorType::kType, "not enough arguments for format string");
      arg = &positional[next++];
    }
    std::string piece;
    switch (conv) {
      case 's': piece = arg->str(); break;
      case 'r':
      case 'a': piece = arg->repr(); break;
      case 'd': case 'i': case 'x': case 'X': case 'o': case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
        out += format_number_spec(*arg, flags, width, precision, conv);
        continue;
      case 'c': piece = arg->is_string() ? arg->as_string() : std::string(1, static_cast<char>(arg->as_int())); break;
      default: fail(ErrorType::kType, std::string("unsupported format character '") + conv + "'");
    }
    if (precision >= 0 && conv == 's' && static_cast<size_t>(precision) < piece.size()) piece.resize(static_cast<size_t>(precision));
    size_t len = code_point_count(piece);
    if (width > 0 && static_cast<size_t>(width) > len) {
      std::string pad(static_cast<size_t>(width) - len, ' ');
      piece = flags.find('-') != std::string::npos ? piece + pad : pad + piece;
    }
    out += piece;
  }
  if (!mapping && next < positional.size()) fail(ErrorType::kType, "not all arguments converted during string formatting");
  return out;
}

std::string brace_format(const std::string& format, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c == '{' && i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    if (c == '}' && i + 1 < format.size() && format[i + 1] == '}') {
      out += '}';
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = format.find('}', i);
    if (close == std::string::npos) fail(ErrorType::kType, "Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    std::string spec;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_index >= args.args.size()) fail(ErrorType::kType, "Replacement index out of range for positional args tuple");
      v = &args.args[auto_index++];
    } else if (is_digit(static_cast<uint8_t>(field[0]))) {
      size_t index = field.size() > 6 ? SIZE_MAX : std::stoul(field);
      if (index >= args.args.size()) fail(ErrorType::kType, "Replacement index out of range for positional args tuple");
      v = &args.args[index];
    } else {
      v = args.keyword(field);
      if (!v) fail(ErrorType::kType, "KeyError: '" + field + "'");
    }
    if (!spec.empty() && v->is_number() && spec.back() == 'f') {
      std::string digits = spec.size() > 2 && spec[0] == '.' ? spec.substr(1, spec.size() - 2) : "6";
      bool numeric = !digits.empty() && digits.size() < 4 && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!numeric) fail(ErrorType::kType, "unsupported format spec '" + spec + "'");
      int precision = std::stoi(digits);
      out += format_number_spec(*v, "", -1, precision, 'f');
    } else {
      out += v->str();
    }
    i = close;
  }
  return out;
}

}  // namespace tgi::chat::jinja
