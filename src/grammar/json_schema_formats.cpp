#include "grammar/json_schema_formats.h"

#include <string>

#include "grammar/regex_parser.h"

namespace tgi::grammar::json_format {
namespace {

// Whole-string patterns; a pattern that does not parse makes the format unsupported.
FormatRule enforced(const std::string& pattern) {
  auto parsed = parse_regex(pattern);
  if (!parsed.ok()) return {FormatKind::kUnsupported, Regex::nothing()};
  return {FormatKind::kEnforced, std::move(parsed).value()};
}

// Python's date.fromisoformat: years 0001-9999 (we start at 1000), real months and days (no
// Feb 29: leap years are left out rather than computed).
const char* const kDate =
    "[1-9][0-9]{3}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))";
// RFC 3339 full-time as rfc3339_validator reads it; no leap second.
const char* const kTime =
    "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
// No "--" anywhere (that would make an A-label, which the checker decodes as punycode).
const char* const kHostLabel = "[A-Za-z0-9]{1,10}(?:-[A-Za-z0-9]{1,10}){0,2}";
const char* const kTopLabel = "[A-Za-z][A-Za-z0-9]{0,9}(?:-[A-Za-z0-9]{1,10}){0,2}";
const char* const kOctet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const char* const kUnreserved = "[A-Za-z0-9._~-]";

std::string hostname() {
  return std::string("(?:") + kHostLabel + "\\.){0,4}" + kTopLabel;
}
std::string lower_hostname() {
  return "(?:[a-z0-9]{1,30}\\.){0,4}[a-z][a-z0-9]{0,29}";
}

std::string uri() {
  return "(?:https?|ftp)://" + lower_hostname() + "(?::[1-9][0-9]{0,3})?(?:/" + kUnreserved +
         "*){0,16}(?:\\?" + "[A-Za-z0-9._~=&-]*)?(?:#" + kUnreserved + "*)?";
}

std::string relative_reference() {
  return std::string(kUnreserved) + "{1,64}(?:/" + kUnreserved + "*){0,16}";
}

std::string ipv6() {
  const std::string h = "[0-9a-fA-F]{1,4}";
  return "(?:(?:" + h + ":){7}" + h + "|(?:" + h + ":){1,6}:|(?:" + h + ":){1,6}:" + h + "|(?:" + h +
         ":){1,5}(?::" + h + "){1,2}|(?:" + h + ":){1,4}(?::" + h + "){1,3}|(?:" + h + ":){1,3}(?::" + h +
         "){1,4}|(?:" + h + ":){1,2}(?::" + h + "){1,5}|" + h + ":(?::" + h + "){1,6}|:(?::" + h +
         "){1,6}|::)";
}

std::string duration() {
  const std::string n = "[0-9]{1,4}";
  // Contiguous components only (RFC 3339 appendix A: no years and days without months).
  const std::string date =
      "(?:" + n + "Y(?:" + n + "M(?:" + n + "D)?)?|" + n + "M(?:" + n + "D)?|" + n + "D)";
  const std::string time =
      "T(?:" + n + "H(?:" + n + "M(?:" + n + "S)?)?|" + n + "M(?:" + n + "S)?|" + n + "S)";
  return "P(?:" + n + "W|" + date + "(?:" + time + ")?|" + time + ")";
}

}  // namespace

FormatRule format_rule(std::string_view name) {
  if (name == "date") return enforced(kDate);
  if (name == "time") return enforced(kTime);
  if (name == "date-time") return enforced(std::string(kDate) + "T" + kTime);
  if (name == "duration") return enforced(duration());
  if (name == "email" || name == "idn-email") {
    return enforced("[A-Za-z0-9_%+-]{1,32}(?:\\.[A-Za-z0-9_%+-]{1,32}){0,2}@" + hostname());
  }
  if (name == "hostname") return enforced(hostname());
  if (name == "idn-hostname") return enforced(lower_hostname());
  if (name == "ipv4") return enforced(std::string(kOctet) + "(?:\\." + kOctet + "){3}");
  if (name == "ipv6") return enforced(ipv6());
  if (name == "uuid") {
    return enforced("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  }
  if (name == "uri" || name == "iri" || name == "uri-template") return enforced(uri());
  if (name == "uri-reference" || name == "iri-reference") return enforced(uri() + "|" + relative_reference());
  if (name == "json-pointer") return enforced("(?:/(?:[A-Za-z0-9_.-]|~[01])*){0,16}");
  if (name == "relative-json-pointer") {
    return enforced("(?:0|[1-9][0-9]{0,5})(?:#|(?:/(?:[A-Za-z0-9_.-]|~[01])*){0,16})");
  }
  if (name == "regex") return enforced("[A-Za-z0-9 _-]{0,64}");
  // Formats Python's FormatChecker knows but we have no regex for (draft 3's color needs
  // webcolors' name list).
  if (name == "color" || name == "host-name" || name == "ip-address")
    return {FormatKind::kUnsupported, Regex::nothing()};
  return {FormatKind::kAnnotation, Regex::nothing()};
}

}  // namespace tgi::grammar::json_format
