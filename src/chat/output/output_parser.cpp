#include "chat/output/output_parser.h"

#include <nlohmann/json.hpp>

#include "chat/output/harmony_parser.h"
#include "chat/output/reasoning_splitter.h"
#include "chat/output/text_emitter.h"
#include "chat/output/tool_call_layer.h"

namespace tgi::chat {
namespace {

// Every family but harmony: thinking is split off first, the rest goes to the tool-call layer.
class MarkedOutputParser : public OutputParser {
 public:
  MarkedOutputParser(const OutputFormat& format, const OutputParserOptions& options)
      : separate_reasoning_(options.separate_reasoning),
        splitter_(format.reasoning_open, format.reasoning_close, options.starts_in_reasoning),
        tools_(format, options.parse_tool_calls, content_) {}

  void feed(std::string_view text, std::vector<OutputDelta>& out) override {
    pieces_.clear();
    splitter_.feed(text, pieces_);
    route(out);
  }

  void finish(std::vector<OutputDelta>& out) override {
    pieces_.clear();
    splitter_.finish(pieces_);
    route(out);
    tools_.finish(out);
    reasoning_.finish(out);
    content_.finish(out);
  }

 private:
  void route(std::vector<OutputDelta>& out) {
    for (const SplitPiece& piece : pieces_) {
      switch (piece.kind) {
        case SplitPiece::Kind::kReasoning:
          if (separate_reasoning_) content_.trim_edges();  // the answer after thinking starts clean
          (separate_reasoning_ ? reasoning_ : content_).add(piece.text, out);
          break;
        case SplitPiece::Kind::kMarker:
          if (separate_reasoning_)
            content_.trim_edges();
          else
            content_.add(piece.text, out);
          break;
        case SplitPiece::Kind::kBody:
          tools_.feed(piece.text, out);
          break;
      }
    }
  }

  bool separate_reasoning_;
  TrimmedTextEmitter content_{OutputDelta::Kind::kContent, /*trim_edges=*/false};
  TrimmedTextEmitter reasoning_{OutputDelta::Kind::kReasoning, /*trim_edges=*/true};
  ReasoningSplitter splitter_;
  ToolCallLayer tools_;
  std::vector<SplitPiece> pieces_;
};

}  // namespace

std::unique_ptr<OutputParser> make_output_parser(const OutputFormat& format,
                                                 const OutputParserOptions& options) {
  if (format.tool_syntax == ToolCallSyntax::kHarmony) {
    return std::make_unique<HarmonyParser>(options.parse_tool_calls, options.separate_reasoning);
  }
  return std::make_unique<MarkedOutputParser>(format, options);
}

AssistantOutput accumulate_deltas(const std::vector<OutputDelta>& deltas) {
  AssistantOutput result;
  for (const OutputDelta& d : deltas) {
    switch (d.kind) {
      case OutputDelta::Kind::kContent:
        result.content += d.text;
        break;
      case OutputDelta::Kind::kReasoning:
        result.reasoning += d.text;
        break;
      case OutputDelta::Kind::kToolCallStart:
        if (result.tool_calls.size() <= d.tool_index) result.tool_calls.resize(d.tool_index + 1);
        result.tool_calls[d.tool_index].name = d.text;
        break;
      case OutputDelta::Kind::kToolCallArguments:
        if (result.tool_calls.size() <= d.tool_index) result.tool_calls.resize(d.tool_index + 1);
        result.tool_calls[d.tool_index].arguments += d.text;
        break;
    }
  }
  for (ParsedToolCall& call : result.tool_calls) {
    auto parsed = nlohmann::ordered_json::parse(call.arguments, nullptr, false);
    if (!parsed.is_discarded()) {
      call.arguments = parsed.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } else if (trim_spaces(call.arguments).empty()) {
      call.arguments = "{}";
    }
  }
  return result;
}

AssistantOutput parse_assistant_output(OutputParser& parser, std::string_view text) {
  std::vector<OutputDelta> deltas;
  parser.feed(text, deltas);
  parser.finish(deltas);
  return accumulate_deltas(deltas);
}

}  // namespace tgi::chat
