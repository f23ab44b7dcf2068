// `tgi chat-template`: renders a chat template for a conversation, exactly as the server would
// (and as transformers' apply_chat_template does), to debug prompts and to test templates.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "tokenizer/tokenizer.h"

namespace tgi::cli {

namespace {

struct ChatTemplateFlags {
  std::string model_dir;
  std::string template_file;
  std::string messages_file;
  std::string tools_file;
  bool add_generation_prompt = false;
  bool continue_final_message = false;
  std::optional<std::string> bos_token, eos_token;
  std::string kwargs_json;
  std::string date;
};

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::make(ErrorKind::kNotFound, "cannot read {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<chat::Json> read_json(const std::string& path) {
  TGI_ASSIGN_OR_RETURN(std::string text, read_text(path));
  chat::Json json = chat::Json::parse(text, nullptr, false);
  if (json.is_discarded()) return Error::make(ErrorKind::kInvalidArgument, "{} is not valid JSON", path);
  return json;
}

// The template and special tokens of a model directory: chat_template.jinja when present (newer
// transformers save it there), else tokenizer_config.json's chat_template.
Result<void> load_model_template(const std::string& dir, std::string& source, chat::ApplyOptions& options) {
  auto tokenizer = tokenizer::Tokenizer::from_model_dir(dir);
  if (!tokenizer.ok()) return tokenizer.error();
  const auto& config = (*tokenizer)->config();
  options.bos_token = config.bos_token.value_or("");
  options.eos_token = config.eos_token.value_or("");
  std::filesystem::path jinja_file = std::filesystem::path(dir) / "chat_template.jinja";
  if (std::filesystem::exists(jinja_file)) {
    TGI_ASSIGN_OR_RETURN(source, read_text(jinja_file.string()));
    return {};
  }
  if (!config.chat_template) return Error::make(ErrorKind::kNotFound, "{} has no chat template", dir);
  source = *config.chat_template;
  return {};
}

Result<std::string> run(const ChatTemplateFlags& flags) {
  chat::ApplyOptions options;
  std::string source;
  if (!flags.model_dir.empty()) {
    TGI_TRY(load_model_template(flags.model_dir, source, options));
  } else {
    TGI_ASSIGN_OR_RETURN(source, read_text(flags.template_file));
  }
  TGI_ASSIGN_OR_RETURN(chat::Json messages, read_json(flags.messages_file));
  // The messages file is a list of messages, or a context object {"messages": [...], "tools": ...,
  // other keys become template variables} like minja's test contexts.
  if (messages.is_object()) {
    chat::Json context = std::move(messages);
    messages = context.contains("messages") ? context["messages"] : chat::Json::array();
    options.extra_context = chat::Json::object();
    for (const auto& [key, value] : context.items()) {
      if (key == "messages") continue;
      if (key == "tools") options.tools = value;
      else if (key == "documents") options.documents = value;
      else if (key == "add_generation_prompt") options.add_generation_prompt = value.is_boolean() && value.get<bool>();
      else if (key == "bos_token" && value.is_string()) options.bos_token = value.get<std::string>();
      else if (key == "eos_token" && value.is_string()) options.eos_token = value.get<std::string>();
      else options.extra_context[key] = value;
    }
  }
  if (!messages.is_array()) return Error::make(ErrorKind::kInvalidArgument, "--messages must hold a JSON array of messages");
  if (!flags.tools_file.empty()) {
    TGI_ASSIGN_OR_RETURN(options.tools, read_json(flags.tools_file));
  }
  if (!flags.kwargs_json.empty()) {
    chat::Json kwargs = chat::Json::parse(flags.kwargs_json, nullptr, false);
    if (!kwargs.is_object()) return Error::make(ErrorKind::kInvalidArgument, "--kwargs must be a JSON object");
    if (!options.extra_context.is_object()) options.extra_context = chat::Json::object();
    for (const auto& [key, value] : kwargs.items()) options.extra_context[key] = value;
  }
  if (flags.add_generation_prompt) options.add_generation_prompt = true;
  options.continue_final_message = flags.continue_final_message;
  if (flags.bos_token) options.bos_token = *flags.bos_token;
  if (flags.eos_token) options.eos_token = *flags.eos_token;
  if (!flags.date.empty()) options.date = flags.date;
  TGI_ASSIGN_OR_RETURN(chat::ChatTemplate chat_template, chat::ChatTemplate::parse(std::move(source)));
  return chat_template.apply(messages, options);
}

}  // namespace

void add_chat_template_command(CLI::App& app) {
  auto flags = std::make_shared<ChatTemplateFlags>();
  auto* cmd = app.add_subcommand("chat-template", "Render a chat template for a list of messages");
  auto* model = cmd->add_option("--model-id", flags->model_dir, "Model directory (tokenizer_config.json / chat_template.jinja)");
  auto* file = cmd->add_option("--template", flags->template_file, "A Jinja chat template file");
  model->excludes(file);
  cmd->add_option("--messages", flags->messages_file, "JSON file: an array of messages, or {\"messages\": [...], ...}")->required();
  cmd->add_option("--tools", flags->tools_file, "JSON file with the tools array");
  cmd->add_flag("--add-generation-prompt", flags->add_generation_prompt, "Append the assistant turn header");
  cmd->add_flag("--continue-final-message", flags->continue_final_message, "End the prompt inside the final message");
  cmd->add_option("--bos-token", flags->bos_token, "bos_token seen by the template (default: the model's)");
  cmd->add_option("--eos-token", flags->eos_token, "eos_token seen by the template (default: the model's)");
  cmd->add_option("--kwargs", flags->kwargs_json, "JSON object of extra template variables, e.g. {\"enable_thinking\": false}");
  cmd->add_option("--date", flags->date, "YYYY-MM-DD seen by strftime_now (default: today)");
  cmd->callback([flags] {
    if (flags->model_dir.empty() == flags->template_file.empty()) {
      fmt::print(stderr, "tgi chat-template: give exactly one of --model-id DIR or --template FILE\n");
      throw CLI::RuntimeError(2);
    }
    Result<std::string> rendered = run(*flags);
    if (!rendered.ok()) {
      fmt::print(stderr, "{}\n", rendered.error().message);
      throw CLI::RuntimeError(1);
    }
    std::cout << *rendered << std::flush;
  });
}

}  // namespace tgi::cli
