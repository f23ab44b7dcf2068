// Parsing of tokenizer.json "model" into one of the vocabulary models.
#include <nlohmann/json.hpp>

#include "tokenizer/bpe_model.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/unigram_model.h"
#include "tokenizer/word_models.h"

namespace tgi::tokenizer {

namespace {

using json = nlohmann::json;

Result<Vocab> parse_vocab_object(const json& j, TokenizerJson& parsed) {
  if (parsed.vocab) {
    Vocab vocab;
    vocab.reserve(parsed.vocab->size());
    for (auto& [token, id] : *parsed.vocab) TGI_TRY(vocab.add(std::move(token), id));
    parsed.vocab.reset();
    return vocab;
  }
  auto it = j.find("vocab");
  if (it == j.end() || !it->is_object()) return Error::make(ErrorKind::kInvalidArgument, "model \"vocab\" must be an object");
  Vocab vocab;
  vocab.reserve(it->size());
  for (const auto& [token, id] : it->items()) {
    if (!id.is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "vocab id of {:?} is not an integer", token);
    TGI_TRY(vocab.add(token, id.get<int64_t>()));
  }
  return vocab;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_merges(const json& j, TokenizerJson& parsed) {
  if (parsed.merges) return std::move(*parsed.merges);
  std::vector<std::pair<std::string, std::string>> merges;
  auto it = j.find("merges");
  if (it == j.end() || it->is_null()) return merges;
  if (!it->is_array()) return Error::make(ErrorKind::kInvalidArgument, "BPE \"merges\" must be a list");
  merges.reserve(it->size());
  size_t rank = 0;
  for (const auto& m : *it) {
    if (m.is_string()) {
      // Legacy "a b" form (lines starting with #version are comments).
      const std::string& line = m.get_ref<const std::string&>();
      if (line.rfind("#version", 0) == 0) continue;
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} is not \"left right\": {:?}", rank + 1, line);
      merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} is malformed", rank + 1);
    }
    ++rank;
  }
  return merges;
}

}  // namespace

Result<std::unique_ptr<Model>> parse_model(const json& j, TokenizerJson& parsed) {
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "tokenizer.json \"model\" must be an object");
  std::string type;
  if (auto it = j.find("type"); it != j.end() && it->is_string()) {
    type = it->get<std::string>();
  } else if (j.contains("merges")) {
    type = "BPE";
  } else if (j.contains("vocab") && j["vocab"].is_array()) {
    type = "Unigram";
  } else if (j.contains("continuing_subword_prefix") || j.contains("max_input_chars_per_word")) {
    type = "WordPiece";
  } else {
    type = "WordLevel";
  }
  if (type == "BPE") {
    if (auto d = j.find("dropout"); d != j.end() && d->is_number() && d->get<double>() != 0.0)
      return Error::make(ErrorKind::kUnsupported, "BPE dropout is not supported (it makes encoding random)");
    TGI_ASSIGN_OR_RETURN(Vocab vocab, parse_vocab_object(j, parsed));
    TGI_ASSIGN_OR_RETURN(auto merges, parse_merges(j, parsed));
    BpeOptions o;
    TGI_ASSIGN_OR_RETURN(o.unk_token, json_fields::optional_string(j, "unk_token"));
    TGI_ASSIGN_OR_RETURN(o.continuing_subword_prefix, json_fields::optional_string(j, "continuing_subword_prefix"));
    TGI_ASSIGN_OR_RETURN(o.end_of_word_suffix, json_fields::optional_string(j, "end_of_word_suffix"));
    TGI_ASSIGN_OR_RETURN(o.fuse_unk, json_fields::boolean(j, "fuse_unk", false));
    TGI_ASSIGN_OR_RETURN(o.byte_fallback, json_fields::boolean(j, "byte_fallback", false));
    TGI_ASSIGN_OR_RETURN(o.ignore_merges, json_fields::boolean(j, "ignore_merges", false));
    TGI_ASSIGN_OR_RETURN(auto model, BpeModel::create(std::move(vocab), merges, std::move(o)));
    return std::unique_ptr<Model>(std::move(model));
  }
  if (type == "WordLevel") {
    TGI_ASSIGN_OR_RETURN(Vocab vocab, parse_vocab_object(j, parsed));
    TGI_ASSIGN_OR_RETURN(auto unk, json_fields::optional_string(j, "unk_token"));
    return std::unique_ptr<Model>(new WordLevelModel(std::move(vocab), std::move(unk)));
  }
  if (type == "WordPiece") {
    TGI_ASSIGN_OR_RETURN(Vocab vocab, parse_vocab_object(j, parsed));
    TGI_ASSIGN_OR_RETURN(std::string unk, json_fields::string_or(j, "unk_token", "[UNK]"));
    TGI_ASSIGN_OR_RETURN(std::string prefix, json_fields::string_or(j, "continuing_subword_prefix", "##"));
    TGI_ASSIGN_OR_RETURN(int64_t max_chars, json_fields::integer_or(j, "max_input_chars_per_word", 100));
    return std::unique_ptr<Model>(
        new WordPieceModel(std::move(vocab), std::move(unk), std::move(prefix), static_cast<size_t>(std::max<int64_t>(0, max_chars))));
  }
  if (type == "Unigram") return parse_unigram_model(j);
  return Error::make(ErrorKind::kUnsupported, "unsupported model type {:?}", type);
}

}  // namespace tgi::tokenizer
