#include "core/error.h"

#include <gtest/gtest.h>

namespace tgi {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error::make(ErrorKind::kInvalidArgument, "expected a positive number, got {}", v);
  return v;
}

Result<int> doubled(int v) {
  TGI_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

TEST(ResultTest, CarriesValueOrError) {
  auto good = doubled(21);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "expected a positive number, got -1");
  EXPECT_STREQ(to_string(bad.error().kind), "invalid_argument");
}

}  // namespace
}  // namespace tgi
