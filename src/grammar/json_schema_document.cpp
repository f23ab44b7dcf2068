#include "grammar/json_schema_document.h"

#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

namespace tgi::grammar::json_schema {
namespace {

constexpr std::string_view kDefaultBase = "tgi://schema/root.json";

bool nested_deeper_than(const Json& node, uint32_t limit, uint32_t depth) {
  if (depth > limit) return true;
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if ((value.is_object() || value.is_array()) && nested_deeper_than(value, limit, depth + 1)) return true;
    }
  } else if (node.is_array()) {
    for (const auto& value : node) {
      if ((value.is_object() || value.is_array()) && nested_deeper_than(value, limit, depth + 1)) return true;
    }
  }
  return false;
}

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string strip_fragment(std::string_view uri) {
  const size_t hash = uri.find('#');
  return std::string(uri.substr(0, hash));
}

bool has_scheme(std::string_view uri) {
  if (uri.empty() || !std::isalpha(static_cast<unsigned char>(uri[0]))) return false;
  for (size_t i = 1; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == ':') return true;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '.' && c != '-') return false;
  }
  return false;
}

std::string resolve_uri(std::string_view base_with_fragment, std::string_view ref) {
  if (has_scheme(ref)) return std::string(ref);
  const std::string base = strip_fragment(base_with_fragment);
  if (ref.empty()) return base;
  if (ref[0] == '#') return base + std::string(ref);
  const size_t scheme_end = base.find(':');
  if (ref.size() >= 2 && ref[0] == '/' && ref[1] == '/') {
    return base.substr(0, scheme_end == std::string::npos ? 0 : scheme_end + 1) + std::string(ref);
  }
  if (ref[0] == '/') {
    const size_t authority = base.find("//");
    if (authority == std::string::npos) {
      return base.substr(0, scheme_end == std::string::npos ? 0 : scheme_end + 1) + std::string(ref);
    }
    const size_t path = base.find('/', authority + 2);
    return base.substr(0, path) + std::string(ref);
  }
  const size_t slash = base.rfind('/');
  std::string dir = slash == std::string::npos
                        ? base.substr(0, scheme_end == std::string::npos ? 0 : scheme_end + 1)
                        : base.substr(0, slash + 1);
  std::string joined = dir + std::string(ref);
  for (size_t pos; (pos = joined.find("/./")) != std::string::npos;) joined.erase(pos, 2);
  return joined;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool is_schema_map_keyword(std::string_view key) {
  return key == "properties" || key == "patternProperties" || key == "$defs" || key == "definitions" ||
         key == "dependentSchemas" || key == "dependencies";
}

bool is_schema_keyword(std::string_view key) {
  static const char* const kKeywords[] = {"items",
                                          "prefixItems",
                                          "allOf",
                                          "anyOf",
                                          "oneOf",
                                          "additionalProperties",
                                          "additionalItems",
                                          "not",
                                          "if",
                                          "then",
                                          "else",
                                          "contains",
                                          "propertyNames",
                                          "unevaluatedItems",
                                          "unevaluatedProperties",
                                          "contentSchema"};
  for (const char* k : kKeywords) {
    if (key == k) return true;
  }
  return false;
}

bool is_data_keyword(std::string_view key) {
  return key == "enum" || key == "const" || key == "default" || key == "examples" || key == "example";
}

}  // namespace

std::string where(const std::string& pointer) {
  return pointer.empty() ? "the root" : pointer;
}

Result<SchemaDocument> SchemaDocument::index(const Json& root, uint32_t max_depth) {
  SchemaDocument doc;
  doc.root_ = &root;
  if (nested_deeper_than(root, max_depth, 0)) {
    return Error::make(ErrorKind::kValidation, "schema nested deeper than {} levels", max_depth);
  }
  if (root.is_object()) {
    auto it = root.find("$schema");
    if (it != root.end() && it->is_string()) {
      const std::string& uri = it->get_ref<const std::string&>();
      if (uri.find("draft-03") != std::string::npos || uri.find("draft-02") != std::string::npos ||
          uri.find("draft-01") != std::string::npos) {
        return Error::make(ErrorKind::kValidation, "unsupported $schema '{}' (drafts 4 to 2020-12 are)", uri);
      }
      if (uri.find("draft-04") != std::string::npos) {
        doc.draft_ = Draft::k4;
      } else if (uri.find("draft-06") != std::string::npos) {
        doc.draft_ = Draft::k6;
      } else if (uri.find("draft-07") != std::string::npos) {
        doc.draft_ = Draft::k7;
      } else if (uri.find("2019-09") != std::string::npos) {
        doc.draft_ = Draft::k2019;
      }
    }
  }
  doc.walk(root, "", std::string(kDefaultBase), true, true);
  // Resolve every $ref now that every $id and anchor is known.
  std::vector<const Json*> holders;
  for (const auto& [node, base] : doc.bases_) {
    auto it = node->find("$ref");
    if (it != node->end() && it->is_string()) holders.push_back(node);
  }
  for (const Json* node : holders) doc.resolve(*node, doc.bases_[node]);
  return doc;
}

