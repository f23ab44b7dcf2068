#pragma once
// `--model-id` resolution, as TGI does it: an existing local directory; else a Hugging Face hub
// repository id ("org/name") found in the local HF cache; else (unless offline) downloaded from
// the hub into that same cache layout (models--org--name/{blobs,snapshots/<commit>,refs/<rev>}).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tgi::formats {

struct ResolveOptions {
  std::string revision = "main";        // branch, tag or commit
  std::filesystem::path cache_dir;      // the hub cache root (".../huggingface/hub")
  std::string endpoint = "https://huggingface.co";
  std::optional<std::string> token;     // sent as "Authorization: Bearer"
  bool offline = false;                 // never touch the network
  bool show_progress = false;           // report download progress (core/progress.h picks bar, lines or JSON)

  // HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE / HF_HOME / XDG_CACHE_HOME, HF_ENDPOINT,
  // HF_TOKEN / HUGGING_FACE_HUB_TOKEN / $HF_HOME/token, HF_HUB_OFFLINE.
  static ResolveOptions from_environment();
};

// The directory holding the model's files (config.json, tokenizer, safetensors).
Result<std::filesystem::path> resolve_model_id(const std::string& model_id, const ResolveOptions& options);

// Asks the hub what `revision` is now and fetches whatever needed file the cache lacks (resuming
// partial files, verifying each against its ETag). Offline, it returns the cached snapshot.
Result<std::filesystem::path> download_model(const std::string& repo_id, const ResolveOptions& options);

// "org/name" or "name" with the hub's characters; nothing that could escape the cache dir.
bool is_valid_repo_id(std::string_view repo_id);
bool is_valid_revision(std::string_view revision);

// The files of a repository that serving needs: config, generation config, tokenizer files,
// chat template, safetensors weights and their index. Everything else is skipped.
bool is_needed_model_file(std::string_view repo_filename);

}  // namespace tgi::formats
