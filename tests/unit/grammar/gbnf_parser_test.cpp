// GBNF -> Grammar: the public grammars of the structured-output data set, the syntax llama.cpp
// accepts (comments, multi-line alternatives, escapes, classes, repetitions), the errors with their
// positions, the limits, and a fixed-seed mutation smoke test (no crash, errors are kValidation).
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar.h"
#include "shared_structured_data.h"

namespace tgi::grammar {
namespace {

using ::testing::HasSubstr;

const char* kGrammarsPath = TGI_SOURCE_DIR "/../shared/structured/gbnf/grammars.json";

Grammar compile_ok(std::string_view text, const GrammarLimits& limits = {}) {
  Result<Grammar> grammar = compile_gbnf(text, limits);
  if (!grammar.ok()) {
    ADD_FAILURE() << "grammar refused: " << grammar.error().message << "\n" << text;
    return compile_gbnf("root ::= \"\\x00\"").value();
  }
  return std::move(grammar).value();
}

// The message of the error, checking that it is a validation error; "<ok>" when it compiles.
std::string error_of(std::string_view text, const GrammarLimits& limits = {}) {
  Result<Grammar> grammar = compile_gbnf(text, limits);
  if (grammar.ok()) return "<ok>";
  EXPECT_EQ(grammar.error().kind, ErrorKind::kValidation) << grammar.error().message;
  return grammar.error().message;
}

std::vector<nlohmann::json> load_grammars() {
  return testing::load_json_array(kGrammarsPath);
}

// --- the data set ---------------------------------------------------------------------------

TEST(GbnfDataSet, EveryGrammarCompilesAndJudgesItsExamples) {
  const std::vector<nlohmann::json> grammars = load_grammars();
  if (grammars.empty()) GTEST_SKIP() << "no " << kGrammarsPath;
  EXPECT_GE(grammars.size(), 13u);
  size_t checked = 0;
  for (const nlohmann::json& entry : grammars) {
    const std::string id = entry.at("id").get<std::string>();
    SCOPED_TRACE(id);
    Result<Grammar> grammar = compile_gbnf(entry.at("grammar").get<std::string>());
    ASSERT_TRUE(grammar.ok()) << grammar.error().message;
    for (const auto& text : entry.value("valid", nlohmann::json::array())) {
      EXPECT_TRUE(grammar->accepts(text.get<std::string>())) << "valid: " << text;
      EXPECT_TRUE(grammar->accepts_prefix(text.get<std::string>())) << "valid as prefix: " << text;
      ++checked;
    }
    for (const auto& text : entry.value("prefixes", nlohmann::json::array())) {
      EXPECT_TRUE(grammar->accepts_prefix(text.get<std::string>())) << "prefix: " << text;
      EXPECT_FALSE(grammar->accepts(text.get<std::string>())) << "incomplete: " << text;
      ++checked;
    }
    for (const auto& text : entry.value("invalid", nlohmann::json::array())) {
      EXPECT_FALSE(grammar->accepts(text.get<std::string>())) << "invalid: " << text;
      ++checked;
    }
  }
  EXPECT_GE(checked, 40u);
}

// --- syntax ---------------------------------------------------------------------------------

TEST(GbnfSyntax, LiteralsAndSequences) {
  Grammar g = compile_ok(R"(root ::= "ab" "c" x
x ::= "d")");
  EXPECT_TRUE(g.accepts("abcd"));
  EXPECT_FALSE(g.accepts("abc"));
  EXPECT_TRUE(g.accepts_prefix("abc"));
  EXPECT_FALSE(g.accepts_prefix("abd"));
  EXPECT_FALSE(g.accepts("abcdd"));
}

TEST(GbnfSyntax, ForwardReferencesAndRecursion) {
  Grammar g = compile_ok(R"(
root ::= list
list ::= "[" items? "]"
items ::= list | list "," items
)");
  EXPECT_TRUE(g.accepts("[]"));
  EXPECT_TRUE(g.accepts("[[],[[]]]"));
  EXPECT_FALSE(g.accepts("[[],]"));
  EXPECT_TRUE(g.accepts_prefix("[[[[[["));
}

TEST(GbnfSyntax, LeftRecursionIsAccepted) {
  Grammar g = compile_ok("root ::= root \"a\" | \"b\"\n");
  EXPECT_TRUE(g.accepts("b"));
  EXPECT_TRUE(g.accepts("baaa"));
  EXPECT_FALSE(g.accepts("ab"));
}

TEST(GbnfSyntax, CommentsAndBlankLines) {
  Grammar g = compile_ok(R"(# leading comment

root ::= "a" # trailing comment with "quotes" and [brackets
   # indented comment

  # and another
)");
  EXPECT_TRUE(g.accepts("a"));
  EXPECT_FALSE(g.accepts("a#"));
}

TEST(GbnfSyntax, MultiLineAlternatives) {
  // A rule continues on the next line after a trailing `|` and inside parentheses.
  Grammar g = compile_ok(R"(root ::= "a" |
  "b" |
  ( "c"
    "d"
  | "e" )
other ::= "x"
)");
  EXPECT_TRUE(g.accepts("a"));
  EXPECT_TRUE(g.accepts("b"));
  EXPECT_TRUE(g.accepts("cd"));
  EXPECT_TRUE(g.accepts("e"));
  EXPECT_FALSE(g.accepts("x"));
  EXPECT_FALSE(g.accepts("c"));
}

TEST(GbnfSyntax, AlternativeStartingANewLineIsAnError) {
  // As in llama.cpp: a newline outside parentheses ends the rule, so a `|` cannot begin a line.
  EXPECT_THAT(error_of("root ::= \"a\"\n  | \"b\"\n"), HasSubstr("GBNF line 2:3: expected a rule name"));
}

TEST(GbnfSyntax, DefinitionSpanningLinesAfterOperator) {
  Grammar g = compile_ok("root ::=\n    \"a\"\n");
  EXPECT_TRUE(g.accepts("a"));
}

TEST(GbnfSyntax, CrLfLineEndings) {
  Grammar g = compile_ok("root ::= a \"!\"\r\na ::= \"x\" |\r\n \"y\"\r\n");
  EXPECT_TRUE(g.accepts("x!"));
  EXPECT_TRUE(g.accepts("y!"));
  EXPECT_THAT(error_of("root ::= \"a\"\r\n\r\nx ::= y\r\n"), HasSubstr("GBNF line 3:7: undefined rule 'y'"));
}

TEST(GbnfSyntax, EmptyAlternativesAndEmptyLiteral) {
  Grammar g = compile_ok(R"(root ::= "<" ws ">" ""
ws ::= | " " | "  "
)");
  EXPECT_TRUE(g.accepts("<>"));
  EXPECT_TRUE(g.accepts("< >"));
  EXPECT_TRUE(g.accepts("<  >"));
  EXPECT_FALSE(g.accepts("<   >"));
  Grammar e = compile_ok("root ::= \"a\" (\"\")* ()\n");
  EXPECT_TRUE(e.accepts("a"));
  EXPECT_FALSE(e.accepts("aa"));
}

TEST(GbnfSyntax, Escapes) {
  Grammar g = compile_ok(R"(root ::= "\x41\u00e9\U0001F600\t\n\r\\\"\[\]" [\x30-\x39\-])");
  EXPECT_TRUE(g.accepts("A\xC3\xA9\xF0\x9F\x98\x80\t\n\r\\\"[]7"));
  EXPECT_TRUE(g.accepts("A\xC3\xA9\xF0\x9F\x98\x80\t\n\r\\\"[]-"));
  EXPECT_FALSE(g.accepts("A\xC3\xA9\xF0\x9F\x98\x80\t\n\r\\\"[]a"));
}

TEST(GbnfSyntax, HexEscapeIsACodePoint) {
  // \xE9 is U+00E9 (two bytes in UTF-8), never the single byte 0xE9.
  Grammar g = compile_ok(R"(root ::= "\xE9" [\x80-\xFF])");
  EXPECT_TRUE(g.accepts("\xC3\xA9\xC3\xBF"));
  EXPECT_FALSE(g.accepts("\xE9\xFF"));
}

TEST(GbnfSyntax, CharacterClasses) {
  Grammar g = compile_ok(R"(root ::= [a-cx] [^a-z0-9] [-a] [a-] [\]] [a\-z] .)");
  EXPECT_TRUE(g.accepts("b!--]-\xE2\x82\xAC"));
  EXPECT_TRUE(g.accepts("xZaa]z\n"));
  EXPECT_FALSE(g.accepts("dZaa]z."));  // d is not in [a-cx]
  EXPECT_FALSE(g.accepts("aqaa]z."));  // q is in [a-z]
  EXPECT_FALSE(g.accepts("aZba]z."));  // b is not in [-a]
  EXPECT_FALSE(g.accepts("aZaa]b."));  // [a\-z] is a, -, z
}

TEST(GbnfSyntax, NegatedClassAdmitsAnyOtherCodePoint) {
  Grammar g = compile_ok(R"(root ::= "\"" [^"\\]* "\"")");
  EXPECT_TRUE(g.accepts("\"h\xC3\xA9llo \xE4\xB8\x96\xF0\x9F\x98\x80\""));
  EXPECT_FALSE(g.accepts("\"a\"b\""));
  EXPECT_FALSE(g.accepts("\"a\\\""));
  // Never an invalid UTF-8 sequence.
  EXPECT_FALSE(g.accepts("\"\xFF\""));
  EXPECT_FALSE(g.accepts("\"\xED\xA0\x80\""));
}

TEST(GbnfSyntax, UnicodeClassesAndLiterals) {
  Grammar g = compile_ok("root ::= \"日本\" [ぁ-ゟ]+ [À-ÿ]\n");
  EXPECT_TRUE(g.accepts("日本ひらがなé"));
  EXPECT_FALSE(g.accepts("日本カé"));
  EXPECT_TRUE(g.accepts_prefix("日本ひ"));
  EXPECT_TRUE(g.accepts_prefix("日本\xE3\x81"));  // part of a character
}

TEST(GbnfSyntax, RepetitionForms) {
  Grammar g = compile_ok(R"(root ::= "a"* "b"+ "c"? "d"{2} "e"{1,} "f"{0,2} g{1,3}
g ::= "g")");
  EXPECT_TRUE(g.accepts("bddeg"));
  EXPECT_TRUE(g.accepts("aaabbbcddeeeffggg"));
  EXPECT_FALSE(g.accepts("ddeg"));      // b+ needs one
  EXPECT_FALSE(g.accepts("bccddeg"));   // c? at most one
  EXPECT_FALSE(g.accepts("bdeg"));      // d{2} exactly two
  EXPECT_FALSE(g.accepts("bddg"));      // e{1,} at least one
  EXPECT_FALSE(g.accepts("bddefffg"));  // f{0,2}
  EXPECT_FALSE(g.accepts("bddegggg"));  // g{1,3}
  EXPECT_FALSE(g.accepts("bdde"));
}

TEST(GbnfSyntax, RepetitionAppliesToWholeLiteralAndGroups) {
  Grammar g = compile_ok(R"(root ::= "ab"{2} ("x" | "yz")* ( "1" "2" )+)");
  EXPECT_TRUE(g.accepts("abab12"));
  EXPECT_TRUE(g.accepts("ababxyzx1212"));
  EXPECT_FALSE(g.accepts("abb12"));
  EXPECT_FALSE(g.accepts("abab1"));
}

TEST(GbnfSyntax, StackedRepetitionsAndSpacing) {
  Grammar g = compile_ok("root ::= (\"a\" {2})? \"b\"{ 1 , 2 } \"c\" *\n");
  EXPECT_TRUE(g.accepts("b"));
  EXPECT_TRUE(g.accepts("aabbccc"));
  EXPECT_FALSE(g.accepts("abb"));
  EXPECT_FALSE(g.accepts("bbb"));
}

TEST(GbnfSyntax, RepetitionOfRuleReferenceAndZeroBounds) {
  Grammar g = compile_ok("root ::= item{0} item{2,3} \"!\"\nitem ::= [0-9] \",\"\n");
  EXPECT_TRUE(g.accepts("1,2,!"));
  EXPECT_TRUE(g.accepts("1,2,3,!"));
  EXPECT_FALSE(g.accepts("1,!"));
  EXPECT_FALSE(g.accepts("1,2,3,4,!"));
}

TEST(GbnfSyntax, NamesWithDigitsAndDashes) {
  Grammar g = compile_ok("root ::= en-char2 en-char2\nen-char2 ::= [a-z]\n");
  EXPECT_TRUE(g.accepts("ab"));
}

TEST(GbnfSyntax, LaterDefinitionReplacesEarlier) {
  Grammar g = compile_ok("root ::= x\nx ::= \"a\"\nx ::= \"b\"\n");
  EXPECT_TRUE(g.accepts("b"));
  EXPECT_FALSE(g.accepts("a"));
}

TEST(GbnfSyntax, MergedTerminalRunsKeepTheirLanguage) {
  // Runs that would make one huge DFA are split back; the language stays the same.
  Grammar g = compile_ok("root ::= [ab]* \"a\" [ab]{12} \"!\"\n");
  EXPECT_TRUE(g.accepts("a" + std::string(12, 'b') + "!"));
  EXPECT_TRUE(g.accepts("bba" + std::string("abababababab") + "!"));
  EXPECT_FALSE(g.accepts(std::string(13, 'b') + "!"));
  EXPECT_FALSE(g.accepts("a" + std::string(11, 'b') + "!"));
}

TEST(GbnfSyntax, AmbiguousAdjacentClasses) {
  Grammar g = compile_ok("root ::= [a-z]+ x [a-z]+\nx ::= \"-\"?\n");
  EXPECT_TRUE(g.accepts("ab"));
  EXPECT_TRUE(g.accepts("a-b"));
  EXPECT_FALSE(g.accepts("a"));
  EXPECT_FALSE(g.accepts("-b"));
}

// --- errors ---------------------------------------------------------------------------------

TEST(GbnfErrors, EmptyInput) {
  EXPECT_THAT(error_of(""), HasSubstr("empty grammar"));
  EXPECT_THAT(error_of("  \n# only a comment\n\n"), HasSubstr("empty grammar"));
}

TEST(GbnfErrors, MissingRoot) {
  EXPECT_THAT(error_of("start ::= \"a\"\n"), HasSubstr("no 'root' rule"));
}

TEST(GbnfErrors, UndefinedRuleNamesItsFirstUse) {
  EXPECT_EQ(error_of("root ::= \"a\" b\nc ::= b\n"), "GBNF line 1:14: undefined rule 'b'");
  EXPECT_EQ(error_of("root ::= (\"x\" |\n   bar)\n"), "GBNF line 2:4: undefined rule 'bar'");
}

TEST(GbnfErrors, MissingDefinitionOperator) {
  EXPECT_EQ(error_of("root = \"a\"\n"), "GBNF line 1:6: expected '::=' after rule name 'root'");
  EXPECT_THAT(error_of("root\n::= \"a\"\n"), HasSubstr("1:5: expected '::='"));
}

TEST(GbnfErrors, BadEscapes) {
  EXPECT_EQ(error_of(R"(root ::= "a\q")"), "GBNF line 1:12: unknown escape '\\q'");
  EXPECT_EQ(error_of(R"(root ::= [\x4])"), "GBNF line 1:11: escape '\\x' needs 2 hex digits");
  EXPECT_THAT(error_of(R"(root ::= "\u12G4")"), HasSubstr("1:11: escape '\\u' needs 4 hex digits"));
  EXPECT_THAT(error_of(R"(root ::= "\U00110000")"), HasSubstr("1:11: escape U+110000 is beyond U+10FFFF"));
  EXPECT_THAT(error_of(R"(root ::= "\uD800")"), HasSubstr("1:11: U+D800 is a surrogate"));
  EXPECT_THAT(error_of("root ::= \"\\"), HasSubstr("1:11: unterminated escape"));
}

TEST(GbnfErrors, UnterminatedLiteralAndClass) {
  EXPECT_EQ(error_of("root ::= \"abc\n"), "GBNF line 1:10: unterminated string literal");
  EXPECT_EQ(error_of("x ::= \"a\"\nroot ::= x [a-z\n"), "GBNF line 2:12: unterminated character class");
  EXPECT_EQ(error_of("root ::= [\\]"), "GBNF line 1:10: unterminated character class");
}

TEST(GbnfErrors, Parentheses) {
  EXPECT_EQ(error_of("root ::= (\"a\" | \"b\"\n"), "GBNF line 1:10: unterminated group: missing ')'");
  EXPECT_EQ(error_of("root ::= \"a\")\n"), "GBNF line 1:13: unmatched ')'");
  EXPECT_EQ(error_of("root ::= (\"a\" ]\n"), "GBNF line 1:15: unexpected ']'");
}

TEST(GbnfErrors, RepetitionBounds) {
  EXPECT_EQ(error_of("root ::= \"a\"{3,1}\n"),
            "GBNF line 1:13: repetition {3,1} has its maximum below its minimum");
  EXPECT_EQ(error_of("root ::= * \"a\"\n"), "GBNF line 1:10: '*' must follow an item");
  EXPECT_THAT(error_of("root ::= \"a\" | +\n"), HasSubstr("1:16: '+' must follow an item"));
  EXPECT_THAT(error_of("root ::= \"a\"{,3}\n"), HasSubstr("1:14: expected a number"));
  EXPECT_THAT(error_of("root ::= \"a\"{2;3}\n"), HasSubstr("1:15: expected '}' or ','"));
  EXPECT_THAT(error_of("root ::= \"a\"{2"), HasSubstr("1:13: unterminated repetition"));
  EXPECT_THAT(error_of("root ::= \"a\"{99999999999999999999999}\n"), HasSubstr("over the limit of 10000"));
  GrammarLimits limits;
  limits.max_repeat = 50;
  EXPECT_EQ(error_of("root ::= \"a\"{1,51}\n", limits),
            "GBNF line 1:13: repetition bound 51 is over the limit of 50");
  EXPECT_EQ(error_of("root ::= \"a\"{1,50}\n", limits), "<ok>");
}

TEST(GbnfErrors, TokenReferencesAreRefused) {
  EXPECT_THAT(error_of("root ::= <[1234]> \"a\"\n"), HasSubstr("1:10: token references"));
  EXPECT_THAT(error_of("root ::= \"a\" <think>\n"), HasSubstr("1:14: token references"));
  EXPECT_THAT(error_of("root ::= !<[2]>*\n"), HasSubstr("1:10: token references"));
}

TEST(GbnfErrors, StrayCharactersAndBadNames) {
  EXPECT_EQ(error_of("root ::= \"a\" ; \"b\"\n"), "GBNF line 1:14: unexpected ';'");
  EXPECT_EQ(error_of("my_rule ::= \"a\"\n"), "GBNF line 1:3: expected '::=' after rule name 'my'");
  EXPECT_EQ(error_of("\"a\" ::= \"b\"\n"), "GBNF line 1:1: expected a rule name");
  EXPECT_EQ(error_of("root ::= \"é\" é\n"), "GBNF line 1:14: unexpected U+00E9");
}

TEST(GbnfErrors, ColumnsCountCodePoints) {
  EXPECT_EQ(error_of("root ::= \"日本語\" x\n"), "GBNF line 1:16: undefined rule 'x'");
}

TEST(GbnfErrors, InvalidUtf8AndNul) {
  EXPECT_THAT(error_of("root ::= \"\xFF\"\n"), HasSubstr("1:11: invalid UTF-8"));
  EXPECT_THAT(error_of("root ::= \"\xC3\"\n"), HasSubstr("1:11: invalid UTF-8"));
  EXPECT_THAT(error_of(std::string_view("root ::= \"a\0\"\n", 14)), HasSubstr("1:12: NUL byte"));
}

TEST(GbnfErrors, ReversedClassRange) {
  EXPECT_EQ(error_of("root ::= [z-a]\n"), "GBNF line 1:11: reversed range 'z'-'a' in character class");
}

TEST(GbnfErrors, NoStringAtAll) {
  // A start rule that can never finish derives nothing.
  EXPECT_NE(error_of("root ::= \"a\" root\n"), "<ok>");
}

// --- limits ---------------------------------------------------------------------------------

TEST(GbnfLimits, NestingDepth) {
  auto nested = [](int depth) {
    return "root ::= " + std::string(static_cast<size_t>(depth), '(') + "\"a\"" +
           std::string(static_cast<size_t>(depth), ')') + "\n";
  };
  Grammar g = compile_ok(nested(200));
  EXPECT_TRUE(g.accepts("a"));
  EXPECT_THAT(error_of(nested(201)), HasSubstr("1:210: groups nested deeper than 200 levels"));
  EXPECT_THAT(error_of("root ::= " + std::string(100000, '(')), HasSubstr("nested deeper"));
}

TEST(GbnfLimits, RuleCount) {
  GrammarLimits limits;
  limits.max_rules = 10;
  std::string text = "root ::= r0\n";
  for (int i = 0; i < 20; ++i)
    text += "r" + std::to_string(i) + " ::= \"x\" r" + std::to_string(i + 1) + " | \"y\"\n";
  text += "r20 ::= \"z\"\n";
  EXPECT_THAT(error_of(text, limits), HasSubstr("too large"));
  EXPECT_EQ(error_of(text), "<ok>");
}

TEST(GbnfLimits, ManyLargeRepetitionsStayBounded) {
  GrammarLimits limits;
  limits.max_rules = 500;
  std::string text = "root ::= x\nx ::= y";
  for (int i = 0; i < 200; ++i) text += " y{0,1000}";
  text += "\ny ::= \"ab\" | \"c\"\n";
  EXPECT_THAT(error_of(text, limits), HasSubstr("too large"));
}

TEST(GbnfLimits, HugeMergedRepetitionFallsBackToRules) {
  Grammar g = compile_ok("root ::= (\"ab\"{100}){100}\n");
  EXPECT_TRUE(g.accepts_prefix("abababab"));
  EXPECT_FALSE(g.accepts("abab"));
}

TEST(GbnfLowering, RegularRulesBecomeOneLexeme) {
  // ws is regular and small: copied into root's lexeme, which is then the only one.
  Grammar g = compile_ok("root ::= \"{\" ws \"x\" ws (\"}\" | \"]\")\nws ::= [ ]{0,2}\n");
  EXPECT_EQ(g.lexeme_count(), 1u);
  EXPECT_TRUE(g.accepts("{ x  }"));
  EXPECT_TRUE(g.accepts("{x]"));
  EXPECT_FALSE(g.accepts("{   x}"));
}

TEST(GbnfLowering, RecursiveRulesStayRules) {
  Grammar g = compile_ok("root ::= \"(\" root \")\" | \"x\"\n");
  EXPECT_TRUE(g.accepts("((x))"));
  EXPECT_FALSE(g.accepts("((x)"));
  EXPECT_TRUE(g.accepts_prefix("(((("));
}

TEST(GbnfLowering, DoublingRulesDoNotBlowUp) {
  // r40 is "a" repeated 2^40 times: copying rules into lexemes must stop early.
  std::string text = "root ::= r40\nr0 ::= \"a\"\n";
  for (int i = 1; i <= 40; ++i) {
    text += "r" + std::to_string(i) + " ::= r" + std::to_string(i - 1) + " r" + std::to_string(i - 1) + "\n";
  }
  Grammar g = compile_ok(text);
  EXPECT_TRUE(g.accepts_prefix(std::string(5000, 'a')));
  EXPECT_FALSE(g.accepts(std::string(5000, 'a')));
  EXPECT_FALSE(g.accepts_prefix("ab"));
}

TEST(GbnfLowering, LongRuleChainsDoNotRecurseDeeply) {
  constexpr size_t kRules = 3000;
  std::string text = "root ::= r0\n";
  for (size_t i = 0; i < kRules; ++i) {
    text += "r" + std::to_string(i) + " ::= \"x\" r" + std::to_string(i + 1) + "\n";
  }
  text += "r" + std::to_string(kRules) + " ::= \"!\"\n";
  Grammar g = compile_ok(text);
  EXPECT_TRUE(g.accepts_prefix(std::string(100, 'x')));
  EXPECT_FALSE(g.accepts(std::string(100, 'x') + "!"));
}

// --- smoke fuzzing --------------------------------------------------------------------------

TEST(GbnfFuzzSmoke, MutatedGrammarsFailCleanly) {
  std::vector<std::string> seeds;
  for (const nlohmann::json& entry : load_grammars()) seeds.push_back(entry.at("grammar").get<std::string>());
  seeds.push_back("root ::= (\"a\" | [b-d]{1,3})* x?\nx ::= \"\\u00e9\" .\n");
  seeds.push_back("root ::= [^\\x00-\\x1F\"]+ (\"|\" root)?\n");
  GrammarLimits limits;
  limits.max_rules = 2000;
  limits.max_symbols = 20000;
  limits.max_lexemes = 500;
  limits.max_lexeme_states = 20000;
  limits.max_states_per_lexeme = 2000;
  limits.max_repeat = 64;
  std::mt19937 rng(20240611);
  const std::string specials = "\"[]()|*+?{}.\\^-#:=<>!\n \t,0123456789ax\xC3\xA9";
  int compiled = 0;
  int refused = 0;
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 10) {
        case 0:
          text[at] = static_cast<char>(rng() & 0xFF);
          break;
        case 1:
          text.resize(at);
          break;
        case 2:
        case 3:
          text.erase(at, 1 + rng() % 4);
          break;
        case 4:
        case 5:
        case 6:
          text[at] = specials[rng() % specials.size()];
          break;
        default:
          text.insert(at, 1, specials[rng() % specials.size()]);
          break;
      }
    }
    SCOPED_TRACE(text);
    Result<Grammar> grammar = compile_gbnf(text, limits);
    if (!grammar.ok()) {
      EXPECT_EQ(grammar.error().kind, ErrorKind::kValidation) << grammar.error().message;
      EXPECT_FALSE(grammar.error().message.empty());
      ++refused;
      continue;
    }
    ++compiled;
    (void)grammar->accepts("");
    (void)grammar->accepts("ab");
    (void)grammar->accepts_prefix("{\"");
    (void)grammar->accepts_prefix(text.substr(0, 8));
  }
  EXPECT_GT(compiled, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace tgi::grammar
