// `tgi convert --model-id DIR --to gguf --type TYPE OUT.gguf`: a Hugging Face safetensors
// checkpoint -> a GGUF v3 file llama.cpp (and our GGUF loader) can read. Tensors are renamed to
// llama.cpp's names, llama-family q/k rows are permuted to llama.cpp's rope order, 2-D weights are
// encoded as TYPE and 1-D tensors (norms, biases) stay F32. One tensor is in memory at a time.
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/convert_gguf_metadata.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "kernels/cpu/quant/quant.h"
#include "model/model_config.h"

namespace tgi::cli {
namespace {

using formats::GgmlType;

struct ConvertOptions {
  std::string model_id;
  std::string to = "gguf";
  std::string type = "f16";
  std::string output;
};

// llama.cpp's general.file_type ("mostly <type>") for each --type.
uint32_t file_type_id(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return 0;
    case GgmlType::kF16: return 1;
    case GgmlType::kQ4_0: return 2;
    case GgmlType::kQ4_1: return 3;
    case GgmlType::kQ8_0: return 7;
    case GgmlType::kQ5_0: return 8;
    case GgmlType::kQ5_1: return 9;
    case GgmlType::kQ4_K: return 14;  // Q4_K_S: Q4_K everywhere, Q6_K output
    case GgmlType::kQ6_K: return 18;
    case GgmlType::kBF16: return 32;
    default: return 0;
  }
}

bool fits_blocks(GgmlType type, int64_t row) { return row % formats::ggml_type_traits(type)->block_elements == 0; }

// The encoding of one tensor: 1-D stays F32; a 2-D weight gets the requested type, or (when its
// rows are not whole blocks) the nearest format whose blocks fit, as llama.cpp does.
GgmlType choose_type(GgmlType requested, const std::string& gguf_name, const std::vector<int64_t>& dims) {
  if (dims.size() < 2) return GgmlType::kF32;
  GgmlType wanted = requested;
  if (requested == GgmlType::kQ4_K && gguf_name == "output.weight") wanted = GgmlType::kQ6_K;
  if (fits_blocks(wanted, dims[0])) return wanted;
  if (wanted == GgmlType::kQ4_K && fits_blocks(GgmlType::kQ5_0, dims[0])) return GgmlType::kQ5_0;
  if (fits_blocks(GgmlType::kQ8_0, dims[0])) return GgmlType::kQ8_0;
  return GgmlType::kF16;
}

Result<std::vector<float>> to_f32(const formats::TensorView& tensor) {
  GgmlType source;
  switch (tensor.dtype) {
    case formats::DType::kF32: source = GgmlType::kF32; break;
    case formats::DType::kF16: source = GgmlType::kF16; break;
    case formats::DType::kBF16: source = GgmlType::kBF16; break;
    default:
      return Error::make(ErrorKind::kUnsupported, "tensor '{}' has dtype {}; only F32/F16/BF16 convert", tensor.name,
                         formats::dtype_name(tensor.dtype));
  }
  std::vector<float> values(static_cast<size_t>(tensor.num_elements()));
  TGI_TRY(kernels::quant::dequantize_row(source, tensor.data, values.data(), tensor.num_elements()));
  return values;
}

struct PlannedTensor {
  std::string gguf_name;
  const formats::TensorView* source = nullptr;  // nullptr: `generated` holds the values
  std::vector<float> generated;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> dims;  // ggml order
  int64_t permute_heads = 0;  // > 0: q/k rows to reorder for llama.cpp's rope
};

Result<void> convert_to_gguf(const ConvertOptions& options) {
  const std::filesystem::path dir = options.model_id;
  const auto requested = formats::parse_ggml_type(options.type);
  if (!requested || !kernels::quant::can_quantize(*requested)) {
    return Error::make(ErrorKind::kInvalidArgument, "--type {} is not one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, "
                       "q5_1, q4_k, q6_k", options.type);
  }
  TGI_ASSIGN_OR_RETURN(model::ModelConfig config, model::load_model_config(dir));
  const auto arch = formats::gguf_architecture_for_model_type(config.model_type);
  if (!arch) {
    return Error::make(ErrorKind::kUnsupported, "converting model_type '{}' to GGUF is not supported yet",
                       config.model_type);
  }
  if (config.is_moe()) return Error::make(ErrorKind::kUnsupported, "converting MoE models to GGUF is not supported yet");
  TGI_ASSIGN_OR_RETURN(auto weights, formats::SafetensorsModel::open_dir(dir));

  formats::GgufWriter writer;
  const std::string model_name = std::filesystem::absolute(dir).lexically_normal().filename().string();
  TGI_TRY(add_model_metadata(writer, config, *arch, model_name));
  writer.set("general.file_type", formats::GgufValue::u32(file_type_id(*requested)));
  writer.set("general.quantization_version", formats::GgufValue::u32(2));
  TGI_TRY(add_tokenizer_metadata(writer, dir, config, *arch));

  std::vector<PlannedTensor> plan;
  if (config.rope.type == model::RopeType::kLlama3) {
    PlannedTensor freqs;
    freqs.gguf_name = "rope_freqs.weight";
    freqs.generated = llama3_rope_frequency_factors(config.rope, config.rotary_dim());
    freqs.dims = {static_cast<int64_t>(freqs.generated.size())};
    plan.push_back(std::move(freqs));
  }
  const bool permute = formats::gguf_permutes_qk(*arch);
  for (const formats::TensorView* tensor : weights->all()) {
    if (tensor->name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // recomputed from config
    const auto gguf_name = formats::hf_to_gguf_tensor_name(tensor->name);
    if (!gguf_name) return Error::make(ErrorKind::kUnsupported, "no GGUF name for tensor '{}'", tensor->name);
    if (tensor->shape.empty() || tensor->shape.size() > 2) {
      return Error::make(ErrorKind::kUnsupported, "tensor '{}' has {} dimensions", tensor->name, tensor->shape.size());
    }
    PlannedTensor planned;
    planned.gguf_name = *gguf_name;
    planned.source = tensor;
    planned.dims.assign(tensor->shape.rbegin(), tensor->shape.rend());
    planned.type = choose_type(*requested, planned.gguf_name, planned.dims);
    const auto role = formats::gguf_qk_role(planned.gguf_name);
    if (permute && role != formats::QkRole::kNone) {
      planned.permute_heads = role == formats::QkRole::kQuery ? config.num_attention_heads : config.num_key_value_heads;
      const int64_t rows = tensor->shape[0];
      if (planned.permute_heads <= 0 || rows % planned.permute_heads != 0 || (rows / planned.permute_heads) % 2 != 0) {
        return Error::make(ErrorKind::kCorruptData, "tensor '{}' has {} rows, not {} heads of an even size",
                           tensor->name, rows, planned.permute_heads);
      }
    }
    plan.push_back(std::move(planned));
  }
  for (const auto& p : plan) TGI_TRY(writer.add_tensor(p.gguf_name, p.type, p.dims));

  auto produce = [&plan](size_t index, std::vector<std::byte>& out) -> Result<void> {
    const PlannedTensor& p = plan[index];
    std::vector<float> values;
    if (p.source) {
      TGI_ASSIGN_OR_RETURN(values, to_f32(*p.source));
    } else {
      values = p.generated;
    }
    const int64_t cols = p.dims[0];
    const int64_t rows = static_cast<int64_t>(values.size()) / cols;
    if (p.permute_heads > 0) {
      std::vector<float> permuted(values.size());
      formats::permute_qk_rows(values.data(), permuted.data(), rows, cols, p.permute_heads, /*to_gguf=*/true);
      values.swap(permuted);
    }
    TGI_ASSIGN_OR_RETURN(uint64_t nbytes, formats::ggml_tensor_nbytes(p.type, p.dims));
    out.resize(nbytes);
    const size_t row_bytes = nbytes / static_cast<uint64_t>(rows);
    for (int64_t r = 0; r < rows; ++r) {
      TGI_TRY(kernels::quant::quantize_row(p.type, values.data() + r * cols, out.data() + r * row_bytes, cols));
    }
    return {};
  };
  TGI_TRY(writer.write_file(options.output, produce));
  fmt::print(stderr, "wrote {} ({} tensors, {}, architecture {})\n", options.output, plan.size(),
             formats::ggml_type_name(*requested), *arch);
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
