// Blocks of JSON call objects: Hermes/Qwen <tool_call>{..}</tool_call>, Mistral v3 [{..}],
// Granite, Nemotron, Command-A/R+, firefunction, Llama 3.x and the whole-output fallback.
#include <nlohmann/json.hpp>

#include "chat/output/block_scan.h"
#include "chat/output/json_scan.h"
#include "chat/output/marker_matcher.h"

namespace tgi::chat {
namespace {

using Json = nlohmann::ordered_json;
using S = BlockScan::Status;

bool is_name_key(std::string_view k) {
  return k == "name" || k == "function" || k == "tool_name";
}
bool is_arguments_key(std::string_view k) {
  return k == "arguments" || k == "parameters";
}
// Keys a call object may start with; anything else makes an unmarked object plain JSON content.
bool is_call_key(std::string_view k) {
  return is_name_key(k) || is_arguments_key(k) || k == "id" || k == "type" || k == "tool_call_id";
}

struct ObjectScan {
  JsonScan::Status status = JsonScan::Status::kNeedMore;
  size_t end = 0;
  bool announced = false;  // the call may be shown before the object is complete
  ScannedCall call;
};

// Arguments given as a JSON string holding the object are unwrapped; other values kept as text.
std::string arguments_text(const Json& value) {
  if (value.is_string()) {
    auto inner = Json::parse(value.get<std::string>(), nullptr, false);
    return inner.is_discarded()
               ? value.get<std::string>()
               : inner.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Reads a complete object the streaming path could not announce: names nested in "function"
// (OpenAI style), TGI's legacy {"function": {"_name": NAME, ...args}}, arguments before the name.
bool interpret_whole_call(std::string_view object_text, bool shape_mode, ScannedCall& call) {
  Json obj = Json::parse(object_text, nullptr, false);
  if (!obj.is_object()) return false;
  const Json* holder = &obj;
  if (auto f = obj.find("function"); f != obj.end() && f->is_object()) {
    if (f->contains("_name") && (*f)["_name"].is_string()) {
      Json args = *f;
      call.name = args["_name"].get<std::string>();
      args.erase("_name");
      call.arguments = args.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      call.arguments_complete = true;
      return !call.name.empty();
    }
    holder = &*f;
  }
  for (const char* key : {"name", "function", "tool_name"}) {
    auto it = holder->find(key);
    if (it != holder->end() && it->is_string()) {
      call.name = it->get<std::string>();
      break;
    }
  }
  if (call.name.empty()) return false;
  bool has_arguments = false;
  for (const char* key : {"arguments", "parameters"}) {
    auto it = holder->find(key);
    if (it != holder->end()) {
      call.arguments = arguments_text(*it);
      has_arguments = true;
      break;
    }
  }
  if (!has_arguments && shape_mode) return false;  // {"name": "Bob"} is data, not a call
  call.arguments_complete = true;
  return true;
}

ObjectScan scan_call_object(std::string_view text, size_t pos, bool shape_mode) {
  using J = JsonScan::Status;
  ObjectScan r;
  size_t i = pos + 1;
  bool first_key = true, name_done = false, whole_only = false, arguments_seen = false;
  size_t args_begin = std::string_view::npos, args_end = std::string_view::npos;
  auto need_more = [&](size_t at) {
    r.status = J::kNeedMore;
    r.end = at;
    return r;
  };
  auto invalid = [&](size_t at) {
    r.status = J::kInvalid;
    r.end = at;
    return r;
  };
  auto update_announcement = [&] {
    // Stream only the flat shape: name first, then an object of arguments (raw text as it comes).
    // Outside shape mode a named call is announced for good once its name is read (a later scan
    // must not take it back); arguments that are not an object come whole, when they end.
    bool args_streamable = args_begin == std::string_view::npos || text[args_begin] == '{';
    r.announced = name_done && !whole_only && (shape_mode ? arguments_seen && args_streamable : true);
    if (r.announced && args_begin != std::string_view::npos && text[args_begin] == '{') {
      size_t stop = args_end == std::string_view::npos ? text.size() : args_end;
      r.call.arguments = std::string(text.substr(args_begin, stop - args_begin));
      r.call.arguments_complete = args_end != std::string_view::npos;
    }
  };
  // Invalid after the name: a shorter prefix (before the arguments' value began) announced the call
  // outside shape mode, so it must stand, or scans would not be monotone in the text.
  auto fail = [&](size_t at) {
    update_announcement();
    // Streamed arguments ended where the text went wrong, however much text followed.
    if (r.announced && args_end == std::string_view::npos && args_begin != std::string_view::npos &&
        text[args_begin] == '{' && at >= args_begin)
      r.call.arguments = std::string(text.substr(args_begin, at - args_begin));
    if (!r.announced && name_done && !whole_only && !shape_mode) {
      r.announced = true;
      r.call.arguments.clear();
      r.call.arguments_complete = true;
    }
    return invalid(at);
  };
  while (true) {
    i = skip_spaces(text, i);
    if (i >= text.size()) return update_announcement(), need_more(i);
    if (text[i] == '}') {
      ++i;
      break;
    }
    if (!first_key) {
      if (text[i] != ',') return fail(i);
      i = skip_spaces(text, i + 1);
      if (i >= text.size()) return update_announcement(), need_more(i);
    }
    if (text[i] != '"') return fail(i);
    JsonScan key_scan = scan_json_value(text, i);
    if (key_scan.status != J::kDone) return update_announcement(), need_more(text.size());
    std::string key = decode_json_string(text.substr(i, key_scan.end - i));
    if (shape_mode && first_key && !is_call_key(key)) return invalid(i);
    first_key = false;
    i = skip_spaces(text, key_scan.end);
    if (i >= text.size()) return update_announcement(), need_more(i);
    if (text[i] != ':') return fail(i);
    i = skip_spaces(text, i + 1);
    if (i >= text.size()) return update_announcement(), need_more(i);
    bool is_args = is_arguments_key(key) && args_begin == std::string_view::npos;
    bool is_name = is_name_key(key) && !name_done;
    if (is_args) {
      args_begin = i;
      arguments_seen = true;
      if (!name_done) whole_only = true;  // arguments before the name: read the call whole
    }
    if (is_name && text[i] != '"') whole_only = true;  // "function": {...}
    JsonScan value = scan_json_value(text, i);
    if (value.status == J::kInvalid) {
      if (is_args && name_done && !whole_only && (!shape_mode || arguments_seen) && text[i] != '{') {
        // A shorter prefix (up to the key) already announced this call, so it must stand: without
        // arguments, and what follows the key is content. Scans stay monotone in the text.
        r.announced = true;
        r.call.arguments.clear();
        r.call.arguments_complete = true;
        return invalid(i);
      }
      return fail(value.end);
    }
    if (value.status == J::kNeedMore) return update_announcement(), need_more(text.size());
    if (is_args) args_end = value.end;
    if (is_name && text[i] == '"') {
      r.call.name = decode_json_string(text.substr(i, value.end - i));
      name_done = !r.call.name.empty();
    }
    i = value.end;
  }
  r.status = J::kDone;
  r.end = i;
  update_announcement();
  if (r.announced) {
    if (args_begin != std::string_view::npos && text[args_begin] != '{') {
      // Arguments given as a string (or list): known only now.
      auto v = Json::parse(text.substr(args_begin, args_end - args_begin), nullptr, false);
      r.call.arguments = v.is_discarded() ? std::string() : arguments_text(v);
    }
    r.call.arguments_complete = true;
    return r;
  }
  r.call = ScannedCall{};
  if (!interpret_whole_call(text.substr(pos, i - pos), shape_mode, r.call)) return invalid(pos);
  r.announced = true;
  return r;
}

}  // namespace

BlockScan scan_json_call_block(std::string_view text, const OutputFormat& format, bool at_end,
                               bool shape_mode) {
  BlockScan scan;
  size_t pos = skip_spaces(text, 0);
  // Models like to wrap JSON in a Markdown fence.
  bool fenced = false;
  bool partial = false;
  if (starts_with_marker(text.substr(pos), "```", &partial)) {
    fenced = true;
    pos += 3;
    if (starts_with_marker(text.substr(pos), "json", &partial)) {
      pos += 4;
    } else if (partial && !at_end) {
      return undecided(scan, at_end, pos);
    }
    pos = skip_spaces(text, pos);
  } else if (partial) {
    return undecided(scan, at_end, pos);
  }
  if (pos >= text.size()) return undecided(scan, at_end, pos);
  bool list = text[pos] == '[';
  if (list) pos = skip_spaces(text, pos + 1);
  while (true) {
    if (pos >= text.size()) return undecided(scan, at_end, pos);
    if (list && text[pos] == ']' && !shape_mode && scan.calls.empty()) {
      ++pos;  // "[TOOL_CALLS][]": no calls
      break;
    }
    if (text[pos] != '{') return ended(scan, S::kInvalid, pos);
    ObjectScan object = scan_call_object(text, pos, shape_mode);
    if (object.announced) scan.calls.push_back(object.call);
    if (object.status == JsonScan::Status::kNeedMore) {
      if (at_end) return ended(scan, S::kInvalid, text.size());
      return scan;
    }
    if (object.status == JsonScan::Status::kInvalid) return ended(scan, S::kInvalid, object.end);
    pos = skip_spaces(text, object.end);
    if (pos >= text.size()) {
      if (at_end) break;
      return scan;  // a separator, another object or the close marker may follow
    }
    if (list) {
      if (text[pos] == ',') {
        pos = skip_spaces(text, pos + 1);
        continue;
      }
      if (text[pos] == ']') {
        ++pos;
        break;
      }
      return ended(scan, S::kInvalid, pos);
    }
    // Unlisted objects may follow each other, separated by ';' (Llama 3) or nothing.
    if (text[pos] == ';' || text[pos] == ',') {
      size_t next = skip_spaces(text, pos + 1);
      if (next >= text.size() && !at_end) return scan;
      if (next < text.size() && text[next] == '{') {
        pos = next;
        continue;
      }
      break;
    }
    if (text[pos] == '{') continue;
    break;
  }
  if (fenced && !skip_closing_fence(text, pos, at_end)) return scan;
  // An unmarked block has no close marker: it ends with its calls.
  return finish_block(std::move(scan), text, pos, shape_mode ? std::string_view() : format.block_close,
                      at_end);
}

}  // namespace tgi::chat
