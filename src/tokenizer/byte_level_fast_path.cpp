#include "tokenizer/byte_level_fast_path.h"

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

bool is_false(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return !fallback;
  return it->is_boolean() && !it->get<bool>();
}

bool is_true(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->is_boolean() && it->get<bool>();
}

}  // namespace

Result<std::optional<ByteLevelFastPath>> ByteLevelFastPath::plan(const json& root) {
  const std::optional<ByteLevelFastPath> no;
  ByteLevelFastPath plan;
  const json& normalizer = root.value("normalizer", json());
  if (!normalizer.is_null()) {
    const std::string type = normalizer.is_object() ? normalizer.value("type", "") : "";
    if (type == "NFC") plan.form_ = unicode::NormalizationForm::kNfc;
    else if (type == "NFKC") plan.form_ = unicode::NormalizationForm::kNfkc;
    else if (type == "NFD") plan.form_ = unicode::NormalizationForm::kNfd;
    else if (type == "NFKD") plan.form_ = unicode::NormalizationForm::kNfkd;
    else if (!(type == "Sequence" && normalizer.contains("normalizers") && normalizer["normalizers"].is_array() &&
               normalizer["normalizers"].empty()))
      return no;
  }
  const json& model = root.value("model", json());
  if (!model.is_object() || model.value("type", "BPE") != "BPE") return no;
  const json& pre = root.value("pre_tokenizer", json());
  if (!pre.is_object()) return no;
  std::vector<json> steps;
  if (pre.value("type", "") == "Sequence") {
    if (!pre.contains("pretokenizers") || !pre["pretokenizers"].is_array()) return no;
    for (const auto& s : pre["pretokenizers"]) steps.push_back(s);
  } else {
    steps.push_back(pre);
  }
  if (steps.empty()) return no;
  const json& last = steps.back();
  if (!last.is_object() || last.value("type", "") != "ByteLevel" || !is_false(last, "add_prefix_space", true)) return no;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const json& s = steps[i];
    if (!s.is_object() || s.value("type", "") != "Split" || s.value("behavior", "") != "Isolated" ||
        is_true(s, "invert", false) || !s.contains("pattern") || !s["pattern"].is_object())
      return no;
    TGI_ASSIGN_OR_RETURN(Pattern p, parse_pattern(s["pattern"]));
    plan.splits_.push_back(std::move(p));
  }
  if (is_true(last, "use_regex", true)) {
    TGI_ASSIGN_OR_RETURN(Pattern p, Pattern::regex(kGpt2Pattern));
    plan.splits_.push_back(std::move(p));
  }
  return std::optional<ByteLevelFastPath>(std::move(plan));
}

Result<std::optional<Encoding>> ByteLevelFastPath::encode(std::string_view text, const TokenizerPipeline& pipeline) const {
  const auto* bpe = dynamic_cast<const BpeModel*>(pipeline.model.get());
  if (!bpe) return std::optional<Encoding>();
  Encoding e;
  e.ids.reserve(text.size() / 3);
  // Byte offsets for now; the caller converts them to characters.
  thread_local std::vector<std::pair<size_t, size_t>> words, next;
  thread_local std::vector<std::pair<size_t, size_t>> matches;
  thread_local std::vector<BpeModel::Piece> pieces;
  auto char_begin = [&](size_t b) {
    while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
    return b;
  };
  auto char_end = [&](size_t last_byte) {
    size_t b = char_begin(last_byte);
    return std::min(text.size(), b + utf8::char_len(static_cast<unsigned char>(text[b])));
  };
  for (const AddedVocabulary::Match& m : pipeline.added.find_matches_unnormalized(text)) {
    const std::string_view piece = text.substr(m.begin, m.end - m.begin);
    if (m.id >= 0) {
      e.ids.push_back(m.id);
      e.tokens.emplace_back(piece);
      e.offsets.emplace_back(m.begin, m.end);
      continue;
    }
    if (form_ && !unicode::is_normalized(piece, *form_)) return std::optional<Encoding>();
    words.assign(1, {m.begin, m.end});
    for (const Pattern& pattern : splits_) {
      next.clear();
      for (auto [wb, we] : words) {
        matches.clear();
        TGI_TRY(pattern.for_each_match(text.substr(wb, we - wb), matches));
        size_t prev = 0;
        for (auto [b, en] : matches) {
          if (prev < b) next.emplace_back(wb + prev, wb + b);
          if (b < en) next.emplace_back(wb + b, wb + en);
          prev = std::max(prev, en);
        }
        if (prev < we - wb) next.emplace_back(wb + prev, we);
      }
      words.swap(next);
    }
    for (auto [wb, we] : words) {
      TGI_ASSIGN_OR_RETURN(bool served, bpe->tokenize_raw_bytes(text.substr(wb, we - wb), pieces));
      if (!served) return std::optional<Encoding>();
      size_t at = wb;
      for (const BpeModel::Piece& p : pieces) {
        const std::string* token = bpe->id_to_token(static_cast<int32_t>(p.id));
        e.ids.push_back(static_cast<int32_t>(p.id));
        e.tokens.push_back(token ? *token : std::string());
        e.offsets.emplace_back(char_begin(at), char_end(at + p.len - 1));
        at += p.len;
      }
    }
  }
  return std::optional<Encoding>(std::move(e));
}

}  // namespace tgi::tokenizer
