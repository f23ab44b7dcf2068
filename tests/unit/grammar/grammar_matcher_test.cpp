#include "grammar/grammar_matcher.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/regex.h"
#include "grammar/token_trie.h"

namespace tgi::grammar {
namespace {

Regex chars(char32_t first, char32_t last) {
  return Regex::set(CodepointSet::range(first, last));
}

Grammar build_or_die(GrammarBuilder& b, uint32_t root) {
  auto g = b.build(root);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return std::move(g).value();
}

TEST(GrammarMatcher, NestedRecursionCountsBrackets) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root, {b.literal("a"), Symbol::rule(root), b.literal("b")});
  b.add_alternative(root, {});
  const Grammar g = build_or_die(b, root);
  EXPECT_TRUE(g.accepts(""));
  EXPECT_TRUE(g.accepts("ab"));
  EXPECT_TRUE(g.accepts("aaabbb"));
  EXPECT_FALSE(g.accepts("aab"));
  EXPECT_FALSE(g.accepts("abb"));
  EXPECT_FALSE(g.accepts("ba"));
  EXPECT_TRUE(g.accepts_prefix("aaab"));
  EXPECT_FALSE(g.accepts_prefix("abb"));
}

TEST(GrammarMatcher, ALexemeMayEndWhereTheNextOneBegins) {
  // [a-z]+ then "x": a longest-match lexer would swallow the x; the matcher forks instead.
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root, {b.lexeme(Regex::plus(chars('a', 'z'))), b.literal("x")});
  const Grammar g = build_or_die(b, root);
  EXPECT_TRUE(g.accepts("abcx"));
  EXPECT_TRUE(g.accepts("xx"));
  EXPECT_TRUE(g.accepts("xxxx"));
  EXPECT_FALSE(g.accepts("x"));
  EXPECT_FALSE(g.accepts("abc"));
  GrammarMatcher m(g);
  ASSERT_TRUE(m.push_bytes("abx"));
  EXPECT_TRUE(m.accepting());
  EXPECT_TRUE(m.can_continue());  // "abx" may still be the [a-z]+ part of "abxyx"
}

TEST(GrammarMatcher, NullableRulesAndLexemes) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  const uint32_t a = b.new_rule("a");
  b.add_alternative(a, {});
  b.add_alternative(a, {b.literal("a")});
  const Symbol spaces = b.lexeme(Regex::star(Regex::character(' ')));
  b.add_alternative(root, {Symbol::rule(a), spaces, Symbol::rule(a), b.literal("c")});
  const Grammar g = build_or_die(b, root);
  EXPECT_TRUE(g.nullable(a));
  EXPECT_FALSE(g.nullable(root));
  for (const char* ok : {"c", "ac", "aac", "a c", "  c", "a   ac"}) EXPECT_TRUE(g.accepts(ok)) << ok;
  for (const char* bad : {"", "aaac", "a", "c ", "ca"}) EXPECT_FALSE(g.accepts(bad)) << bad;
}

TEST(GrammarMatcher, LeftRecursionAndAmbiguity) {
  GrammarBuilder b;
  const uint32_t e = b.new_rule("e");
  b.add_alternative(e, {Symbol::rule(e), b.literal("+"), Symbol::rule(e)});
  b.add_alternative(e, {b.lexeme(Regex::plus(chars('0', '9')))});
  const Grammar g = build_or_die(b, e);
  EXPECT_TRUE(g.accepts("1+22+333+4"));
  EXPECT_FALSE(g.accepts("1++2"));
  EXPECT_FALSE(g.accepts("+1"));
  EXPECT_TRUE(g.accepts_prefix("1+"));
}

TEST(GrammarMatcher, RepeatAndSeparatedHonourTheirBounds) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root,
                    {b.literal("["), b.separated(b.literal("x"), b.literal(","), 2, 4), b.literal("]")});
  const Grammar g = build_or_die(b, root);
  EXPECT_FALSE(g.accepts("[]"));
  EXPECT_FALSE(g.accepts("[x]"));
  EXPECT_TRUE(g.accepts("[x,x]"));
  EXPECT_TRUE(g.accepts("[x,x,x,x]"));
  EXPECT_FALSE(g.accepts("[x,x,x,x,x]"));
  EXPECT_FALSE(g.accepts("[x,,x]"));

  GrammarBuilder c;
  const uint32_t r = c.new_rule("root");
  c.add_alternative(r, {c.repeat(c.literal("ab"), 1, std::nullopt)});
  const Grammar h = build_or_die(c, r);
  EXPECT_FALSE(h.accepts(""));
  EXPECT_TRUE(h.accepts("ababab"));
  EXPECT_FALSE(h.accepts("aba"));

  GrammarBuilder d;
  const uint32_t z = d.new_rule("root");
  d.add_alternative(z, {d.separated(d.literal("y"), d.literal(";"), 0, std::nullopt)});
  const Grammar k = build_or_die(d, z);
  EXPECT_TRUE(k.accepts(""));
  EXPECT_TRUE(k.accepts("y;y;y"));
  EXPECT_FALSE(k.accepts("y;"));
}

