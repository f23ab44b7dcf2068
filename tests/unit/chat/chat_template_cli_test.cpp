// `tgi chat-template` end to end: the built binary renders a template file or a model directory's
// template, and exits 1 with the template's own message when it refuses. Skipped when the `tgi`
// binary has not been built (unit_chat does not depend on it).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ChatTemplateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(TGI_BINARY)) GTEST_SKIP() << "tgi binary not built";
    dir_ = fs::temp_directory_path() / ("tgi_chat_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  CliRun run(const std::string& args) {
    std::string cmd = std::string(TGI_BINARY) + " chat-template " + args + " >" + (dir_ / "out").string() + " 2>" +
                      (dir_ / "err").string();
    int status = std::system(cmd.c_str());
    return CliRun{WEXITSTATUS(status), slurp(dir_ / "out"), slurp(dir_ / "err")};
  }
  fs::path dir_;
};

TEST_F(ChatTemplateCli, RendersTemplateFileWithFlags) {
  auto tpl = write("t.jinja",
                   "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
                   "{% if add_generation_prompt %}[assistant]{% endif %}{{ tools | length }}{{ flavor }}{{ strftime_now('%Y/%m/%d') }}");
  auto messages = write("m.json", R"([{"role": "user", "content": "Hé"}])");
  auto tools = write("tools.json", R"([{"type": "function", "function": {"name": "f"}}])");
  CliRun r = run("--template " + tpl.string() + " --messages " + messages.string() + " --tools " + tools.string() +
              " --add-generation-prompt --bos-token '<s>' --kwargs '{\"flavor\": \"x\"}' --date 2024-09-03");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s>[user]Hé[assistant]1x2024/09/03");
}

TEST_F(ChatTemplateCli, ContinueFinalMessage) {
  auto tpl = write("t.jinja", "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}");
  auto messages = write("m.json", R"([{"role": "user", "content": "a"}, {"role": "assistant", "content": "Once upon"}])");
  CliRun r = run("--template " + tpl.string() + " --messages " + messages.string() + " --continue-final-message");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<user>a</user><assistant>Once upon");
}

TEST_F(ChatTemplateCli, RaiseExceptionExitsOneWithMessage) {
  auto tpl = write("t.jinja", "{% if messages[0].role != 'system' %}{{ raise_exception('System first!') }}{% endif %}");
  auto messages = write("m.json", R"([{"role": "user", "content": "a"}])");
  CliRun r = run("--template " + tpl.string() + " --messages " + messages.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "System first!\n");
}

TEST_F(ChatTemplateCli, ModelDirectoryTemplateAndTokens) {
  const std::string model = std::string(TGI_TEST_DATA_DIR) + "/models/qwen3-tok";
  auto messages = write("m.json", R"([{"role": "user", "content": "Hello!"}])");
  CliRun r = run("--model-id " + model + " --messages " + messages.string() + " --add-generation-prompt");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n");
}

TEST_F(ChatTemplateCli, NeedsExactlyOneTemplateSource) {
  auto messages = write("m.json", "[]");
  EXPECT_EQ(run("--messages " + messages.string()).exit_code, 2);
}

}  // namespace
