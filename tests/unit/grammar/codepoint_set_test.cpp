#include "grammar/codepoint_set.h"

#include <gtest/gtest.h>

namespace tgi::grammar {
namespace {

std::vector<CodepointRange> ranges(std::initializer_list<std::pair<char32_t, char32_t>> list) {
  std::vector<CodepointRange> out;
  for (auto [first, last] : list) out.push_back(CodepointRange{first, last});
  return out;
}

TEST(CodepointSet, OfAndRange) {
  EXPECT_EQ(CodepointSet::of('a').ranges(), ranges({{'a', 'a'}}));
  EXPECT_EQ(CodepointSet::range('a', 'z').size(), 26u);
  EXPECT_TRUE(CodepointSet::range('z', 'a').empty());
  EXPECT_TRUE(CodepointSet().empty());
}

TEST(CodepointSet, SurrogatesAreNeverMembers) {
  EXPECT_TRUE(CodepointSet::of(0xD800).empty());
  EXPECT_TRUE(CodepointSet::range(0xD800, 0xDFFF).empty());
  CodepointSet across = CodepointSet::range(0xD000, 0xE100);
  EXPECT_EQ(across.ranges(), ranges({{0xD000, 0xD7FF}, {0xE000, 0xE100}}));
  EXPECT_FALSE(across.contains(0xDABC));
  EXPECT_TRUE(across.contains(0xD7FF));
  EXPECT_TRUE(across.contains(0xE000));
  CodepointSet any = CodepointSet::any();
  EXPECT_EQ(any.size(), 0x110000u - 0x800u);
  EXPECT_FALSE(any.contains(0xDFFF));
  EXPECT_TRUE(any.contains(0x10FFFF));
  EXPECT_FALSE(any.contains(0x110000));
  EXPECT_FALSE(any.complement().contains(0xD800));
  EXPECT_TRUE(any.complement().empty());
}

TEST(CodepointSet, AddMergesOverlappingAndAdjacentRanges) {
  CodepointSet set;
  set.add('m', 'p');
  set.add('a', 'c');
  set.add('x');
  EXPECT_EQ(set.ranges(), ranges({{'a', 'c'}, {'m', 'p'}, {'x', 'x'}}));
  set.add('d', 'f');  // touches a-c
  EXPECT_EQ(set.ranges(), ranges({{'a', 'f'}, {'m', 'p'}, {'x', 'x'}}));
  set.add('e', 'w');  // swallows m-p, touches x
  EXPECT_EQ(set.ranges(), ranges({{'a', 'x'}}));
  set.add(0x10FFF0, 0x7FFFFFFF);  // clamped to the last scalar value
  EXPECT_EQ(set.ranges().back(), (CodepointRange{0x10FFF0, 0x10FFFF}));
  CodepointSet other = CodepointSet::range('0', '9');
  other.add(set);
  EXPECT_EQ(other.size(), 10u + 24u + 16u);
}

TEST(CodepointSet, ComplementIntersectMinus) {
  CodepointSet letters = CodepointSet::range('a', 'z');
  letters.add('A', 'Z');
  CodepointSet not_letters = letters.complement();
  EXPECT_FALSE(not_letters.contains('q'));
  EXPECT_TRUE(not_letters.contains('0'));
  EXPECT_TRUE(not_letters.contains(0));
  EXPECT_TRUE(not_letters.contains(0x10FFFF));
  EXPECT_EQ(not_letters.size() + letters.size(), CodepointSet::any().size());
  EXPECT_EQ(not_letters.complement(), letters);
  EXPECT_TRUE(letters.intersect(not_letters).empty());

  CodepointSet hex = CodepointSet::range('0', '9');
  hex.add('a', 'f');
  hex.add('A', 'F');
  EXPECT_EQ(hex.intersect(letters).ranges(), ranges({{'A', 'F'}, {'a', 'f'}}));
  EXPECT_EQ(hex.minus(letters), CodepointSet::range('0', '9'));
  EXPECT_EQ(letters.minus(hex).ranges(), ranges({{'G', 'Z'}, {'g', 'z'}}));
  EXPECT_EQ(CodepointSet::any().minus(CodepointSet::any()), CodepointSet());
  // An intersection of overlapping multi-range sets, piece by piece.
  CodepointSet a;
  a.add(0, 10);
  a.add(20, 30);
  CodepointSet b;
  b.add(5, 25);
  b.add(28, 40);
  EXPECT_EQ(a.intersect(b).ranges(), ranges({{5, 10}, {20, 25}, {28, 30}}));
  EXPECT_EQ(a.intersect(b), b.intersect(a));
}

TEST(CodepointSet, ToStringIsReadableAndEscapesSyntax) {
  EXPECT_EQ(CodepointSet::range('a', 'z').to_string(), "[a-z]");
  CodepointSet set = CodepointSet::of(0xE9);
  set.add(']');
  set.add('-');
  set.add('0', '1');
  EXPECT_EQ(set.to_string(), "[\\x{2d}01\\x{5d}\\x{e9}]");
  EXPECT_EQ(CodepointSet().to_string(), "[]");
}

}  // namespace
}  // namespace tgi::grammar
