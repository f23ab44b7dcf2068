// tokenizer.json "Precompiled": SentencePiece's charsmap applied the way Hugging Face tokenizers
// applies it: per extended grapheme cluster, the whole cluster is looked up when it is shorter
// than 6 bytes, otherwise (or when the cluster has no entry) each of its characters is.
#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "tokenizer/base64.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/precompiled_charsmap.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {

// Grapheme cluster boundaries (byte offsets) of valid UTF-8 `text`, end included.
Result<std::vector<size_t>> grapheme_ends(std::string_view text) {
  std::vector<size_t> ends;
  bool ascii = true;
  for (unsigned char c : text) ascii = ascii && c < 0x80;
  if (ascii) {  // every ASCII character is a cluster of its own, except CR LF
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ends.push_back(i + 1);
    }
    return ends;
  }
  // One iterator per thread: creating one costs far more than segmenting a typical input.
  thread_local std::unique_ptr<icu::BreakIterator> iterator;
  UErrorCode status = U_ZERO_ERROR;
  if (!iterator) {
    iterator.reset(icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !iterator) {
      iterator.reset();
      return Error::make(ErrorKind::kInternal, "ICU grapheme segmentation is unavailable: {}", u_errorName(status));
    }
  }
  UText* utext = utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &status);
  if (U_FAILURE(status)) return Error::make(ErrorKind::kInternal, "ICU cannot read the text: {}", u_errorName(status));
  iterator->setText(utext, status);
  if (U_FAILURE(status)) {
    utext_close(utext);
    return Error::make(ErrorKind::kInternal, "ICU cannot segment the text: {}", u_errorName(status));
  }
  for (int32_t end = iterator->next(); end != icu::BreakIterator::DONE; end = iterator->next()) {
    ends.push_back(static_cast<size_t>(end));  // native (UTF-8 byte) indices for a UTF-8 UText
  }
  utext_close(utext);
  return ends;
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The alignment changes tokenizers records when `old_part` becomes `new_part`: new characters
// replace (0); extra ones are insertions (+1, the last ones); fewer fold the removal into the
// last change recorded so far.
void record_replacement(CharChanges& changes, std::string_view old_part, std::string_view new_part) {
  const auto diff = static_cast<long>(char_count(new_part)) - static_cast<long>(char_count(old_part));
  for (size_t i = 0; i < new_part.size();) changes.emplace_back(utf8::next(new_part, i), 0);
  if (diff > 0) {
    for (long k = 0; k < diff; ++k) changes[changes.size() - 1 - static_cast<size_t>(k)].second = 1;
  } else if (diff < 0 && !changes.empty()) {
    changes.back().second += static_cast<int>(diff);
  }
}

class PrecompiledNormalizer final : public Normalizer {
 public:
  explicit PrecompiledNormalizer(PrecompiledCharsmap map) : map_(std::move(map)) {}

  Result<void> normalize(NormalizedString& s) const override {
    const std::string& text = s.get();
    TGI_ASSIGN_OR_RETURN(const std::vector<size_t> ends, grapheme_ends(text));
    CharChanges changes;
    changes.reserve(text.size());
    bool modified = false;
    size_t begin = 0;
    for (size_t end : ends) {
      const std::string_view grapheme(text.data() + begin, end - begin);
      begin = end;
      if (grapheme.size() < 6) {
        TGI_ASSIGN_OR_RETURN(const auto replacement, map_.transform(grapheme));
        if (replacement) {
          modified = true;
          record_replacement(changes, grapheme, *replacement);
          continue;
        }
      }
      for (size_t i = 0; i < grapheme.size();) {
        const size_t at = i;
        const char32_t c = utf8::next(grapheme, i);
        const std::string_view part = grapheme.substr(at, i - at);
        TGI_ASSIGN_OR_RETURN(const auto replacement, map_.transform(part));
        if (replacement) {
          modified = true;
          record_replacement(changes, part, *replacement);
        } else {
          changes.emplace_back(c, 0);
        }
      }
    }
    if (modified) s.transform(changes, 0);
    return {};
  }

 private:
  PrecompiledCharsmap map_;
};

class IdentityNormalizer final : public Normalizer {
 public:
  Result<void> normalize(NormalizedString&) const override { return {}; }
};

}  // namespace

Result<std::unique_ptr<Normalizer>> make_precompiled_normalizer(const nlohmann::json& j) {
  const auto it = j.find("precompiled_charsmap");
  // Some converters write null (or "") for "no charsmap"; the Rust library refuses null, but the
  // only sensible meaning is "normalize nothing".
  if (it == j.end() || it->is_null() || (it->is_string() && it->get_ref<const std::string&>().empty())) {
    return std::unique_ptr<Normalizer>(new IdentityNormalizer());
  }
  if (!it->is_string()) return Error::make(ErrorKind::kInvalidArgument, "Precompiled: precompiled_charsmap must be a base64 string");
  auto blob = base64_decode(it->get_ref<const std::string&>());
  if (!blob.ok()) return Error::make(ErrorKind::kInvalidArgument, "Precompiled: precompiled_charsmap: {}", blob.error().message);
  TGI_ASSIGN_OR_RETURN(PrecompiledCharsmap map, PrecompiledCharsmap::parse(*blob));
  return std::unique_ptr<Normalizer>(new PrecompiledNormalizer(std::move(map)));
}

}  // namespace tgi::tokenizer
