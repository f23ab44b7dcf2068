#include "grammar/json_schema_compiler.h"
#include "shared_structured_data.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace tgi::grammar {
namespace {

using Json = nlohmann::ordered_json;

Result<Grammar> compile(std::string_view schema, JsonWhitespace ws = JsonWhitespace::kBounded) {
  JsonSchemaOptions options;
  options.whitespace = ws;
  return compile_json_schema(Json::parse(schema), options);
}

// Asserts `schema` compiles, accepts every text in `valid` and rejects every text in `invalid`.
void check(std::string_view schema, std::vector<std::string> valid, std::vector<std::string> invalid) {
  auto grammar = compile(schema);
  ASSERT_TRUE(grammar.ok()) << schema << ": " << grammar.error().message;
  for (const std::string& text : valid)
    EXPECT_TRUE(grammar->accepts(text)) << schema << " should accept " << text;
  for (const std::string& text : invalid)
    EXPECT_FALSE(grammar->accepts(text)) << schema << " should reject " << text;
}

void refused(std::string_view schema, std::string_view fragment) {
  auto grammar = compile(schema);
  ASSERT_FALSE(grammar.ok()) << schema << " should be refused";
  EXPECT_EQ(grammar.error().kind, ErrorKind::kValidation);
  EXPECT_NE(grammar.error().message.find(fragment), std::string::npos) << grammar.error().message;
}

TEST(JsonSchemaCompiler, Scalars) {
  check(R"({"type": "null"})", {"null", " null\n"}, {"nul", "0", "\"null\""});
  check(R"({"type": "boolean"})", {"true", "false"}, {"1", "null"});
  check(R"({"type": "integer"})", {"0", "-12", "123456789"}, {"01", "1.5", "-", "1e3", "\"1\""});
  check(R"({"type": "number"})", {"0", "-1.25", "3e10", "1.0"}, {"01", ".5", "1.", "--1"});
  check(R"({"type": ["string", "null"]})", {"null", "\"x\""}, {"1"});
  check(R"({})", {"1", "{\"a\": [1, {\"b\": null}]}", "\"s\""}, {"{", "[1,]"});
  check(R"(true)", {"[]"}, {"]"});
}

TEST(JsonSchemaCompiler, FalseSchemaIsRefusedAtTheRoot) {
  refused(R"(false)", "no JSON value");
}

TEST(JsonSchemaCompiler, IntegerRanges) {
  check(R"({"type": "integer", "minimum": -123, "maximum": 42})", {"-123", "-5", "0", "42", "9"},
        {"-124", "43", "100", "-1000"});
  check(R"({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10})", {"1", "9"}, {"0", "10"});
  check(R"({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer", "minimum": 0,
           "exclusiveMinimum": true})",
        {"1"}, {"0"});
  check(R"({"type": "integer", "minimum": 1.5})", {"2"}, {"1"});
  check(R"({"type": "integer", "multipleOf": 5, "minimum": 0, "maximum": 30})", {"0", "5", "30"},
        {"3", "31", "35"});
  check(R"({"type": "integer", "multipleOf": 7, "minimum": 0, "maximum": 50})", {"0", "7", "49"},
        {"8", "56"});
}

TEST(JsonSchemaCompiler, NumberRanges) {
  check(R"({"type": "number", "minimum": 0})", {"0", "0.5", "12", "3.0"}, {"-0.5", "-1"});
  check(R"({"type": "number", "exclusiveMinimum": 0, "maximum": 1})", {"0.001", "1", "0.5", "1.0"},
        {"0", "0.0", "1.5", "-0.1"});
  check(R"({"type": "number", "minimum": -2, "exclusiveMaximum": -1})", {"-2", "-1.5", "-2.0"},
        {"-1", "-2.5", "-1.0"});
  refused(R"({"type": "number", "minimum": 0.5})", "minimum");
}

