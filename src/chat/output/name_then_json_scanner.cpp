// Blocks that name the function in plain text and then give JSON arguments: DeepSeek V3/V3.1,
// Kimi-K2, Mistral [TOOL_CALLS]NAME[ARGS]{..}, functionary v3.1 <function=NAME>{..}</function>
// and v3.2 >>>NAME\n{..}.
#include "chat/output/block_scan.h"
#include "chat/output/json_scan.h"
#include "chat/output/marker_matcher.h"
#include "chat/output/text_emitter.h"

namespace tgi::chat {
namespace {

using S = BlockScan::Status;

// Kimi writes "functions.get_weather:0": the namespace and the call counter are not the name.
std::string strip_namespace(std::string name) {
  if (name.rfind("functions.", 0) == 0) name.erase(0, 10);
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && colon + 1 < name.size() &&
      name.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    name.erase(colon);
  }
  return name;
}

}  // namespace

BlockScan scan_name_then_json_block(std::string_view text, const OutputFormat& format, bool at_end) {
  BlockScan scan;
  size_t pos = skip_spaces(text, 0);
  if (pos >= text.size()) return undecided(scan, at_end, pos);
  // Mistral v3 follows [TOOL_CALLS] with a JSON list; a name never starts with '[' or '{'.
  if (text[pos] == '[' || text[pos] == '{') return scan_json_call_block(text, format, at_end, false);
  bool partial = false;
  if (starts_with_marker(text.substr(pos), format.call_type_prefix, &partial)) {
    pos += format.call_type_prefix.size();
  } else if (partial) {
    return undecided(scan, at_end, pos);
  }
  std::vector<std::string> name_ends = format.name_ends;
  if (!format.call_id_marker.empty()) name_ends.push_back(format.call_id_marker);
  MarkerMatch end = find_first_marker(text.substr(pos), name_ends, at_end);
  if (end.kind != MarkerMatch::Kind::kFull) {
    size_t seen = (end.kind == MarkerMatch::Kind::kPartial ? end.position : text.size() - pos);
    if (seen > kMaxNameLength) return ended(scan, S::kInvalid, 0);
    return undecided(scan, at_end, text.size());
  }
  if (end.position > kMaxNameLength) return ended(scan, S::kInvalid, 0);
  std::string name(trim_spaces(text.substr(pos, end.position)));
  if (format.strip_function_namespace) name = strip_namespace(name);
  pos += end.position + name_ends[end.marker].size();
  if (!format.content_recipient.empty() && name == format.content_recipient) {
    scan.status = S::kNotACall;
    scan.end = pos;
    return scan;
  }
  if (name.empty() || name.find_first_of("\n{}[]<>\"") != std::string::npos)
    return ended(scan, S::kInvalid, 0);
  if (name_ends[end.marker] == format.call_id_marker) {
    // NAME[CALL_ID]id[ARGS]: the id is the model's, the server assigns its own.
    MarkerMatch args = find_first_marker(text.substr(pos), format.name_ends, at_end);
    if (args.kind != MarkerMatch::Kind::kFull) return undecided(scan, at_end, text.size());
    pos += args.position + format.name_ends[args.marker].size();
  }
  scan.calls.push_back({name, "", false});
  ScannedCall& call = scan.calls.back();
  pos = skip_spaces(text, pos);
  bool fenced = false;
  if (starts_with_marker(text.substr(pos), "```", &partial)) {
    fenced = true;
    pos += 3;
    if (starts_with_marker(text.substr(pos), "json", &partial))
      pos += 4;
    else if (partial)
      return undecided(scan, at_end, text.size());
    pos = skip_spaces(text, pos);
  } else if (partial) {
    return undecided(scan, at_end, text.size());
  }
  if (pos >= text.size()) {
    if (at_end) call.arguments_complete = true;
    return undecided(scan, at_end, text.size());
  }
  if (text[pos] != '{' && text[pos] != '[') {
    // No JSON arguments: the call stands without them, the rest is content.
    call.arguments_complete = true;
    return ended(scan, S::kInvalid, pos);
  }
  JsonScan args = scan_json_value(text, pos);
  if (args.status == JsonScan::Status::kInvalid) {
    call.arguments = std::string(text.substr(pos, args.end - pos));
    return ended(scan, S::kInvalid, args.end);
  }
  if (args.status == JsonScan::Status::kNeedMore) {
    call.arguments = std::string(text.substr(pos));
    return undecided(scan, at_end, text.size());
  }
  call.arguments = std::string(text.substr(pos, args.end - pos));
  call.arguments_complete = true;
  pos = args.end;
  if (fenced && !skip_closing_fence(text, pos, at_end)) return scan;
  return finish_block(std::move(scan), text, pos, format.block_close, at_end);
}

}  // namespace tgi::chat
