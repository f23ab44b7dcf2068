#include "model/gguf_export.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "formats/gguf_names.h"
#include "formats/safetensors.h"
#include "kernels/quant/quant.h"

namespace tgi::model {
namespace {

using formats::GgmlType;
using formats::GgufValue;

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

// llama.cpp's general.file_type ("mostly <type>") for each requested type.
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

}  // namespace

std::vector<float> llama3_rope_frequency_divisors(const RopeParameters& rope, int64_t rotary_dim) {
  const double old_context = static_cast<double>(rope.original_max_position_embeddings);
  const double low_wavelength = old_context / rope.low_freq_factor;
  const double high_wavelength = old_context / rope.high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < rotary_dim; i += 2) {
    const double frequency = 1.0 / std::pow(rope.theta, static_cast<double>(i) / static_cast<double>(rotary_dim));
    const double wavelength = 2.0 * M_PI / frequency;
    double factor;
    if (wavelength < high_wavelength) {
      factor = 1.0;
    } else if (wavelength > low_wavelength) {
      factor = rope.factor;
    } else {
      const double smooth = (old_context / wavelength - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
      factor = 1.0 / ((1.0 - smooth) / rope.factor + smooth);
    }
    factors.push_back(static_cast<float>(factor));
  }
  return factors;
}

Result<void> add_gguf_model_metadata(formats::GgufWriter& writer, const ModelConfig& config, const std::string& arch,
                                     const std::string& model_name) {
  writer.set("general.architecture", GgufValue::string(arch));
  writer.set("general.name", GgufValue::string(model_name));
  writer.set(arch + ".vocab_size", GgufValue::u32(u32(config.vocab_size)));
  writer.set(arch + ".context_length", GgufValue::u32(u32(config.max_position_embeddings)));
  writer.set(arch + ".embedding_length", GgufValue::u32(u32(config.hidden_size)));
  writer.set(arch + ".block_count", GgufValue::u32(u32(config.num_hidden_layers)));
  writer.set(arch + ".feed_forward_length", GgufValue::u32(u32(config.intermediate_size)));
  writer.set(arch + ".attention.head_count", GgufValue::u32(u32(config.num_attention_heads)));
  writer.set(arch + ".attention.head_count_kv", GgufValue::u32(u32(config.num_key_value_heads)));
  writer.set(arch + ".attention.key_length", GgufValue::u32(u32(config.head_dim)));
  writer.set(arch + ".attention.value_length", GgufValue::u32(u32(config.head_dim)));
  writer.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(config.norm_eps)));
  // mistral's window; llama.cpp's key for it (older llama.cpp builds ignore it for llama).
  const bool every_layer_slides =
      config.sliding_window > 0 && !config.layer_types.empty() &&
      std::all_of(config.layer_types.begin(), config.layer_types.end(),
                  [](LayerType t) { return t == LayerType::kSlidingAttention; });
  if (every_layer_slides) writer.set(arch + ".attention.sliding_window", GgufValue::u32(u32(config.sliding_window)));
  writer.set(arch + ".rope.freq_base", GgufValue::f32(static_cast<float>(config.rope.theta)));
  writer.set(arch + ".rope.dimension_count", GgufValue::u32(u32(config.rotary_dim())));
  switch (config.rope.type) {
    case RopeType::kDefault:
    case RopeType::kLlama3: break;  // llama3 travels as the rope_freqs.weight tensor
    case RopeType::kLinear:
      writer.set(arch + ".rope.scaling.type", GgufValue::string("linear"));
      writer.set(arch + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(config.rope.factor)));
      break;
    case RopeType::kYarn:
      writer.set(arch + ".rope.scaling.type", GgufValue::string("yarn"));
      writer.set(arch + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(config.rope.factor)));
      writer.set(arch + ".rope.scaling.original_context_length",
                 GgufValue::u32(u32(config.rope.original_max_position_embeddings)));
      break;
    default:
      return Error::make(ErrorKind::kUnsupported, "rope scaling '{}' cannot be written to GGUF yet", to_string(config.rope.type));
  }
  return {};
}

Result<GgufExportSummary> export_gguf(const std::filesystem::path& dir, std::string_view type,
                                      const std::filesystem::path& output,
                                      const GgufMetadataHook& extra_metadata,
                                      const GgufExportProgressCallback& progress) {
  const auto requested = formats::parse_ggml_type(type);
  if (!requested || !kernels::quant::can_quantize(*requested)) {
    return Error::make(ErrorKind::kInvalidArgument, "--type {} is not one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, "
                       "q5_1, q4_k, q6_k", type);
  }
  TGI_ASSIGN_OR_RETURN(ModelConfig config, load_model_config(dir));
  const auto arch = formats::gguf_architecture_for_model_type(config.model_type);
  if (!arch) {
    return Error::make(ErrorKind::kUnsupported, "converting model_type '{}' to GGUF is not supported yet",
                       config.model_type);
  }
  if (config.is_moe()) return Error::make(ErrorKind::kUnsupported, "converting MoE models to GGUF is not supported yet");
  TGI_ASSIGN_OR_RETURN(auto weights, formats::SafetensorsModel::open_dir(dir));

  formats::GgufWriter writer;
  const std::string model_name = std::filesystem::absolute(dir).lexically_normal().filename().string();
  TGI_TRY(add_gguf_model_metadata(writer, config, *arch, model_name));
  writer.set("general.file_type", GgufValue::u32(file_type_id(*requested)));
  writer.set("general.quantization_version", GgufValue::u32(2));
  if (extra_metadata) TGI_TRY(extra_metadata(writer, config, *arch));

  std::vector<PlannedTensor> plan;
  if (config.rope.type == RopeType::kLlama3) {
    PlannedTensor freqs;
    freqs.gguf_name = "rope_freqs.weight";
    freqs.generated = llama3_rope_frequency_divisors(config.rope, config.rotary_dim());
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

  // The writer asks for tensor i once tensors 0..i-1 are in the file: that is when to report them.
  GgufExportProgress done;
  done.tensors_total = plan.size();
  std::vector<uint64_t> tensor_bytes;
  for (const auto& p : plan) {
    TGI_ASSIGN_OR_RETURN(uint64_t nbytes, formats::ggml_tensor_nbytes(p.type, p.dims));
    tensor_bytes.push_back(nbytes);
    done.bytes_total += nbytes;
  }
  auto report_written = [&](size_t tensors) {
    if (!progress) return;
    for (; done.tensors_written < tensors; ++done.tensors_written)
      done.bytes_written += tensor_bytes[done.tensors_written];
    progress(done);
  };

  auto produce = [&plan, &report_written](size_t index, std::vector<std::byte>& out) -> Result<void> {
    report_written(index);
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
  TGI_TRY(writer.write_file(output, produce));
  report_written(plan.size());
  return GgufExportSummary{*arch, plan.size(), *requested};
}

}  // namespace tgi::model
