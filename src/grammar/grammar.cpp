#include "grammar/grammar.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "grammar/grammar_matcher.h"

namespace tgi::grammar {

bool Grammar::symbol_nullable(Symbol symbol) const {
  if (symbol.is_rule()) return nullable(symbol.index());
  const LexemeDfa& dfa = *lexemes_[symbol.index()];
  return dfa.start() != LexemeDfa::kDead && dfa.accepting(dfa.start());
}

size_t Grammar::memory_bytes() const {
  size_t bytes = sizeof(Grammar) + flat_symbols_.size() * 4 + production_start_.size() * 4 +
                 production_index_.size() * 4 + rule_first_.size() * 4 + nullable_.size();
  for (const Production& p : productions_) bytes += sizeof(Production) + p.symbols.size() * sizeof(Symbol);
  for (const std::string& name : rule_names_) bytes += sizeof(std::string) + name.capacity();
  for (const auto& dfa : lexemes_) bytes += dfa->memory_bytes();
  return bytes;
}

bool Grammar::accepts(std::string_view text) const {
  GrammarMatcher matcher(*this);
  return matcher.push_bytes(text) && matcher.accepting();
}

bool Grammar::accepts_prefix(std::string_view text) const {
  GrammarMatcher matcher(*this);
  return matcher.push_bytes(text);
}

namespace {

// Lexeme automata are shared by every grammar in the process: the same regex (a plain JSON string,
// an integer, white space, a common key) compiles once, not once per schema. Bounded by bytes;
// when full it starts over. Failures are not kept: they are cheap to repeat and rare.
class SharedDfas {
 public:
  Result<std::shared_ptr<const LexemeDfa>> get(const Regex& regex, const std::string& spelling,
                                               const LexemeDfaLimits& limits) {
    const std::string key = std::to_string(limits.max_states) + ':' + spelling;
    {
      std::lock_guard lock(mutex_);
      if (auto it = dfas_.find(key); it != dfas_.end()) return it->second;
    }
    TGI_ASSIGN_OR_RETURN(LexemeDfa dfa, LexemeDfa::build(regex, limits));
    auto shared = std::make_shared<const LexemeDfa>(std::move(dfa));
    std::lock_guard lock(mutex_);
    const size_t bytes = shared->memory_bytes() + key.size();
    if (held_bytes_ + bytes > kMaxBytes) {
      dfas_.clear();
      held_bytes_ = 0;
    }
    if (dfas_.emplace(key, shared).second) held_bytes_ += bytes;
    return std::shared_ptr<const LexemeDfa>(shared);
  }

