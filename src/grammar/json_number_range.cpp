#include "grammar/json_number_range.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tgi::grammar::json_number {
namespace {

Regex digit() {
  return Regex::set(CodepointSet::range('0', '9'));
}
Regex digit_range(char first, char last) {
  return Regex::set(CodepointSet::range(first, last));
}
Regex digits(uint32_t min, uint32_t max) {
  return Regex::repeat(digit(), min, max);
}

Int pow10(int exponent) {
  Int value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

int digit_count(Int value) {
  int count = 1;
  while (value >= 10) {
    value /= 10;
    ++count;
  }
  return count;
}

// Digit strings of a's length between a and b (inclusive), a <= b, same length.
Regex same_length_range(std::string_view a, std::string_view b) {
  if (a.empty()) return Regex::empty();
  const auto rest = static_cast<uint32_t>(a.size() - 1);
  if (a[0] == b[0])
    return Regex::concat({Regex::character(a[0]), same_length_range(a.substr(1), b.substr(1))});
  const bool a_rest_min = std::all_of(a.begin() + 1, a.end(), [](char c) { return c == '0'; });
  const bool b_rest_max = std::all_of(b.begin() + 1, b.end(), [](char c) { return c == '9'; });
  std::vector<Regex> parts;
  const char low = a_rest_min ? a[0] : static_cast<char>(a[0] + 1);
  const char high = b_rest_max ? b[0] : static_cast<char>(b[0] - 1);
  if (!a_rest_min) {
    parts.push_back(
        Regex::concat({Regex::character(a[0]), same_length_range(a.substr(1), std::string(rest, '9'))}));
  }
  if (low <= high) parts.push_back(Regex::concat({digit_range(low, high), digits(rest, rest)}));
  if (!b_rest_max) {
    parts.push_back(
        Regex::concat({Regex::character(b[0]), same_length_range(std::string(rest, '0'), b.substr(1))}));
  }
  return Regex::alt(std::move(parts));
}

// Canonical spellings (no leading zeros) of the integers in [lo, hi], 0 <= lo.
Regex nonnegative_range(Int lo, Int hi) {
  hi = std::min(hi, integer_cap());
  if (lo < 0) lo = 0;
  if (lo > hi) return Regex::nothing();
  std::vector<Regex> parts;
  for (int length = digit_count(lo); length <= digit_count(hi); ++length) {
    const Int first = std::max(lo, length == 1 ? Int(0) : pow10(length - 1));
    const Int last = std::min(hi, pow10(length) - 1);
    if (first > last) continue;
    parts.push_back(same_length_range(to_decimal(first), to_decimal(last)));
  }
  return Regex::alt(std::move(parts));
}

// The digits after the point of a fraction that is not zero.
Regex nonzero_fraction() {
  return Regex::intersect(
      {digits(1, kMaxSignificantDigits),
       Regex::concat({Regex::star(digit()), digit_range('1', '9'), Regex::star(digit())})});
}

// Unsigned spellings "I.F" whose digits (integer part counted whole) are at most
// kMaxSignificantDigits, so that a double holds them exactly.
Regex significant_budget() {
  std::vector<Regex> parts;
  for (uint32_t k = 1; k < static_cast<uint32_t>(kMaxSignificantDigits); ++k) {
    parts.push_back(Regex::concat(
        {digits(k, k), Regex::character('.'), digits(1, static_cast<uint32_t>(kMaxSignificantDigits) - k)}));
  }
  return Regex::alt(std::move(parts));
}

}  // namespace

Int integer_cap() {
  return pow10(kMaxIntegerDigits) - 1;
}

std::string to_decimal(Int value) {
  if (value == 0) return "0";
  const bool negative = value < 0;
  if (negative) value = -value;
  std::string out;
  while (value > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  if (negative) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

Regex integer_range(Int lo, Int hi) {
  lo = std::max(lo, -integer_cap());
  hi = std::min(hi, integer_cap());
  if (lo > hi) return Regex::nothing();
  std::vector<Regex> parts;
  if (lo < 0) {
    const Int magnitude_low = hi < 0 ? -hi : 1;
    parts.push_back(Regex::concat({Regex::character('-'), nonnegative_range(magnitude_low, -lo)}));
  }
  if (hi >= 0) parts.push_back(nonnegative_range(std::max(lo, Int(0)), hi));
  return Regex::alt(std::move(parts));
}

Regex any_number() {
  const Regex integer = Regex::alt(
      {Regex::character('0'),
       Regex::concat({digit_range('1', '9'), digits(0, static_cast<uint32_t>(kMaxIntegerDigits) - 1)})});
  const Regex fraction = Regex::concat({Regex::character('.'), digits(1, kMaxIntegerDigits)});
  const Regex exponent = Regex::concat({Regex::set([] {
                                          CodepointSet s = CodepointSet::of('e');
                                          s.add('E');
                                          return s;
                                        }()),
                                        Regex::optional(Regex::set([] {
                                          CodepointSet s = CodepointSet::of('+');
                                          s.add('-');
                                          return s;
                                        }())),
                                        digits(1, kMaxExponentDigits)});
  return Regex::concat({Regex::optional(Regex::character('-')), integer, Regex::optional(fraction),
                        Regex::optional(exponent)});
}

Regex number_range(std::optional<Int> lo, bool lo_exclusive, std::optional<Int> hi, bool hi_exclusive) {
  const Int low = lo ? *lo : -integer_cap();
  const Int high = hi ? *hi : integer_cap();
  const bool low_excl = lo && lo_exclusive;
  const bool high_excl = hi && hi_exclusive;
  std::vector<Regex> parts;
  // Integer values, optionally written with a zero fraction ("3.0").
  const Int int_low = low + (low_excl ? 1 : 0);
  const Int int_high = high - (high_excl ? 1 : 0);
  if (int_low <= int_high) {
    const Regex zero_fraction = Regex::concat(
        {Regex::character('.'), Regex::repeat(Regex::character('0'), 1, kMaxSignificantDigits)});
    const Int small = pow10(kMaxSignificantDigits - 1) - 1;
    parts.push_back(integer_range(int_low, int_high));
    // A zero fraction makes Python parse a float: keep those integers exactly representable.
    const Regex small_ints = integer_range(std::max(int_low, -small), std::min(int_high, small));
    parts.push_back(Regex::concat({small_ints, zero_fraction}));
  }
  // Values I + f, 0 < f < 1: low <= v (or low < v) iff I >= low; v <= high (or v < high) iff
  // I <= high - 1.
  const Regex budget = significant_budget();
  const Regex fraction = Regex::concat({Regex::character('.'), nonzero_fraction()});
  {
    const Regex integer_part = nonnegative_range(std::max(low, Int(0)), high - 1);
    parts.push_back(Regex::intersect({Regex::concat({integer_part, fraction}), budget}));
  }
  // Values -(I + f): v >= low (or >) iff I <= -low - 1; v <= high (or <) iff I >= -high.
  {
    const Regex integer_part = nonnegative_range(std::max(-high, Int(0)), -low - 1);
    parts.push_back(Regex::concat(
        {Regex::character('-'), Regex::intersect({Regex::concat({integer_part, fraction}), budget})}));
  }
  return Regex::alt(std::move(parts));
}

std::optional<Regex> multiples_suffix(uint64_t divisor) {
  if (divisor == 0) return std::nullopt;
  if (divisor == 1) return Regex::plus(digit());
  uint64_t power = 1;
  int k = 0;
  while (power % divisor != 0) {
    if (k == 4) return std::nullopt;
    power *= 10;
    ++k;
  }
  std::vector<Regex> suffixes;
  for (uint64_t value = 0; value < power; value += divisor) {
    std::string text = to_decimal(static_cast<Int>(value));
    text.insert(0, static_cast<size_t>(k) - text.size(), '0');
    suffixes.push_back(Regex::literal(text));
  }
  std::vector<Regex> parts;
  parts.push_back(Regex::concat({Regex::star(digit()), Regex::alt(std::move(suffixes))}));
  // Numbers shorter than k digits are their own suffix.
  for (uint64_t value = 0; value < power / 10; value += divisor) {
    parts.push_back(Regex::literal(to_decimal(static_cast<Int>(value))));
  }
  return Regex::alt(std::move(parts));
}

}  // namespace tgi::grammar::json_number
