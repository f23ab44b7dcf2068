#pragma once
// Converts the argument literals of call syntaxes that are not JSON into JSON: Python keyword
// arguments (Llama 4 / Gemma tool_code pythonic calls) and Gemma 4's <|"|>-quoted objects.
#include <optional>
#include <string>
#include <string_view>

namespace tgi::chat {

// "city='SF', days=3, tags=['a'], opt=None" -> {"city":"SF","days":3,"tags":["a"],"opt":null}
std::optional<std::string> python_kwargs_to_json(std::string_view kwargs);

// "{city:<|\"|>SF<|\"|>,days:3}" -> {"city":"SF","days":3}
std::optional<std::string> gemma4_object_to_json(std::string_view object);

}  // namespace tgi::chat
