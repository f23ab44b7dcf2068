#include "engine/stop_sequence_matcher.h"

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

TEST(StopSequenceMatcher, MatchesAcrossPieceBoundariesAndKeepsTheStop) {
  StopSequenceMatcher m({"world"});
  m.push("Hello wor");
  EXPECT_FALSE(m.stopped());
  m.push("ld");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.text(), "Hello world");  // TGI keeps the stop string in generated_text
}

TEST(StopSequenceMatcher, OnlyASuffixMatchesAsWithTgisAnchoredRegex) {
  StopSequenceMatcher m({"STOP"});
  m.push("xx STOP yy");  // the piece overshoots the stop: TGI's `STOP$` does not match
  EXPECT_FALSE(m.stopped());
  m.push(" STOP");
  EXPECT_TRUE(m.stopped());
  m.push("more");
  EXPECT_EQ(m.text(), "xx STOP yy STOP");
}

TEST(StopSequenceMatcher, AnyOfSeveralStops) {
  StopSequenceMatcher m({"cd", "b"});
  m.push("ab");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.text(), "ab");
}

TEST(StopSequenceMatcher, EmptyStopsAndEmptyPiecesNeverMatch) {
  StopSequenceMatcher m({"", ""});
  m.push("abc");
  m.push("");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.text(), "abc");
}

TEST(StopSequenceMatcher, StopSplitOverManyPieces) {
  StopSequenceMatcher m({"<|end|>"});
  for (const char* piece : {"ok", "<", "|", "en", "d", "|>"}) m.push(piece);
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.text(), "ok<|end|>");
}

}  // namespace
}  // namespace tgi::engine
