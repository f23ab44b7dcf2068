#pragma once
// JSON Schema `format` values as regular expressions over the decoded string (json_schema_compiler's
// helper). Each regex admits only strings that Python jsonschema's FormatChecker accepts (narrower
// is fine, wider would be a bug).
#include <optional>
#include <string_view>

#include "grammar/regex.h"

namespace tgi::grammar::json_format {

enum class FormatKind {
  kEnforced,     // regex() is the language
  kAnnotation,   // Python jsonschema's FormatChecker does not know it: no constraint
  kUnsupported,  // the checker may assert it and we have no conservative regex: refuse
};

struct FormatRule {
  FormatKind kind = FormatKind::kUnsupported;
  Regex regex = Regex::nothing();
};

FormatRule format_rule(std::string_view name);

}  // namespace tgi::grammar::json_format
