#include "engine/stop_sequence_matcher.h"

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

TEST(StopSequenceMatcher, MatchesAcrossTokenBoundariesWithoutEmittingTheStop) {
  StopSequenceMatcher m({"world"});
  EXPECT_EQ(m.push("Hello wor"), "Hello ");  // "wor" could start "world"
  EXPECT_EQ(m.push("ld!"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.text(), "Hello ");
}

TEST(StopSequenceMatcher, ReleasesHeldTextOnceItCannotMatch) {
  StopSequenceMatcher m({"abc"});
  EXPECT_EQ(m.push("xab"), "x");
  EXPECT_EQ(m.push("d"), "abd");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.text(), "xabd");
}

TEST(StopSequenceMatcher, StopInsideOnePieceCutsTheRest) {
  StopSequenceMatcher m({"STOP"});
  EXPECT_EQ(m.push("xx STOP yy"), "xx ");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.text(), "xx ");
}

TEST(StopSequenceMatcher, EarliestOfSeveralStopsWins) {
  StopSequenceMatcher m({"cd", "b"});
  EXPECT_EQ(m.push("abcd"), "a");
  EXPECT_EQ(m.text(), "a");
}

TEST(StopSequenceMatcher, FlushReleasesAPossiblePrefix) {
  StopSequenceMatcher m({"\n\n"});
  EXPECT_EQ(m.push("line\n"), "line");
  EXPECT_EQ(m.flush(), "\n");
  EXPECT_EQ(m.text(), "line\n");
}

TEST(StopSequenceMatcher, NoStopsPassEverythingThrough) {
  StopSequenceMatcher m({"", ""});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_FALSE(m.stopped());
}

TEST(StopSequenceMatcher, StopSplitOverManyPieces) {
  StopSequenceMatcher m({"<|end|>"});
  std::string out;
  for (const char* piece : {"ok", "<", "|", "en", "d", "|>", "tail"}) out += m.push(piece);
  EXPECT_EQ(out, "ok");
  EXPECT_TRUE(m.stopped());
}

}  // namespace
}  // namespace tgi::engine
