#pragma once
// The schema document a JSON-Schema compile works on (json_schema_compiler's helper): the draft,
// every subschema's JSON pointer (for messages), and every `$ref` resolved up front against the
// base URIs that `$id`s set, to the subschema it names or to the reason it cannot be resolved.
// Remote documents are never fetched.
#include <cstdint>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tgi::grammar::json_schema {

using Json = nlohmann::ordered_json;

enum class Draft { k4 = 4, k6 = 6, k7 = 7, k2019 = 2019, k2020 = 2020 };

struct RefTarget {
  const Json* target = nullptr;  // null: unresolvable, see error
  std::string error;
};

class SchemaDocument {
 public:
  // `root` must outlive the document. Fails on a document nested deeper than max_depth or an
  // unsupported `$schema`.
  static Result<SchemaDocument> index(const Json& root, uint32_t max_depth);

  const Json& root() const { return *root_; }
  Draft draft() const { return draft_; }
  // The JSON pointer of a subschema ("" for the root) or "?" for values we did not index.
  std::string pointer_of(const Json* schema) const;
  // For a subschema holding a string `$ref`.
  const RefTarget* ref_of(const Json* schema) const;

 private:
  void walk(const Json& node, const std::string& pointer, const std::string& base, bool schema_position,
            bool index_ids);
  void resolve(const Json& node, const std::string& base);
  const Json* lookup_pointer(const Json* document, const std::string& fragment) const;

  const Json* root_ = nullptr;
  Draft draft_ = Draft::k2020;
  std::unordered_map<const Json*, std::string> pointers_;
  std::unordered_map<const Json*, std::string> bases_;    // subschema -> base URI in effect
  std::unordered_map<std::string, const Json*> ids_;      // absolute URI without fragment -> schema
  std::unordered_map<std::string, const Json*> anchors_;  // absolute URI "#" anchor -> schema
  std::unordered_map<const Json*, RefTarget> refs_;
};

// "the root" or the pointer, for messages.
std::string where(const std::string& pointer);

}  // namespace tgi::grammar::json_schema