TEST(JsonSchemaCompiler, Strings) {
  check(R"({"type": "string", "minLength": 2, "maxLength": 3})", {"\"ab\"", "\"abc\"", "\"é€😀\""},
        {"\"a\"", "\"abcd\""});
  check(R"({"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"})", {"\"ABC-1234\""},
        {"\"ABC-123\"", "\"abc-1234\""});
  check(R"({"type": "string", "pattern": "ab"})", {"\"xxabyy\"", "\"ab\""}, {"\"a b\""});
  check(R"({"type": "string", "pattern": "^\"$"})", {R"("\"")"}, {R"("'")"});
  check(R"({"type": "string"})", {R"("a\nb\\c\"d\u0001")"}, {"\"a\nb\"", R"("\x")"});
  // A very long maxLength is narrowed (see json_schema_compiler.h): short strings, never invalid ones.
  check(R"({"type": "string", "maxLength": 5000})", {"\"abc\"", "\"" + std::string(1024, 'q') + "\""},
        {"\"" + std::string(1025, 'q') + "\""});
  check(R"({"type": "string", "minLength": 70, "maxLength": 130})", {"\"" + std::string(100, 'x') + "\""},
        {"\"" + std::string(69, 'x') + "\"", "\"" + std::string(131, 'x') + "\""});
}

TEST(JsonSchemaCompiler, LongLengthOnlyStringsAreChunked) {
  check(R"({"type": "string", "minLength": 3000, "maxLength": 3100})", {"\"" + std::string(3050, 'y') + "\""},
        {"\"" + std::string(2999, 'y') + "\"", "\"" + std::string(3101, 'y') + "\""});
}

TEST(JsonSchemaCompiler, Formats) {
  check(R"({"type": "string", "format": "date"})", {"\"2024-02-28\"", "\"1999-12-31\""},
        {"\"2024-02-30\"", "\"2024-13-01\"", "\"24-01-01\""});
  check(R"({"type": "string", "format": "date-time"})",
        {"\"2024-01-02T03:04:05Z\"", "\"2024-01-02T03:04:05.5+01:00\""},
        {"\"2024-01-02 03:04:05Z\"", "\"2024-01-02T24:00:00Z\""});
  check(R"({"type": "string", "format": "ipv4"})", {"\"192.168.0.1\""}, {"\"256.1.1.1\"", "\"01.1.1.1\""});
  check(R"({"type": "string", "format": "uuid"})", {"\"123e4567-e89b-12d3-a456-426614174000\""}, {"\"123\""});
  check(R"({"type": "string", "format": "email"})", {"\"a.b@example.com\""}, {"\"ab.example.com\""});
  check(R"({"type": "string", "format": "ipv6"})", {"\"::1\"", "\"fe80::1:2\""}, {"\"1:2\"", "\":::\""});
  check(R"({"type": "string", "format": "duration"})", {"\"P1D\"", "\"PT1H30M\"", "\"P2W\""},
        {"\"P\"", "\"PT\""});
  check(R"({"type": "string", "format": "int32"})", {"\"anything\""}, {});  // not a checked format
}

TEST(JsonSchemaCompiler, EnumAndConst) {
  check(R"({"enum": ["red", "amber", "green", null, 42, ["foo"]]})", {"\"red\"", "null", "42", "[\"foo\"]"},
        {"\"blue\"", "43", "[]"});
  check(R"({"const": {"a": [1, 2]}})", {"{\"a\":[1,2]}"}, {"{\"a\":[1]}"});
  check(R"({"type": "string", "enum": ["a", 1, "bc"], "maxLength": 1})", {"\"a\""}, {"\"bc\"", "1"});
  refused(R"({"type": "string", "enum": ["a", 1], "maxLength": 0})", "no JSON value");
  check(R"({"const": " \r \n \" \\ "})", {R"(" \r \n \" \\ ")"}, {R"(" ")"});
}

