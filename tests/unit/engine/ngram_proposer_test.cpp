#include "engine/ngram_proposer.h"

#include <vector>

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

std::vector<int32_t> propose(const std::vector<int32_t>& tokens, int32_t max_tokens,
                             NgramProposerConfig config = {}) {
  std::vector<int32_t> out{99, 99};  // replaced, never appended to
  NgramProposer(config).propose(tokens, max_tokens, out);
  return out;
}

TEST(NgramProposer, ContinuesTheEarlierOccurrenceOfTheLastTokens) {
  // "3 4" occurred before, followed by 5 6 7.
  EXPECT_EQ(propose({1, 2, 3, 4, 5, 6, 7, 8, 3, 4}, 3), (std::vector<int32_t>{5, 6, 7}));
}

TEST(NgramProposer, RepeatsThePeriodOnceItReachesThePresent) {
  EXPECT_EQ(propose({1, 2, 3, 1, 2}, 8), (std::vector<int32_t>{3, 1, 2, 3, 1, 2, 3, 1}));
}

TEST(NgramProposer, PrefersTheLongestMatchingNgram) {
  // The trigram 5 2 3 occurred at 4 (then 6); the bigram 2 3 more recently at 8 (then 8).
  const std::vector<int32_t> tokens{0, 2, 3, 9, 5, 2, 3, 6, 2, 3, 8, 5, 2, 3};
  EXPECT_EQ(propose(tokens, 1), (std::vector<int32_t>{6}));
}

TEST(NgramProposer, PrefersTheMostRecentOccurrence) {
  EXPECT_EQ(propose({1, 2, 7, 1, 2, 8, 1, 2}, 1), (std::vector<int32_t>{8}));
}

TEST(NgramProposer, ACycleOfOneTokenProposesMore) {
  EXPECT_EQ(propose({4, 4, 4, 4}, 3), (std::vector<int32_t>{4, 4, 4}));
  EXPECT_EQ(propose({5, 4, 4, 4, 4, 4, 4}, 2), (std::vector<int32_t>{4, 4}));
}

TEST(NgramProposer, NoMatchNoProposal) {
  EXPECT_TRUE(propose({1, 2, 3, 4, 5}, 4).empty());
  EXPECT_TRUE(propose({}, 4).empty());
  EXPECT_TRUE(propose({7}, 4).empty());
  EXPECT_TRUE(propose({1, 2, 3, 1, 2}, 0).empty());
}

TEST(NgramProposer, SingleTokenMatchesOnlyWhenAllowed) {
  const std::vector<int32_t> tokens{1, 6, 2, 3, 1};
  EXPECT_TRUE(propose(tokens, 2).empty());  // default min_ngram 2
  EXPECT_EQ(propose(tokens, 2, {.min_ngram = 1, .max_ngram = 3, .max_lookback = 8192}),
            (std::vector<int32_t>{6, 2}));
}

TEST(NgramProposer, LooksBackNoFurtherThanTheLimit) {
  std::vector<int32_t> tokens{1, 2, 42};
  for (int i = 0; i < 100; ++i) tokens.push_back(1000 + i);
  tokens.push_back(1);
  tokens.push_back(2);
  EXPECT_EQ(propose(tokens, 1), (std::vector<int32_t>{42}));
  EXPECT_TRUE(propose(tokens, 1, {.min_ngram = 2, .max_ngram = 4, .max_lookback = 50}).empty());
}

}  // namespace
}  // namespace tgi::engine
