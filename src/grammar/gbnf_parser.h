#pragma once
// GBNF (llama.cpp's grammar language, as llama-server takes it in `grammar`) -> Grammar.
// Rules `name ::= alternatives`, the start rule `root`, "literals", [classes] and [^negated]
// classes with \xXX \uXXXX \UXXXXXXXX \t \n \r \\ \" \] \[ \- escapes, `.`, groups, `|`,
// * + ? {m} {m,} {m,n}, # comments; a rule ends at a newline unless inside ( ) or after `|`.
// Characters are Unicode code points (as llama.cpp reads them). Token references (<[id]>,
// <name>, !<...>) are refused: they constrain token ids, not text.
#include <string_view>

#include "core/error.h"
#include "grammar/grammar.h"

namespace tgi::grammar {

// Errors are kValidation and name the line and column.
Result<Grammar> compile_gbnf(std::string_view text, const GrammarLimits& limits = {});

}  // namespace tgi::grammar