TEST(JsonSchemaCompiler, Objects) {
  const char* schema = R"({"type": "object", "properties": {"b": {"type": "string"}, "c": {"type": "string"},
                           "a": {"type": "integer"}}, "required": ["a", "b"], "additionalProperties": false})";
  check(
      schema, {R"({"b": "x", "a": 1})", R"({"b":"x","c":"y","a":1})", "{\n  \"b\": \"x\",\n  \"a\": 1\n}"},
      {R"({"b": "x"})", R"({"a": 1, "b": "x"})", R"({"b": "x", "a": 1, "d": 2})", R"({"b": "x", "a": "1"})"});
  // Unspecified additional properties are not generated (a narrowing every output survives)...
  check(R"({"properties": {"a": {"type": "integer"}}})", {R"({"a": 1})", "{}"},
        {R"({"a": 1, "z": [true]})", R"({"z": 1})", R"({"a": "s"})"});
  // ...unless asked for: then any value, and declared names are never repeated.
  JsonSchemaOptions open;
  open.extra_properties_when_unspecified = true;
  auto g = compile_json_schema(Json::parse(R"({"properties": {"a": {"type": "integer"}}})"), open);
  ASSERT_TRUE(g.ok());
  for (const char* ok : {R"({"a": 1, "z": [true]})", R"({"z": 1})", "{}"}) EXPECT_TRUE(g->accepts(ok)) << ok;
  for (const char* bad : {R"({"a": "s"})", R"({"a": 1, "a": 2})", R"({"z": 1, "a": 1})"})
    EXPECT_FALSE(g->accepts(bad)) << bad;
  // An explicit `true` keeps them.
  check(R"({"properties": {"a": {"type": "integer"}}, "additionalProperties": true})",
        {R"({"a": 1, "z": [true]})"}, {});
  check(R"({"properties": {"a": {"type": "number"}}, "additionalProperties": {"type": "string"}})",
        {R"({"a": 1, "b": "x"})"}, {R"({"b": 1})"});
  check(
      R"({"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": false})",
      {R"({"x-a": 1})", "{}"}, {R"({"x-a": "s"})", R"({"y": 1})"});
  check(R"({"type": "object", "required": ["id"], "additionalProperties": {"type": "integer"}})",
        {R"({"id": 3, "z": 4})"}, {R"({"id": "s"})", "{}"});
  check(R"({"type": "object", "minProperties": 1, "maxProperties": 2})",
        {R"({"a": 1})", R"({"a": 1, "b": 2})"}, {"{}", R"({"a": 1, "b": 2, "c": 3})"});
  check(R"({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}})", {R"({"abc": 1})"},
        {R"({"aB": 1})"});
  check(R"({"type": "object", "properties": {"": {"type": "integer"}}})", {R"({"": 1})"}, {R"({"": "x"})"});
}

TEST(JsonSchemaCompiler, Arrays) {
  check(R"({"items": {"type": "boolean"}, "maxItems": 2})", {"[]", "[true]", "[true, false]"},
        {"[true, true, true]", "[1]"});
  check(R"({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": false})",
        {"[1, \"a\"]", "[1]", "[]"}, {"[1, \"a\", 2]", "[\"a\"]"});
  check(
      R"({"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": [{"type": "integer"}],
           "additionalItems": {"type": "string"}, "minItems": 2})",
      {"[1, \"a\", \"b\"]"}, {"[1]", "[1, 2]"});
  check(R"({"type": "array", "uniqueItems": true, "maxItems": 1})", {"[]", "[1]"}, {"[1, 2]"});
  refused(R"({"type": "array", "uniqueItems": true, "minItems": 2})", "uniqueItems");
}

