#include <gtest/gtest.h>

#include "engine/speculation.h"

namespace tgi::engine {
namespace {

TEST(SpeculationPacer, StartsAtTheLimitAndShrinksToWhatWasAcceptedPlusOne) {
  SpeculationPacer pacer(5);
  EXPECT_EQ(pacer.next_length(), 5);
  pacer.record(5, 2);
  EXPECT_EQ(pacer.next_length(), 3);
  pacer.record(3, 3);
  EXPECT_EQ(pacer.next_length(), 4);
  pacer.record(4, 4);
  pacer.record(5, 5);
  pacer.record(5, 5);
  EXPECT_EQ(pacer.next_length(), 5);  // never past the limit
}

TEST(SpeculationPacer, LowAcceptanceTurnsItOffForAWhileThenRetries) {
  SpeculationPacer pacer(4);
  int rejected = 0;
  while (pacer.next_length() > 0 && rejected < 100) {
    pacer.record(pacer.next_length(), 0);
    ++rejected;
  }
  ASSERT_LT(rejected, 100);
  EXPECT_LE(rejected, 4);  // a few straight misses are enough
  EXPECT_EQ(pacer.next_length(), 0);
  for (int32_t i = 1; i < SpeculationPacer::kCooldownSteps; ++i) pacer.on_step_without_proposal();
  EXPECT_EQ(pacer.next_length(), 0);
  pacer.on_step_without_proposal();
  EXPECT_EQ(pacer.next_length(), 1);  // back, carefully: one token after the last miss
}

TEST(SpeculationPacer, OffWhenTheLimitIsZero) {
  SpeculationPacer pacer(0);
  EXPECT_EQ(pacer.next_length(), 0);
  pacer.record(0, 0);
  EXPECT_EQ(pacer.next_length(), 0);
}

}  // namespace
}  // namespace tgi::engine
