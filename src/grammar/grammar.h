#pragma once
// A context-free grammar whose terminals are lexemes: regular expressions compiled to byte DFAs
// (lexeme_dfa.h). Every constraint we accept -- JSON Schema, regex, GBNF, forced tool calls --
// becomes one of these, and one matcher (grammar_matcher.h) enforces all of them. A regex
// constraint is a grammar with a single lexeme; JSON Schema uses lexemes for strings, numbers,
// punctuation and white space and rules for structure.
//
// A Grammar is immutable once built and shared between requests (compiled grammars are cached).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "grammar/lexeme_dfa.h"
#include "grammar/regex.h"

namespace tgi::grammar {

// Bounds on what one constraint may cost to compile and hold; past them, building fails with a
// kValidation error (a 422), never an unbounded allocation.
struct GrammarLimits {
  uint32_t max_rules = 200'000;
  uint64_t max_symbols = 2'000'000;  // summed over all productions
  uint32_t max_lexemes = 50'000;
  uint64_t max_lexeme_states = 500'000;  // summed over all lexeme DFAs
  uint32_t max_states_per_lexeme = 20'000;
  uint32_t max_repeat = 10'000;  // largest bound GrammarBuilder::repeat takes
};

// A rule or a lexeme, by index into its grammar.
class Symbol {
 public:
  static Symbol rule(uint32_t index) { return Symbol(index << 1); }
  static Symbol lexeme(uint32_t index) { return Symbol((index << 1) | 1); }
  bool is_rule() const { return (bits_ & 1) == 0; }
  bool is_lexeme() const { return (bits_ & 1) != 0; }
  uint32_t index() const { return bits_ >> 1; }
  uint32_t bits() const { return bits_; }
  bool operator==(const Symbol&) const = default;

 private:
  explicit Symbol(uint32_t bits) : bits_(bits) {}
  uint32_t bits_;
};

struct Production {
  uint32_t rule = 0;  // the left-hand side
  std::vector<Symbol> symbols;
};

class Grammar {
 public:
  uint32_t start_rule() const { return start_rule_; }
  uint32_t rule_count() const { return static_cast<uint32_t>(rule_names_.size()); }
  const std::string& rule_name(uint32_t rule) const { return rule_names_[rule]; }
  // Indices into productions() of the alternatives of `rule`.
  std::span<const uint32_t> productions_of(uint32_t rule) const {
    return {production_index_.data() + rule_first_[rule], production_index_.data() + rule_first_[rule + 1]};
  }
  const std::vector<Production>& productions() const { return productions_; }
  // Whether `rule` derives the empty string.
  bool nullable(uint32_t rule) const { return nullable_[rule] != 0; }
  uint32_t lexeme_count() const { return static_cast<uint32_t>(lexemes_.size()); }
  const LexemeDfa& lexeme(uint32_t index) const { return *lexemes_[index]; }
  // Whether `symbol` can derive "" (a nullable rule, or a lexeme whose regex matches "").
  bool symbol_nullable(Symbol symbol) const;

  // The productions laid out flat for the matcher: production p's symbols (Symbol::bits()) start
  // at flat_symbols()[production_start(p)] and are followed by kEndOfProduction and then p's rule,
  // so an Earley item is just a position in this array.
  static constexpr uint32_t kEndOfProduction = UINT32_MAX;
  const std::vector<uint32_t>& flat_symbols() const { return flat_symbols_; }
  uint32_t production_start(uint32_t production) const { return production_start_[production]; }

  // Approximate heap bytes held (the compiled-grammar cache keeps a budget of these).
  size_t memory_bytes() const;

  // Whether the whole of `text` is a sentence of the grammar (tests and tools; runs the matcher).
  bool accepts(std::string_view text) const;
  // Whether `text` can be extended to a sentence.
  bool accepts_prefix(std::string_view text) const;

 private:
  friend class GrammarBuilder;
  uint32_t start_rule_ = 0;
  std::vector<std::string> rule_names_;
  std::vector<Production> productions_;
  std::vector<uint32_t> production_index_;  // productions grouped by rule
  std::vector<uint32_t> rule_first_;        // rule -> first slot in production_index_ (+1 sentinel)
  std::vector<uint8_t> nullable_;
  // Shared with other grammars that use the same regex (see GrammarBuilder::build).
  std::vector<std::shared_ptr<const LexemeDfa>> lexemes_;
  std::vector<uint32_t> flat_symbols_;
  std::vector<uint32_t> production_start_;
};

// Builds a Grammar. Rules may be declared before they are defined, so recursion (JSON Schema
// `$ref`, GBNF rules used before their definition) needs no second pass in the callers.
class GrammarBuilder {
 public:
  explicit GrammarBuilder(GrammarLimits limits = {});

  // A new rule with no alternatives yet.
  uint32_t new_rule(std::string name);
  // Appends `symbols` (possibly empty: an epsilon alternative) as an alternative of `rule`.
  void add_alternative(uint32_t rule, std::vector<Symbol> symbols);

  // A lexeme for `regex`; equal regexes (by Regex::to_string) share one lexeme.
  Symbol lexeme(const Regex& regex);
  Symbol literal(std::string_view utf8) { return lexeme(Regex::literal(utf8)); }

  // Conveniences that create helper rules.
  Symbol sequence(std::vector<Symbol> symbols, std::string name = "seq");
  Symbol choice(std::vector<Symbol> alternatives, std::string name = "choice");
  Symbol empty();
  Symbol optional(Symbol symbol);
  // `symbol` min..max times (max absent = unbounded), as left-recursive rules (cheap for Earley).
  // Bounds above GrammarLimits::max_repeat make build() fail.
  Symbol repeat(Symbol symbol, uint32_t min, std::optional<uint32_t> max);
  // item (separator item)* with min..max items.
  Symbol separated(Symbol item, Symbol separator, uint32_t min, std::optional<uint32_t> max);

  uint32_t rule_count() const { return static_cast<uint32_t>(rules_.size()); }
  const GrammarLimits& limits() const { return limits_; }

  // The automaton of `regex` (whose Regex::to_string is `spelling`), from a process-wide cache:
  // the same lexeme in another grammar (a plain string, an integer, a common key) compiles once.
  static Result<std::shared_ptr<const LexemeDfa>> shared_lexeme_dfa(const Regex& regex,
                                                                    const std::string& spelling,
                                                                    const LexemeDfaLimits& limits);

  // Compiles every lexeme, drops what can never be part of a sentence, and checks the limits.
  // Fails (kValidation) when a limit is passed, a lexeme does not compile, or the start rule
  // derives no string at all.
  Result<Grammar> build(uint32_t start_rule);

 private:
  struct PendingRule {
    std::string name;
    std::vector<std::vector<Symbol>> alternatives;
  };
  GrammarLimits limits_;
  std::vector<PendingRule> rules_;
  std::vector<Regex> lexemes_;
  std::vector<std::string> lexeme_spellings_;              // Regex::to_string of each lexeme
  std::unordered_map<std::string, uint32_t> lexeme_keys_;  // Regex::to_string -> lexeme
  std::optional<Error> deferred_error_;  // the first misuse (e.g. a repeat bound over the limit)
  uint64_t symbol_count_ = 0;
};

}  // namespace tgi::grammar
