// JSON Schema -> Grammar. A subschema is compiled as the conjunction (Conj) of the schema objects
// that apply to one JSON value; the conjunction is flattened (allOf, $ref and siblings merged into
// one Flat), anyOf / oneOf are distributed over their siblings, and the Flat becomes one grammar
// rule whose alternatives are the JSON types it allows: lexemes for scalars, rules for arrays and
// objects. Each conjunction gets one rule (memoized), so recursive `$ref`s become recursive rules.
//
// Fail closed: a keyword that constrains instances and is not enforced exactly (or narrowed
// soundly) is an error naming the keyword and where it is.
#include "grammar/json_schema_compiler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "grammar/json_number_range.h"
#include "grammar/json_schema_document.h"
#include "grammar/json_schema_flat.h"
#include "grammar/json_schema_formats.h"
#include "grammar/lexeme_dfa.h"
#include "grammar/regex_parser.h"

namespace tgi::grammar {
namespace {

using json_number::Int;
using namespace json_schema;  // NOLINT(google-build-using-namespace): the compiler's own model

// Strings longer than this are not one lexeme: a length-only string is built from chunks.
constexpr uint64_t kMaxLexemeLength = 2048;
// What a maxLength above kMaxLexemeLength is narrowed to (when minLength allows).
constexpr uint64_t kNarrowedMaxLength = 1024;
constexpr uint32_t kChunk = 64;
// How many conjunctions (rules) one compile may create, and how many enum values one lexeme holds.
constexpr uint32_t kMaxConjunctions = 20'000;
constexpr size_t kEnumValuesPerLexeme = 256;
constexpr uint64_t kMaxCountedProperties = 64;
constexpr uint32_t kMaxValueCheckDepth = 64;
constexpr int kMaxIntegerMultipleDigits = 15;

Error invalid(std::string_view what, const std::string& pointer) {
  return Error::make(ErrorKind::kValidation, "invalid schema: {} at {}", what, where(pointer));
}

Error unsupported(std::string_view keyword, const std::string& pointer, std::string_view why = {}) {
  if (why.empty()) {
    return Error::make(ErrorKind::kValidation, "unsupported keyword '{}' at {}", keyword, where(pointer));
  }
  return Error::make(ErrorKind::kValidation, "unsupported keyword '{}' at {} ({})", keyword, where(pointer),
                     why);
}

bool is_integral(long double v) {
  return std::isfinite(v) && std::floor(v) == v;
}

long double number_of(const Json& v) {
  if (v.is_number_integer() && v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
  return static_cast<long double>(v.get<double>());
}

// A non-negative integer keyword value (minLength...), floats with integral values accepted.
Result<uint64_t> count_keyword(const Json& v, std::string_view keyword, const std::string& at) {
  if (!v.is_number()) return invalid(fmt::format("'{}' must be a non-negative integer", keyword), at);
  const long double x = number_of(v);
  if (!is_integral(x) || x < 0)
    return invalid(fmt::format("'{}' must be a non-negative integer", keyword), at);
  if (x > 1e18L) return static_cast<uint64_t>(1e18);
  return static_cast<uint64_t>(x);
}

CodepointSet control_characters() {
  return CodepointSet::range(0, 0x1F);
}

// One JSON spelling for each character of `set`: raw where JSON allows it, escaped otherwise.
Regex json_escaped(const CodepointSet& set) {
  CodepointSet special = control_characters();
  special.add('"');
  special.add('\\');
  std::vector<Regex> parts;
  parts.push_back(Regex::set(set.minus(special)));
  const CodepointSet escaped = set.intersect(special);
  for (const CodepointRange& r : escaped.ranges()) {
    for (char32_t c = r.first; c <= r.last; ++c) {
      std::string spelling;
      switch (c) {
        case '"':
          spelling = "\\\"";
          break;
        case '\\':
          spelling = "\\\\";
          break;
        case '\b':
          spelling = "\\b";
          break;
        case '\f':
          spelling = "\\f";
          break;
        case '\n':
          spelling = "\\n";
          break;
        case '\r':
          spelling = "\\r";
          break;
        case '\t':
          spelling = "\\t";
          break;
        default:
          spelling = fmt::format("\\u{:04x}", static_cast<uint32_t>(c));
      }
      parts.push_back(Regex::literal(spelling));
    }
  }
  return Regex::alt(std::move(parts));
}

Regex quoted(const Regex& decoded) {
  return Regex::concat({Regex::character('"'), decoded.map_sets(json_escaped), Regex::character('"')});
}

size_t codepoint_count(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

uint8_t type_bits(std::string_view name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBool;
  if (name == "integer") return kInt;
  if (name == "number") return kInt | kFrac;
  if (name == "string") return kStr;
  if (name == "array") return kArr;
  if (name == "object") return kObj;
  return 0;
}

// Whether `regex` matches no string at all (compiling it to find out).
// Whether a regex has an intersection or difference inside: only those can make a regex built by
// the Regex constructors (which fold away nothing()) match no string at all.
bool has_product(const Regex& regex) {
  if (regex.kind() == Regex::Kind::kIntersect || regex.kind() == Regex::Kind::kDifference) return true;
  for (const Regex& child : regex.children())
    if (has_product(child)) return true;
  return false;
}

Result<bool> regex_empty(const Regex& regex) {
  if (regex.kind() == Regex::Kind::kNothing) return true;
  if (!has_product(regex)) return false;
  TGI_ASSIGN_OR_RETURN(std::shared_ptr<const LexemeDfa> dfa,
                       GrammarBuilder::shared_lexeme_dfa(regex, regex.to_string(), LexemeDfaLimits{}));
  return dfa->start() == LexemeDfa::kDead;
}

class Compiler {
 public:
  Compiler(GrammarBuilder& builder, const SchemaDocument& doc, const JsonSchemaOptions& options)
      : b_(builder), doc_(doc), options_(options) {}

  Result<Symbol> run() {
    make_tokens();
    return compile({Elem{&doc_.root(), 0}}, 0);
  }

 private:
  // ---- tokens ----------------------------------------------------------------------------------
  void make_tokens() {
    if (options_.whitespace == JsonWhitespace::kBounded) {
      CodepointSet blanks = CodepointSet::of(' ');
      blanks.add('\t');
      ws_ = b_.lexeme(Regex::optional(
          Regex::alt({Regex::character(' '),
                      Regex::concat({Regex::character('\n'),
                                     Regex::repeat(Regex::set(blanks), 0, options_.max_indent)})})));
    }
    lbrace_ = b_.literal("{");
    rbrace_ = b_.literal("}");
    lbracket_ = b_.literal("[");
    rbracket_ = b_.literal("]");
    comma_ = b_.literal(",");
    colon_ = b_.literal(":");
  }
  void gap(std::vector<Symbol>& out) const {
    if (ws_) out.push_back(*ws_);
  }
  // The separator before item number `index` (0-based).
  void separator(std::vector<Symbol>& out, uint64_t index) const {
    if (index == 0) return;
    gap(out);
    out.push_back(comma_);
    gap(out);
  }

  // ---- conjunctions --------------------------------------------------------------------------------
  static std::string conj_key(const Conj& conj) {
    std::vector<std::pair<uintptr_t, uint32_t>> items;
    for (const Elem& e : conj) items.emplace_back(reinterpret_cast<uintptr_t>(e.schema), e.skip);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    std::string key;
    for (auto [p, s] : items) key += fmt::format("{:x}:{};", p, s);
    return key;
  }

  bool known_empty(Symbol s) const { return s.is_rule() && empty_rules_.count(s.index()) != 0; }

  Result<Symbol> compile(const Conj& conj, uint32_t depth) {
    const std::string key = conj_key(conj);
    if (auto it = memo_.find(key); it != memo_.end()) return Symbol::rule(it->second);
    if (depth > options_.max_schema_depth) {
      return Error::make(ErrorKind::kValidation, "schema nested deeper than {} levels",
                         options_.max_schema_depth);
    }
    if (++conjunctions_ > kMaxConjunctions) {
      return Error::make(ErrorKind::kValidation, "schema too complex: more than {} subschema combinations",
                         kMaxConjunctions);
    }
    const uint32_t rule = b_.new_rule("schema");
    memo_.emplace(key, rule);
    TGI_ASSIGN_OR_RETURN(Flat flat, flatten(conj));
    std::vector<Symbol> alternatives;
    if (flat.types != 0 && !flat.disjunctions.empty()) {
      TGI_ASSIGN_OR_RETURN(alternatives, distribute(conj, flat, depth));
    } else if (flat.types != 0) {
      TGI_ASSIGN_OR_RETURN(alternatives, generate(flat, depth));
    }
    for (Symbol s : alternatives) {
      if (!known_empty(s)) b_.add_alternative(rule, {s});
    }
    bool any = false;
    for (Symbol s : alternatives) any = any || !known_empty(s);
    if (!any) empty_rules_.insert(rule);
    return Symbol::rule(rule);
  }

  // anyOf / oneOf: (siblings AND branch) for each branch; oneOf only when the branches are disjoint.
  Result<std::vector<Symbol>> distribute(const Conj& conj, const Flat& flat, uint32_t depth) {
    const Disjunction& d = flat.disjunctions.front();
    std::vector<Conj> branches;
    for (const Json& branch : *d.branches) {
      Conj next;
      for (const Elem& e : conj) {
        if (e == d.holder) continue;
        next.push_back(e);
      }
      next.push_back(Elem{d.holder.schema, d.holder.skip | (d.one_of ? kSkipOneOf : kSkipAnyOf)});
      next.push_back(Elem{&branch, 0});
      branches.push_back(std::move(next));
    }
    if (d.one_of) {
      std::vector<Flat> flats;
      for (const Conj& c : branches) {
        TGI_ASSIGN_OR_RETURN(Flat f, flatten(c));
        flats.push_back(std::move(f));
      }
      for (size_t i = 0; i < flats.size(); ++i) {
        for (size_t j = i + 1; j < flats.size(); ++j) {
          if (flats[i].types == 0 || flats[j].types == 0) continue;
          if (!disjoint(flats[i], flats[j]) && !disjoint(flats[j], flats[i]) &&
              !(generated_fails(flats[i], flats[j]) && generated_fails(flats[j], flats[i]))) {
            return unsupported("oneOf", doc_.pointer_of(d.holder.schema),
                               fmt::format("branches {} and {} may both match", i, j));
          }
        }
      }
    }
    std::vector<Symbol> out;
    for (const Conj& c : branches) {
      TGI_ASSIGN_OR_RETURN(Symbol s, compile(c, depth + 1));
      out.push_back(s);
    }
    return out;
  }

  // ---- flattening ----------------------------------------------------------------------------------
  Result<Flat> flatten(const Conj& conj) {
    Flat flat;
    std::set<std::pair<const Json*, uint32_t>> seen;
    // A distributed anyOf / oneOf stays switched off however its schema is reached.
    skips_.clear();
    for (const Elem& e : conj) {
      if (e.skip) skips_[e.schema] |= e.skip;
    }
    for (const Elem& e : conj) TGI_TRY(add(flat, e, seen));
    // dependentRequired / dependentSchemas whose trigger is required apply unconditionally.
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [trigger, names] : flat.dependent_required) {
        if (std::find(flat.required.begin(), flat.required.end(), trigger) == flat.required.end()) continue;
        for (const std::string& n : names) {
          if (std::find(flat.required.begin(), flat.required.end(), n) == flat.required.end()) {
            flat.required.push_back(n);
            changed = true;
          }
        }
      }
      for (size_t i = 0; i < flat.dependent_schemas.size(); ++i) {
        const auto [trigger, elem] = flat.dependent_schemas[i];
        if (std::find(flat.required.begin(), flat.required.end(), trigger) == flat.required.end()) continue;
        if (seen.count({elem.schema, 0})) continue;
        if (flat.types != kObj) {
          return unsupported("dependentSchemas", doc_.pointer_of(elem.schema),
                             "the instance may not be an object");
        }
        TGI_TRY(add(flat, elem, seen));
        changed = true;
      }
    }
    return flat;
  }

  Result<const Json*> resolve_ref(const Json& schema) {
    const RefTarget* target = doc_.ref_of(&schema);
    const std::string at = doc_.pointer_of(&schema);
    if (!target) return invalid("'$ref' must be a string", at);
    if (!target->target) return Error::make(ErrorKind::kValidation, "{} at {}", target->error, where(at));
    if (++ref_expansions_ > options_.max_ref_expansions) {
      return Error::make(ErrorKind::kValidation, "more than {} $ref expansions", options_.max_ref_expansions);
    }
    return target->target;
  }

  Result<void> add(Flat& f, const Elem& elem, std::set<std::pair<const Json*, uint32_t>>& seen) {
    Elem e = elem;
    if (auto it = skips_.find(e.schema); it != skips_.end()) e.skip |= it->second;
    if (!seen.insert({e.schema, 0}).second) return {};
    if (++flatten_steps_ > 2'000'000)
      return Error::make(ErrorKind::kValidation, "schema too complex to compile");
    const Json& s = *e.schema;
    const std::string at = doc_.pointer_of(e.schema);
    if (s.is_boolean()) {
      if (!s.get<bool>()) f.types = 0;
      return {};
    }
    if (!s.is_object()) return invalid("a schema must be an object or a boolean", at);
    const Draft draft = doc_.draft();
    const bool old_draft = draft == Draft::k4 || draft == Draft::k6 || draft == Draft::k7;
    if (auto ref = s.find("$ref"); ref != s.end()) {
      TGI_ASSIGN_OR_RETURN(const Json* target, resolve_ref(s));
      TGI_TRY(add(f, Elem{target, 0}, seen));
      if (old_draft) return {};  // before 2019-09 a $ref's siblings are ignored
    }
    // Keywords read together.
    TGI_TRY(add_numbers(f, s, at, draft));
    TGI_TRY(add_array_items(f, s, at, draft));
    TGI_TRY(add_object_members(f, s, at));
    for (const auto& [key, value] : s.items()) {
      if (key == "type") {
        uint8_t mask = 0;
        if (value.is_string()) {
          mask = type_bits(value.get_ref<const std::string&>());
          if (mask == 0)
            return invalid(fmt::format("unknown type '{}'", value.get_ref<const std::string&>()), at);
        } else if (value.is_array() && !value.empty()) {
          for (const Json& t : value) {
            const uint8_t bits = t.is_string() ? type_bits(t.get_ref<const std::string&>()) : 0;
            if (bits == 0) return invalid("'type' must name JSON types", at);
            mask |= bits;
          }
        } else {
          return invalid("'type' must be a string or a non-empty array", at);
        }
        f.types &= mask;
        f.groups |= kGroupType;
      } else if (key == "enum" || key == "const") {
        std::vector<const Json*> values;
        if (key == "enum") {
          if (!value.is_array()) return invalid("'enum' must be an array", at);
          for (const Json& v : value) values.push_back(&v);
        } else {
          values.push_back(&value);
        }
        if (f.enum_values) {
          std::vector<const Json*> kept;
          for (const Json* v : *f.enum_values) {
            if (std::any_of(values.begin(), values.end(), [&](const Json* w) { return *w == *v; }))
              kept.push_back(v);
          }
          f.enum_values = std::move(kept);
        } else {
          f.enum_values = std::move(values);
        }
        f.groups |= kGroupEnum;
      } else if (key == "minLength" || key == "maxLength") {
        TGI_ASSIGN_OR_RETURN(uint64_t n, count_keyword(value, key, at));
        if (key == "minLength") {
          f.min_length = std::max(f.min_length, n);
        } else {
          f.max_length = f.max_length ? std::min(*f.max_length, n) : n;
        }
        f.groups |= kGroupString;
        f.string_at = at;
      } else if (key == "pattern") {
        if (!value.is_string()) return invalid("'pattern' must be a string", at);
        auto regex = parse_search_pattern(value.get_ref<const std::string&>());
        if (!regex.ok()) {
          return Error::make(ErrorKind::kValidation, "invalid or unsupported 'pattern' at {}: {}", where(at),
                             regex.error().message);
        }
        f.string_regexes.push_back(std::move(regex).value());
        f.groups |= kGroupString;
        f.string_at = at;
      } else if (key == "format") {
        if (!value.is_string()) continue;
        const auto rule = json_format::format_rule(value.get_ref<const std::string&>());
        if (rule.kind == json_format::FormatKind::kUnsupported) {
          return unsupported("format", at, fmt::format("format '{}'", value.get_ref<const std::string&>()));
        }
        if (rule.kind == json_format::FormatKind::kEnforced) {
          f.string_regexes.push_back(rule.regex);
          f.groups |= kGroupString;
          f.string_at = at;
        }
      } else if (key == "minItems" || key == "maxItems") {
        TGI_ASSIGN_OR_RETURN(uint64_t n, count_keyword(value, key, at));
        if (key == "minItems") {
          f.min_items = std::max(f.min_items, n);
        } else {
          f.max_items = f.max_items ? std::min(*f.max_items, n) : n;
        }
        f.groups |= kGroupArray;
        f.array_at = at;
      } else if (key == "uniqueItems") {
        if (!value.is_boolean()) return invalid("'uniqueItems' must be a boolean", at);
        if (value.get<bool>()) {
          f.unique_items = true;
          f.unique_at = at;
          f.groups |= kGroupArray;
          f.array_at = at;
        }
      } else if (key == "contains") {
        auto min_contains = s.find("minContains");
        const bool trivial = (draft == Draft::k2019 || draft == Draft::k2020) && min_contains != s.end() &&
                             min_contains->is_number() && number_of(*min_contains) == 0 &&
                             !s.contains("maxContains");
        if (draft != Draft::k4 && !trivial) return unsupported("contains", at);
      } else if (key == "minProperties" || key == "maxProperties") {
        TGI_ASSIGN_OR_RETURN(uint64_t n, count_keyword(value, key, at));
        if (key == "minProperties") {
          f.min_properties = std::max(f.min_properties, n);
        } else {
          f.max_properties = f.max_properties ? std::min(*f.max_properties, n) : n;
        }
        f.groups |= kGroupObject;
        f.object_at = at;
      } else if (key == "required") {
        if (!value.is_array()) return invalid("'required' must be an array of strings", at);
        for (const Json& name : value) {
          if (!name.is_string()) return invalid("'required' must be an array of strings", at);
          const std::string& n = name.get_ref<const std::string&>();
          if (std::find(f.required.begin(), f.required.end(), n) == f.required.end()) f.required.push_back(n);
        }
        if (!value.empty()) f.groups |= kGroupObject;
        f.object_at = at;
      } else if (key == "propertyNames") {
        if (draft == Draft::k4) continue;
        f.property_names.push_back(Conj{Elem{&value, 0}});
        f.groups |= kGroupObject;
        f.object_at = at;
      } else if (key == "dependentRequired" || key == "dependentSchemas" || key == "dependencies") {
        if (!value.is_object()) return invalid(fmt::format("'{}' must be an object", key), at);
        f.dependencies_at = at;
        for (const auto& [trigger, dep] : value.items()) {
          if (dep.is_array()) {
            if (key == "dependentSchemas") return invalid("'dependentSchemas' values must be schemas", at);
            std::vector<std::string> names;
            for (const Json& n : dep) {
              if (!n.is_string()) return invalid(fmt::format("'{}' lists must hold strings", key), at);
              names.push_back(n.get<std::string>());
            }
            f.dependent_required.emplace_back(trigger, std::move(names));
          } else {
            if (key == "dependentRequired") return invalid("'dependentRequired' values must be arrays", at);
            f.dependent_schemas.emplace_back(trigger, Elem{&dep, 0});
          }
        }
        f.groups |= kGroupObject;
        f.object_at = at;
      } else if (key == "allOf") {
        if (!value.is_array() || value.empty()) return invalid("'allOf' must be a non-empty array", at);
        for (const Json& sub : value) TGI_TRY(add(f, Elem{&sub, 0}, seen));
      } else if (key == "anyOf" || key == "oneOf") {
        if (!value.is_array() || value.empty())
          return invalid(fmt::format("'{}' must be a non-empty array", key), at);
        const bool one_of = key == "oneOf";
        if (e.skip & (one_of ? kSkipOneOf : kSkipAnyOf)) continue;
        if (value.size() == 1) {
          TGI_TRY(add(f, Elem{&value[0], 0}, seen));
          continue;
        }
        f.disjunctions.push_back(Disjunction{e, one_of, &value});
        f.groups |= kGroupOther;
      } else if (key == "not") {
        f.nots.push_back(Elem{&value, 0});
        f.not_at = at;
        f.groups |= kGroupOther;
      } else if (key == "if") {
        if (draft == Draft::k4 || draft == Draft::k6) continue;
        const bool has_then = s.contains("then");
        const bool has_else = s.contains("else");
        if (!has_then && !has_else) continue;
        if (value.is_boolean()) {
          const char* branch = value.get<bool>() ? "then" : "else";
          if (s.contains(branch)) TGI_TRY(add(f, Elem{&s[branch], 0}, seen));
          continue;
        }
        return unsupported("if", at, "conditional subschemas");
      } else if (key == "unevaluatedProperties" || key == "unevaluatedItems") {
        if (old_draft) continue;
        TGI_TRY(add_unevaluated(f, s, key, at));
      } else if (key == "$dynamicRef" || key == "$recursiveRef") {
        return unsupported(key, at);
      }
    }
    return {};
  }

  Result<void> add_numbers(Flat& f, const Json& s, const std::string& at, Draft draft) {
    auto read = [&](const char* key, NumberBound& bound, bool lower) -> Result<void> {
      auto it = s.find(key);
      if (it == s.end()) return {};
      if (!it->is_number()) return invalid(fmt::format("'{}' must be a number", key), at);
      NumberBound b{true, number_of(*it), false};
      const char* exclusive_key = lower ? "exclusiveMinimum" : "exclusiveMaximum";
      auto ex = s.find(exclusive_key);
      if (ex != s.end() && ex->is_boolean()) b.exclusive = ex->get<bool>();
      merge_bound(bound, b, lower);
      f.groups |= kGroupNumber;
      f.number_at = at;
      return {};
    };
    TGI_TRY(read("minimum", f.lo, true));
    TGI_TRY(read("maximum", f.hi, false));
    for (const char* key : {"exclusiveMinimum", "exclusiveMaximum"}) {
      auto it = s.find(key);
      if (it == s.end()) continue;
      if (it->is_boolean()) {
        if (draft != Draft::k4 && it->get<bool>()) {
          return invalid(fmt::format("'{}' must be a number (draft 6 and later)", key), at);
        }
        continue;
      }
      if (!it->is_number()) return invalid(fmt::format("'{}' must be a number", key), at);
      const bool lower = key[9] == 'M' && key[10] == 'i';
      merge_bound(lower ? f.lo : f.hi, NumberBound{true, number_of(*it), true}, lower);
      f.groups |= kGroupNumber;
      f.number_at = at;
    }
    if (auto it = s.find("multipleOf"); it != s.end()) {
      if (!it->is_number() || number_of(*it) <= 0)
        return invalid("'multipleOf' must be a positive number", at);
      f.multiples.push_back(&*it);
      f.groups |= kGroupNumber;
      f.number_at = at;
    }
    if (f.lo.present && f.hi.present &&
        (f.lo.value > f.hi.value || (f.lo.value == f.hi.value && (f.lo.exclusive || f.hi.exclusive)))) {
      if ((f.types & (kInt | kFrac)) != 0 && f.types != 0 && s.contains("type") &&
          (type_bits(s["type"].is_string() ? s["type"].get<std::string>() : "") & (kInt | kFrac))) {
        return invalid("minimum is above maximum (no number satisfies both)", at);
      }
    }
    return {};
  }

  static void merge_bound(NumberBound& into, const NumberBound& b, bool lower) {
    if (!into.present) {
      into = b;
      return;
    }
    if (lower ? b.value > into.value : b.value < into.value) {
      into = b;
    } else if (b.value == into.value) {
      into.exclusive = into.exclusive || b.exclusive;
    }
  }

  Result<void> add_array_items(Flat& f, const Json& s, const std::string& at, Draft draft) {
    std::vector<Elem> prefix;
    std::optional<Elem> rest;
    bool any = false;
    auto items = s.find("items");
    const bool new_draft = draft == Draft::k2019 || draft == Draft::k2020;
    auto prefix_items = s.find("prefixItems");
    if (draft == Draft::k2020 && prefix_items != s.end()) {
      if (!prefix_items->is_array()) return invalid("'prefixItems' must be an array", at);
      for (const Json& p : *prefix_items) prefix.push_back(Elem{&p, 0});
      any = true;
    }
    if (items != s.end()) {
      if (items->is_array()) {
        if (draft == Draft::k2020 && prefix_items != s.end()) return invalid("'items' must be a schema", at);
        for (const Json& p : *items) prefix.push_back(Elem{&p, 0});
        auto additional = s.find("additionalItems");
        if (additional != s.end()) rest = Elem{&*additional, 0};
      } else {
        rest = Elem{&*items, 0};
      }
      any = true;
    }
    (void)new_draft;
    if (!any) return {};
    f.groups |= kGroupArray;
    f.array_at = at;
    merge_array_branch(f, prefix, rest);
    return {};
  }

  static void merge_array_branch(Flat& f, const std::vector<Elem>& prefix, const std::optional<Elem>& rest) {
    for (size_t i = 0; i < f.prefix.size(); ++i) {
      if (i < prefix.size()) {
        f.prefix[i].push_back(prefix[i]);
      } else if (rest) {
        f.prefix[i].push_back(*rest);
      }
    }
    for (size_t i = f.prefix.size(); i < prefix.size(); ++i) {
      Conj c = f.rest;
      c.push_back(prefix[i]);
      f.prefix.push_back(std::move(c));
    }
    if (rest) f.rest.push_back(*rest);
  }

  struct ObjectBranch {
    std::vector<std::pair<std::string, Elem>> properties;
    std::vector<std::pair<std::string, Elem>> patterns;  // source, schema
    std::optional<Elem> additional;
  };

  Result<void> add_object_members(Flat& f, const Json& s, const std::string& at) {
    ObjectBranch branch;
    bool any = false;
    if (auto it = s.find("properties"); it != s.end()) {
      if (!it->is_object()) return invalid("'properties' must be an object", at);
      for (const auto& [name, sub] : it->items()) branch.properties.emplace_back(name, Elem{&sub, 0});
      any = true;
    }
    if (auto it = s.find("patternProperties"); it != s.end()) {
      if (!it->is_object()) return invalid("'patternProperties' must be an object", at);
      for (const auto& [pattern, sub] : it->items()) branch.patterns.emplace_back(pattern, Elem{&sub, 0});
      any = true;
    }
    if (auto it = s.find("additionalProperties"); it != s.end()) {
      branch.additional = Elem{&*it, 0};
      any = true;
    }
    if (!any) return {};
    f.groups |= kGroupObject;
    f.object_at = at;
    return merge_object_branch(f, branch, at);
  }

  Result<Regex> pattern_regex(const std::string& source, const std::string& at) {
    if (auto it = patterns_.find(source); it != patterns_.end()) return it->second;
    auto regex = parse_search_pattern(source);
    if (!regex.ok()) {
      return Error::make(ErrorKind::kValidation, "invalid or unsupported pattern '{}' at {}: {}", source,
                         where(at), regex.error().message);
    }
    patterns_.emplace(source, *regex);
    return std::move(regex).value();
  }

  Result<bool> name_matches(const Regex& regex, const std::string& name) {
    const std::string key = regex.to_string();
    auto it = dfas_.find(key);
    if (it == dfas_.end()) {
      TGI_ASSIGN_OR_RETURN(LexemeDfa dfa, LexemeDfa::build(regex));
      it = dfas_.emplace(key, std::make_shared<LexemeDfa>(std::move(dfa))).first;
    }
    return it->second->matches(name);
  }

  Result<void> merge_object_branch(Flat& f, const ObjectBranch& b, const std::string& at) {
    std::vector<Regex> branch_regexes;
    for (const auto& [source, elem] : b.patterns) {
      TGI_ASSIGN_OR_RETURN(Regex r, pattern_regex(source, at));
      branch_regexes.push_back(r);
    }
    auto declared_in_branch = [&](const std::string& name) {
      return std::any_of(b.properties.begin(), b.properties.end(),
                         [&](const auto& p) { return p.first == name; });
    };
    // What the branch applies to an existing property it does not declare.
    for (auto& [name, conj] : f.properties) {
      if (declared_in_branch(name)) continue;
      bool matched = false;
      for (size_t i = 0; i < b.patterns.size(); ++i) {
        TGI_ASSIGN_OR_RETURN(bool m, name_matches(branch_regexes[i], name));
        if (m) {
          conj.push_back(b.patterns[i].second);
          matched = true;
        }
      }
      if (!matched && b.additional) conj.push_back(*b.additional);
    }
    for (const auto& [name, elem] : b.properties) {
      const auto& wanted = name;  // a structured binding cannot be captured before C++20's P1091 in clang
      auto existing = std::find_if(f.properties.begin(), f.properties.end(),
                                   [&](const auto& p) { return p.first == wanted; });
      if (existing != f.properties.end()) {
        existing->second.push_back(elem);
        for (size_t i = 0; i < b.patterns.size(); ++i) {
          TGI_ASSIGN_OR_RETURN(bool m, name_matches(branch_regexes[i], name));
          if (m) existing->second.push_back(b.patterns[i].second);
        }
        continue;
      }
      TGI_ASSIGN_OR_RETURN(Conj conj, applied_to(f, name));
      conj.push_back(elem);
      // The branch's own patterns apply to its own declared names too.
      for (size_t i = 0; i < b.patterns.size(); ++i) {
        TGI_ASSIGN_OR_RETURN(bool m, name_matches(branch_regexes[i], name));
        if (m) conj.push_back(b.patterns[i].second);
      }
      f.properties.emplace_back(name, std::move(conj));
    }
    if (!b.patterns.empty() && !f.patterns.empty()) {
      return unsupported("patternProperties", at, "patternProperties in several merged subschemas");
    }
    if (!b.patterns.empty()) {
      for (size_t i = 0; i < b.patterns.size(); ++i) {
        Conj conj = f.additional;
        conj.push_back(b.patterns[i].second);
        f.patterns.push_back(PatternProperty{b.patterns[i].first, branch_regexes[i], std::move(conj)});
      }
    } else if (b.additional) {
      for (PatternProperty& p : f.patterns) p.conj.push_back(*b.additional);
    }
    if (b.additional) f.additional.push_back(*b.additional);
    return {};
  }

  // The schemas `f` applies to a property `name` it does not declare.
  Result<Conj> applied_to(const Flat& f, const std::string& name) {
    Conj conj;
    bool matched = false;
    for (const PatternProperty& p : f.patterns) {
      TGI_ASSIGN_OR_RETURN(bool m, name_matches(p.key, name));
      if (m) {
        conj.insert(conj.end(), p.conj.begin(), p.conj.end());
        matched = true;
      }
    }
    if (!matched) conj.insert(conj.end(), f.additional.begin(), f.additional.end());
    return conj;
  }

  // What a subschema's own keywords (and its allOf / $ref, recursively) evaluate, for
  // unevaluatedProperties / unevaluatedItems. Anything conditional makes us refuse.
  struct Evaluated {
    bool all = false;
    std::vector<std::string> names;
    std::vector<std::string> patterns;
    size_t prefix = 0;
  };

  Result<void> evaluated_by(const Json& s, bool items, Evaluated& out, uint32_t depth,
                            const std::string& keyword, const std::string& at) {
    if (depth > 64) return unsupported(keyword, at, "too deep");
    if (!s.is_object()) return {};
    for (const char* k :
         {"anyOf", "oneOf", "if", "not", "dependentSchemas", "contains", "$dynamicRef", "$recursiveRef"}) {
      if (s.contains(k) && !(std::string_view(k) == "contains" && !items) &&
          !(std::string_view(k) == "dependentSchemas" && items) && !(std::string_view(k) == "not")) {
        return unsupported(keyword, at, fmt::format("with '{}' in its scope", k));
      }
    }
    if (items) {
      if (s.contains("items") && !s["items"].is_array()) out.all = true;
      if (s.contains("items") && s["items"].is_array()) {
        out.prefix = std::max(out.prefix, s["items"].size());
        if (s.contains("additionalItems")) out.all = true;
      }
      if (s.contains("prefixItems") && s["prefixItems"].is_array())
        out.prefix = std::max(out.prefix, s["prefixItems"].size());
      if (s.contains("unevaluatedItems") && depth > 0) out.all = true;
    } else {
      if (s.contains("additionalProperties")) out.all = true;
      if (depth > 0 && s.contains("unevaluatedProperties")) out.all = true;
      if (auto it = s.find("properties"); it != s.end() && it->is_object()) {
        for (const auto& [name, sub] : it->items()) out.names.push_back(name);
      }
      if (auto it = s.find("patternProperties"); it != s.end() && it->is_object()) {
        for (const auto& [pattern, sub] : it->items()) out.patterns.push_back(pattern);
      }
    }
    if (auto it = s.find("allOf"); it != s.end() && it->is_array()) {
      for (const Json& sub : *it) TGI_TRY(evaluated_by(sub, items, out, depth + 1, keyword, at));
    }
    if (s.contains("$ref")) {
      TGI_ASSIGN_OR_RETURN(const Json* target, resolve_ref(s));
      TGI_TRY(evaluated_by(*target, items, out, depth + 1, keyword, at));
    }
    return {};
  }

  Result<void> add_unevaluated(Flat& f, const Json& s, const std::string& keyword, const std::string& at) {
    const Json& value = s[keyword];
    if (value.is_boolean() && value.get<bool>()) return {};
    const bool items = keyword == "unevaluatedItems";
    Evaluated evaluated;
    TGI_TRY(evaluated_by(s, items, evaluated, 0, keyword, at));
    if (evaluated.all) return {};
    if (items) {
      f.groups |= kGroupArray;
      f.array_at = at;
      merge_array_branch(f, std::vector<Elem>(evaluated.prefix, Elem{&true_schema(), 0}), Elem{&value, 0});
      return {};
    }
    ObjectBranch branch;
    for (const std::string& name : evaluated.names)
      branch.properties.emplace_back(name, Elem{&true_schema(), 0});
    for (const std::string& p : evaluated.patterns) branch.patterns.emplace_back(p, Elem{&true_schema(), 0});
    branch.additional = Elem{&value, 0};
    f.groups |= kGroupObject;
    f.object_at = at;
    return merge_object_branch(f, branch, at);
  }

  static const Json& true_schema() {
    static const Json kTrue(true);
    return kTrue;
  }

  // ---- disjointness (for oneOf) ------------------------------------------------------------------
  uint8_t possible_types(const Flat& f) {
    if (!f.enum_values) return f.types;
    uint8_t mask = 0;
    for (const Json* v : *f.enum_values) mask |= value_type(*v);
    return mask & f.types;
  }

  uint8_t value_type(const Json& v) const {
    if (v.is_null()) return kNull;
    if (v.is_boolean()) return kBool;
    if (v.is_number_integer()) return kInt;
    if (v.is_number()) {
      const double d = v.get<double>();
      if (doc_.draft() != Draft::k4 && std::isfinite(d) && std::floor(d) == d) return kInt;
      return kFrac;
    }
    if (v.is_string()) return kStr;
    if (v.is_array()) return kArr;
    return kObj;
  }

  // The types generate() produces for `f`. Narrowed: with no `type` and no `enum`, a schema whose
  // keywords all constrain one kind of value ({"items": ..., "maxItems": 2}) generates only that
  // kind, as llama.cpp reads it. Every such output still validates, and the output can end:
  // "any value" includes endless strings.
  uint8_t generated_types(const Flat& f) const {
    if (options_.infer_type_from_keywords && f.types == kAllTypes && !f.enum_values &&
        (f.groups & (kGroupType | kGroupEnum)) == 0) {
      switch (f.groups & (kGroupNumber | kGroupString | kGroupArray | kGroupObject)) {
        case kGroupNumber:
          return kInt | kFrac;
        case kGroupString:
          return kStr;
        case kGroupArray:
          return kArr;
        case kGroupObject:
          return kObj;
        default:
          break;
      }
    }
    return f.types;
  }

  // Whether an object generated for `f` never has a key other than its declared ones (see
  // object_symbol: properties listed and nothing said of others, or others forbidden).
  bool generates_closed_objects(const Flat& f) const {
    if (!f.patterns.empty()) return false;
    if (f.additional.empty()) return !f.properties.empty() && !options_.extra_properties_when_unspecified;
    return std::any_of(f.additional.begin(), f.additional.end(),
                       [](const Elem& e) { return e.schema->is_boolean() && !e.schema->get<bool>(); });
  }

  // True only when every value generate() produces for `a` fails `b` (sound, incomplete): both
  // can only be objects, `a`'s are closed, and `b` requires a key `a` never writes. With the
  // narrowings above this tells apart most oneOf branches that are objects of different shapes.
  bool generated_fails(const Flat& a, const Flat& b) {
    if ((generated_types(a) & possible_types(b)) != kObj || a.enum_values) return false;
    if (!generates_closed_objects(a)) return false;
    auto declared_in_a = [&](const std::string& name) {
      return std::any_of(a.properties.begin(), a.properties.end(),
                         [&](const auto& p) { return p.first == name; }) ||
             std::find(a.required.begin(), a.required.end(), name) != a.required.end();
    };
    return std::any_of(b.required.begin(), b.required.end(),
                       [&](const std::string& name) { return !declared_in_a(name); });
  }

  // True only when no value satisfies both (a sound, incomplete test).
  bool disjoint(const Flat& a, const Flat& b) {
    if ((possible_types(a) & possible_types(b)) == 0) return true;
    if (a.enum_values) {
      bool any = false;
      for (const Json* v : *a.enum_values) {
        auto r = value_valid_flat(*v, b, 0);
        if (!r.ok() || *r) any = true;
      }
      if (!any) return true;
    }
    // Objects told apart by a required property with a constant value.
    if ((possible_types(a) & possible_types(b)) == kObj) {
      for (const std::string& name : a.required) {
        auto in_a = std::find_if(a.properties.begin(), a.properties.end(),
                                 [&](const auto& p) { return p.first == name; });
        if (in_a == a.properties.end()) continue;
        auto fa = flatten(in_a->second);
        if (!fa.ok() || !fa->enum_values) continue;
        auto applied = std::find_if(b.properties.begin(), b.properties.end(),
                                    [&](const auto& p) { return p.first == name; });
        Conj cb;
        if (applied != b.properties.end()) {
          cb = applied->second;
        } else {
          auto c = applied_to(b, name);
          if (!c.ok()) continue;
          cb = *c;
        }
        auto fb = flatten(cb);
        if (!fb.ok()) continue;
        bool any = false;
        for (const Json* v : *fa->enum_values) {
          auto r = value_valid_flat(*v, *fb, 0);
          if (!r.ok() || *r) any = true;
        }
        if (!any) return true;
      }
    }
    return false;
  }

  // ---- validating single values (enum filtering) -----------------------------------------------
  Result<bool> value_valid(const Json& v, const Conj& conj, uint32_t depth) {
    if (depth > kMaxValueCheckDepth)
      return Error::make(ErrorKind::kValidation, "enum value nested too deeply");
    TGI_ASSIGN_OR_RETURN(Flat f, flatten(conj));
    if (f.types == 0) return false;
    for (const Disjunction& d : f.disjunctions) {
      size_t matches = 0;
      for (const Json& branch : *d.branches) {
        Conj c = conj;
        c.push_back(Elem{d.holder.schema, d.holder.skip | (d.one_of ? kSkipOneOf : kSkipAnyOf)});
        c.push_back(Elem{&branch, 0});
        TGI_ASSIGN_OR_RETURN(bool ok, value_valid(v, c, depth + 1));
        matches += ok;
      }
      if (d.one_of ? matches != 1 : matches == 0) return false;
      // The rest of the conjunction was checked with this disjunction distributed; the other
      // disjunctions are checked by the recursive calls.
      return true;
    }
    return value_valid_flat(v, f, depth);
  }

  // `from_enum`: v is one of f.enum_values itself, so the membership scan (linear, which made
  // filtering an n-value enum quadratic) is skipped.
  Result<bool> value_valid_flat(const Json& v, const Flat& f, uint32_t depth, bool from_enum = false) {
    if (depth > kMaxValueCheckDepth)
      return Error::make(ErrorKind::kValidation, "enum value nested too deeply");
    const uint8_t t = value_type(v);
    if ((f.types & t) == 0) return false;
    if (f.enum_values && !from_enum &&
        std::none_of(f.enum_values->begin(), f.enum_values->end(), [&](const Json* w) { return *w == v; })) {
      return false;
    }
    for (const Json* w : f.excluded_values) {
      if (*w == v) return false;
    }
    for (const Elem& n : f.nots) {
      TGI_ASSIGN_OR_RETURN(bool inner, value_valid(v, Conj{n}, depth + 1));
      if (inner) return false;
    }
    if (!f.disjunctions.empty()) {
      return Error::make(ErrorKind::kValidation, "enum value checked against anyOf/oneOf");
    }
    if (t == kInt || t == kFrac) {
      const long double x = number_of(v);
      if (f.lo.present && (f.lo.exclusive ? !(x > f.lo.value) : !(x >= f.lo.value))) return false;
      if (f.hi.present && (f.hi.exclusive ? !(x < f.hi.value) : !(x <= f.hi.value))) return false;
      for (const Json* m : f.multiples) {
        if (m->is_number_integer() && v.is_number_integer()) {
          const long double q = x / number_of(*m);
          if (std::floor(q) != q) return false;
        } else {
          const double q = v.get<double>() / m->get<double>();
          if (!std::isfinite(q)) return Error::make(ErrorKind::kValidation, "multipleOf overflow");
          if (std::trunc(q) != q) return false;
        }
      }
    } else if (t == kStr) {
      const std::string& s = v.get_ref<const std::string&>();
      const size_t n = codepoint_count(s);
      if (n < f.min_length || (f.max_length && n > *f.max_length)) return false;
      for (const Regex& r : f.string_regexes) {
        TGI_ASSIGN_OR_RETURN(bool m, name_matches(r, s));
        if (!m) return false;
      }
    } else if (t == kArr) {
      if (v.size() < f.min_items || (f.max_items && v.size() > *f.max_items)) return false;
      if (f.unique_items) {
        for (size_t i = 0; i < v.size(); ++i) {
          for (size_t j = i + 1; j < v.size(); ++j) {
            if (v[i] == v[j]) return false;
          }
        }
      }
      for (size_t i = 0; i < v.size(); ++i) {
        const Conj& c = i < f.prefix.size() ? f.prefix[i] : f.rest;
        if (c.empty()) continue;
        TGI_ASSIGN_OR_RETURN(bool ok, value_valid(v[i], c, depth + 1));
        if (!ok) return false;
      }
    } else if (t == kObj) {
      if (v.size() < f.min_properties || (f.max_properties && v.size() > *f.max_properties)) return false;
      for (const std::string& r : f.required) {
        if (!v.contains(r)) return false;
      }
      for (const auto& [trigger, names] : f.dependent_required) {
        if (!v.contains(trigger)) continue;
        for (const std::string& n : names) {
          if (!v.contains(n)) return false;
        }
      }
      if (!f.dependent_schemas.empty())
        return Error::make(ErrorKind::kValidation, "dependentSchemas with enum");
      for (const auto& [key, member] : v.items()) {
        for (const Conj& names : f.property_names) {
          TGI_ASSIGN_OR_RETURN(bool ok, value_valid(Json(key), names, depth + 1));
          if (!ok) return false;
        }
        const auto& wanted = key;  // a structured binding cannot be captured before C++20's P1091 in clang
        auto declared = std::find_if(f.properties.begin(), f.properties.end(),
                                     [&](const auto& p) { return p.first == wanted; });
        Conj c;
        if (declared != f.properties.end()) {
          c = declared->second;
        } else {
          TGI_ASSIGN_OR_RETURN(c, applied_to(f, key));
        }
        if (c.empty()) continue;
        TGI_ASSIGN_OR_RETURN(bool ok, value_valid(member, c, depth + 1));
        if (!ok) return false;
      }
    }
    return true;
  }

  // ---- generation --------------------------------------------------------------------------------
  Result<std::vector<Symbol>> generate(Flat& f, uint32_t depth) {
    TGI_TRY(apply_nots(f));
    std::vector<Symbol> out;
    if (f.types == 0) return out;
    f.types = generated_types(f);
    if (f.enum_values) return generate_enum(f);
    if (f.types & kNull) out.push_back(b_.literal("null"));
    if (f.types & kBool) {
      out.push_back(b_.literal("true"));
      out.push_back(b_.literal("false"));
    }
    if (f.types & (kInt | kFrac)) {
      TGI_ASSIGN_OR_RETURN(std::optional<Regex> number, number_regex(f));
      if (number) out.push_back(b_.lexeme(*number));
    }
    if (f.types & kStr) {
      TGI_ASSIGN_OR_RETURN(Symbol s, string_symbol(f));
      out.push_back(s);
    }
    if (f.types & kArr) {
      TGI_ASSIGN_OR_RETURN(Symbol s, array_symbol(f, depth));
      out.push_back(s);
    }
    if (f.types & kObj) {
      TGI_ASSIGN_OR_RETURN(Symbol s, object_symbol(f, depth));
      out.push_back(s);
    }
    return out;
  }

  // `not`: of a type, of values, of everything, of nothing.
  Result<void> apply_nots(Flat& f) {
    for (const Elem& n : f.nots) {
      const std::string at = doc_.pointer_of(n.schema);
      TGI_ASSIGN_OR_RETURN(Flat inner, flatten(Conj{n}));
      if (inner.types == 0) continue;  // not false: no constraint
      if (!inner.disjunctions.empty() || !inner.nots.empty()) return unsupported("not", at);
      const uint32_t other = inner.groups & ~(kGroupType | kGroupEnum);
      if (other != 0) return unsupported("not", at, "only types and values can be excluded");
      if (!inner.enum_values) {
        f.types &= static_cast<uint8_t>(~inner.types);
        continue;
      }
      for (const Json* v : *inner.enum_values) {
        if (value_type(*v) & inner.types) f.excluded_values.push_back(v);
      }
    }
    f.nots.clear();
    // Excluded values must be expressible without an enum.
    if (!f.enum_values) {
      for (const Json* v : f.excluded_values) {
        const uint8_t t = value_type(*v) & f.types;
        if (t == 0 || t == kStr || t == kNull || t == kBool) continue;
        return unsupported("not", f.not_at, "excluding a number, array or object value");
      }
    }
    return {};
  }

  Result<std::vector<Symbol>> generate_enum(const Flat& f) {
    std::vector<std::string> spellings;
    std::set<std::string> seen;
    for (const Json* v : *f.enum_values) {
      TGI_ASSIGN_OR_RETURN(bool ok, value_valid_flat(*v, f, 0, /*from_enum=*/true));
      if (!ok) continue;
      std::string text = v->dump();
      if (seen.insert(text).second) spellings.push_back(std::move(text));
    }
    std::vector<Symbol> out;
    for (size_t i = 0; i < spellings.size(); i += kEnumValuesPerLexeme) {
      std::vector<Regex> parts;
      for (size_t j = i; j < std::min(spellings.size(), i + kEnumValuesPerLexeme); ++j) {
        parts.push_back(Regex::literal(spellings[j]));
      }
      out.push_back(b_.lexeme(Regex::alt(std::move(parts))));
    }
    return out;
  }

  // ---- numbers -----------------------------------------------------------------------------------
  Result<std::optional<Regex>> number_regex(const Flat& f) {
    bool integers_only = (f.types & kFrac) == 0;
    std::vector<uint64_t> divisors;
    for (const Json* m : f.multiples) {
      const long double x = number_of(*m);
      if (!is_integral(x) || x > 1e15L) {
        return unsupported("multipleOf", f.number_at, fmt::format("multipleOf {}", m->dump()));
      }
      integers_only = true;
      if (x != 1) divisors.push_back(static_cast<uint64_t>(x));
    }
    if (integers_only && (f.types & kInt) == 0) return std::optional<Regex>();
    const Int cap = divisors.empty() ? json_number::integer_cap() : json_number::Int(999'999'999'999'999LL);
    if (integers_only) {
      Int lo = -cap;
      Int hi = cap;
      if (f.lo.present) {
        const long double c = std::ceil(f.lo.value);
        if (c > 1e20L) return std::optional<Regex>(Regex::nothing());
        if (c >= -1e20L)
          lo = std::max(lo, static_cast<Int>(c) + ((f.lo.exclusive && c == f.lo.value) ? 1 : 0));
      }
      if (f.hi.present) {
        const long double c = std::floor(f.hi.value);
        if (c < -1e20L) return std::optional<Regex>(Regex::nothing());
        if (c <= 1e20L)
          hi = std::min(hi, static_cast<Int>(c) - ((f.hi.exclusive && c == f.hi.value) ? 1 : 0));
      }
      if (lo > hi) return std::optional<Regex>(Regex::nothing());
      std::vector<Regex> parts{json_number::integer_range(lo, hi)};
      for (uint64_t d : divisors) {
        if (auto suffix = json_number::multiples_suffix(d)) {
          parts.push_back(Regex::concat({Regex::optional(Regex::character('-')), *suffix}));
          continue;
        }
        // Few values in range: list them.
        const Int first = lo >= 0 ? (lo + static_cast<Int>(d) - 1) / static_cast<Int>(d) * static_cast<Int>(d)
                                  : -((-lo) / static_cast<Int>(d)) * static_cast<Int>(d);
        if (hi - first > static_cast<Int>(d) * 512) {
          return unsupported("multipleOf", f.number_at, fmt::format("multipleOf {} over a wide range", d));
        }
        std::vector<Regex> values;
        for (Int v = first; v <= hi; v += static_cast<Int>(d))
          values.push_back(Regex::literal(json_number::to_decimal(v)));
        parts.push_back(Regex::alt(std::move(values)));
      }
      return std::optional<Regex>(parts.size() == 1 ? parts[0] : Regex::intersect(std::move(parts)));
    }
    // Numbers: integral bounds only, so the fraction never decides the comparison.
    std::optional<Int> lo, hi;
    for (const auto* bound : {&f.lo, &f.hi}) {
      if (!bound->present) continue;
      if (!is_integral(bound->value)) {
        return unsupported(bound == &f.lo ? (bound->exclusive ? "exclusiveMinimum" : "minimum")
                                          : (bound->exclusive ? "exclusiveMaximum" : "maximum"),
                           f.number_at, "a non-integer bound on a number");
      }
    }
    if (f.lo.present) {
      if (f.lo.value >= 1e20L) return std::optional<Regex>(Regex::nothing());
      if (f.lo.value > -1e20L) lo = static_cast<Int>(f.lo.value);
    }
    if (f.hi.present) {
      if (f.hi.value <= -1e20L) return std::optional<Regex>(Regex::nothing());
      if (f.hi.value < 1e20L) hi = static_cast<Int>(f.hi.value);
    }
    Regex number = !f.lo.present && !f.hi.present
                       ? json_number::any_number()
                       : json_number::number_range(lo, f.lo.exclusive, hi, f.hi.exclusive);
    if ((f.types & kInt) == 0) {
      // Only non-integral numbers: drop every spelling of an integer.
      const Regex digits = Regex::plus(Regex::set(CodepointSet::range('0', '9')));
      const Regex integral = Regex::concat(
          {Regex::optional(Regex::character('-')), digits,
           Regex::optional(Regex::concat({Regex::character('.'), Regex::plus(Regex::character('0'))}))});
      number = Regex::difference(Regex::intersect({number, Regex::difference(number, integral)}), integral);
      if (!f.lo.present && !f.hi.present) {
        // Exponents make integers too (1e3): keep plain fractions only.
        number =
            Regex::difference(json_number::number_range(std::nullopt, false, std::nullopt, false), integral);
      }
    }
    return std::optional<Regex>(number);
  }

  // ---- strings -----------------------------------------------------------------------------------
  // The decoded-character language of a string schema (without quotes), or an error.
  Result<Regex> string_body(const Flat& f, bool allow_chunking, bool& chunked) {
    chunked = false;
    std::vector<Regex> parts = f.string_regexes;
    const uint64_t min = f.min_length;
    std::optional<uint64_t> max = f.max_length;
    if (max && *max < min) return Regex::nothing();
    // Narrowed: a string may be allowed to be very long, but one longer than kNarrowedMaxLength is
    // never generated (it would not fit a max_new_tokens budget anyway); its automaton then stays
    // small and its masks cheap.
    if (max && *max > kMaxLexemeLength && min <= kNarrowedMaxLength) max = kNarrowedMaxLength;
    const bool long_bounds = min > kMaxLexemeLength || (max && *max > kMaxLexemeLength);
    if (long_bounds) {
      if (parts.empty() && allow_chunking && min <= uint64_t{kChunk} * options_.limits.max_repeat) {
        chunked = true;
        return Regex::nothing();
      }
      if (min > kMaxLexemeLength)
        return unsupported("minLength", f.string_at, "too long for a constrained string");
      // A pattern whose matches are all short makes a long maxLength moot.
      TGI_ASSIGN_OR_RETURN(std::optional<uint64_t> longest, longest_match(Regex::intersect(parts)));
      if (!longest || *longest > *max)
        return unsupported("maxLength", f.string_at, "too long with a pattern");
      max.reset();
    }
    if (min > 0 || max)
      parts.push_back(
          Regex::repeat(Regex::any_character(), static_cast<uint32_t>(min),
                        max ? std::optional<uint32_t>(static_cast<uint32_t>(*max)) : std::nullopt));
    Regex body = parts.empty() ? Regex::star(Regex::any_character())
                               : (parts.size() == 1 ? parts[0] : Regex::intersect(std::move(parts)));
    std::vector<Regex> excluded;
    for (const Json* v : f.excluded_values) {
      if (v->is_string()) excluded.push_back(Regex::literal(v->get_ref<const std::string&>()));
    }
    if (!excluded.empty()) body = Regex::difference(body, Regex::alt(std::move(excluded)));
    return body;
  }

  // The longest match in bytes, or nullopt when unbounded (a cycle).
  Result<std::optional<uint64_t>> longest_match(const Regex& regex) {
    TGI_ASSIGN_OR_RETURN(LexemeDfa dfa, LexemeDfa::build(regex));
    if (dfa.start() == LexemeDfa::kDead) return std::optional<uint64_t>(0);
    const uint32_t n = dfa.state_count();
    std::vector<int64_t> longest(n, -1);
    std::vector<uint8_t> state(n, 0);  // 0 new, 1 on stack, 2 done
    // Iterative DFS computing the longest path to an accepting state.
    struct Frame {
      uint32_t s;
      int byte;
    };
    std::vector<Frame> stack{{dfa.start(), -1}};
    state[dfa.start()] = 1;
    longest[dfa.start()] = dfa.accepting(dfa.start()) ? 0 : -1;
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (++top.byte < 256) {
        const uint32_t next = dfa.next(top.s, static_cast<uint8_t>(top.byte));
        if (next == LexemeDfa::kDead) continue;
        if (state[next] == 1) return std::optional<uint64_t>();
        if (state[next] == 0) {
          state[next] = 1;
          longest[next] = dfa.accepting(next) ? 0 : -1;
          stack.push_back({next, -1});
        }
        continue;
      }
      const uint32_t done = top.s;
      state[done] = 2;
      stack.pop_back();
      if (!stack.empty()) {
        const uint32_t parent = stack.back().s;
        if (longest[done] >= 0) longest[parent] = std::max(longest[parent], longest[done] + 1);
      }
    }
    // Children finished before being revisited from another parent are handled here.
    bool changed = true;
    for (uint32_t round = 0; changed && round < n + 1; ++round) {
      changed = false;
      for (uint32_t s = 0; s < n; ++s) {
        for (int byte = 0; byte < 256; ++byte) {
          const uint32_t next = dfa.next(s, static_cast<uint8_t>(byte));
          if (next == LexemeDfa::kDead || longest[next] < 0) continue;
          if (longest[next] + 1 > longest[s]) {
            longest[s] = longest[next] + 1;
            changed = true;
          }
        }
      }
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(0, longest[dfa.start()])));
  }

