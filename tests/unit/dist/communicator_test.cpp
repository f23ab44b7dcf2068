// The in-process communicator: every rank ends with the elementwise sum of all ranks' buffers, the
// same bits on every rank, call after call.
#include "dist/communicator.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "backend/make_backend.h"

namespace tgi::dist {
namespace {

TEST(ThreadGroup, EveryRankGetsTheSameSumInRankOrder) {
  constexpr int kRanks = 3;
  constexpr int64_t kN = 1000;
  ThreadGroup group(kRanks);
  std::vector<std::vector<float>> data(kRanks);
  std::vector<std::thread> threads;
  for (int r = 0; r < kRanks; ++r) {
    threads.emplace_back([&, r, communicator = group.member(r)] {
      auto backend = backend::make_backend({"cpu", 1});
      ASSERT_TRUE(backend.ok());
      EXPECT_EQ(communicator->rank(), r);
      EXPECT_EQ(communicator->world_size(), kRanks);
      std::vector<float>& mine = data[static_cast<size_t>(r)];
      for (int round = 0; round < 5; ++round) {  // reuse: a round must not see the last one's buffers
        mine.assign(kN, 0.0f);
        for (int64_t i = 0; i < kN; ++i) mine[i] = 0.1f * static_cast<float>(r + 1) + 1e-7f * i + round;
        communicator->all_reduce_sum(**backend, mine.data(), kN);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int64_t i = 0; i < kN; ++i) {
    float expected = 0;  // rank order, as the communicator adds
    for (int r = 0; r < kRanks; ++r) expected += 0.1f * static_cast<float>(r + 1) + 1e-7f * i + 4;
    for (int r = 0; r < kRanks; ++r) ASSERT_EQ(data[r][i], expected) << "rank " << r << " element " << i;
  }
}

TEST(ThreadGroup, GatheredColumnsSitSideBySideInRankOrder) {
  constexpr int kRanks = 2;
  constexpr int64_t kRows = 3, kCols = 4;
  ThreadGroup group(kRanks);
  std::vector<std::vector<float>> out(kRanks, std::vector<float>(kRows * kCols * kRanks, -1.0f));
  std::vector<std::thread> threads;
  for (int r = 0; r < kRanks; ++r) {
    threads.emplace_back([&, r, communicator = group.member(r)] {
      std::vector<float> local(kRows * kCols);
      for (int64_t i = 0; i < kRows * kCols; ++i) local[i] = static_cast<float>(100 * r + i);
      communicator->all_gather_columns(local.data(), kRows, kCols, out[static_cast<size_t>(r)].data());
    });
  }
  for (std::thread& t : threads) t.join();
  for (int r = 0; r < kRanks; ++r)
    for (int64_t row = 0; row < kRows; ++row)
      for (int64_t c = 0; c < kCols * kRanks; ++c) {
        const int64_t owner = c / kCols, col = c % kCols;
        EXPECT_EQ(out[r][row * kCols * kRanks + c], static_cast<float>(100 * owner + row * kCols + col))
            << "rank " << r << " row " << row << " column " << c;
      }
}

TEST(SingleRank, LeavesTheDataAlone) {
  SingleRank single;
  auto backend = backend::make_backend({"cpu", 1});
  ASSERT_TRUE(backend.ok());
  std::vector<float> data{1.5f, -2.0f};
  single.all_reduce_sum(**backend, data.data(), 2);
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(single.world_size(), 1);
}

}  // namespace
}  // namespace tgi::dist
