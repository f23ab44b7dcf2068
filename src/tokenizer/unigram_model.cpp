#include "tokenizer/unigram_model.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {
constexpr double kUnkPenalty = 10.0;
}  // namespace

UnigramModel::UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<size_t> unk_id,
                           bool byte_fallback)
    : pieces_(std::move(pieces)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < pieces_.size(); ++i) {
    ids_[pieces_[i].first] = static_cast<int32_t>(i);
    min_score_ = std::min(min_score_, pieces_[i].second);
  }
  // The trie stores each distinct piece once, with the id the token map resolves it to.
  for (const auto& [text, id] : ids_) trie_.insert(text, id);
}

std::optional<int32_t> UnigramModel::token_to_id(std::string_view token) const {
  auto it = ids_.find(token);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

const std::string* UnigramModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return nullptr;
  return &pieces_[static_cast<size_t>(id)].first;
}

Result<void> UnigramModel::tokenize(std::string_view s, std::vector<Token>& out) const {
  if (s.empty()) return {};
  struct Node {
    int64_t id = 0;
    double score = 0;
    std::optional<size_t> starts_at;
  };
  const double unk_score = min_score_ - kUnkPenalty;
  std::vector<Node> best(s.size() + 1);
  for (size_t start = 0; start < s.size();) {
    const double here = best[start].score;
    const size_t mblen = std::min(utf8::char_len(static_cast<unsigned char>(s[start])), s.size() - start);
    bool has_single = false;
    trie_.for_each_prefix(s, start, [&](size_t len, int32_t id) {
      Node& target = best[start + len];
      const double candidate = pieces_[static_cast<size_t>(id)].second + here;
      if (!target.starts_at || candidate > target.score) {
        target = {id, candidate, start};
      }
      if (len == mblen) has_single = true;
    });
    if (!has_single) {
      if (!unk_id_) return Error::make(ErrorKind::kInvalidArgument, "Unigram: text needs an unk token but unk_id is unset");
      Node& target = best[start + mblen];
      const double candidate = unk_score + here;
      if (!target.starts_at || candidate > target.score) target = {static_cast<int64_t>(*unk_id_), candidate, start};
    }
    start += mblen;
  }
  // Walk back, fusing consecutive unknown pieces.
  std::vector<std::pair<size_t, size_t>> spans;
  std::optional<std::pair<size_t, size_t>> unk_span;
  for (size_t end = s.size(); end > 0;) {
    const Node& node = best[end];
    const size_t begin = *node.starts_at;
    if (unk_id_ && node.id == static_cast<int64_t>(*unk_id_)) {
      unk_span = unk_span ? std::make_pair(begin, unk_span->second) : std::make_pair(begin, end);
    } else {
      if (unk_span) {
        spans.push_back(*unk_span);
        unk_span.reset();
      }
      spans.emplace_back(begin, end);
    }
    end = begin;
  }
  if (unk_span) spans.push_back(*unk_span);
  std::reverse(spans.begin(), spans.end());
  for (auto [b, e] : spans) {
    const std::string piece(s.substr(b, e - b));
    if (auto id = token_to_id(piece)) {
      out.push_back({*id, piece, b, e});
      continue;
    }
    if (byte_fallback_) {
      std::vector<Token> bytes;
      for (unsigned char c : piece) {
        const std::string name = fmt::format("<0x{:02X}>", c);
        auto id = token_to_id(name);
        if (!id) break;
        bytes.push_back({*id, name, b, e});
      }
      if (bytes.size() == piece.size()) {
        for (auto& t : bytes) out.push_back(std::move(t));
        continue;
      }
    }
    if (!unk_id_) return Error::make(ErrorKind::kInvalidArgument, "Unigram: text needs an unk token but unk_id is unset");
    out.push_back({static_cast<int32_t>(*unk_id_), piece, b, e});
  }
  return {};
}

Result<std::unique_ptr<Model>> parse_unigram_model(const nlohmann::json& j) {
  auto it = j.find("vocab");
  if (it == j.end() || !it->is_array()) return Error::make(ErrorKind::kInvalidArgument, "Unigram \"vocab\" must be a list");
  if (it->size() > static_cast<size_t>(Vocab::kMaxId)) return Error::make(ErrorKind::kInvalidArgument, "Unigram vocab too large");
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(it->size());
  for (const auto& p : *it) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_number())
      return Error::make(ErrorKind::kInvalidArgument, "Unigram vocab entries must be [piece, score]");
    pieces.emplace_back(p[0].get<std::string>(), p[1].get<double>());
  }
  std::optional<size_t> unk_id;
  if (auto u = j.find("unk_id"); u != j.end() && !u->is_null()) {
    if (!u->is_number_unsigned()) return Error::make(ErrorKind::kInvalidArgument, "Unigram unk_id must be an index");
    unk_id = u->get<size_t>();
    if (pieces.empty()) return Error::make(ErrorKind::kInvalidArgument, "Unigram vocab is empty");
    if (*unk_id >= pieces.size()) return Error::make(ErrorKind::kInvalidArgument, "Unigram unk_id is not in the vocab");
  }
  bool byte_fallback = false;
  if (auto b = j.find("byte_fallback"); b != j.end() && b->is_boolean()) byte_fallback = b->get<bool>();
  return std::unique_ptr<Model>(new UnigramModel(std::move(pieces), unk_id, byte_fallback));
}

}  // namespace tgi::tokenizer
