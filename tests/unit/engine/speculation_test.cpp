// How many proposals a step verifies: the acceptance estimate and the cost-aware choice.
#include "engine/speculation.h"

#include <vector>

#include <gtest/gtest.h>

#include "engine/step_cost_model.h"

namespace tgi::engine {
namespace {

TEST(AcceptanceEstimate, StartsAtAHalfAndFollowsRecentProposals) {
  AcceptanceEstimate a;
  EXPECT_DOUBLE_EQ(a.rate(), 0.5);
  for (int i = 0; i < 10; ++i) a.record(4, 4);
  EXPECT_GT(a.rate(), 0.9);
  for (int i = 0; i < 20; ++i) a.record(4, 0);
  EXPECT_LT(a.rate(), 0.3);
  for (int i = 0; i < 200; ++i) a.on_step_without_proposal();
  EXPECT_NEAR(a.rate(), 0.5, 0.05);  // forgotten: worth trying again
}

TEST(AcceptanceEstimate, CountsKeptTokensAgainstFirstRejections) {
  AcceptanceEstimate a;
  a.record(5, 3);  // three kept, the fourth rejected (the fifth never judged)
  EXPECT_DOUBLE_EQ(a.rate(), (3.0 + 1) / (3.0 + 1 + 2));
}

TEST(StepCostModel, InterpolatesBetweenAndExploresAboveTheMeasuredRows) {
  StepCostModel costs;
  EXPECT_EQ(costs.estimate(3), 0);
  costs.record(1, 0.030);
  costs.record(5, 0.150);
  EXPECT_DOUBLE_EQ(costs.estimate(1), 0.030);
  EXPECT_NEAR(costs.estimate(3), 0.090, 1e-12);
  EXPECT_NEAR(costs.estimate(6), 0.150 * (1 + StepCostModel::kExplorationSlope / 5), 1e-12);
  costs.record(1, 0.040);  // a moving average
  EXPECT_GT(costs.estimate(1), 0.030);
  EXPECT_LT(costs.estimate(1), 0.040);
}

TEST(ChooseProposalLengths, NothingBeforeAStepWasMeasured) {
  StepCostModel costs;
  const std::vector<double> rates{0.9};
  const std::vector<int32_t> available{4};
  EXPECT_EQ(choose_proposal_lengths(costs, 1, rates, available), std::vector<int32_t>{0});
}

TEST(ChooseProposalLengths, NearlyFreeRowsAreAllUsedWhenLikelyKept) {
  StepCostModel costs;
  for (int rows = 1; rows <= 8; ++rows) costs.record(rows, 0.030 + 0.001 * rows);  // bandwidth-bound
  const std::vector<double> rates{0.9};
  const std::vector<int32_t> available{5};
  EXPECT_EQ(choose_proposal_lengths(costs, 1, rates, available), std::vector<int32_t>{5});
}

TEST(ChooseProposalLengths, DearRowsAreUsedOnlyAsFarAsTheyPay) {
  // Each extra row costs 60% of a step: with 0.9 acceptance the first two rows pay
  // (1.9 tokens / 1.6 steps, 2.71 / 2.2), the third not (3.44 / 2.8 < 2.71 / 2.2).
  StepCostModel costs;
  for (int rows = 1; rows <= 8; ++rows) costs.record(rows, 0.030 * (1 + 0.6 * (rows - 1)));
  const std::vector<double> rates{0.9};
  const std::vector<int32_t> available{5};
  EXPECT_EQ(choose_proposal_lengths(costs, 1, rates, available), std::vector<int32_t>{2});
  // Rows as dear as whole steps never pay.
  StepCostModel linear;
  for (int rows = 1; rows <= 8; ++rows) linear.record(rows, 0.030 * rows);
  EXPECT_EQ(choose_proposal_lengths(linear, 1, rates, available), std::vector<int32_t>{0});
}

TEST(ChooseProposalLengths, LikelierProposalsGoFirstAndNoneBeyondWhatIsAvailable) {
  StepCostModel costs;
  for (int rows = 1; rows <= 16; ++rows) costs.record(rows, 0.030 * (1 + 0.1 * (rows - 3)));
  const std::vector<double> rates{0.95, 0.2, 0.9};
  const std::vector<int32_t> available{1, 4, 6};
  const auto lengths = choose_proposal_lengths(costs, 3, rates, available);
  EXPECT_EQ(lengths[0], 1);  // capped by what was proposed
  EXPECT_EQ(lengths[1], 0);  // unlikely to be kept
  EXPECT_EQ(lengths[2], 6);  // cheap rows, likely kept: all of them
}

}  // namespace
}  // namespace tgi::engine

namespace tgi::engine {
namespace {

TEST(ChooseProposalLengths, ADraftStepPerTokenOfDepthIsPaidFor) {
  // Rows nearly free, but each token of depth costs a draft step of half a target step: with 0.9
  // acceptance, depth 1 pays and so do two more (3 tokens of depth), fewer than without the draft.
  StepCostModel costs;
  for (int rows = 1; rows <= 8; ++rows) costs.record(rows, 0.030 + 0.001 * rows);
  const std::vector<double> rates{0.9};
  const std::vector<int32_t> available{8};
  const auto free_lengths = choose_proposal_lengths(costs, 1, rates, available);
  const auto draft_lengths = choose_proposal_lengths(costs, 1, rates, available, 0.015);
  EXPECT_EQ(free_lengths[0], 8);  // all of them
  EXPECT_GT(draft_lengths[0], 0);
  EXPECT_LT(draft_lengths[0], free_lengths[0]);
  // A draft as dear as the model never pays.
  EXPECT_EQ(choose_proposal_lengths(costs, 1, rates, available, 0.031)[0], 0);
}

}  // namespace
}  // namespace tgi::engine