TEST(JsonSchemaCompiler, Combinators) {
  check(R"({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]})", {"1", "\"a\""},
        {"\"ab\"", "null"});
  check(R"({"oneOf": [{"type": "integer"}, {"type": "null"}]})", {"1", "null"}, {"\"a\""});
  refused(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})", "oneOf");
  check(
      R"({"oneOf": [{"properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]},
                      {"properties": {"kind": {"const": "b"}}, "required": ["kind"]}], "type": "object"})",
      {R"({"kind": "a", "x": 1})", R"({"kind": "b"})"}, {R"({"kind": "c"})", R"({"kind": "a", "x": "s"})"});
  check(R"({"allOf": [{"type": "integer", "minimum": 0}, {"maximum": 5}]})", {"0", "5"}, {"6", "-1"});
  check(R"({"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                      {"properties": {"b": {"type": "string"}}, "additionalProperties": {"type": "integer"}}]})",
        {R"({"a": 1, "b": "x"})", R"({"a": 1, "c": 2})"}, {R"({"b": "x"})", R"({"a": 1, "c": "x"})"});
  // a is required but the second branch forbids it.
  refused(R"({"type": "object", "allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                        {"properties": {"b": {"type": "string"}}, "additionalProperties": false}]})",
          "no JSON value");
  check(R"({"type": "string", "allOf": [{"pattern": "a"}, {"pattern": "b"}]})", {"\"ab\"", "\"ba\""},
        {"\"aa\""});
  check(R"({"not": {"type": "string"}})", {"1", "null"}, {"\"s\""});
  check(R"({"type": "string", "not": {"enum": ["x"]}})", {"\"y\""}, {"\"x\""});
  refused(R"({"if": {"type": "string"}, "then": {"minLength": 1}})", "if");
  check(R"({"if": {"type": "string"}})", {"1"}, {});
}

TEST(JsonSchemaCompiler, RefsAndRecursion) {
  check(R"({"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
           "next": {"$ref": "#/$defs/node"}}, "required": ["v"], "additionalProperties": false}},
           "$ref": "#/$defs/node"})",
        {R"({"v": 1})", R"({"v": 1, "next": {"v": 2, "next": {"v": 3}}})"}, {R"({"v": 1, "next": {}})"});
  check(R"({"type": "array", "items": {"$ref": "#"}})", {"[]", "[[], [[]]]"}, {"[1]"});
  check(R"({"$defs": {"a": {"$anchor": "thing", "type": "integer"}}, "$ref": "#thing"})", {"1"}, {"\"1\""});
  check(R"({"definitions": {"a~b": {"type": "null"}, "c/d": {"type": "boolean"}},
           "anyOf": [{"$ref": "#/definitions/a~0b"}, {"$ref": "#/definitions/c~1d"}]})",
        {"null", "true"}, {"1"});
  check(R"({"$id": "http://example.com/root.json", "$defs": {"x": {"$id": "other.json", "type": "string"}},
           "$ref": "other.json"})",
        {"\"s\""}, {"1"});
  refused(R"({"$ref": "#/$defs/missing"})", "dangling");
  refused(R"({"$ref": "http://example.com/remote.json"})", "remote");
  // allOf through a self reference terminates.
  check(R"({"allOf": [{"$ref": "#"}], "type": "integer"})", {"1"}, {"\"1\""});
}

TEST(JsonSchemaCompiler, RefSiblingsInDraft7AreIgnored) {
  check(R"({"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"s": {"type": "string"}},
           "$ref": "#/definitions/s", "maxLength": 1})",
        {"\"abc\""}, {"1"});
  check(R"({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 1})", {"\"a\""},
        {"\"abc\""});
}

TEST(JsonSchemaCompiler, UnevaluatedProperties) {
  check(R"({"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": false})", {R"({"a": 1})"},
        {R"({"b": 1})"});
  check(R"({"allOf": [{"properties": {"a": {}}}, {"unevaluatedProperties": false}]})", {"{}"},
        {R"({"a": 1})"});
}

TEST(JsonSchemaCompiler, CompactWhitespace) {
  auto grammar =
      compile(R"({"type": "object", "properties": {"a": {"type": "integer"}}})", JsonWhitespace::kCompact);
  ASSERT_TRUE(grammar.ok());
  EXPECT_TRUE(grammar->accepts(R"({"a":1})"));
  EXPECT_FALSE(grammar->accepts(R"({"a": 1})"));
  EXPECT_FALSE(grammar->accepts(R"( {"a":1})"));
}

