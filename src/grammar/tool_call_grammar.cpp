#include "grammar/tool_call_grammar.h"

#include "grammar/json_schema_compiler.h"

namespace tgi::grammar {

Result<Grammar> compile_tool_calls(const std::vector<ForcedTool>& tools, bool parallel,
                                   const JsonSchemaOptions& options) {
  if (tools.empty()) return Error::make(ErrorKind::kValidation, "no tool to call");
  GrammarBuilder builder(options.limits);
  // The white space allowed between tokens, bounded like the schema compiler's.
  // The white space allowed between tokens, as the schema compiler bounds it.
  CodepointSet indent = CodepointSet::of(' ');
  indent.add('\t');
  const Regex gap = options.whitespace == JsonWhitespace::kCompact
                        ? Regex::empty()
                        : Regex::optional(Regex::alt(
                              {Regex::character(' '),
                               Regex::concat({Regex::character('\n'),
                                              Regex::repeat(Regex::set(indent), 0, options.max_indent)})}));
  const Symbol ws = builder.lexeme(gap);
  auto punct = [&](const char* text) { return builder.literal(text); };
  const uint32_t call = builder.new_rule("tool_call");
  for (const ForcedTool& tool : tools) {
    const nlohmann::ordered_json parameters =
        tool.parameters.is_null() ? nlohmann::ordered_json{{"type", "object"}} : tool.parameters;
    auto arguments = add_json_schema(builder, parameters, options);
    if (!arguments.ok()) {
      return Error::make(ErrorKind::kValidation, "tool `{}`: {}", tool.name, arguments.error().message);
    }
    builder.add_alternative(
        call, {punct("{"), ws, builder.literal("\"name\""), ws, punct(":"), ws,
               builder.literal(nlohmann::ordered_json(tool.name).dump()), ws, punct(","), ws,
               builder.literal("\"arguments\""), ws, punct(":"), ws, *arguments, ws, punct("}")});
  }
  const uint32_t root = builder.new_rule("root");
  builder.add_alternative(root, {ws, Symbol::rule(call), ws});
  if (parallel) {
    const Symbol more = builder.sequence({ws, punct(","), ws, Symbol::rule(call)}, "more_calls");
    builder.add_alternative(root, {ws, punct("["), ws, Symbol::rule(call),
                                   builder.repeat(more, 0, std::nullopt), ws, punct("]"), ws});
  }
  return builder.build(root);
}

std::string tool_calls_spec_text(const std::vector<ForcedTool>& tools, bool parallel) {
  nlohmann::ordered_json spec{{"tools", nlohmann::ordered_json::array()}, {"parallel", parallel}};
  for (const ForcedTool& tool : tools)
    spec["tools"].push_back({{"name", tool.name}, {"parameters", tool.parameters}});
  return spec.dump();
}

}  // namespace tgi::grammar
