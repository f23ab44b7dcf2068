// Blocks of XML-like calls with one tag per parameter: Qwen3-Coder / Qwen3.5 / Nemotron 3 and
// Seed-OSS (<function=NAME><parameter=K>V</parameter>), MiniMax-M2 and DeepSeek V3.2/V4 DSML
// (<invoke name="NAME"><parameter name="K">V</parameter>), GLM-4.5+ (NAME<arg_key>K</arg_key>
// <arg_value>V</arg_value>). Arguments are known when a call closes; its name as soon as read.
#include <nlohmann/json.hpp>

#include "chat/output/block_scan.h"
#include "chat/output/marker_matcher.h"
#include "chat/output/text_emitter.h"

namespace tgi::chat {
namespace {

using Json = nlohmann::ordered_json;
using S = BlockScan::Status;

// A value that reads as JSON is that value (numbers, booleans, objects), else it is text, unless
// the tag says which (DSML's string="true|false").
Json parameter_value(std::string_view raw, std::string_view attributes) {
  if (!raw.empty() && raw.front() == '\n') raw.remove_prefix(1);
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  if (attributes.find("string=\"true\"") != std::string_view::npos) return std::string(raw);
  auto value = Json::parse(raw, nullptr, false);
  if (value.is_discarded()) return std::string(raw);
  return value;
}

struct TagName {
  enum class Status { kDone, kNeedMore, kInvalid } status = Status::kNeedMore;
  std::string name;
  std::string attributes;  // the rest of the tag, when the name was an attribute value
  std::string_view matched_end;
  size_t end = 0;
};

// Reads a name ending at one of `ends`; an end that closes an attribute value ('"') is followed
// by the rest of the tag up to '>'.
TagName read_tag_name(std::string_view text, size_t pos, const std::vector<std::string>& ends, bool at_end) {
  TagName r;
  MarkerMatch m = find_first_marker(text.substr(pos), ends, at_end);
  if (m.kind != MarkerMatch::Kind::kFull) {
    size_t seen = m.kind == MarkerMatch::Kind::kPartial ? m.position : text.size() - pos;
    if (seen > kMaxNameLength) r.status = TagName::Status::kInvalid;
    return r;
  }
  if (m.position > kMaxNameLength) {
    r.status = TagName::Status::kInvalid;
    return r;
  }
  r.name = std::string(trim_spaces(text.substr(pos, m.position)));
  r.matched_end = ends[m.marker];
  size_t end = pos + m.position + ends[m.marker].size();
  if (ends[m.marker].back() == '"') {
    size_t close = text.find('>', end);
    if (close == std::string_view::npos) {
      if (text.size() - end > kMaxNameLength) r.status = TagName::Status::kInvalid;
      return r;
    }
    r.attributes = std::string(text.substr(end, close - end));
    end = close + 1;
  }
  r.end = end;
  r.status = r.name.empty() ? TagName::Status::kInvalid : TagName::Status::kDone;
  return r;
}

}  // namespace

BlockScan scan_xml_call_block(std::string_view text, const OutputFormat& format, bool at_end) {
  const XmlCallMarkers& xml = format.xml;
  BlockScan scan;
  Json arguments = Json::object();
  auto stop = [&](S status, size_t at) {
    // Cut short (invalid, or the output ended): the call keeps the parameters it completed.
    if (status == S::kInvalid && !scan.calls.empty() && !scan.calls.back().arguments_complete) {
      scan.calls.back().arguments =
          arguments.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      scan.calls.back().arguments_complete = true;
    }
    scan.status = status;
    scan.end = at;
    return scan;
  };
  auto wait = [&](size_t at) { return at_end ? stop(S::kInvalid, at) : scan; };
  bool partial = false;
  size_t pos = 0;
  while (true) {
    pos = skip_spaces(text, pos);
    if (starts_with_marker(text.substr(pos), format.block_close, &partial)) {
      return stop(scan.calls.empty() ? S::kInvalid : S::kComplete, pos + format.block_close.size());
    }
    if (partial || pos >= text.size()) return wait(text.size());
    // A call opens with its tag, or (GLM: one call per block) with the name right away.
    if (xml.invoke_open.empty()) {
      if (!scan.calls.empty()) return stop(S::kInvalid, pos);
    } else {
      if (!starts_with_marker(text.substr(pos), xml.invoke_open, &partial)) {
        return partial ? wait(text.size()) : stop(S::kInvalid, pos);
      }
      pos += xml.invoke_open.size();
    }
    std::vector<std::string> name_ends = xml.invoke_name_ends;
    if (xml.invoke_open.empty()) name_ends.push_back(format.block_close);
    TagName name = read_tag_name(text, pos, name_ends, at_end);
    if (name.status == TagName::Status::kInvalid) return stop(S::kInvalid, scan.calls.empty() ? 0 : pos);
    if (name.status == TagName::Status::kNeedMore) return wait(text.size());
    // GLM's name ends where its first parameter or the block close begins: leave those unread.
    pos = name.end;
    if (name.matched_end == xml.parameter_open || name.matched_end == format.block_close) {
      pos -= name.matched_end.size();
    }
    scan.calls.push_back({name.name, "", false});
    arguments = Json::object();
    while (true) {
      pos = skip_spaces(text, pos);
      std::string_view call_end =
          xml.invoke_close.empty() ? std::string_view(format.block_close) : xml.invoke_close;
      if (starts_with_marker(text.substr(pos), call_end, &partial)) {
        if (!xml.invoke_close.empty()) pos += xml.invoke_close.size();
        break;
      }
      if (partial || pos >= text.size()) return wait(text.size());
      if (!starts_with_marker(text.substr(pos), xml.parameter_open, &partial)) {
        return partial ? wait(text.size()) : stop(S::kInvalid, pos);
      }
      TagName key = read_tag_name(text, pos + xml.parameter_open.size(), {xml.parameter_name_end}, at_end);
      if (key.status == TagName::Status::kInvalid) return stop(S::kInvalid, pos);
      if (key.status == TagName::Status::kNeedMore) return wait(text.size());
      size_t value_begin = key.end;
      if (!xml.parameter_value_open.empty()) {
        value_begin = skip_spaces(text, value_begin);
        if (!starts_with_marker(text.substr(value_begin), xml.parameter_value_open, &partial)) {
          return partial || value_begin >= text.size() ? wait(text.size()) : stop(S::kInvalid, pos);
        }
        value_begin += xml.parameter_value_open.size();
      }
      size_t value_end = text.find(xml.parameter_close, value_begin);
      if (value_end == std::string_view::npos) return wait(text.size());
      arguments[key.name] =
          parameter_value(text.substr(value_begin, value_end - value_begin), key.attributes);
      pos = value_end + xml.parameter_close.size();
    }
    scan.calls.back().arguments =
        arguments.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    scan.calls.back().arguments_complete = true;
  }
}

}  // namespace tgi::chat