void SchemaDocument::walk(const Json& node, const std::string& pointer, const std::string& base,
                          bool schema_position, bool index_ids) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      walk(node[i], pointer + "/" + std::to_string(i), base, schema_position, index_ids);
    }
    return;
  }
  if (!node.is_object()) {
    if (schema_position && node.is_boolean()) pointers_.emplace(&node, pointer);
    return;
  }
  std::string my_base = base;
  if (schema_position) {
    pointers_.emplace(&node, pointer);
    const char* id_key = draft_ == Draft::k4 ? "id" : "$id";
    auto id = node.find(id_key);
    if (index_ids && id != node.end() && id->is_string()) {
      const std::string& text = id->get_ref<const std::string&>();
      if (!text.empty() && text[0] == '#') {
        anchors_.emplace(strip_fragment(base) + text, &node);
      } else {
        const std::string absolute = resolve_uri(base, text);
        my_base = strip_fragment(absolute);
        ids_.emplace(my_base, &node);
        const size_t hash = absolute.find('#');
        if (hash != std::string::npos && hash + 1 < absolute.size()) anchors_.emplace(absolute, &node);
      }
    }
    auto anchor = node.find("$anchor");
    if (index_ids && anchor != node.end() && anchor->is_string()) {
      anchors_.emplace(my_base + "#" + anchor->get_ref<const std::string&>(), &node);
    }
    auto dynamic_anchor = node.find("$dynamicAnchor");
    if (index_ids && dynamic_anchor != node.end() && dynamic_anchor->is_string()) {
      anchors_.emplace(my_base + "#" + dynamic_anchor->get_ref<const std::string&>(), &node);
    }
    bases_.emplace(&node, my_base);
  }
  if (pointer.empty() && ids_.find(my_base) == ids_.end()) ids_.emplace(my_base, &node);
  for (const auto& [key, value] : node.items()) {
    if (is_data_keyword(key) && schema_position) continue;
    const std::string child = pointer + "/" + escape_pointer_token(key);
    if (schema_position && is_schema_map_keyword(key) && value.is_object()) {
      pointers_.emplace(&value, child);
      for (const auto& [name, sub] : value.items()) {
        walk(sub, child + "/" + escape_pointer_token(name), my_base, true, index_ids);
      }
    } else {
      // Unknown keywords may hold schemas that a $ref names by pointer, but an $id there is not
      // an identifier.
      walk(value, child, my_base, true, index_ids && is_schema_keyword(key));
    }
  }
}

const Json* SchemaDocument::lookup_pointer(const Json* document, const std::string& fragment) const {
  const Json* node = document;
  size_t pos = 0;
  while (pos < fragment.size()) {
    if (fragment[pos] != '/') return nullptr;
    size_t next = fragment.find('/', pos + 1);
    if (next == std::string::npos) next = fragment.size();
    std::string token;
    for (size_t i = pos + 1; i < next; ++i) {
      if (fragment[i] == '~' && i + 1 < next && fragment[i + 1] == '1') {
        token += '/';
        ++i;
      } else if (fragment[i] == '~' && i + 1 < next && fragment[i + 1] == '0') {
        token += '~';
        ++i;
      } else {
        token += fragment[i];
      }
    }
    if (node->is_object()) {
      auto it = node->find(token);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      if (token.empty() || token.size() > 9) return nullptr;
      size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return nullptr;
        index = index * 10 + static_cast<size_t>(c - '0');
      }
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
    pos = next;
  }
  return node;
}

void SchemaDocument::resolve(const Json& node, const std::string& base) {
  const std::string& ref = node.find("$ref")->get_ref<const std::string&>();
  const std::string absolute = resolve_uri(base, ref);
  const size_t hash = absolute.find('#');
  const std::string document_uri = absolute.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? "" : percent_decode(absolute.substr(hash + 1));
  RefTarget result;
  auto doc = ids_.find(document_uri);
  if (doc == ids_.end()) {
    result.error =
        fmt::format("$ref '{}' names a document that is not this schema (remote refs are not fetched)", ref);
  } else if (fragment.empty()) {
    result.target = doc->second;
  } else if (fragment[0] == '/') {
    result.target = lookup_pointer(doc->second, fragment);
    if (!result.target) result.error = fmt::format("dangling $ref '{}'", ref);
  } else {
    auto anchor = anchors_.find(document_uri + "#" + fragment);
    if (anchor != anchors_.end()) {
      result.target = anchor->second;
    } else {
      result.error = fmt::format("dangling $ref '{}' (no such anchor)", ref);
    }
  }
  if (result.target && !result.target->is_object() && !result.target->is_boolean()) {
    result.target = nullptr;
    result.error = fmt::format("$ref '{}' does not name a schema", ref);
  }
  refs_.emplace(&node, std::move(result));
}

std::string SchemaDocument::pointer_of(const Json* schema) const {
  auto it = pointers_.find(schema);
  return it == pointers_.end() ? "?" : it->second;
}

const RefTarget* SchemaDocument::ref_of(const Json* schema) const {
  auto it = refs_.find(schema);
  return it == refs_.end() ? nullptr : &it->second;
}

}  // namespace tgi::grammar::json_schema