  Result<Symbol> string_symbol(const Flat& f) {
    bool chunked = false;
    TGI_ASSIGN_OR_RETURN(Regex body, string_body(f, true, chunked));
    if (!chunked) return b_.lexeme(quoted(body));
    // A long length-only string: '"' chunk{a} tail '"', with n = kChunk * a + b, b < kChunk.
    const Regex one = Regex::any_character().map_sets(json_escaped);
    const Symbol open = b_.literal("\"");
    const Symbol chunk = b_.lexeme(Regex::repeat(one, kChunk, kChunk));
    auto tail = [&](uint64_t lo, uint64_t hi) {
      return b_.lexeme(Regex::concat(
          {Regex::repeat(one, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)), Regex::character('"')}));
    };
    const uint64_t m_chunks = f.min_length / kChunk;
    const uint64_t m_rest = f.min_length % kChunk;
    const uint32_t rule = b_.new_rule("long_string");
    const uint64_t repeat_cap = options_.limits.max_repeat;
    if (!f.max_length) {
      b_.add_alternative(rule, {open, b_.repeat(chunk, static_cast<uint32_t>(m_chunks), m_chunks),
                                tail(m_rest, kChunk - 1)});
      b_.add_alternative(rule, {open, b_.repeat(chunk, static_cast<uint32_t>(m_chunks + 1), std::nullopt),
                                tail(0, kChunk - 1)});
      return Symbol::rule(rule);
    }
    // Past the repeat limit the string is narrowed to what the limit allows.
    uint64_t max_length = std::min<uint64_t>(*f.max_length, kChunk * repeat_cap + kChunk - 1);
    const uint64_t x_chunks = max_length / kChunk;
    const uint64_t x_rest = max_length % kChunk;
    auto rep = [&](uint64_t lo, uint64_t hi) {
      return b_.repeat(chunk, static_cast<uint32_t>(lo), static_cast<uint32_t>(hi));
    };
    if (m_chunks == x_chunks) {
      b_.add_alternative(rule, {open, rep(m_chunks, m_chunks), tail(m_rest, x_rest)});
    } else {
      b_.add_alternative(rule, {open, rep(m_chunks, m_chunks), tail(m_rest, kChunk - 1)});
      if (m_chunks + 1 <= x_chunks - 1)
        b_.add_alternative(rule, {open, rep(m_chunks + 1, x_chunks - 1), tail(0, kChunk - 1)});
      b_.add_alternative(rule, {open, rep(x_chunks, x_chunks), tail(0, x_rest)});
    }
    return Symbol::rule(rule);
  }

  // ---- arrays ------------------------------------------------------------------------------------
  // uniqueItems over items drawn from a small finite set of values (an enum, booleans, null):
  // the distinct values in a fixed order, each at most once, min..max of them. Nullopt when the
  // items are not such a set.
  Result<std::optional<Symbol>> unique_subsets(const Flat& f, uint64_t min, std::optional<uint64_t> max) {
    constexpr size_t kMaxValues = 64;
    if (!f.prefix.empty()) return std::optional<Symbol>();
    TGI_ASSIGN_OR_RETURN(Flat items, flatten(f.rest));
    std::vector<std::string> values;
    const uint8_t types = generated_types(items);
    if (items.enum_values) {
      std::set<std::string> seen;
      for (const Json* v : *items.enum_values) {
        // Equal numbers spelled differently (1 and 1.0) would be duplicates: only exact kinds.
        if (v->is_number_float()) return std::optional<Symbol>();
        TGI_ASSIGN_OR_RETURN(bool ok, value_valid_flat(*v, items, 0, /*from_enum=*/true));
        if (ok && seen.insert(v->dump()).second) values.push_back(v->dump());
      }
    } else if (types != 0 && (types & ~(kBool | kNull)) == 0) {
      if (types & kBool) values.insert(values.end(), {"true", "false"});
      if (types & kNull) values.push_back("null");
    } else {
      return std::optional<Symbol>();
    }
    if (values.size() > kMaxValues) return std::optional<Symbol>();
    const uint64_t most = std::min<uint64_t>(max.value_or(values.size()), values.size());
    if (min > most) return std::optional<Symbol>(Symbol::rule(empty_rule()));
    // pick(i, c): values from index i on, c emitted so far, then the closing bracket.
    std::map<std::pair<size_t, uint64_t>, uint32_t> rules;
    std::function<Symbol(size_t, uint64_t)> pick = [&](size_t i, uint64_t c) -> Symbol {
      auto [it, fresh] = rules.try_emplace({i, c}, 0);
      if (!fresh) return Symbol::rule(it->second);
      const uint32_t rule = b_.new_rule("unique_items");
      it->second = rule;
      if (i == values.size()) {
        if (c >= min) {
          std::vector<Symbol> end;
          if (c > 0) gap(end);
          end.push_back(rbracket_);
          b_.add_alternative(rule, std::move(end));
        }
        return Symbol::rule(rule);
      }
      if (values.size() - (i + 1) + c >= min) b_.add_alternative(rule, {pick(i + 1, c)});
      if (c < most) {
        std::vector<Symbol> take;
        separator(take, c);
        take.push_back(b_.literal(values[i]));
        take.push_back(pick(i + 1, c + 1));
        b_.add_alternative(rule, std::move(take));
      }
      return Symbol::rule(rule);
    };
    std::vector<Symbol> whole{lbracket_};
    gap(whole);
    whole.push_back(pick(0, 0));
    return std::optional<Symbol>(b_.sequence(std::move(whole), "unique_array"));
  }

  Result<Symbol> array_symbol(const Flat& f, uint32_t depth) {
    const uint64_t repeat_cap = options_.limits.max_repeat;
    uint64_t min = f.min_items;
    std::optional<uint64_t> max = f.max_items;
    if (f.unique_items && !(max && *max <= 1)) {
      TGI_ASSIGN_OR_RETURN(std::optional<Symbol> subsets, unique_subsets(f, min, max));
      if (subsets) return *subsets;
      // Narrowed: items a grammar cannot compare are kept unique by generating at most one.
      if (min > 1)
        return unsupported("uniqueItems", f.unique_at, "only arrays of at most one item are supported");
      max = 1;
    }
    if (min > repeat_cap) return unsupported("minItems", f.array_at, "too many items");
    if (max && *max > repeat_cap) max = repeat_cap;  // narrowed
    if (max && *max < min) return Symbol::rule(empty_rule());
    std::vector<Symbol> prefix;
    for (const Conj& c : f.prefix) {
      if (max && prefix.size() >= *max) break;
      TGI_ASSIGN_OR_RETURN(Symbol s, compile(c, depth + 1));
      if (known_empty(s)) break;  // no array this long
      prefix.push_back(s);
    }
    const uint64_t k = prefix.size();
    std::optional<Symbol> rest;
    if (k == f.prefix.size()) {
      TGI_ASSIGN_OR_RETURN(Symbol r, compile(f.rest, depth + 1));
      if (!known_empty(r)) rest = r;
    }
    // A(i): the items from position i on, having emitted i items, then the closing bracket.
    const Symbol close = rbracket_;
    std::vector<uint32_t> rules(k + 1);
    for (uint64_t i = 0; i <= k; ++i) rules[i] = b_.new_rule("array_items");
    for (uint64_t i = 0; i <= k; ++i) {
      if (i >= min) {
        std::vector<Symbol> end;
        if (i > 0) gap(end);
        end.push_back(close);
        b_.add_alternative(rules[i], std::move(end));
      }
      if (i < k && (!max || i < *max)) {
        std::vector<Symbol> item;
        separator(item, i);
        item.push_back(prefix[i]);
        item.push_back(Symbol::rule(rules[i + 1]));
        b_.add_alternative(rules[i], std::move(item));
      }
      if (i == k && rest && (!max || i < *max)) {
        const uint64_t t_min = std::max<uint64_t>(1, min > i ? min - i : 0);
        const uint64_t t_max = max ? *max - i : 0;
        std::vector<Symbol> next_item;
        gap(next_item);
        next_item.push_back(comma_);
        gap(next_item);
        next_item.push_back(*rest);
        const Symbol more = b_.sequence(std::move(next_item), "array_more");
        std::vector<Symbol> tail;
        separator(tail, i);
        tail.push_back(*rest);
        tail.push_back(
            b_.repeat(more, static_cast<uint32_t>(t_min - 1),
                      max ? std::optional<uint32_t>(static_cast<uint32_t>(t_max - 1)) : std::nullopt));
        gap(tail);
        tail.push_back(close);
        b_.add_alternative(rules[i], std::move(tail));
      }
    }
    std::vector<Symbol> whole{lbracket_};
    gap(whole);
    whole.push_back(Symbol::rule(rules[0]));
    return b_.sequence(std::move(whole), "array");
  }

  uint32_t empty_rule() {
    const uint32_t r = b_.new_rule("never");
    empty_rules_.insert(r);
    return r;
  }

  // ---- objects -----------------------------------------------------------------------------------
  struct Member {
    std::string name;
    bool required = false;
    Symbol symbol = Symbol::rule(0);  // key ws : ws value
  };

  Result<Symbol> object_symbol(const Flat& f, uint32_t depth) {
    // The key language of propertyNames.
    std::optional<Regex> names;
    for (const Conj& c : f.property_names) {
      TGI_ASSIGN_OR_RETURN(Flat nf, flatten(c));
      if (!nf.disjunctions.empty() || !nf.nots.empty())
        return unsupported("propertyNames", doc_.pointer_of(c[0].schema));
      Regex r = Regex::nothing();
      if (nf.types & kStr) {
        if (nf.enum_values) {
          std::vector<Regex> values;
          for (const Json* v : *nf.enum_values) {
            if (!v->is_string()) continue;
            TGI_ASSIGN_OR_RETURN(bool ok, value_valid_flat(*v, nf, 0, /*from_enum=*/true));
            if (ok) values.push_back(Regex::literal(v->get_ref<const std::string&>()));
          }
          r = Regex::alt(std::move(values));
        } else {
          bool chunked = false;
          TGI_ASSIGN_OR_RETURN(r, string_body(nf, false, chunked));
        }
      }
      names = names ? Regex::intersect({*names, r}) : r;
    }
    // Declared members, then required ones not declared.
    std::vector<std::pair<std::string, Conj>> declared = f.properties;
    for (const std::string& r : f.required) {
      if (std::none_of(declared.begin(), declared.end(), [&](const auto& p) { return p.first == r; })) {
        TGI_ASSIGN_OR_RETURN(Conj c, applied_to(f, r));
        declared.emplace_back(r, std::move(c));
      }
    }
    auto is_required = [&](const std::string& n) {
      return std::find(f.required.begin(), f.required.end(), n) != f.required.end();
    };
    std::vector<Member> members;
    for (const auto& [name, conj] : declared) {
      bool allowed = true;
      if (names) {
        TGI_ASSIGN_OR_RETURN(allowed, name_matches(*names, name));
      }
      Symbol value = Symbol::rule(0);
      if (allowed) {
        TGI_ASSIGN_OR_RETURN(value, compile(conj, depth + 1));
        allowed = !known_empty(value);
      }
      if (!allowed) {
        if (is_required(name)) return Symbol::rule(empty_rule());
        continue;
      }
      std::vector<Symbol> seq{b_.literal(Json(name).dump())};
      gap(seq);
      seq.push_back(colon_);
      gap(seq);
      seq.push_back(value);
      members.push_back(Member{name, is_required(name), b_.sequence(std::move(seq), "member")});
    }
    // Extra members: keys not declared.
    std::vector<Regex> declared_names;
    for (const auto& [name, conj] : declared) declared_names.push_back(Regex::literal(name));
    const Regex any_key = names ? *names : Regex::star(Regex::any_character());
    const Regex undeclared =
        declared_names.empty() ? any_key : Regex::difference(any_key, Regex::alt(std::move(declared_names)));
    std::vector<Symbol> extras;
    auto add_extra = [&](const Regex& key, const Conj& conj) -> Result<void> {
      TGI_ASSIGN_OR_RETURN(bool empty, regex_empty(key));
      if (empty) return {};
      TGI_ASSIGN_OR_RETURN(Symbol value, compile(conj, depth + 1));
      if (known_empty(value)) return {};
      std::vector<Symbol> seq{b_.lexeme(quoted(key))};
      gap(seq);
      seq.push_back(colon_);
      gap(seq);
      seq.push_back(value);
      extras.push_back(b_.sequence(std::move(seq), "extra_member"));
      return {};
    };
    // Narrowed: an object that lists `properties` and says nothing of other ones gets no others
    // (as llama.cpp, XGrammar and OpenAI's strict mode generate): every output still validates,
    // and a model cannot keep adding properties until max_new_tokens.
    const bool open = options_.extra_properties_when_unspecified || !f.additional.empty() ||
                      !f.patterns.empty() || f.properties.empty();
    const size_t np = open ? f.patterns.size() : 0;
    if (!open) {
      // no extra members
    } else if (np > 6) {
      for (size_t i = 0; i < np; ++i) {
        for (size_t j = i + 1; j < np; ++j) {
          TGI_ASSIGN_OR_RETURN(bool empty,
                               regex_empty(Regex::intersect({f.patterns[i].key, f.patterns[j].key})));
          if (!empty) return unsupported("patternProperties", f.object_at, "too many overlapping patterns");
        }
      }
      std::vector<Regex> all;
      for (const PatternProperty& p : f.patterns) all.push_back(p.key);
      for (size_t i = 0; i < np; ++i)
        TGI_TRY(add_extra(Regex::intersect({undeclared, f.patterns[i].key}), f.patterns[i].conj));
      TGI_TRY(add_extra(Regex::difference(undeclared, Regex::alt(std::move(all))), f.additional));
    } else {
      for (uint32_t subset = 1; subset < (1u << np); ++subset) {
        std::vector<Regex> in{undeclared};
        std::vector<Regex> out;
        Conj conj;
        for (size_t i = 0; i < np; ++i) {
          if (subset & (1u << i)) {
            in.push_back(f.patterns[i].key);
            conj.insert(conj.end(), f.patterns[i].conj.begin(), f.patterns[i].conj.end());
          } else {
            out.push_back(f.patterns[i].key);
          }
        }
        Regex key = Regex::intersect(std::move(in));
        if (!out.empty()) key = Regex::difference(key, Regex::alt(std::move(out)));
        TGI_TRY(add_extra(key, conj));
      }
      std::vector<Regex> all;
      for (const PatternProperty& p : f.patterns) all.push_back(p.key);
      TGI_TRY(add_extra(all.empty() ? undeclared : Regex::difference(undeclared, Regex::alt(std::move(all))),
                        f.additional));
    }
    // Dependencies that do not follow from `required`.
    auto can_appear = [&](const std::string& n) {
      return std::any_of(members.begin(), members.end(), [&](const Member& m) { return m.name == n; }) ||
             (!extras.empty() &&
              std::none_of(declared.begin(), declared.end(), [&](const auto& p) { return p.first == n; }));
    };
    // Narrowed: an optional declared property whose presence would bring a dependency along is
    // simply never generated, which satisfies the dependency vacuously.
    auto leave_out = [&](const std::string& trigger) {
      const bool declared_member =
          std::any_of(members.begin(), members.end(), [&](const Member& m) { return m.name == trigger; });
      if (!declared_member) return false;  // it would come as an extra property: cannot be left out
      std::erase_if(members, [&](const Member& m) { return m.name == trigger; });
      return true;
    };
    for (const auto& [trigger, deps] : f.dependent_required) {
      if (!can_appear(trigger) || is_required(trigger)) continue;
      if (std::all_of(deps.begin(), deps.end(), is_required)) continue;
      if (!leave_out(trigger) || can_appear(trigger))
        return unsupported("dependentRequired", f.dependencies_at);
    }
    for (const auto& [trigger, elem] : f.dependent_schemas) {
      if (!can_appear(trigger) || is_required(trigger)) continue;
      if (!leave_out(trigger) || can_appear(trigger))
        return unsupported("dependentSchemas", f.dependencies_at);
    }
    const std::optional<Symbol> extra =
        extras.empty() ? std::nullopt : std::optional<Symbol>(b_.choice(std::move(extras), "extra"));
    // Counting: only when the bounds can bind.
    const uint64_t required_count = static_cast<uint64_t>(
        std::count_if(members.begin(), members.end(), [](const Member& m) { return m.required; }));
    uint64_t min = f.min_properties;
    bool has_max = f.max_properties.has_value();
    const uint64_t max_value = f.max_properties.value_or(0);
    if (min <= required_count) min = 0;
    if (has_max && !extra && max_value >= members.size()) has_max = false;
    if (has_max && max_value < required_count) return Symbol::rule(empty_rule());
    const bool counting = min > 0 || has_max;
    if (counting && (min > kMaxCountedProperties || (has_max && max_value > kMaxCountedProperties))) {
      return unsupported(min > 0 ? "minProperties" : "maxProperties", f.object_at, "bound too large");
    }
    // cap: counts at or above it behave alike.
    const uint64_t cap = counting ? (has_max ? max_value : min) : 1;
    const size_t n = members.size();
    std::map<std::pair<size_t, uint64_t>, uint32_t> rules;
    std::vector<std::pair<size_t, uint64_t>> todo;
    auto rule_for = [&](size_t i, uint64_t c) {
      c = std::min(c, cap);
      auto [it, inserted] = rules.emplace(std::make_pair(i, c), 0);
      if (inserted) {
        it->second = b_.new_rule("members");
        todo.emplace_back(i, c);
      }
      return it->second;
    };
    const uint32_t start = rule_for(0, 0);
    while (!todo.empty()) {
      const auto [i, c] = todo.back();
      todo.pop_back();
      const uint32_t rule = rules[{i, c}];
      const bool at_max = has_max && c >= max_value;
      if (i < n) {
        if (!at_max) {
          std::vector<Symbol> seq;
          separator(seq, c);
          seq.push_back(members[i].symbol);
          seq.push_back(Symbol::rule(rule_for(i + 1, c + 1)));
          b_.add_alternative(rule, std::move(seq));
        }
        if (!members[i].required) b_.add_alternative(rule, {Symbol::rule(rule_for(i + 1, c))});
        continue;
      }
      // After the declared members: the closing brace, or another extra member.
      if (c >= min) {
        std::vector<Symbol> end;
        if (c > 0) gap(end);
        end.push_back(rbrace_);
        b_.add_alternative(rule, std::move(end));
      }
      if (extra && !at_max) {
        std::vector<Symbol> seq;
        separator(seq, c);
        seq.push_back(*extra);
        seq.push_back(Symbol::rule(rule_for(n, c + 1)));
        b_.add_alternative(rule, std::move(seq));
      }
    }
    std::vector<Symbol> whole{lbrace_};
    gap(whole);
    whole.push_back(Symbol::rule(start));
    return b_.sequence(std::move(whole), "object");
  }

  GrammarBuilder& b_;
  const SchemaDocument& doc_;
  const JsonSchemaOptions& options_;
  std::optional<Symbol> ws_;
  Symbol lbrace_ = Symbol::rule(0), rbrace_ = Symbol::rule(0), lbracket_ = Symbol::rule(0),
         rbracket_ = Symbol::rule(0), comma_ = Symbol::rule(0), colon_ = Symbol::rule(0);
  std::unordered_map<std::string, uint32_t> memo_;
  std::unordered_map<const Json*, uint32_t> skips_;  // for the flatten in progress
  std::unordered_set<uint32_t> empty_rules_;
  std::unordered_map<std::string, Regex> patterns_;
  std::unordered_map<std::string, std::shared_ptr<LexemeDfa>> dfas_;
  uint32_t conjunctions_ = 0;
  uint32_t ref_expansions_ = 0;
  uint64_t flatten_steps_ = 0;
};

}  // namespace

