// `tgi convert --model-id DIR --to gguf --type TYPE OUT.gguf`: a Hugging Face safetensors
// checkpoint -> a GGUF v3 file llama.cpp (and our GGUF loader) can read. The conversion itself is
// model::export_gguf; this adds the tokenizer's metadata and the command line.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/convert_gguf_metadata.h"
#include "core/progress.h"
#include "formats/gguf_writer.h"
#include "model/gguf_export.h"

namespace tgi::cli {
namespace {

struct ConvertOptions {
  std::string model_id;
  std::string to = "gguf";
  std::string type = "f16";
  std::string output;
};

Result<void> convert_to_gguf(const ConvertOptions& options) {
  auto add_tokenizer = [&options](formats::GgufWriter& writer, const model::ModelConfig& config,
                                  const std::string& arch) {
    return add_tokenizer_metadata(writer, options.model_id, config, arch);
  };
  // Created at the first report, when the totals are known.
  std::unique_ptr<Progress> progress;
  auto report = [&](const model::GgufExportProgress& done) {
    if (!progress) progress = std::make_unique<Progress>("Writing " + options.output, done.bytes_total);
    progress->set_detail(fmt::format("{}/{} tensors", done.tensors_written, done.tensors_total));
    progress->update(done.bytes_written);
  };
  TGI_ASSIGN_OR_RETURN(auto summary, model::export_gguf(options.model_id, options.type, options.output,
                                                        add_tokenizer, report));
  if (progress) progress->finish();
  fmt::print(stderr, "wrote {} ({} tensors, {}, architecture {})\n", options.output, summary.num_tensors,
             formats::ggml_type_name(summary.type), summary.architecture);
  return {};
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto options = std::make_shared<ConvertOptions>();
  auto* cmd = app.add_subcommand("convert", "Convert a safetensors model directory to GGUF");
  cmd->add_option("--model-id", options->model_id, "Hugging Face model directory (config.json + *.safetensors)")
      ->required();
  cmd->add_option("--to", options->to, "Output format")->check(CLI::IsMember({"gguf"}));
  cmd->add_option("--type", options->type,
                  "Weight encoding: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k (1-D tensors stay f32)")
      ->capture_default_str();
  cmd->add_option("output", options->output, "Output .gguf path")->required();
  cmd->callback([options] {
    Result<void> result = Error{ErrorKind::kInternal, "not run"};
    try {
      result = convert_to_gguf(*options);
    } catch (const std::exception& e) {  // malformed JSON side files surface as exceptions
      result = Error::make(ErrorKind::kCorruptData, "{}", e.what());
    }
    if (!result.ok()) {
      fmt::print(stderr, "tgi convert: {}\n", result.error().message);
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace tgi::cli