TEST(JsonSchemaCompiler, WhitespaceIsBounded) {
  auto grammar = compile(R"({"type": "array"})");
  ASSERT_TRUE(grammar.ok());
  EXPECT_TRUE(grammar->accepts("[\n" + std::string(20, ' ') + "1]"));
  EXPECT_FALSE(grammar->accepts("[\n" + std::string(21, ' ') + "1]"));
  EXPECT_FALSE(grammar->accepts("[  1]"));
  EXPECT_FALSE(grammar->accepts("[\n\n1]"));
}

TEST(JsonSchemaCompiler, InvalidSchemasAreRefused) {
  refused(R"({"type": "strin"})", "unknown type");
  refused(R"({"type": "string", "minLength": -1})", "minLength");
  refused(R"({"type": "integer", "minimum": 10, "maximum": 5})", "minimum");
  refused(R"({"type": "string", "pattern": "[unclosed"})", "pattern");
  refused(R"("just a string")", "object or a boolean");
  refused(R"({"properties": {"a": 5}, "required": ["a"]})", "object or a boolean");
  refused(R"({"type": "string", "format": "color"})", "format");
  refused(R"({"$schema": "http://json-schema.org/draft-03/schema#"})", "draft-03");
}

TEST(JsonSchemaCompiler, UnsupportedKeywordsNameTheirPlace) {
  refused(R"({"properties": {"tags": {"type": "array", "uniqueItems": true, "minItems": 3}}})",
          "unsupported keyword 'uniqueItems' at /properties/tags");
  refused(R"({"type": "array", "contains": {"type": "integer"}})", "'contains'");
  refused(R"({"dependentRequired": {"a": ["b"]}})", "dependentRequired");
}

TEST(JsonSchemaCompiler, HostileInputsFailCleanly) {
  // Deep nesting.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += R"({"items":)";
  deep += "{}";
  for (int i = 0; i < 5000; ++i) deep += "}";
  EXPECT_FALSE(compile(deep).ok());
  // A huge enum still compiles (split over lexemes) or fails cleanly.
  Json big_enum = {{"enum", Json::array()}};
  for (int i = 0; i < 20000; ++i) big_enum["enum"].push_back("value-" + std::to_string(i));
  (void)compile_json_schema(big_enum);
  // Mutually recursive refs and self-referencing allOf.
  (void)compile(
      R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})");
  (void)compile(R"({"$ref": "#"})");
  // Enormous lengths.
  EXPECT_FALSE(compile(R"({"type": "string", "minLength": 1000000000})").ok());
  EXPECT_FALSE(compile(R"({"type": "string", "pattern": "a+", "minLength": 100000})").ok());
  // Exponential anyOf distribution is bounded.
  Json wide = Json::object();
  Json* node = &wide;
  for (int i = 0; i < 30; ++i) {
    (*node)["anyOf"] = Json::array({Json{{"type", "integer"}}, Json{{"type", "string"}}, Json::object()});
    node = &(*node)["anyOf"][2];
  }
  (void)compile_json_schema(wide);  // bounded by the limits: a runaway would hit the test's timeout
}

TEST(JsonSchemaCompiler, SchemaCasesFile) {
  std::ifstream in(testing::shared_structured_path("schema-cases.json"));
  if (!in) GTEST_SKIP() << "schema-cases.json not present";
  std::stringstream text;
  text << in.rdbuf();
  const Json cases = Json::parse(text.str());
  int ok = 0, rejected = 0;
  for (const Json& c : cases) {
    const std::string expect = c["expect"].get<std::string>();
    auto grammar = compile_json_schema(c["schema"]);
    if (expect == "ok") {
      EXPECT_TRUE(grammar.ok()) << c["id"] << ": " << (grammar.ok() ? "" : grammar.error().message);
      ok += grammar.ok();
    } else if (expect == "reject") {
      EXPECT_FALSE(grammar.ok()) << c["id"];
      if (!grammar.ok()) {
        ++rejected;
        EXPECT_EQ(grammar.error().kind, ErrorKind::kValidation);
      }
    }
  }
  std::printf("schema-cases: %d ok compiled, %d rejected\n", ok, rejected);
}

}  // namespace
}  // namespace tgi::grammar

