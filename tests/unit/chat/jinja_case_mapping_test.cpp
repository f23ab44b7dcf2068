// Python 3's Unicode case mapping in the Jinja engine: str.upper/lower/title/capitalize/swapcase/
// casefold, jinja2's upper/lower/title/capitalize filters, and the shared lossless UTF-8 decoding
// they run on. Expected strings were produced with CPython 3.11 and jinja2 3.1.
#include <gtest/gtest.h>

#include "chat/chat_template.h"
#include "chat/jinja/unicode.h"
#include "tokenizer/utf8.h"

namespace tgi::chat {
namespace {

using jinja::capitalize;
using jinja::casefold;
using jinja::lower;
using jinja::swapcase;
using jinja::title;
using jinja::upper;

std::string ok(const std::string& source) {
  auto parsed = ChatTemplate::parse(source);
  EXPECT_TRUE(parsed.ok()) << source;
  if (!parsed.ok()) return "<error>";
  ApplyOptions options;
  options.date = "2026-01-02";
  auto r = parsed->apply(Json::array(), options);
  EXPECT_TRUE(r.ok()) << source << " -> " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : "<error>";
}

TEST(JinjaCaseMapping, FullMappingsOfLatinText) {
  EXPECT_EQ(upper("ĺĹžŽ straße İstanbul ǅ"), "ĹĹŽŽ STRASSE İSTANBUL Ǆ");
  EXPECT_EQ(lower("ĺĹžŽ straße İstanbul ǅ"), "ĺĺžž straße i\u0307stanbul ǆ");
  EXPECT_EQ(title("ĺĹžŽ straße İstanbul ǅ"), "Ĺĺžž Straße İstanbul ǅ");
  EXPECT_EQ(capitalize("ĺĹžŽ straße İstanbul ǅ"), "Ĺĺžž straße i\u0307stanbul ǆ");
  EXPECT_EQ(swapcase("ĺĹžŽ straße İstanbul ǅ"), "ĹĺŽž STRASSE i\u0307STANBUL ǅ");
  EXPECT_EQ(casefold("ĺĹžŽ straße İstanbul ǅ"), "ĺĺžž strasse i\u0307stanbul ǆ");

  EXPECT_EQ(upper("ǆemal ßtraße"), "ǄEMAL SSTRASSE");
  EXPECT_EQ(lower("ǆemal ßtraße"), "ǆemal ßtraße");
  EXPECT_EQ(title("ǆemal ßtraße"), "ǅemal Sstraße");
  EXPECT_EQ(capitalize("ǆemal ßtraße"), "ǅemal ßtraße");
  EXPECT_EQ(swapcase("ǆemal ßtraße"), "ǄEMAL SSTRASSE");
  EXPECT_EQ(casefold("ǆemal ßtraße"), "ǆemal sstrasse");
}

TEST(JinjaCaseMapping, TitleTreatsEveryUncasedCharacterAsAWordBoundary) {
  EXPECT_EQ(title("they're bill's friends"), "They'Re Bill'S Friends");
  EXPECT_EQ(capitalize("they're bill's friends"), "They're bill's friends");
  EXPECT_EQ(upper("they're bill's friends"), "THEY'RE BILL'S FRIENDS");
  EXPECT_EQ(title("Hello wORLD-foo(bar) 42x_y"), "Hello World-Foo(Bar) 42X_Y");
}

TEST(JinjaCaseMapping, GreekFinalSigma) {
  EXPECT_EQ(lower("ΟΔΟΣ ΟΔΟΣ."), "οδος οδος.");
  EXPECT_EQ(upper("ΟΔΟΣ ΟΔΟΣ."), "ΟΔΟΣ ΟΔΟΣ.");
  EXPECT_EQ(title("ΟΔΟΣ ΟΔΟΣ."), "Οδος Οδος.");
  EXPECT_EQ(capitalize("ΟΔΟΣ ΟΔΟΣ."), "Οδος οδος.");
  EXPECT_EQ(swapcase("ΟΔΟΣ ΟΔΟΣ."), "οδος οδος.");
  EXPECT_EQ(casefold("ΟΔΟΣ ΟΔΟΣ."), "οδοσ οδοσ.");  // casefold has no final form
  // Case-ignorable characters (the tonos, U+0384) are skipped on both sides; a lone sigma and one
  // followed by a cased letter are not final.
  EXPECT_EQ(lower("ΑΣ΄Α aΣ Σ"), "ασ΄α aς σ");
  EXPECT_EQ(title("ΑΣ΄Α aΣ Σ"), "Ασ΄Α Aς Σ");
  EXPECT_EQ(capitalize("ΑΣ΄Α aΣ Σ"), "Ασ΄α aς σ");
  EXPECT_EQ(swapcase("ΑΣ΄Α aΣ Σ"), "ασ΄α Aς σ");
  EXPECT_EQ(casefold("ΑΣ΄Α aΣ Σ"), "ασ΄α aσ σ");
}

TEST(JinjaCaseMapping, LigaturesAndOtherSpecialCasings) {
  EXPECT_EQ(upper("ﬁ"), "FI");
  EXPECT_EQ(upper("ﬁ ﬃ ᾳ ŉ ǰ ΐ և"), "FI FFI ΑΙ ʼN J\u030c Ι\u0308\u0301 ԵՒ");
  EXPECT_EQ(lower("ﬁ ﬃ ᾳ ŉ ǰ ΐ և"), "ﬁ ﬃ ᾳ ŉ ǰ ΐ և");
  EXPECT_EQ(title("ﬁ ﬃ ᾳ ŉ ǰ ΐ և"), "Fi Ffi ᾼ ʼN J\u030c Ι\u0308\u0301 Եւ");
  EXPECT_EQ(capitalize("ﬁ ﬃ ᾳ ŉ ǰ ΐ և"), "Fi ﬃ ᾳ ŉ ǰ ΐ և");
  EXPECT_EQ(swapcase("ﬁ ﬃ ᾳ ŉ ǰ ΐ և"), "FI FFI ΑΙ ʼN J\u030c Ι\u0308\u0301 ԵՒ");
  EXPECT_EQ(casefold("ﬁ ﬃ ᾳ ŉ ǰ ΐ և"), "fi ffi αι ʼn j\u030c ι\u0308\u0301 եւ");
  // U+0345 is lowercase (Other_Lowercase) and case-ignorable.
  EXPECT_EQ(upper("Ὰ\u0345"), "ᾺΙ");
  EXPECT_EQ(lower("Ὰ\u0345"), "ὰ\u0345");
  EXPECT_EQ(title("Ὰ\u0345"), "Ὰ\u0345");
  EXPECT_EQ(swapcase("Ὰ\u0345"), "ὰΙ");
  EXPECT_EQ(casefold("Ὰ\u0345"), "ὰι");
}

// Long strings go to ICU in runs; mappings that grow (ß, ﬃ), supplementary characters (𐐨) and
// escaped bytes must survive the run boundaries.
TEST(JinjaCaseMapping, LongNonAsciiStrings) {
  std::string in, up, low, fold;
  for (int k = 0; k < 300; ++k) {
    in += "ΑΣ ß𐐨ﬃé";
    up += "ΑΣ SS𐐀FFIÉ";
    low += "ας ß𐐨ﬃé";
    fold += "ασ ss𐐨ffié";
  }
  EXPECT_EQ(upper(in), up);
  EXPECT_EQ(lower(in), low);
  EXPECT_EQ(casefold(in), fold);
  EXPECT_EQ(upper(in + "\xff" + in), up + "\xff" + up);
}

TEST(JinjaCaseMapping, AsciiUnchanged) {
  const std::string s = "Hello wORLD-foo(bar) 42x_y it's";
  EXPECT_EQ(upper(s), "HELLO WORLD-FOO(BAR) 42X_Y IT'S");
  EXPECT_EQ(lower(s), "hello world-foo(bar) 42x_y it's");
  EXPECT_EQ(title(s), "Hello World-Foo(Bar) 42X_Y It'S");
  EXPECT_EQ(capitalize(s), "Hello world-foo(bar) 42x_y it's");
  EXPECT_EQ(swapcase(s), "hELLO World-FOO(BAR) 42X_Y IT'S");
  EXPECT_EQ(casefold(s), "hello world-foo(bar) 42x_y it's");
  EXPECT_EQ(upper(""), "");
  EXPECT_EQ(capitalize(""), "");
  EXPECT_EQ(ok("{{ 'hello wORLD-foo(bar) {x [y <z\\tw' | title }}"), "Hello World-Foo(Bar) {X [Y <Z\tW");
  EXPECT_EQ(ok("{{ 'hello wORLD' | capitalize }}{{ 'Ab' | upper }}{{ 'Ab' | lower }}"), "Hello worldABab");
}

// Ill-formed UTF-8 is never rejected: each byte that starts no well-formed character is uncased and
// copied through unchanged (it decodes to U+DC80 + byte, as with Python's surrogateescape, and the
// results equal Python's on such a string), while the characters around it are still mapped.
TEST(JinjaCaseMapping, InvalidUtf8BytesPassThrough) {
  const std::string s =
      "a\xff"
      "b\xc3(Σ\xe2\x82 \xed\xa0\x80é\x80";
  EXPECT_EQ(upper(s),
            "A\xff"
            "B\xc3(Σ\xe2\x82 \xed\xa0\x80É\x80");
  EXPECT_EQ(lower(s),
            "a\xff"
            "b\xc3(σ\xe2\x82 \xed\xa0\x80é\x80");
  EXPECT_EQ(title(s),
            "A\xff"
            "B\xc3(Σ\xe2\x82 \xed\xa0\x80É\x80");
  EXPECT_EQ(capitalize(s),
            "A\xff"
            "b\xc3(σ\xe2\x82 \xed\xa0\x80é\x80");
  EXPECT_EQ(swapcase(s),
            "A\xff"
            "B\xc3(σ\xe2\x82 \xed\xa0\x80É\x80");
  EXPECT_EQ(casefold(s),
            "a\xff"
            "b\xc3(σ\xe2\x82 \xed\xa0\x80é\x80");
  EXPECT_EQ(upper("\xf0\x9f"), "\xf0\x9f");  // truncated at the end
  EXPECT_EQ(lower("\xc0\x80\xf5"), "\xc0\x80\xf5");
  EXPECT_EQ(jinja::is_lower_string("a\xff"), true);
}

TEST(JinjaCaseMapping, SharedLosslessDecoder) {
  namespace utf8 = tokenizer::utf8;
  const std::string s =
      "x\xc3"
      "é\xed\xa0\x80\xf0\x9f\x98\x80\x80";
  size_t i = 0;
  std::vector<char32_t> cps;
  while (i < s.size()) cps.push_back(utf8::next_lossless(s, i));
  EXPECT_EQ(cps, (std::vector<char32_t>{'x', 0xdcc3, 0xe9, 0xdced, 0xdca0, 0xdc80, 0x1f600, 0xdc80}));
  std::string back;
  for (char32_t c : cps) utf8::append_lossless(back, c);
  EXPECT_EQ(back, s);
  EXPECT_EQ(utf8::count_chars_lossless(s), cps.size());
  EXPECT_EQ(jinja::code_point_count(s), cps.size());
  auto jcps = jinja::to_code_points(s);
  EXPECT_EQ(jinja::from_code_points(jcps, 0, jcps.size()), s);
  EXPECT_EQ(jinja::from_code_points(jcps, 1, 2), "\xc3");
}

TEST(JinjaCaseMapping, FiltersFollowJinja2) {
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ' | upper }}"), "ĹĹŽŽ STRASSE İSTANBUL Ǆ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ' | lower }}"), "ĺĺžž straße i\u0307stanbul ǆ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ' | title }}"), "Ĺĺžž Straße İstanbul Ǆ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ' | capitalize }}"), "Ĺĺžž straße i\u0307stanbul ǆ");
  // jinja2's title filter is piece[0].upper() + piece[1:].lower() per word, not str.title().
  EXPECT_EQ(ok("{{ 'ǆemal ßtraße' | title }}"), "Ǆemal SStraße");
  EXPECT_EQ(ok("{{ 'ǆemal ßtraße' | capitalize }}"), "ǅemal ßtraße");
  EXPECT_EQ(ok("{{ \"they're bill's friends\" | title }}"), "They're Bill's Friends");
  EXPECT_EQ(ok("{{ \"they're bill's friends\" | capitalize }}"), "They're bill's friends");
  EXPECT_EQ(ok("{{ 'they re bill-s (friends' | title }}"), "They Re Bill-S (Friends");
  EXPECT_EQ(ok("{{ 'ﬁ' | upper }}{{ 'ﬁ' | lower }}{{ 'ﬁ' | title }}{{ 'ﬁ' | capitalize }}"), "FIﬁFIFi");
  EXPECT_EQ(ok("{{ 'ΟΔΟΣ ΟΔΟΣ.' | lower }}"), "οδος οδος.");
  EXPECT_EQ(ok("{{ 'ΟΔΟΣ ΟΔΟΣ.' | title }}"), "Οδος Οδος.");
  EXPECT_EQ(ok("{{ 'ΟΔΟΣ ΟΔΟΣ.' | capitalize }}"), "Οδος οδος.");
  // The final sigma of piece[1:].lower() is judged on piece[1:] alone.
  EXPECT_EQ(ok("{{ 'aΣ xΣ' | lower }}{{ 'aΣ xΣ' | title }}{{ 'aΣ xΣ' | capitalize }}"), "aς xςAσ XσAς xς");
  EXPECT_EQ(ok("{{ 'x-(yΣ z<wΣ\\ta{v[u' | title }}"), "X-(Yσ Z<Wσ\tA{V[U");
  EXPECT_EQ(ok("{{ 'İ' | lower | length }}"), "2");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ'[1] | upper }}{{ ['Β', 'a', 'ä'] | sort | join }}"), "ĹaäΒ");
}

