#include "tokenizer/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

class CompiledRegex {
 public:
  explicit CompiledRegex(pcre2_code* code) : code_(code) {}
  ~CompiledRegex() { pcre2_code_free(code_); }
  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;
  pcre2_code* code() const { return code_; }

 private:
  pcre2_code* code_;
};

namespace {

// One match block per thread: compiled patterns are shared, match state must not be.
struct ThreadMatchState {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  ThreadMatchState() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
  ~ThreadMatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
  }
};

ThreadMatchState& match_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.kind_ = Kind::kLiteral;
  p.literal_ = std::move(text);
  return p;
}

Result<Pattern> Pattern::regex(const std::string& expression) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expression.data()), expression.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return Error::make(ErrorKind::kInvalidArgument, "invalid regex in tokenizer.json at offset {}: {}",
                       error_offset, reinterpret_cast<const char*>(message));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when unavailable
  Pattern p;
  p.kind_ = Kind::kRegex;
  p.regex_ = std::make_shared<CompiledRegex>(code);
  return p;
}

Pattern Pattern::predicate(std::function<bool(char32_t)> matches) {
  Pattern p;
  p.kind_ = Kind::kPredicate;
  p.predicate_ = std::move(matches);
  return p;
}

Result<void> Pattern::for_each_match(std::string_view inside, std::vector<std::pair<size_t, size_t>>& out) const {
  switch (kind_) {
    case Kind::kLiteral: {
      if (literal_.empty()) return {};
      for (size_t pos = inside.find(literal_); pos != std::string_view::npos;
           pos = inside.find(literal_, pos + literal_.size())) {
        out.emplace_back(pos, pos + literal_.size());
      }
      return {};
    }
    case Kind::kPredicate: {
      for (size_t i = 0; i < inside.size();) {
        const size_t b = i;
        const char32_t c = utf8::next(inside, i);
        if (predicate_(c)) out.emplace_back(b, i);
      }
      return {};
    }
    case Kind::kRegex: {
      ThreadMatchState& st = match_state();
      size_t start = 0;
      size_t last_match_end = std::string_view::npos;
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(inside.data());
      while (start <= inside.size()) {
        const int rc = pcre2_match(regex_->code(), subject, inside.size(), start, PCRE2_NO_UTF_CHECK, st.data,
                                   st.context);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0 && rc != 0) {
          PCRE2_UCHAR message[256];
          pcre2_get_error_message(rc, message, sizeof(message));
          return Error::make(ErrorKind::kInvalidArgument, "regex match failed: {}",
                             reinterpret_cast<const char*>(message));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
        const size_t b = ov[0], e = ov[1];
        if (b == e && b == last_match_end) {
          // An empty match right after the previous match is skipped, as Rust's iterators do.
          if (b >= inside.size()) break;
          start = b + utf8::char_len(static_cast<unsigned char>(inside[b]));
          continue;
        }
        out.emplace_back(b, e);
        last_match_end = e;
        if (e == b) {
          if (b >= inside.size()) break;
          start = b + utf8::char_len(static_cast<unsigned char>(inside[b]));
        } else {
          start = e;
        }
      }
      return {};
    }
  }
  return {};
}

Result<std::vector<PatternPiece>> Pattern::find_matches(std::string_view inside) const {
  std::vector<PatternPiece> pieces;
  if (inside.empty()) {
    pieces.push_back({0, 0, false});
    return pieces;
  }
  if (kind_ == Kind::kLiteral && literal_.empty()) {
    pieces.push_back({0, utf8::count_chars(inside), false});  // sic: tokenizers counts chars here
    return pieces;
  }
  std::vector<std::pair<size_t, size_t>> matches;
  TGI_TRY(for_each_match(inside, matches));
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) pieces.push_back({prev, b, false});
    pieces.push_back({b, e, true});
    prev = e;
  }
  if (prev != inside.size()) pieces.push_back({prev, inside.size(), false});
  return pieces;
}

std::vector<PatternPiece> invert(std::vector<PatternPiece> pieces) {
  for (auto& p : pieces) p.is_match = !p.is_match;
  return pieces;
}

}  // namespace tgi::tokenizer