namespace tgi::grammar {
namespace {

TEST(JsonSchemaNarrowing, UniqueItemsOverAFiniteSetAreOrderedSubsets) {
  const char* schema =
      R"({"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": true, "minItems": 1})";
  auto g = compile_json_schema(nlohmann::ordered_json::parse(schema));
  ASSERT_TRUE(g.ok()) << g.error().message;
  for (const char* ok : {R"(["a"])", R"(["a", "c"])", R"(["a","b","c"])", R"(["b"])"})
    EXPECT_TRUE(g->accepts(ok)) << ok;
  for (const char* bad : {"[]", R"(["a", "a"])", R"(["c", "a"])", R"(["d"])"})
    EXPECT_FALSE(g->accepts(bad)) << bad;
  auto booleans = compile_json_schema(nlohmann::ordered_json::parse(
      R"({"type": "array", "items": {"type": "boolean"}, "uniqueItems": true})"));
  ASSERT_TRUE(booleans.ok());
  EXPECT_TRUE(booleans->accepts("[true, false]"));
  EXPECT_FALSE(booleans->accepts("[true, true]"));
  // Items a grammar cannot compare: at most one is generated (unique by construction)...
  auto strings = compile_json_schema(nlohmann::ordered_json::parse(
      R"({"type": "array", "items": {"type": "string"}, "uniqueItems": true})"));
  ASSERT_TRUE(strings.ok());
  EXPECT_TRUE(strings->accepts(R"(["x"])"));
  EXPECT_FALSE(strings->accepts(R"(["x", "y"])"));
  // ...and when more are required, the schema is refused.
  EXPECT_FALSE(
      compile_json_schema(
          nlohmann::ordered_json::parse(
              R"({"type": "array", "items": {"type": "string"}, "uniqueItems": true, "minItems": 2})"))
          .ok());
}

TEST(JsonSchemaNarrowing, AnOptionalTriggerOfADependencyIsLeftOut) {
  const char* schema =
      R"({"type": "object", "properties": {"card": {"type": "string"}, "billing": {"type": "string"}, "name": {"type": "string"}},
          "required": ["name"], "dependentRequired": {"card": ["billing"]}})";
  auto g = compile_json_schema(nlohmann::ordered_json::parse(schema));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_TRUE(g->accepts(R"({"billing": "x", "name": "n"})"));
  EXPECT_FALSE(g->accepts(R"({"card": "1", "billing": "x", "name": "n"})"));  // never generated
  EXPECT_FALSE(g->accepts(R"({"card": "1", "name": "n"})"));
}

TEST(JsonSchemaNarrowing, OneOfClosedObjectsOfDifferentShapes) {
  // Neither branch forbids the other's keys, so the schemas overlap; but what is generated for
  // each branch (no undeclared properties) lacks a key the other requires.
  const char* schema = R"({"oneOf": [
      {"type": "object", "properties": {"cat": {"type": "string"}}, "required": ["cat"]},
      {"type": "object", "properties": {"dog": {"type": "integer"}}, "required": ["dog"]}]})";
  auto g = compile_json_schema(nlohmann::ordered_json::parse(schema));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_TRUE(g->accepts(R"({"cat": "x"})"));
  EXPECT_TRUE(g->accepts(R"({"dog": 1})"));
  EXPECT_FALSE(g->accepts(R"({"cat": "x", "dog": 1})"));
  // Branches that may produce the same value stay refused.
  EXPECT_FALSE(compile_json_schema(nlohmann::ordered_json::parse(R"({"oneOf": [
      {"type": "object", "properties": {"a": {"type": "string"}}},
      {"type": "object", "properties": {"b": {"type": "string"}}}]})"))
                   .ok());
}

}  // namespace
}  // namespace tgi::grammar
