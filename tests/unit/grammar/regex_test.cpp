#include "grammar/regex.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace tgi::grammar {
namespace {

using Kind = Regex::Kind;

TEST(Regex, LeavesAndLiterals) {
  EXPECT_EQ(Regex::set(CodepointSet()).kind(), Kind::kNothing);
  EXPECT_EQ(Regex::literal("").kind(), Kind::kEmpty);
  Regex e_acute = Regex::literal("é");
  ASSERT_EQ(e_acute.kind(), Kind::kSet);
  EXPECT_EQ(e_acute.set(), CodepointSet::of(0xE9));
  Regex abc = Regex::literal("abc");
  ASSERT_EQ(abc.kind(), Kind::kConcat);
  ASSERT_EQ(abc.children().size(), 3u);
  EXPECT_EQ(abc.children()[2].set(), CodepointSet::of('c'));
  // Invalid UTF-8: each bad byte is U+FFFD.
  Regex bad = Regex::literal("\xC0\x80");
  ASSERT_EQ(bad.children().size(), 2u);
  EXPECT_EQ(bad.children()[0].set(), CodepointSet::of(0xFFFD));
  EXPECT_EQ(Regex::literal("\xED\xA0\x80").children().size(), 3u);  // an encoded surrogate
}

TEST(Regex, ConcatSimplifies) {
  Regex a = Regex::character('a');
  Regex b = Regex::character('b');
  EXPECT_EQ(Regex::concat({a, Regex::nothing(), b}).kind(), Kind::kNothing);
  EXPECT_EQ(Regex::concat({}).kind(), Kind::kEmpty);
  EXPECT_EQ(Regex::concat({Regex::empty(), a, Regex::empty()}).to_string(), a.to_string());
  Regex nested = Regex::concat({a, Regex::concat({b, a}), b});
  ASSERT_EQ(nested.kind(), Kind::kConcat);
  EXPECT_EQ(nested.children().size(), 4u);
}

TEST(Regex, AltSimplifies) {
  Regex a = Regex::character('a');
  Regex b = Regex::character('b');
  Regex xy = Regex::literal("xy");
  EXPECT_EQ(Regex::alt({}).kind(), Kind::kNothing);
  EXPECT_EQ(Regex::alt({Regex::nothing(), xy}).to_string(), xy.to_string());
  Regex sets = Regex::alt({a, Regex::alt({b, Regex::character('c')})});
  ASSERT_EQ(sets.kind(), Kind::kSet);
  EXPECT_EQ(sets.set(), CodepointSet::range('a', 'c'));
  Regex mixed = Regex::alt({a, xy, b, xy, Regex::empty(), Regex::empty()});
  ASSERT_EQ(mixed.kind(), Kind::kAlt);
  ASSERT_EQ(mixed.children().size(), 3u);  // [ab], xy, ""
  EXPECT_EQ(mixed.children()[0].set(), CodepointSet::range('a', 'b'));
  EXPECT_EQ(mixed.children()[2].kind(), Kind::kEmpty);
}

TEST(Regex, RepeatSimplifies) {
  Regex a = Regex::character('a');
  EXPECT_EQ(Regex::repeat(a, 1, 1).to_string(), a.to_string());
  EXPECT_EQ(Regex::repeat(a, 0, 0).kind(), Kind::kEmpty);
  EXPECT_EQ(Regex::repeat(a, 3, 2).kind(), Kind::kNothing);
  EXPECT_EQ(Regex::star(Regex::nothing()).kind(), Kind::kEmpty);
  EXPECT_EQ(Regex::plus(Regex::nothing()).kind(), Kind::kNothing);
  EXPECT_EQ(Regex::repeat(Regex::empty(), 2, 5).kind(), Kind::kEmpty);
  Regex star_of_plus = Regex::star(Regex::plus(a));
  ASSERT_EQ(star_of_plus.kind(), Kind::kRepeat);
  EXPECT_EQ(star_of_plus.min(), 0u);
  EXPECT_FALSE(star_of_plus.max().has_value());
  EXPECT_EQ(star_of_plus.children()[0].kind(), Kind::kSet);
  Regex plus_of_plus = Regex::plus(Regex::plus(a));
  EXPECT_EQ(plus_of_plus.min(), 1u);
  EXPECT_EQ(plus_of_plus.children()[0].kind(), Kind::kSet);
  // Not merged: (a{2})* is not a*.
  Regex even = Regex::star(Regex::repeat(a, 2, 2));
  EXPECT_EQ(even.children()[0].kind(), Kind::kRepeat);
  Regex bounded = Regex::repeat(a, 2, 5);
  EXPECT_EQ(bounded.min(), 2u);
  EXPECT_EQ(bounded.max(), std::optional<uint32_t>(5));
}

TEST(Regex, IntersectAndDifferenceOfSetsFold) {
  Regex letters = Regex::set(CodepointSet::range('a', 'z'));
  Regex hex = Regex::set(CodepointSet::range('a', 'f'));
  Regex both = Regex::intersect({letters, hex});
  ASSERT_EQ(both.kind(), Kind::kSet);
  EXPECT_EQ(both.set(), CodepointSet::range('a', 'f'));
  Regex rest = Regex::difference(letters, hex);
  ASSERT_EQ(rest.kind(), Kind::kSet);
  EXPECT_EQ(rest.set(), CodepointSet::range('g', 'z'));
  EXPECT_EQ(Regex::difference(hex, letters).kind(), Kind::kNothing);
  EXPECT_EQ(Regex::intersect({letters, Regex::nothing()}).kind(), Kind::kNothing);
  Regex words = Regex::plus(letters);
  Regex general = Regex::intersect({words, Regex::repeat(Regex::any_character(), 0, 3)});
  EXPECT_EQ(general.kind(), Kind::kIntersect);
  EXPECT_EQ(general.children().size(), 2u);
  Regex minus = Regex::difference(words, Regex::literal("if"));
  EXPECT_EQ(minus.kind(), Kind::kDifference);
  EXPECT_EQ(Regex::difference(words, Regex::nothing()).to_string(), words.to_string());
  EXPECT_EQ(Regex::difference(Regex::empty(), Regex::empty()).kind(), Kind::kNothing);
}

TEST(Regex, ToStringIsDeterministicAndDistinguishesTrees) {
  Regex a = Regex::character('a');
  Regex b = Regex::character('b');
  Regex ab = Regex::literal("ab");
  std::vector<Regex> trees = {
      Regex::nothing(),
      Regex::empty(),
      a,
      Regex::set(CodepointSet::range('a', 'b')),
      ab,
      Regex::alt({ab, Regex::empty()}),
      Regex::optional(ab),
      Regex::concat({a, Regex::optional(b)}),
      Regex::star(ab),
      Regex::plus(ab),
      Regex::repeat(ab, 2, 3),
      Regex::repeat(ab, 2, std::nullopt),
      Regex::repeat(ab, 2, 2),
      Regex::alt({Regex::literal("ab"), Regex::literal("ba")}),
      Regex::concat({Regex::alt({ab, b}), a}),
      Regex::alt({Regex::concat({ab, Regex::star(b)}), a}),
      Regex::intersect({Regex::star(a), Regex::star(ab)}),
      Regex::difference(Regex::star(a), Regex::star(ab)),
      Regex::difference(Regex::star(ab), Regex::star(a)),
      Regex::literal("a|b"),
      Regex::literal("(a)"),
      Regex::literal("[a]"),
      Regex::literal("a{2}"),
  };
  std::set<std::string> spellings;
  for (const Regex& tree : trees) spellings.insert(tree.to_string());
  EXPECT_EQ(spellings.size(), trees.size());
  EXPECT_EQ(Regex::literal("hello").to_string(), Regex::literal("hello").to_string());
  EXPECT_EQ(Regex::repeat(ab, 2, 3).to_string(), "([a][b]){2,3}");
}

TEST(Regex, ExpandedSizeCountsCopiesAndSaturates) {
  Regex a = Regex::character('a');
  EXPECT_EQ(a.expanded_size(), 1u);
  EXPECT_EQ(Regex::literal("abc").expanded_size(), 4u);
  EXPECT_EQ(Regex::repeat(a, 3, 5).expanded_size(), 6u);
  EXPECT_EQ(Regex::star(a).expanded_size(), 2u);
  Regex huge = a;
  for (int i = 0; i < 10; ++i) huge = Regex::repeat(huge, 100000, 100000);
  EXPECT_EQ(huge.expanded_size(), UINT64_MAX);
  EXPECT_EQ(Regex::concat({huge, huge}).expanded_size(), UINT64_MAX);
}

TEST(Regex, MapSetsRebuildsTheTree) {
  Regex pattern =
      Regex::concat({Regex::character('"'), Regex::star(Regex::set(CodepointSet::range('a', 'z')))});
  Regex mapped = pattern.map_sets([](const CodepointSet& set) {
    if (set.contains('"')) return Regex::literal("\\\"");
    return Regex::set(set);
  });
  ASSERT_EQ(mapped.kind(), Kind::kConcat);
  ASSERT_EQ(mapped.children().size(), 3u);  // the escape's two characters flatten in
  EXPECT_EQ(mapped.children()[0].set(), CodepointSet::of('\\'));
  EXPECT_EQ(mapped.children()[2].kind(), Kind::kRepeat);
  Regex gone = pattern.map_sets([](const CodepointSet&) { return Regex::nothing(); });
  EXPECT_EQ(gone.kind(), Kind::kNothing);
}

}  // namespace
}  // namespace tgi::grammar
