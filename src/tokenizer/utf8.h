#pragma once
// The UTF-8 primitives live in core (the grammar engine uses them too); tokenizer code keeps
// calling them utf8::.
#include "core/utf8.h"

namespace tgi::tokenizer {
namespace utf8 = ::tgi::utf8;
}  // namespace tgi::tokenizer