 private:
  static constexpr size_t kMaxBytes = size_t{128} << 20;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const LexemeDfa>> dfas_;
  size_t held_bytes_ = 0;
};

}  // namespace

Result<std::shared_ptr<const LexemeDfa>> GrammarBuilder::shared_lexeme_dfa(const Regex& regex,
                                                                           const std::string& spelling,
                                                                           const LexemeDfaLimits& limits) {
  static SharedDfas shared;
  return shared.get(regex, spelling, limits);
}

GrammarBuilder::GrammarBuilder(GrammarLimits limits) : limits_(limits) {}

uint32_t GrammarBuilder::new_rule(std::string name) {
  rules_.push_back(PendingRule{std::move(name), {}});
  if (rules_.size() > limits_.max_rules && !deferred_error_) {
    deferred_error_ =
        Error::make(ErrorKind::kValidation, "grammar too large: more than {} rules", limits_.max_rules);
  }
  return static_cast<uint32_t>(rules_.size() - 1);
}

void GrammarBuilder::add_alternative(uint32_t rule, std::vector<Symbol> symbols) {
  symbol_count_ += symbols.size() + 1;
  if (symbol_count_ > limits_.max_symbols && !deferred_error_) {
    deferred_error_ =
        Error::make(ErrorKind::kValidation, "grammar too large: more than {} symbols", limits_.max_symbols);
  }
  if (deferred_error_) return;  // stop growing once the build is bound to fail
  rules_[rule].alternatives.push_back(std::move(symbols));
}

Symbol GrammarBuilder::lexeme(const Regex& regex) {
  std::string key = regex.to_string();
  if (auto it = lexeme_keys_.find(key); it != lexeme_keys_.end()) return Symbol::lexeme(it->second);
  const auto index = static_cast<uint32_t>(lexemes_.size());
  if (index >= limits_.max_lexemes && !deferred_error_) {
    deferred_error_ =
        Error::make(ErrorKind::kValidation, "grammar too large: more than {} lexemes", limits_.max_lexemes);
  }
  lexemes_.push_back(regex);
  lexeme_spellings_.push_back(key);
  lexeme_keys_.emplace(std::move(key), index);
  return Symbol::lexeme(index);
}

Symbol GrammarBuilder::sequence(std::vector<Symbol> symbols, std::string name) {
  if (symbols.size() == 1) return symbols[0];
  const uint32_t rule = new_rule(std::move(name));
  add_alternative(rule, std::move(symbols));
  return Symbol::rule(rule);
}

Symbol GrammarBuilder::choice(std::vector<Symbol> alternatives, std::string name) {
  if (alternatives.size() == 1) return alternatives[0];
  const uint32_t rule = new_rule(std::move(name));
  for (Symbol s : alternatives) add_alternative(rule, {s});
  return Symbol::rule(rule);
}

Symbol GrammarBuilder::empty() {
  const uint32_t rule = new_rule("empty");
  add_alternative(rule, {});
  return Symbol::rule(rule);
}

Symbol GrammarBuilder::optional(Symbol symbol) {
  const uint32_t rule = new_rule("optional");
  add_alternative(rule, {});
  add_alternative(rule, {symbol});
  return Symbol::rule(rule);
}

Symbol GrammarBuilder::repeat(Symbol symbol, uint32_t min, std::optional<uint32_t> max) {
  if ((min > limits_.max_repeat || (max && *max > limits_.max_repeat)) && !deferred_error_) {
    deferred_error_ =
        Error::make(ErrorKind::kValidation, "repetition bound over the limit of {}", limits_.max_repeat);
  }
  if (deferred_error_) return empty();
  if (max && *max < min) {
    // An empty language: a rule with no alternatives derives nothing.
    return Symbol::rule(new_rule("never"));
  }
  // at_least_min ::= symbol{min}, built as a left-recursive chain of counted rules would cost min
  // rules; one rule with min copies costs min symbols, which is what the limits count anyway.
  std::vector<Symbol> prefix(min, symbol);
  if (!max) {
    // star ::= | star symbol   (left recursion keeps Earley sets small)
    const uint32_t star = new_rule("star");
    add_alternative(star, {});
    add_alternative(star, {Symbol::rule(star), symbol});
    prefix.push_back(Symbol::rule(star));
    return sequence(std::move(prefix), "repeat");
  }
  const uint32_t optional_count = *max - min;
  if (optional_count > 0) {
    // upto_k ::= | upto_{k-1} symbol: at most k more copies, nested so each rule is small.
    uint32_t upto = new_rule("upto");
    add_alternative(upto, {});
    add_alternative(upto, {symbol});
    for (uint32_t k = 2; k <= optional_count && !deferred_error_; ++k) {
      const uint32_t next = new_rule("upto");
      add_alternative(next, {});
      add_alternative(next, {Symbol::rule(upto), symbol});
      upto = next;
    }
    prefix.push_back(Symbol::rule(upto));
  }
  if (prefix.empty()) return empty();
  return sequence(std::move(prefix), "repeat");
}

Symbol GrammarBuilder::separated(Symbol item, Symbol separator, uint32_t min, std::optional<uint32_t> max) {
  if (max && *max == 0) return empty();
  // item (separator item){min-1, max-1}; zero items allowed when min == 0.
  const uint32_t tail_rule = new_rule("separated_tail");
  add_alternative(tail_rule, {separator, item});
  const Symbol tail = repeat(Symbol::rule(tail_rule), min > 0 ? min - 1 : 0,
                             max ? std::optional<uint32_t>(*max - 1) : std::nullopt);
  const Symbol nonempty = sequence({item, tail}, "separated");
  if (min > 0) return nonempty;
  return optional(nonempty);
}

Result<Grammar> GrammarBuilder::build(uint32_t start_rule) {
  if (deferred_error_) return *deferred_error_;
  if (start_rule >= rules_.size()) return Error::make(ErrorKind::kInternal, "grammar: no such start rule");

  Grammar g;
  g.start_rule_ = start_rule;

  // Lexemes first: a lexeme that matches nothing makes every production using it unproductive.
  uint64_t total_states = 0;
  g.lexemes_.reserve(lexemes_.size());
  const LexemeDfaLimits dfa_limits{limits_.max_states_per_lexeme};
  for (size_t i = 0; i < lexemes_.size(); ++i) {
    TGI_ASSIGN_OR_RETURN(std::shared_ptr<const LexemeDfa> dfa,
                         shared_lexeme_dfa(lexemes_[i], lexeme_spellings_[i], dfa_limits));
    total_states += dfa->state_count();
    if (total_states > limits_.max_lexeme_states) {
      return Error::make(ErrorKind::kValidation, "grammar too large: more than {} lexer states in all",
                         limits_.max_lexeme_states);
    }
    g.lexemes_.push_back(std::move(dfa));
  }
  auto lexeme_live = [&](Symbol s) { return g.lexemes_[s.index()]->start() != LexemeDfa::kDead; };

  // Productive rules (derive at least one string). Linear: each alternative counts the rule
  // symbols it still waits on, and a rule becoming productive decrements its users' counts.
  const size_t n = rules_.size();
  std::vector<uint8_t> productive(n, 0);
  {
    struct AltRef {
      uint32_t rule;
      uint32_t alternative;
    };
    std::vector<std::vector<AltRef>> users(n);
    std::vector<std::vector<uint32_t>> waiting(n);
    std::vector<uint32_t> ready;
    for (uint32_t r = 0; r < n; ++r) {
      waiting[r].assign(rules_[r].alternatives.size(), 0);
      for (uint32_t a = 0; a < rules_[r].alternatives.size(); ++a) {
        const auto& alt = rules_[r].alternatives[a];
        if (!std::all_of(alt.begin(), alt.end(), [&](Symbol s) { return s.is_rule() || lexeme_live(s); })) {
          waiting[r][a] = UINT32_MAX;  // a dead lexeme: never productive
          continue;
        }
        for (Symbol s : alt) {
          if (!s.is_rule()) continue;
          ++waiting[r][a];
          users[s.index()].push_back(AltRef{r, a});
        }
        if (waiting[r][a] == 0 && !productive[r]) {
          productive[r] = 1;
          ready.push_back(r);
        }
      }
    }
    while (!ready.empty()) {
      const uint32_t r = ready.back();
      ready.pop_back();
      for (const AltRef& use : users[r]) {
        uint32_t& count = waiting[use.rule][use.alternative];
        if (count == UINT32_MAX || --count != 0 || productive[use.rule]) continue;
        productive[use.rule] = 1;
        ready.push_back(use.rule);
      }
    }
  }
  if (!productive[start_rule]) {
    return Error::make(ErrorKind::kValidation, "the constraint admits no output at all");
  }

  // Keep the productions made only of productive symbols; rules stay numbered as declared.
  g.rule_names_.reserve(n);
  for (auto& rule : rules_) g.rule_names_.push_back(rule.name);
  g.rule_first_.assign(n + 1, 0);
  for (size_t r = 0; r < n; ++r) {
    g.rule_first_[r] = static_cast<uint32_t>(g.production_index_.size());
    for (auto& alt : rules_[r].alternatives) {
      const bool ok = std::all_of(alt.begin(), alt.end(), [&](Symbol s) {
        return s.is_rule() ? productive[s.index()] != 0 : lexeme_live(s);
      });
      if (!ok) continue;
      g.production_index_.push_back(static_cast<uint32_t>(g.productions_.size()));
      g.productions_.push_back(Production{static_cast<uint32_t>(r), std::move(alt)});
    }
  }
  g.rule_first_[n] = static_cast<uint32_t>(g.production_index_.size());
  rules_.clear();

  // Nullable rules, by the same counting over the productions kept.
  g.nullable_.assign(n, 0);
  {
    std::vector<std::vector<uint32_t>> users(n);  // rule -> productions that mention it
    std::vector<uint32_t> waiting(g.productions_.size(), 0);
    std::vector<uint32_t> ready;
    for (uint32_t p = 0; p < g.productions_.size(); ++p) {
      const Production& production = g.productions_[p];
      bool possible = true;
      for (Symbol s : production.symbols) {
        if (s.is_rule()) {
          ++waiting[p];
          users[s.index()].push_back(p);
        } else if (!g.symbol_nullable(s)) {
          possible = false;
        }
      }
      if (!possible) waiting[p] = UINT32_MAX;
      if (waiting[p] == 0 && !g.nullable_[production.rule]) {
        g.nullable_[production.rule] = 1;
        ready.push_back(production.rule);
      }
    }
    while (!ready.empty()) {
      const uint32_t r = ready.back();
      ready.pop_back();
      for (uint32_t p : users[r]) {
        // A rule mentioned twice in one production is counted twice and decremented twice.
        if (waiting[p] == UINT32_MAX || --waiting[p] != 0) continue;
        const uint32_t rule = g.productions_[p].rule;
        if (g.nullable_[rule]) continue;
        g.nullable_[rule] = 1;
        ready.push_back(rule);
      }
    }
  }
  g.production_start_.reserve(g.productions_.size());
  for (const Production& p : g.productions_) {
    g.production_start_.push_back(static_cast<uint32_t>(g.flat_symbols_.size()));
    for (Symbol s : p.symbols) g.flat_symbols_.push_back(s.bits());
    g.flat_symbols_.push_back(Grammar::kEndOfProduction);
    g.flat_symbols_.push_back(p.rule);
  }
  return g;
}

}  // namespace tgi::grammar
