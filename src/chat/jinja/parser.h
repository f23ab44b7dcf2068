#pragma once
// Recursive-descent parser for the Jinja subset chat templates use (jinja2's grammar and operator
// precedence: filters bind tighter than arithmetic, `not` looser than comparisons).
#include <memory>
#include <string>

#include "chat/jinja/ast.h"

namespace tgi::chat::jinja {

// Throws TemplateError(kSyntax) with the line of the offending token.
std::unique_ptr<Program> parse_template(std::string source);

}  // namespace tgi::chat::jinja
