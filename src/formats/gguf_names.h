#pragma once
// Naming and layout conventions llama.cpp uses in GGUF files, in both directions:
// Hugging Face tensor names <-> GGUF tensor names, HF model_type <-> general.architecture, and
// the q/k row permutation llama-family checkpoints get (llama.cpp rotates adjacent pairs, HF
// rotates the two halves of each head).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tgi::formats {

// "llama" for llama/mistral, "qwen2", "qwen3", ...; nullopt if we cannot convert that model_type.
std::optional<std::string> gguf_architecture_for_model_type(std::string_view model_type);
// The HF model_type a GGUF architecture maps back to.
std::optional<std::string> model_type_for_gguf_architecture(std::string_view architecture);

// True where llama.cpp expects q/k rows in interleaved-pair order (llama-family rope).
bool gguf_permutes_qk(std::string_view gguf_architecture);

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; nullopt if unknown.
std::optional<std::string> hf_to_gguf_tensor_name(std::string_view hf_name);
// The inverse of hf_to_gguf_tensor_name.
std::optional<std::string> gguf_to_hf_tensor_name(std::string_view gguf_name);

enum class QkRole { kNone, kQuery, kKey };
// Whether a GGUF tensor name is a q or k projection (weight or bias), whose rows are permuted.
QkRole gguf_qk_role(std::string_view gguf_name);

// Reorders the rows of a [rows, cols] row-major matrix whose rows are `heads` heads of
// rows/heads rows each: HF half-split order -> llama.cpp interleaved order (to_gguf = true) or
// back. Row h*D + 2i + j (GGUF) holds row h*D + j*D/2 + i (HF). `dst` must not alias `src`.
void permute_qk_rows(const float* src, float* dst, int64_t rows, int64_t cols, int64_t heads, bool to_gguf);

}  // namespace tgi::formats