Result<Symbol> add_json_schema(GrammarBuilder& builder, const nlohmann::ordered_json& schema,
                               const JsonSchemaOptions& options) {
  // The walk over the document is recursive: bound it before anything else looks at the document.
  TGI_ASSIGN_OR_RETURN(SchemaDocument doc,
                       SchemaDocument::index(schema, std::max<uint32_t>(options.max_schema_depth * 4, 64)));
  Compiler compiler(builder, doc, options);
  return compiler.run();
}

Result<Grammar> compile_json_schema(const nlohmann::ordered_json& schema, const JsonSchemaOptions& options) {
  GrammarBuilder builder(options.limits);
  TGI_ASSIGN_OR_RETURN(Symbol value, add_json_schema(builder, schema, options));
  const uint32_t root = builder.new_rule("root");
  std::vector<Symbol> seq;
  if (options.whitespace == JsonWhitespace::kBounded) {
    CodepointSet blanks = CodepointSet::of(' ');
    blanks.add('\t');
    const Symbol ws = builder.lexeme(Regex::optional(Regex::alt(
        {Regex::character(' '), Regex::concat({Regex::character('\n'),
                                               Regex::repeat(Regex::set(blanks), 0, options.max_indent)})})));
    seq = {ws, value, ws};
  } else {
    seq = {value};
  }
  builder.add_alternative(root, std::move(seq));
  auto grammar = builder.build(root);
  if (!grammar.ok()) {
    return Error::make(ErrorKind::kValidation, "schema admits no JSON value or is too large: {}",
                       grammar.error().message);
  }
  return grammar;
}

}  // namespace tgi::grammar