TEST(GrammarMatcher, PopRestoresAnEarlierState) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root, {b.literal("{\"k\":"), b.lexeme(Regex::plus(chars('0', '9'))), b.literal("}")});
  const Grammar g = build_or_die(b, root);
  GrammarMatcher m(g);
  ASSERT_TRUE(m.push_bytes("{\"k\":12"));
  EXPECT_EQ(m.position(), 7u);
  EXPECT_FALSE(m.push_byte('x'));
  EXPECT_EQ(m.position(), 7u);  // a refused byte changes nothing
  m.pop_to(3);
  EXPECT_FALSE(m.push_byte('1'));
  ASSERT_TRUE(m.push_bytes("\":7}"));
  EXPECT_TRUE(m.accepting());
  EXPECT_FALSE(m.can_continue());
  EXPECT_FALSE(m.push_bytes("}"));
}

TEST(GrammarMatcher, OnlyValidUtf8GetsThrough) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root, {b.lexeme(Regex::star(Regex::any_character()))});
  const Grammar g = build_or_die(b, root);
  EXPECT_TRUE(g.accepts("h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_TRUE(g.accepts_prefix("\xF0\x9F"));       // half a character is a viable prefix
  EXPECT_FALSE(g.accepts("\xF0\x9F"));             // but not an end
  EXPECT_FALSE(g.accepts_prefix("\xC0\x80"));      // overlong
  EXPECT_FALSE(g.accepts_prefix("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(g.accepts_prefix("\xFF"));
}

TEST(GrammarBuilder, RefusesAnEmptyLanguageAndOversizedGrammars) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  b.add_alternative(root, {b.lexeme(Regex::nothing())});
  auto g = b.build(root);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().kind, ErrorKind::kValidation);

  GrammarLimits limits;
  limits.max_repeat = 100;
  GrammarBuilder c(limits);
  const uint32_t r = c.new_rule("root");
  c.add_alternative(r, {c.repeat(c.literal("a"), 0, 101)});
  auto h = c.build(r);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("repetition"), std::string::npos);

  limits = GrammarLimits{};
  limits.max_rules = 10;
  GrammarBuilder d(limits);
  const uint32_t s = d.new_rule("root");
  for (int i = 0; i < 20; ++i) d.new_rule("r");
  d.add_alternative(s, {d.literal("a")});
  EXPECT_FALSE(d.build(s).ok());
}

TEST(GrammarBuilder, UnproductiveAlternativesAreDropped) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  const uint32_t loop = b.new_rule("loop");
  b.add_alternative(loop, {b.literal("x"), Symbol::rule(loop)});  // never ends
  b.add_alternative(root, {Symbol::rule(loop)});
  b.add_alternative(root, {b.literal("ok")});
  const Grammar g = build_or_die(b, root);
  EXPECT_TRUE(g.accepts("ok"));
  EXPECT_FALSE(g.accepts_prefix("x"));  // a prefix that can never be finished is refused
}

