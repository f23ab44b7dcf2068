#include "tokenizer/tokenizer.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "tokenizer/pipeline.h"
#include "tokenizer/tokenizer_config_loader.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

Tokenizer::Tokenizer(std::unique_ptr<TokenizerPipeline> pipeline, TokenizerConfig config)
    : pipeline_(std::move(pipeline)), config_(std::move(config)) {
  // Added tokens whose content is also in the model's vocab share its id.
  size_t overlapping = 0;
  for (const auto& [content, id] : pipeline_->added.ids_by_content())
    if (pipeline_->model->token_to_id(content)) ++overlapping;
  vocab_size_ = static_cast<int32_t>(pipeline_->model->vocab_size() + pipeline_->added.size() - overlapping);
}
Tokenizer::~Tokenizer() = default;

namespace {

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error::make(ErrorKind::kNotFound, "cannot open {}", path.string());
  const std::streamoff size = in.tellg();
  if (size < 0) return Error::make(ErrorKind::kIo, "cannot read {}", path.string());
  std::string text(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), size)) return Error::make(ErrorKind::kIo, "cannot read {}", path.string());
  return text;
}

Result<std::unique_ptr<TokenizerPipeline>> parse_pipeline(std::string_view text) {
  TGI_ASSIGN_OR_RETURN(TokenizerJson parsed, read_tokenizer_json(text));
  try {
    return TokenizerPipeline::from_json(std::move(parsed));
  } catch (const std::exception& e) {  // nlohmann type errors on malformed fields
    return Error::make(ErrorKind::kInvalidArgument, "malformed tokenizer.json: {}", e.what());
  }
}

// Byte offset -> character index, as tokenizers' BytesToCharOffsetConverter.
class CharOffsets {
 public:
  explicit CharOffsets(std::string_view text) : size_(text.size()) {
    bool ascii = true;
    for (unsigned char c : text) ascii = ascii && c < 0x80;
    if (ascii) return;
    map_.resize(text.size());
    uint32_t index = 0;
    for (size_t i = 0; i < text.size(); ++index) {
      const size_t n = utf8::char_len(static_cast<unsigned char>(text[i]));
      for (size_t k = 0; k < n && i + k < text.size(); ++k) map_[i + k] = index;
      i += n;
    }
  }
  std::pair<size_t, size_t> convert(std::pair<size_t, size_t> o) const {
    if (map_.empty()) return o;  // ASCII: bytes are characters
    if (o.first >= size_) return o;  // not in the map: tokenizers keeps byte offsets
    const size_t start = map_[o.first];
    if (o.second < size_) return {start, map_[o.second]};
    const size_t last = o.second >= 1 && o.second - 1 < size_ ? map_[o.second - 1] : start;
    return {start, last + 1};
  }

 private:
  size_t size_;
  std::vector<uint32_t> map_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_json_string(std::string_view json) {
  TGI_ASSIGN_OR_RETURN(auto pipeline, parse_pipeline(json));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(pipeline), TokenizerConfig{}));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_json(const nlohmann::json& tokenizer_json,
                                                     const nlohmann::json& tokenizer_config) {
  // Through text, so one reader (and its checks) serves files and built documents alike; token
  // strings that are not UTF-8 become U+FFFD instead of making dump() throw.
  const std::string text = tokenizer_json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  TGI_ASSIGN_OR_RETURN(auto tokenizer, from_json_string(text));
  if (tokenizer_config.is_object()) {
    const std::string config_text = tokenizer_config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    TGI_ASSIGN_OR_RETURN(tokenizer->config_, parse_tokenizer_config(config_text, *tokenizer));
    TGI_TRY(apply_tgi_post_processor_override(*tokenizer->pipeline_, tokenizer->config_, *tokenizer));
  }
  return tokenizer;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_file(const std::filesystem::path& tokenizer_json) {
  TGI_ASSIGN_OR_RETURN(std::string text, read_file(tokenizer_json));
  auto t = from_json_string(text);
  if (!t.ok()) return Error{t.error().kind, fmt::format("{}: {}", tokenizer_json.string(), t.error().message)};
  return t;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_model_dir(const std::filesystem::path& dir) {
  TGI_ASSIGN_OR_RETURN(auto tokenizer, from_file(dir / "tokenizer.json"));
  const auto config_path = dir / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::exists(config_path, ec)) {
    TGI_ASSIGN_OR_RETURN(std::string text, read_file(config_path));
    TGI_ASSIGN_OR_RETURN(tokenizer->config_, parse_tokenizer_config(text, *tokenizer));
    TGI_TRY(apply_tgi_post_processor_override(*tokenizer->pipeline_, tokenizer->config_, *tokenizer));
  }
  return tokenizer;
}

Result<Encoding> Tokenizer::encode(std::string_view input, bool add_special_tokens) const {
  std::string repaired;
  std::string_view text = input;
  if (!utf8::is_valid(input)) {
    repaired = utf8::repair(input);
    text = repaired;
  }
  const TokenizerPipeline& p = *pipeline_;
  const CharOffsets char_offsets(text);
  if (p.byte_level_fast_path) {
    TGI_ASSIGN_OR_RETURN(std::optional<Encoding> fast, p.byte_level_fast_path->encode(text, p));
    if (fast) {
      for (auto& o : fast->offsets) o = char_offsets.convert(o);
      TGI_TRY(p.finish(*fast, add_special_tokens));
      return std::move(*fast);
    }
  }
  TGI_ASSIGN_OR_RETURN(PreTokenizedString pre, p.added.extract_and_normalize(text, p.normalizer.get()));
  if (p.pre_tokenizer) TGI_TRY(p.pre_tokenizer->pre_tokenize(pre));
  Encoding e;
  std::vector<Token> tokens;
  for (Split& split : pre.splits) {
    if (!split.tokens) {
      tokens.clear();
      TGI_TRY(p.model->tokenize(split.normalized.get(), tokens));
      split.tokens = std::move(tokens);
      tokens = {};
    }
    for (Token& t : *split.tokens) {
      std::pair<size_t, size_t> bytes;
      if (t.begin == t.end) {
        bytes = {split.normalized.original_begin() + t.begin, split.normalized.original_begin() + t.end};
      } else {
        bytes = split.normalized.original_range(t.begin, t.end);
      }
      e.ids.push_back(t.id);
      e.tokens.push_back(std::move(t.value));
      e.offsets.push_back(char_offsets.convert(bytes));
    }
  }
  TGI_TRY(p.finish(e, add_special_tokens));
  return e;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const TokenizerPipeline& p = *pipeline_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* token = p.added.id_to_token(id);
    if (!token) token = p.model->id_to_token(id);
    if (!token) continue;
    if (skip_special_tokens && p.added.is_special_content(*token)) continue;
    tokens.push_back(*token);
  }
  if (p.decoder) return p.decoder->decode(std::move(tokens));
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out.push_back(' ');
    out += tokens[i];
  }
  return out;
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (const std::string* t = pipeline_->added.id_to_token(id)) return *t;
  if (const std::string* t = pipeline_->model->id_to_token(id)) return *t;
  return std::nullopt;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = pipeline_->added.token_to_id(token)) return id;
  return pipeline_->model->token_to_id(token);
}

int32_t Tokenizer::vocab_size() const {
  return vocab_size_;
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* t = pipeline_->added.token(id);
  return t && t->special;
}

const TokenizerConfig& Tokenizer::config() const { return config_; }

}  // namespace tgi::tokenizer
