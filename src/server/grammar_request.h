#pragma once
// A request's structured-output constraint in the shapes clients send it, read into one
// grammar::ConstraintSpec:
//   TGI (spec §1.12):  {"type": "json" | "json_object", "value": <schema | string of JSON>}
//                      {"type": "json_schema", "value": {"name"?, "schema"}}
//                      {"type": "regex", "value": "<pattern>"}
//   OpenAI:            {"type": "json_object"} (JSON mode: any JSON object)
//                      {"type": "json_schema", "json_schema": {"name", "schema", "strict"?}}
//   ours (llama.cpp's grammar language, which TGI lacks): {"type": "gbnf", "value": "<grammar>"}
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "grammar/constraint.h"
#include "grammar/grammar.h"

namespace tgi::server {

// Errors are kValidation with the text that follows "Input validation error: ".
Result<grammar::ConstraintSpec> read_grammar_type(const nlohmann::ordered_json& grammar);

// The (cached) compile of a spec; an error reads "grammar is not valid: <why>".
Result<std::shared_ptr<const grammar::Grammar>> compile_grammar_spec(const grammar::ConstraintSpec& spec);

// read_grammar_type, then compile_grammar_spec. A constraint we cannot enforce completely is an
// error naming why ("grammar is not valid: ..."), never a looser constraint.
Result<std::shared_ptr<const grammar::Grammar>> compile_grammar_type(const nlohmann::ordered_json& grammar);

}  // namespace tgi::server
