// Every render in tests/data/chat/renders.json.gz (transformers' apply_chat_template over ~200 real
// templates and 20 conversations) must be reproduced: ok entries byte for byte, error entries
// refused, raise_exception messages equal.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "chat/chat_template.h"

namespace tgi::chat {
namespace {

const std::string kData = TGI_TEST_DATA_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "golden/tokenizers/X/tokenizer_config.json.gz#chat_template" or "chat-templates/templates/..."
std::string template_source(const std::string& ref) {
  const std::string tokenizer_prefix = "golden/tokenizers/";
  if (ref.rfind(tokenizer_prefix, 0) == 0) {
    std::string rest = ref.substr(tokenizer_prefix.size());
    std::string dir = rest.substr(0, rest.find('/'));
    Json config = Json::parse(read_file(kData + "/tokenizers/" + dir + "/tokenizer_config.json"));
    return config.at("chat_template").get<std::string>();
  }
  const std::string chat_prefix = "chat-templates/";
  EXPECT_EQ(ref.rfind(chat_prefix, 0), 0u) << ref;
  std::string source = read_file(kData + "/chat/" + ref.substr(chat_prefix.size()));
  EXPECT_FALSE(source.empty()) << ref;
  return source;
}

// All of them pass; the count guards against the golden file shrinking unnoticed.
constexpr int kExpectedRenders = 7956;

TEST(GoldenRenders, ReproducesTransformers) {
  Json golden = Json::parse(read_file(kData + "/chat/renders.json"));
  std::map<std::string, Json> conversations;
  for (const auto& c : golden.at("conversations")) conversations[c.at("name").get<std::string>()] = c;
  std::string date = golden.at("rendered_on").get<std::string>().substr(0, 10);

  std::map<std::string, Result<ChatTemplate>> templates;
  int passed = 0, total = 0;
  std::map<std::string, int> failures_per_template;
  std::vector<std::string> first_failures;
  for (const auto& entry : golden.at("results")) {
    ++total;
    std::string ref = entry.at("template").get<std::string>();
    auto it = templates.find(ref);
    if (it == templates.end()) it = templates.emplace(ref, ChatTemplate::parse(template_source(ref))).first;
    const Json& conversation = conversations.at(entry.at("conversation").get<std::string>());
    ApplyOptions options;
    options.tools = conversation.contains("tools") ? conversation["tools"] : Json();
    options.add_generation_prompt = entry.at("add_generation_prompt").get<bool>();
    options.continue_final_message = entry.at("continue_final_message").get<bool>();
    options.bos_token = entry.at("bos_token").get<std::string>();
    options.eos_token = entry.at("eos_token").get<std::string>();
    options.extra_context = conversation.contains("kwargs") ? conversation["kwargs"] : Json::object();
    options.date = date;

    bool expect_ok = entry.at("ok").get<bool>();
    std::string problem;
    if (!it->second.ok()) {
      problem = "parse: " + it->second.error().message;
    } else {
      Result<std::string> rendered = it->second->apply(conversation.at("messages"), options);
      if (expect_ok) {
        if (!rendered.ok()) {
          problem = "error: " + rendered.error().message;
        } else if (*rendered != entry.at("text").get<std::string>()) {
          const std::string want = entry.at("text").get<std::string>();
          size_t at = 0;
          while (at < want.size() && at < rendered->size() && want[at] == (*rendered)[at]) ++at;
          size_t from = at > 60 ? at - 60 : 0;
          problem = "mismatch at byte " + std::to_string(at) + ": got " + Json(rendered->substr(from, 120)).dump() +
                    "\n   want " + Json(want.substr(from, 120)).dump();
        }
      } else if (rendered.ok()) {
        problem = "rendered, but transformers refused with " + entry.at("error_type").get<std::string>() + ": " +
                  entry.at("error").get<std::string>();
      } else if (entry.at("error_type") == "TemplateError" && rendered.error().message != entry.at("error").get<std::string>()) {
        problem = "raise_exception message differs: got '" + rendered.error().message + "' want '" +
                  entry.at("error").get<std::string>() + "'";
      }
    }
    if (problem.empty()) {
      ++passed;
    } else {
      ++failures_per_template[ref];
      if (first_failures.size() < 25) {
        first_failures.push_back(ref + " [" + entry.at("conversation").get<std::string>() +
                                 (options.add_generation_prompt ? ", gen" : "") + "] " + problem);
      }
    }
  }
  std::cout << "golden renders: " << passed << "/" << total << " pass\n";
  for (const auto& f : first_failures) std::cout << "  FAIL " << f << "\n";
  for (const auto& [ref, n] : failures_per_template) std::cout << "  " << n << " failing: " << ref << "\n";
  EXPECT_EQ(total, kExpectedRenders);
  EXPECT_EQ(passed, total);
}

}  // namespace
}  // namespace tgi::chat
