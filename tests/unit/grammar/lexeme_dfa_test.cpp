#include "grammar/lexeme_dfa.h"

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grammar/regex_parser.h"

namespace tgi::grammar {
namespace {

using ::testing::HasSubstr;

LexemeDfa compile(const Regex& regex, const LexemeDfaLimits& limits = {}) {
  auto dfa = LexemeDfa::build(regex, limits);
  EXPECT_TRUE(dfa.ok()) << regex.to_string() << ": " << dfa.error().message;
  return dfa.ok() ? std::move(dfa).value() : LexemeDfa();
}

LexemeDfa compile(std::string_view pattern) {
  auto regex = parse_regex(pattern);
  EXPECT_TRUE(regex.ok()) << pattern << ": " << regex.error().message;
  return regex.ok() ? compile(*regex) : LexemeDfa();
}

// The contract the matcher relies on: every state reachable from the start can reach acceptance,
// and has_exits() says whether any byte leads on.
void expect_every_state_live(const LexemeDfa& dfa) {
  uint32_t n = dfa.state_count();
  if (n == 0) {
    EXPECT_EQ(dfa.start(), LexemeDfa::kDead);
    return;
  }
  ASSERT_LT(dfa.start(), n);
  std::vector<std::vector<uint32_t>> reverse(n);
  for (uint32_t q = 0; q < n; ++q) {
    bool exits = false;
    for (int b = 0; b < 256; ++b) {
      uint32_t t = dfa.next(q, static_cast<uint8_t>(b));
      if (t == LexemeDfa::kDead) continue;
      ASSERT_LT(t, n);
      reverse[t].push_back(q);
      exits = true;
    }
    EXPECT_EQ(dfa.has_exits(q), exits) << "state " << q;
  }
  std::vector<bool> live(n, false);
  std::vector<uint32_t> queue;
  for (uint32_t q = 0; q < n; ++q) {
    if (dfa.accepting(q)) live[q] = true, queue.push_back(q);
  }
  for (size_t i = 0; i < queue.size(); ++i) {
    for (uint32_t p : reverse[queue[i]]) {
      if (!live[p]) live[p] = true, queue.push_back(p);
    }
  }
  for (uint32_t q = 0; q < n; ++q) EXPECT_TRUE(live[q]) << "state " << q << " cannot reach acceptance";
}

// A direct reading of the Regex semantics over code points: the end positions j such that
// text[i, j) is in the language.
std::set<size_t> reference_ends(const Regex& regex, const std::u32string& text, size_t i) {
  using Kind = Regex::Kind;
  std::set<size_t> out;
  switch (regex.kind()) {
    case Kind::kNothing:
      break;
    case Kind::kEmpty:
      out.insert(i);
      break;
    case Kind::kSet:
      if (i < text.size() && regex.set().contains(text[i])) out.insert(i + 1);
      break;
    case Kind::kConcat: {
      out.insert(i);
      for (const Regex& part : regex.children()) {
        std::set<size_t> next;
        for (size_t p : out) next.merge(reference_ends(part, text, p));
        out = std::move(next);
      }
      break;
    }
    case Kind::kAlt:
      for (const Regex& choice : regex.children()) out.merge(reference_ends(choice, text, i));
      break;
    case Kind::kRepeat: {
      std::set<size_t> current{i};
      if (regex.min() == 0) out.insert(i);
      uint64_t limit = regex.max() ? *regex.max() : regex.min() + text.size() + 1;
      for (uint64_t k = 1; k <= limit && !current.empty(); ++k) {
        std::set<size_t> next;
        for (size_t p : current) next.merge(reference_ends(regex.children()[0], text, p));
        current = std::move(next);
        if (k >= regex.min()) out.insert(current.begin(), current.end());
      }
      break;
    }
    case Kind::kIntersect: {
      out = reference_ends(regex.children()[0], text, i);
      for (size_t c = 1; c < regex.children().size(); ++c) {
        std::set<size_t> other = reference_ends(regex.children()[c], text, i);
        std::erase_if(out, [&](size_t j) { return !other.contains(j); });
      }
      break;
    }
    case Kind::kDifference: {
      out = reference_ends(regex.children()[0], text, i);
      std::set<size_t> removed = reference_ends(regex.children()[1], text, i);
      std::erase_if(out, [&](size_t j) { return removed.contains(j); });
      break;
    }
  }
  return out;
}

Regex random_tree(std::mt19937& rng, int depth) {
  const char32_t alphabet[] = {U'a', U'b', U'\u00e9'};
  uint32_t pick = depth <= 0 ? rng() % 3 : rng() % 10;
  switch (pick) {
    case 0:
      return Regex::character(alphabet[rng() % 3]);
    case 1: {
      CodepointSet set;
      for (char32_t c : alphabet) {
        if (rng() % 2) set.add(c);
      }
      return Regex::set(set);
    }
    case 2:
      return rng() % 4 == 0 ? Regex::empty() : Regex::character(alphabet[rng() % 3]);
    case 3:
    case 4:
      return Regex::concat({random_tree(rng, depth - 1), random_tree(rng, depth - 1)});
    case 5:
      return Regex::alt(
          {random_tree(rng, depth - 1), random_tree(rng, depth - 1), random_tree(rng, depth - 1)});
    case 6: {
      uint32_t min = rng() % 3;
      std::optional<uint32_t> max;
      if (rng() % 2) max = min + rng() % 3;
      return Regex::repeat(random_tree(rng, depth - 1), min, max);
    }
    case 7:
      return Regex::star(random_tree(rng, depth - 1));
    case 8:
      return Regex::intersect({random_tree(rng, depth - 1), random_tree(rng, depth - 1)});
    default:
      return Regex::difference(random_tree(rng, depth - 1), random_tree(rng, depth - 1));
  }
}

std::string to_utf8(const std::u32string& text) {
  std::string out;
  for (char32_t c : text)
    out += c == U'\u00e9' ? std::string("\xC3\xA9") : std::string(1, static_cast<char>(c));
  return out;
}

// The whole pipeline (UTF-8 splitting, subset construction, products, pruning, minimization)
// against the reference on every string of up to five characters.
TEST(LexemeDfa, AgreesWithAReferenceMatcherOnRandomTrees) {
  std::vector<std::u32string> texts{U""};
  for (size_t begin = 0, length = 0; length < 5; ++length) {
    size_t end = texts.size();
    for (size_t t = begin; t < end; ++t) {
      for (char32_t c : {U'a', U'b', U'\u00e9'}) texts.push_back(texts[t] + c);
    }
    begin = end;
  }
  std::mt19937 rng(2024);
  for (int i = 0; i < 300; ++i) {
    Regex regex = random_tree(rng, 4);
    SCOPED_TRACE(regex.to_string());
    LexemeDfa dfa = compile(regex);
    expect_every_state_live(dfa);
    for (const std::u32string& text : texts) {
      bool expected = reference_ends(regex, text, 0).contains(text.size());
      ASSERT_EQ(dfa.matches(to_utf8(text)), expected) << to_utf8(text);
    }
  }
}

TEST(LexemeDfa, NothingAndEmpty) {
  LexemeDfa nothing = compile(Regex::nothing());
  EXPECT_EQ(nothing.start(), LexemeDfa::kDead);
  EXPECT_EQ(nothing.state_count(), 0u);
  EXPECT_FALSE(nothing.matches(""));
  EXPECT_FALSE(nothing.matches("a"));
  LexemeDfa empty = compile(Regex::empty());
  ASSERT_EQ(empty.state_count(), 1u);
  EXPECT_TRUE(empty.accepting(empty.start()));
  EXPECT_FALSE(empty.has_exits(empty.start()));
  EXPECT_TRUE(empty.matches(""));
  EXPECT_FALSE(empty.matches("a"));
}

TEST(LexemeDfa, Utf8ByteLevelBehaviour) {
  LexemeDfa e_acute = compile(Regex::character(0xE9));
  EXPECT_TRUE(e_acute.matches("\xC3\xA9"));
  EXPECT_FALSE(e_acute.matches("\xC3"));
  EXPECT_FALSE(e_acute.matches("\xA9"));
  EXPECT_FALSE(e_acute.matches("\xC3\xA9\xA9"));
  uint32_t after_lead = e_acute.next(e_acute.start(), 0xC3);
  ASSERT_NE(after_lead, LexemeDfa::kDead);
  EXPECT_FALSE(e_acute.accepting(after_lead));
  EXPECT_EQ(e_acute.next(e_acute.start(), 0xA9), LexemeDfa::kDead);

  LexemeDfa any = compile(Regex::star(Regex::any_character()));
  EXPECT_TRUE(any.matches(""));
  EXPECT_TRUE(any.matches("ascii \n\r\t\x7F"));
  EXPECT_TRUE(any.matches(std::string_view("\0", 1)));
  EXPECT_TRUE(any.matches("\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"));
  EXPECT_TRUE(any.matches("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(any.matches("\x80"));  // lone continuation byte
  EXPECT_FALSE(any.matches("\xBF"));
  EXPECT_FALSE(any.matches("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(any.matches("\xC1\xBF"));          // overlong
  EXPECT_FALSE(any.matches("\xE0\x80\x80"));      // overlong 3-byte
  EXPECT_FALSE(any.matches("\xE0\x9F\xBF"));      // overlong 3-byte
  EXPECT_FALSE(any.matches("\xF0\x8F\xBF\xBF"));  // overlong 4-byte
  EXPECT_FALSE(any.matches("\xED\xA0\x80"));      // high surrogate
  EXPECT_FALSE(any.matches("\xED\xBF\xBF"));      // low surrogate
  EXPECT_FALSE(any.matches("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(any.matches("\xF5\x80\x80\x80"));
  EXPECT_FALSE(any.matches("\xFF"));
  EXPECT_FALSE(any.matches("\xC3"));  // truncated
  for (int b = 0xF5; b <= 0xFF; ++b)
    EXPECT_EQ(any.next(any.start(), static_cast<uint8_t>(b)), LexemeDfa::kDead);
  for (int b : {0xC0, 0xC1}) EXPECT_EQ(any.next(any.start(), static_cast<uint8_t>(b)), LexemeDfa::kDead);
  expect_every_state_live(any);
}

TEST(LexemeDfa, EveryCodepointRangeBoundaryEncodesExactly) {
  // Sets whose edges sit on and around the UTF-8 length and continuation boundaries.
  std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x7E, 0x81}, {0x7FE, 0x801},  {0xFFFE, 0x10001},  {0x10FFFE, 0x10FFFF}, {0x3F, 0x40},
      {0xBF, 0xC0}, {0xFFF, 0x1000}, {0x3FFFF, 0x40000}, {0xD7FE, 0xE001},     {0x1234, 0x56789}};
  for (auto [first, last] : ranges) {
    CodepointSet set = CodepointSet::range(first, last);
    LexemeDfa dfa = compile(Regex::set(set));
    expect_every_state_live(dfa);
    for (char32_t c = first >= 2 ? first - 2 : 0; c <= last + 2 && c <= 0x10FFFF; ++c) {
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      std::string utf8;
      if (c < 0x80) {
        utf8 += static_cast<char>(c);
      } else if (c < 0x800) {
        utf8 += static_cast<char>(0xC0 | (c >> 6));
        utf8 += static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        utf8 += static_cast<char>(0xE0 | (c >> 12));
        utf8 += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        utf8 += static_cast<char>(0x80 | (c & 0x3F));
      } else {
        utf8 += static_cast<char>(0xF0 | (c >> 18));
        utf8 += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        utf8 += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        utf8 += static_cast<char>(0x80 | (c & 0x3F));
      }
      EXPECT_EQ(dfa.matches(utf8), set.contains(c)) << std::hex << "U+" << static_cast<uint32_t>(c);
      if (c == last + 2 || (last - first > 100 && c == first + 2)) break;
    }
    // Spot checks inside big ranges.
    if (last - first > 100) {
      EXPECT_TRUE(dfa.matches("\xE2\x82\xAC") == set.contains(0x20AC));
    }
  }
}

TEST(LexemeDfa, IntersectionAndDifference) {
  // Identifiers of 2..4 characters.
  Regex identifier = *parse_regex("[a-z][a-z0-9]*");
  Regex short_strings = Regex::repeat(Regex::any_character(), 2, 4);
  LexemeDfa both = compile(Regex::intersect({identifier, short_strings}));
  EXPECT_TRUE(both.matches("ab"));
  EXPECT_TRUE(both.matches("a123"));
  EXPECT_FALSE(both.matches("a"));
  EXPECT_FALSE(both.matches("a1234"));
  EXPECT_FALSE(both.matches("1ab"));
  expect_every_state_live(both);

  // Any identifier but the keywords.
  Regex keywords = Regex::alt({Regex::literal("if"), Regex::literal("for"), Regex::literal("while")});
  LexemeDfa names = compile(Regex::difference(identifier, keywords));
  EXPECT_TRUE(names.matches("i"));
  EXPECT_TRUE(names.matches("iff"));
  EXPECT_TRUE(names.matches("fo"));
  EXPECT_TRUE(names.matches("whiles"));
  EXPECT_FALSE(names.matches("if"));
  EXPECT_FALSE(names.matches("for"));
  EXPECT_FALSE(names.matches("while"));
  expect_every_state_live(names);

  // Nested inside other operators, and inside a bounded repeat.
  Regex list = Regex::concat(
      {Regex::character('['),
       Regex::repeat(Regex::concat({Regex::difference(identifier, keywords), Regex::character(',')}), 1, 3),
       Regex::character(']')});
  LexemeDfa lists = compile(list);
  EXPECT_TRUE(lists.matches("[a,b,c,]"));
  EXPECT_FALSE(lists.matches("[a,if,c,]"));
  EXPECT_FALSE(lists.matches("[a,b,c,d,]"));
  expect_every_state_live(lists);

  // Differences that remove everything, or nothing.
  EXPECT_EQ(compile(Regex::difference(Regex::literal("ab"), Regex::star(Regex::any_character()))).start(),
            LexemeDfa::kDead);
  EXPECT_TRUE(compile(Regex::difference(Regex::literal("ab"), Regex::literal("abc"))).matches("ab"));
  EXPECT_EQ(compile(Regex::intersect({Regex::literal("ab"), Regex::literal("ba")})).start(),
            LexemeDfa::kDead);
  // A pattern constraint together with a length bound: the JSON-Schema use.
  Regex digits =
      Regex::intersect({*parse_search_pattern("^[0-9]+$"), Regex::repeat(Regex::any_character(), 0, 5)});
  LexemeDfa bounded = compile(digits);
  EXPECT_TRUE(bounded.matches("12345"));
  EXPECT_FALSE(bounded.matches("123456"));
  EXPECT_FALSE(bounded.matches(""));
  // Three-way intersection.
  LexemeDfa three =
      compile(Regex::intersect({*parse_regex(".*a.*"), *parse_regex(".*b.*"), *parse_regex(".{0,3}")}));
  EXPECT_TRUE(three.matches("ab"));
  EXPECT_TRUE(three.matches("bxa"));
  EXPECT_FALSE(three.matches("aa"));
  EXPECT_FALSE(three.matches("abxx"));
}

TEST(LexemeDfa, DeadEndsArePruned) {
  // "ab" | "a" followed by something impossible: the branch must not leave a live-looking state.
  Regex regex = Regex::alt(
      {Regex::literal("ab"),
       Regex::concat({Regex::literal("ac"), Regex::intersect({Regex::literal("x"), Regex::literal("y")})})});
  LexemeDfa dfa = compile(regex);
  uint32_t after_a = dfa.next(dfa.start(), 'a');
  ASSERT_NE(after_a, LexemeDfa::kDead);
  EXPECT_EQ(dfa.next(after_a, 'c'), LexemeDfa::kDead);
  expect_every_state_live(dfa);
  uint32_t done = dfa.next(after_a, 'b');
  ASSERT_NE(done, LexemeDfa::kDead);
  EXPECT_TRUE(dfa.accepting(done));
  EXPECT_FALSE(dfa.has_exits(done));
  EXPECT_TRUE(dfa.has_exits(dfa.start()));

  for (std::string_view pattern : {"(a|b)*abb", "[0-9]{3}-[0-9]{4}", "\\d{1,3}(\\.\\d{1,3}){3}", "[^\"\\\\]*",
                                   ".{2,5}x?", "(\\w+@\\w+\\.(com|org))?"}) {
    SCOPED_TRACE(pattern);
    expect_every_state_live(compile(pattern));
  }
}

TEST(LexemeDfa, IsMinimal) {
  EXPECT_EQ(compile("(a|b)*abb").state_count(), 4u);
  EXPECT_EQ(compile("[0-9]{3}").state_count(), 4u);
  EXPECT_EQ(compile("a*").state_count(), 1u);
  EXPECT_EQ(compile("(a|ab)(c|bcd)").state_count(), compile("abcd|ac|abc|abbcd").state_count());
  EXPECT_EQ(compile("x{0,100}").state_count(), 101u);
  // ASCII letters versus everything else: few columns, whatever the byte ranges.
  LexemeDfa word = compile("\\w+");
  EXPECT_EQ(word.state_count(), 2u);
}

TEST(LexemeDfa, StateLimit) {
  LexemeDfaLimits limits;
  limits.max_states = 50;
  auto too_many = LexemeDfa::build(*parse_regex("[a-z]{100}"), limits);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(too_many.error().message, "regex too complex: more than 50 DFA states");
  EXPECT_TRUE(LexemeDfa::build(*parse_regex("[a-z]{49}"), limits).ok());
  // Exponential blow-up is stopped by the default limit rather than exhausting memory.
  auto exponential = LexemeDfa::build(*parse_regex("(a|b)*a(a|b){20}"));
  ASSERT_FALSE(exponential.ok());
  EXPECT_THAT(exponential.error().message, HasSubstr("more than 20000 DFA states"));
  // The same inside a product.
  auto in_product =
      LexemeDfa::build(Regex::intersect({*parse_regex("(a|b)*a(a|b){20}"), *parse_regex("a*")}));
  EXPECT_FALSE(in_product.ok());
}

TEST(LexemeDfa, RealisticLexemesBuildQuickly) {
  struct Case {
    std::string_view pattern;
    std::string_view sample;
  };
  std::vector<Case> cases = {
      {"\"([^\"\\\\\\x00-\\x1f]|\\\\([\"\\\\/bfnrt]|u[0-9a-fA-F]{4}))*\"", "\"h\\u00e9llo \\\"w\\\"\""},
      {"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)"
       "?"
       "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])",
       "2024-02-29T23:59:60.5+01:00"},
      {"-?(0|[1-9][0-9]{0,17})", "-1234567"},
  };
  for (const Case& c : cases) {
    auto begin = std::chrono::steady_clock::now();
    LexemeDfa dfa = compile(c.pattern);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
    EXPECT_LT(ms, 50.0) << c.pattern;  // generous: sanitizer and loaded CI machines
    RecordProperty(std::string(c.pattern.substr(0, 20)), std::to_string(ms));
    expect_every_state_live(dfa);
    if (c.sample != "2024-02-29T23:59:60.5+01:00") {
      EXPECT_TRUE(dfa.matches(c.sample)) << c.pattern;
    }
  }
  EXPECT_FALSE(compile(cases[1].pattern).matches("2024-02-29T23:59:60.5+01:00"));  // second 60 is out
  EXPECT_TRUE(compile(cases[1].pattern).matches("2024-02-29T23:59:59Z"));
}

}  // namespace
}  // namespace tgi::grammar
