// Argument and string helpers of the builtins: Python's str operations with its semantics
// (code points, whitespace, separators) and jinja2's helpers (soft_str, dotted attribute paths).
#include "chat/jinja/builtins_internal.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/access.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/unicode.h"

namespace tgi::chat::jinja {
namespace {

bool is_strip_char(uint32_t cp, const std::vector<uint32_t>* chars) {
  if (!chars) return is_space(cp);
  return std::find(chars->begin(), chars->end(), cp) != chars->end();
}

// The separator class of jinja2's title filter regex ([-\s({\[<]+); see jinja_title.
bool is_title_separator(uint32_t cp) {
  return cp == '-' || is_space(cp) || cp == '(' || cp == '{' || cp == '[' || cp == '<';
}

}  // namespace

Value arg_or(const CallArgs& args, size_t position, std::string_view name, Value fallback) {
  const Value* v = args.get(position, name);
  return v ? *v : fallback;
}

// jinja2's soft_str: str() for everything; undefined is "".
std::string soft_str(const Value& v) {
  return v.is_string() ? v.as_string() : v.str();
}

int64_t python_len(const Value& v) {
  switch (v.type()) {
    case Value::Type::kString:
      return static_cast<int64_t>(code_point_count(v.as_string()));
    case Value::Type::kList:
      if (v.is_generator()) break;
      return static_cast<int64_t>(v.as_list().size());
    case Value::Type::kDict:
      return static_cast<int64_t>(v.as_dict().entries.size());
    case Value::Type::kUndefined:
      return 0;
    default:
      break;
  }
  fail(ErrorType::kType, "object of type '" + v.type_name() + "' has no len()");
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
    bool is_break = cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) ||
                    cp == 0x85 || cp == 0x2028 || cp == 0x2029;
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
    bool numeric = !part.empty() && part.size() < 18 &&
                   std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    current = numeric ? get_item(current, Value(static_cast<int64_t>(std::stoll(part))))
                      : get_item(current, Value(part));
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

}  // namespace tgi::chat::jinja