// The mask must equal a token-by-token check; vocabularies with shared prefixes, duplicates and
// multi-byte characters, at states all over a small JSON-like grammar.
TEST(TokenTrie, MaskEqualsCheckingEveryToken) {
  GrammarBuilder b;
  const uint32_t value = b.new_rule("value");
  const Symbol ws = b.lexeme(Regex::optional(Regex::character(' ')));
  const Symbol str = b.lexeme(Regex::concat(
      {Regex::character('"'), Regex::star(Regex::set(CodepointSet::any().minus(CodepointSet::of('"')))),
       Regex::character('"')}));
  const Symbol num = b.lexeme(Regex::plus(chars('0', '9')));
  const uint32_t pair = b.new_rule("pair");
  b.add_alternative(pair, {str, ws, b.literal(":"), ws, Symbol::rule(value)});
  b.add_alternative(value, {str});
  b.add_alternative(value, {num});
  b.add_alternative(
      value, {b.literal("{"), ws,
              b.separated(Symbol::rule(pair), b.sequence({ws, b.literal(","), ws}), 0, std::nullopt), ws,
              b.literal("}")});
  const Grammar g = build_or_die(b, value);

  std::vector<std::string> vocab = {
      "{",  "{\"", "\"",  "\":",      "\": ", "a",    "ab", "abc",       "1",   "12", "}",    "},", " ",
      ", ", ",",   "\"}", "\xC3\xA9", "\xC3", "\xA9", "",   "{\"a\":1}", "x\"", "9}", "\"\"", ":"};
  std::mt19937 rng(7);
  const std::string alphabet = "{}\":, a1\xC3\xA9";
  for (int i = 0; i < 300; ++i) {
    std::string t;
    const int len = 1 + static_cast<int>(rng() % 4);
    for (int j = 0; j < len; ++j) t += alphabet[rng() % alphabet.size()];
    vocab.push_back(t);
  }
  const TokenTrie trie(vocab);
  TokenBitmask mask;
  LexemeMaskCache cache;
  const std::vector<std::string> texts = {
      "",          "{",          "{\"",      "{\"ab",   "{\"ab\"",
      "{\"ab\": ", "{\"ab\": 1", "{\"a\":{", "{\"\xC3", "{\"a\":\"x\", \"b\":"};
  for (const std::string& text : texts) {
    GrammarMatcher m(g);
    ASSERT_TRUE(m.push_bytes(text)) << text;
    trie.fill_allowed(m, mask);
    EXPECT_EQ(m.position(), text.size());
    // The cached path gives the same mask, whether it learns the state now or knows it already.
    for (int round = 0; round < 2; ++round) {
      TokenBitmask cached;
      trie.fill_allowed(m, cached, cache);
      EXPECT_EQ(cached.words(), mask.words()) << "round " << round << " after '" << text << "'";
      EXPECT_EQ(m.position(), text.size());
    }
    size_t allowed = 0;
    for (size_t id = 0; id < vocab.size(); ++id) {
      GrammarMatcher fresh(g);
      ASSERT_TRUE(fresh.push_bytes(text));
      const bool expected = !vocab[id].empty() && fresh.push_bytes(vocab[id]);
      EXPECT_EQ(mask.test(id), expected) << "after '" << text << "' token '" << vocab[id] << "'";
      allowed += expected;
    }
    EXPECT_EQ(mask.count(), allowed);
    EXPECT_GT(allowed, 0u) << text;
  }
}

}  // namespace
}  // namespace tgi::grammar

namespace tgi::grammar {
namespace {

// A long counted string (more states than a mask is shared by whole) with tokens longer than
// the depth shared masks cover: the split masks must still equal token-by-token checks, near the
// count's bound as well as far from it.
TEST(TokenTrie, CountedStringMasksEqualCheckingEveryToken) {
  GrammarBuilder b;
  const uint32_t root = b.new_rule("root");
  const Regex letters = Regex::set([] {
    CodepointSet s = CodepointSet::range('a', 'z');
    s.add(' ');
    return s;
  }());
  b.add_alternative(root, {b.lexeme(Regex::concat({Regex::character('"'), Regex::repeat(letters, 0, 700),
                                                   Regex::character('"')})),
                           b.literal("!")});
  const Grammar g = build_or_die(b, root);
  std::vector<std::string> vocab = {"\"", "\"!", "!", "a", "ab", " ", "a\"", "a\"!", "\xC3\xA9", "z z"};
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    const int len = 1 + static_cast<int>(rng() % 70);  // many longer than 32 bytes
    std::string t;
    for (int j = 0; j < len; ++j) t += "abc \"!"[rng() % (rng() % 7 == 0 ? 6 : 4)];
    vocab.push_back(t);
  }
  const TokenTrie trie(vocab);
  LexemeMaskCache cache;
  for (size_t used : {0ul, 1ul, 30ul, 400ul, 650ul, 690ul, 699ul, 700ul}) {
    const std::string text = "\"" + std::string(used, 'q' - 16);  // 'a'
    GrammarMatcher m(g);
    ASSERT_TRUE(m.push_bytes(text)) << used;
    TokenBitmask cached;
    trie.fill_allowed(m, cached, cache);
    size_t allowed = 0;
    for (size_t id = 0; id < vocab.size(); ++id) {
      GrammarMatcher fresh(g);
      ASSERT_TRUE(fresh.push_bytes(text));
      const bool expected = fresh.push_bytes(vocab[id]);
      EXPECT_EQ(cached.test(id), expected) << used << " chars, token '" << vocab[id] << "'";
      allowed += expected;
    }
    EXPECT_EQ(cached.count(), allowed);
  }
}

}  // namespace
}  // namespace tgi::grammar
