#include "server/grammar_request.h"

#include <string>

namespace tgi::server {
namespace {

using json = nlohmann::ordered_json;

Error not_valid(const std::string& why) {
  return Error{ErrorKind::kValidation, "grammar is not valid: " + why};
}

Result<grammar::ConstraintSpec> schema_spec(const json& schema) {
  if (schema.is_string()) {
    // TGI also takes the schema as a string holding JSON.
    const json parsed = json::parse(schema.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return not_valid("the schema string is not valid JSON");
    return schema_spec(parsed);
  }
  if (!schema.is_object() && !schema.is_boolean()) return not_valid("the schema must be a JSON object");
  return grammar::ConstraintSpec{grammar::ConstraintKind::kJsonSchema, schema.dump()};
}

Result<grammar::ConstraintSpec> text_spec(const json& grammar, grammar::ConstraintKind kind,
                                          const char* what) {
  const auto value = grammar.find("value");
  if (value == grammar.end() || !value->is_string())
    return not_valid(fmt::format("a {} grammar needs a string `value`", what));
  return grammar::ConstraintSpec{kind, value->get<std::string>()};
}

}  // namespace

Result<grammar::ConstraintSpec> read_grammar_type(const json& grammar) {
  if (!grammar.is_object()) return not_valid("expected an object with `type`");
  const auto type_it = grammar.find("type");
  if (type_it == grammar.end() || !type_it->is_string()) return not_valid("missing `type`");
  const std::string type = type_it->get<std::string>();
  const auto value = grammar.find("value");
  if (type == "json" || type == "json_object") {
    // OpenAI's JSON mode has no value: any JSON object.
    if (value == grammar.end() || value->is_null()) {
      if (type == "json") return not_valid("a json grammar needs a `value` (the schema)");
      return grammar::ConstraintSpec{grammar::ConstraintKind::kJsonSchema, R"({"type":"object"})"};
    }
    return schema_spec(*value);
  }
  if (type == "json_schema") {
    const json* holder = nullptr;
    if (value != grammar.end() && !value->is_null()) holder = &*value;  // TGI
    const auto openai = grammar.find("json_schema");
    if (!holder && openai != grammar.end()) holder = &*openai;  // OpenAI
    if (!holder || !holder->is_object())
      return not_valid("a json_schema grammar needs `json_schema` or `value`");
    const auto schema = holder->find("schema");
    // OpenAI allows the schema to be left out: then any JSON object will do.
    if (schema == holder->end() || schema->is_null())
      return grammar::ConstraintSpec{grammar::ConstraintKind::kJsonSchema, R"({"type":"object"})"};
    return schema_spec(*schema);
  }
  if (type == "regex") return text_spec(grammar, grammar::ConstraintKind::kRegex, "regex");
  if (type == "gbnf" || type == "grammar") return text_spec(grammar, grammar::ConstraintKind::kGbnf, "gbnf");
  return not_valid(fmt::format(
      "unknown grammar type `{}` (expected json, json_object, json_schema, regex or gbnf)", type));
}

Result<std::shared_ptr<const grammar::Grammar>> compile_grammar_spec(const grammar::ConstraintSpec& spec) {
  auto compiled = grammar::compile_constraint(spec);
  if (!compiled.ok()) return not_valid(compiled.error().message);
  return compiled.value();
}

Result<std::shared_ptr<const grammar::Grammar>> compile_grammar_type(const json& grammar) {
  TGI_ASSIGN_OR_RETURN(grammar::ConstraintSpec spec, read_grammar_type(grammar));
  return compile_grammar_spec(spec);
}

}  // namespace tgi::server