TEST(JinjaCaseMapping, StringMethodsFollowPython) {
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ'.upper() }}"), "ĹĹŽŽ STRASSE İSTANBUL Ǆ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ'.lower() }}"), "ĺĺžž straße i\u0307stanbul ǆ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ'.title() }}"), "Ĺĺžž Straße İstanbul ǅ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ'.capitalize() }}"), "Ĺĺžž straße i\u0307stanbul ǆ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ'.swapcase() }}"), "ĹĺŽž STRASSE i\u0307STANBUL ǅ");
  EXPECT_EQ(ok("{{ 'ĺĹžŽ straße İstanbul ǅ'.casefold() }}"), "ĺĺžž strasse i\u0307stanbul ǆ");
  EXPECT_EQ(ok("{{ 'ǆemal ßtraße'.title() }}"), "ǅemal Sstraße");
  EXPECT_EQ(ok("{{ 'ǆemal ßtraße'.capitalize() }}"), "ǅemal ßtraße");
  EXPECT_EQ(ok("{{ \"they're bill's friends\".title() }}"), "They'Re Bill'S Friends");
  EXPECT_EQ(ok("{{ 'ΟΔΟΣ ΟΔΟΣ.'.lower() }}"), "οδος οδος.");
  EXPECT_EQ(ok("{{ 'ΟΔΟΣ ΟΔΟΣ.'.swapcase() }}"), "οδος οδος.");
  EXPECT_EQ(ok("{{ 'ΟΔΟΣ ΟΔΟΣ.'.casefold() }}"), "οδοσ οδοσ.");
}

TEST(JinjaCaseMapping, CaseTests) {
  EXPECT_EQ(ok("{{ '123' is lower }}{{ 'abc1' is lower }}{{ 'ǅ' is upper }}{{ 'ABC' is upper }}"),
            "FalseTrueFalseTrue");
  EXPECT_EQ(
      ok("{{ 'ǅA'.isupper() }}{{ 'ß'.islower() }}{{ 'Ⅻ'.isupper() }}{{ 'ⓐ'.islower() }}{{ 'ǅ'.islower() }}"),
      "FalseTrueTrueTrueFalse");
}

}  // namespace
}  // namespace tgi::chat
