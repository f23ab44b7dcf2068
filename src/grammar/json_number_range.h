#pragma once
// Numeric bounds as regular expressions over the JSON spelling of numbers (json_schema_compiler's
// helper). Integers are spelled -?(0|[1-9][0-9]*) with at most kMaxIntegerDigits digits; numbers
// with a fraction keep at most kMaxSignificantDigits digits in all, so that Python's float parsing
// of the spelling is exact enough that a bound an instance satisfies as written it satisfies as
// parsed. Bounds are integers; callers turn non-integer bounds into exact integer ones where the
// value set allows (integers) or refuse.
#include <cstdint>
#include <optional>
#include <string>

#include "grammar/regex.h"

namespace tgi::grammar::json_number {

using Int = __int128;

inline constexpr int kMaxIntegerDigits = 20;      // uint64 fits
inline constexpr int kMaxSignificantDigits = 15;  // a double keeps 15 decimal digits exactly
inline constexpr int kMaxExponentDigits = 3;

// 10^kMaxIntegerDigits - 1: the largest integer spelled.
Int integer_cap();

std::string to_decimal(Int value);

// Integers in [lo, hi] (inclusive; clipped to +-integer_cap()); nothing() when empty.
Regex integer_range(Int lo, Int hi);

// Every JSON number spelling (integers, fractions, exponents), bounded digit counts.
Regex any_number();

// Numbers v with lo <= v (lo < v when lo_exclusive) and v <= hi (v < hi), no exponent. Absent
// bounds are +-integer_cap(). nothing() when empty.
Regex number_range(std::optional<Int> lo, bool lo_exclusive, std::optional<Int> hi, bool hi_exclusive);

// Non-negative integers with exactly `digits` digits that are multiples of `divisor`, as a suffix
// language: numbers of any length whose value is a multiple of `divisor` when divisor divides
// 10^k for some k <= 6. nullopt when divisor is not of that form.
std::optional<Regex> multiples_suffix(uint64_t divisor);

}  // namespace tgi::grammar::json_number
