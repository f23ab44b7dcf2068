#include "formats/model_id.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "formats/download_progress.h"
#include "formats/hub_cache.h"
#include "formats/hub_client.h"
#include "formats/sha1.h"
#include "formats/sha256.h"

namespace tgi::formats {

namespace fs = std::filesystem;

namespace {

constexpr int kDownloadAttempts = 5;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

bool env_flag(const char* name) {
  auto value = env(name);
  if (!value) return false;
  std::string v = *value;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

fs::path home_dir() {
  if (auto home = env("HOME")) return *home;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return fs::temp_directory_path();
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool is_valid_repo_part(std::string_view part) {
  if (part.empty() || !is_word_char(part.front()) || !is_word_char(part.back())) return false;
  for (char c : part) {
    if (!is_word_char(c) && c != '-' && c != '.') return false;
  }
  return part.find("..") == std::string_view::npos && part.find("--") == std::string_view::npos;
}

// Hashes a file the way the hub's ETag does: SHA-256 for LFS files (64 hex digits), the git blob
// SHA-1 for regular files (40 hex digits). Returns nullopt when the ETag is neither.
Result<std::optional<std::string>> content_hash_for_etag(const fs::path& path, std::string_view etag) {
  const bool is_sha256 = etag.size() == 64, is_sha1 = etag.size() == 40;
  if (!is_sha256 && !is_sha1) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::make(ErrorKind::kIo, "cannot read {}", path.string());
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  Sha256 sha256;
  Sha1 sha1;
  if (is_sha1) {
    const std::string prefix = "blob " + std::to_string(size) + '\0';
    sha1.update(std::as_bytes(std::span(prefix)));
  }
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    auto got = std::as_bytes(std::span(chunk.data(), static_cast<size_t>(in.gcount())));
    if (is_sha256) sha256.update(got);
    else sha1.update(got);
  }
  return std::optional<std::string>(is_sha256 ? sha256.hex_digest() : sha1.hex_digest());
}

// Brings one file into blobs/<etag> (resuming blobs/<etag>.incomplete) and links it into the snapshot.
Result<void> fetch_file(const HubClient& client, const HubCache& cache, const std::string& repo_id,
                        const std::string& commit, const std::string& filename, bool show_progress) {
  std::error_code ec;
  if (fs::is_regular_file(cache.snapshot_dir(commit) / filename, ec)) return {};  // already complete
  TGI_ASSIGN_OR_RETURN(HubFileInfo info, client.file_info(repo_id, commit, filename));
  const fs::path blob = cache.blob_path(info.etag);
  if (!fs::is_regular_file(blob, ec)) {
    fs::create_directories(blob.parent_path(), ec);
    const fs::path partial = blob.string() + ".incomplete";
    if (info.size && fs::exists(partial, ec) && fs::file_size(partial, ec) > *info.size) fs::remove(partial, ec);
    DownloadProgressBar bar(filename, show_progress);
    DownloadProgress progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
    for (int attempt = 1;; ++attempt) {
      const uint64_t have = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
      if (have > 0) spdlog::info("resuming {}/{} at byte {}", repo_id, filename, have);
      else spdlog::info("downloading {}/{}{}", repo_id, filename,
                        info.size ? fmt::format(" ({} bytes)", *info.size) : std::string());
      auto result = client.download(repo_id, commit, filename, partial, progress);
      if (result.ok()) {
        bar.finish();
        break;
      }
      bar.abandon();
      // Transport failures (cut connections, 5xx) are retried from where they stopped; answers
      // like 401/404 are not going to change.
      if (result.error().kind != ErrorKind::kIo || attempt == kDownloadAttempts) return result.error();
      spdlog::warn("{} (attempt {}/{}), retrying", result.error().message, attempt, kDownloadAttempts);
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
    const uint64_t got = fs::file_size(partial, ec);
    if (info.size && got != *info.size) {
      fs::remove(partial, ec);
      return Error::make(ErrorKind::kCorruptData, "{}/{}: received {} bytes, the hub announced {}", repo_id,
                         filename, got, *info.size);
    }
    TGI_ASSIGN_OR_RETURN(auto actual, content_hash_for_etag(partial, info.etag));
    if (!actual) {
      spdlog::warn("{}/{}: ETag {} is not a content hash; not verified", repo_id, filename, info.etag);
    } else if (*actual != info.etag) {
      fs::remove(partial, ec);
      return Error::make(ErrorKind::kCorruptData,
                         "{}/{}: checksum mismatch: the hub's ETag is {} but the downloaded bytes hash to {}",
                         repo_id, filename, info.etag, *actual);
    }
    fs::rename(partial, blob, ec);
    if (ec) return Error::make(ErrorKind::kIo, "cannot move {} into place: {}", partial.string(), ec.message());
  }
  return cache.link_into_snapshot(commit, filename, info.etag);
}

Result<void> check_ids(const std::string& repo_id, const ResolveOptions& options) {
  if (!is_valid_repo_id(repo_id)) {
    return Error::make(ErrorKind::kInvalidArgument,
                       "\"{}\" is neither an existing directory nor a hub model id like \"org/name\"", repo_id);
  }
  if (!is_valid_revision(options.revision)) {
    return Error::make(ErrorKind::kInvalidArgument, "invalid revision \"{}\"", options.revision);
  }
  return {};
}

std::optional<fs::path> cached_snapshot(const HubCache& cache, const std::string& revision) {
  auto commit = cache.resolve_revision(revision);
  if (!commit) return std::nullopt;
  fs::path dir = cache.snapshot_dir(*commit);
  if (!is_complete_model_dir(dir)) return std::nullopt;
  return dir;
}

Error not_cached_offline(const std::string& repo_id, const ResolveOptions& options) {
  return Error::make(ErrorKind::kNotFound,
                     "{} (revision {}) is not a local directory and not complete in the Hugging Face cache at {}; "
                     "HF_HUB_OFFLINE is set, so it cannot be downloaded",
                     repo_id, options.revision, options.cache_dir.string());
}

}  // namespace

ResolveOptions ResolveOptions::from_environment() {
  ResolveOptions options;
  const fs::path hf_home = env("HF_HOME") ? fs::path(*env("HF_HOME"))
                           : env("XDG_CACHE_HOME") ? fs::path(*env("XDG_CACHE_HOME")) / "huggingface"
                                                   : home_dir() / ".cache" / "huggingface";
  if (auto dir = env("HF_HUB_CACHE")) options.cache_dir = *dir;
  else if (auto legacy = env("HUGGINGFACE_HUB_CACHE")) options.cache_dir = *legacy;
  else options.cache_dir = hf_home / "hub";
  if (auto endpoint = env("HF_ENDPOINT")) options.endpoint = *endpoint;
  if (auto token = env("HF_TOKEN")) options.token = *token;
  else if (auto tgi_token = env("HUGGING_FACE_HUB_TOKEN")) options.token = *tgi_token;
  else if (std::ifstream in(hf_home / "token"); in) {
    std::string stored;
    if (in >> stored) options.token = stored;
  }
  options.offline = env_flag("HF_HUB_OFFLINE");
  return options;
}

bool is_valid_repo_id(std::string_view repo_id) {
  if (repo_id.empty() || repo_id.size() > 96) return false;
  const size_t slash = repo_id.find('/');
  if (slash == std::string_view::npos) return is_valid_repo_part(repo_id);
  return is_valid_repo_part(repo_id.substr(0, slash)) && is_valid_repo_part(repo_id.substr(slash + 1));
}

bool is_valid_revision(std::string_view revision) {
  if (revision.empty() || revision.size() > 256 || revision.front() == '/' || revision.back() == '/') return false;
  for (char c : revision) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '/') return false;
  }
  return revision.find("..") == std::string_view::npos && revision.find("//") == std::string_view::npos;
}

bool is_needed_model_file(std::string_view name) {
  static constexpr std::string_view kNeeded[] = {
      "config.json",           "generation_config.json", "tokenizer.json",
      "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
      "chat_template.json",    "model.safetensors.index.json"};
  for (auto needed : kNeeded) {
    if (name == needed) return true;
  }
  constexpr std::string_view kWeights = ".safetensors";
  return name.find('/') == std::string_view::npos && name.size() > kWeights.size() &&
         name.substr(name.size() - kWeights.size()) == kWeights;
}

Result<fs::path> download_model(const std::string& repo_id, const ResolveOptions& options) {
  TGI_TRY(check_ids(repo_id, options));
  HubCache cache(options.cache_dir, repo_id);
  if (options.offline) {
    if (auto dir = cached_snapshot(cache, options.revision)) return *dir;
    return not_cached_offline(repo_id, options);
  }
  HubClient client(options.endpoint, options.token);
  auto revision = client.revision_info(repo_id, options.revision);
  if (!revision.ok()) {
    // Unreachable hub: a complete cached copy is still good (huggingface_hub does the same).
    if (revision.error().kind == ErrorKind::kIo) {
      if (auto dir = cached_snapshot(cache, options.revision)) {
        spdlog::warn("{}; using the cached snapshot {}", revision.error().message, dir->string());
        return *dir;
      }
    }
    return std::move(revision).error();
  }
  if (!looks_like_commit_hash(revision->commit)) {
    return Error::make(ErrorKind::kCorruptData, "the hub answered commit \"{}\" for {}, not a commit hash",
                       revision->commit, repo_id);
  }
  std::vector<std::string> files;
  bool has_weights = false, has_config = false;
  for (const auto& file : revision->files) {
    if (!is_needed_model_file(file)) continue;
    files.push_back(file);
    has_config |= file == "config.json";
    has_weights |= file.ends_with(".safetensors");
  }
  if (!has_config || !has_weights) {
    return Error::make(ErrorKind::kUnsupported,
                       "{} (revision {}) has no {}: only Hugging Face repositories with config.json and "
                       "safetensors weights can be served (convert .bin/.pth checkpoints to safetensors first)",
                       repo_id, options.revision, has_config ? "*.safetensors weights" : "config.json");
  }
  spdlog::info("{} revision {} is commit {}; fetching {} files into {}", repo_id, options.revision,
               revision->commit, files.size(), cache.repo_dir().string());
  for (const auto& file : files) {
    TGI_TRY(fetch_file(client, cache, repo_id, revision->commit, file, options.show_progress));
  }
  TGI_TRY(cache.write_ref(options.revision, revision->commit));
  return cache.snapshot_dir(revision->commit);
}

Result<fs::path> resolve_model_id(const std::string& model_id, const ResolveOptions& options) {
  std::error_code ec;
  if (!model_id.empty() && fs::is_directory(model_id, ec)) return fs::absolute(model_id, ec);
  TGI_TRY(check_ids(model_id, options));
  HubCache cache(options.cache_dir, model_id);
  if (auto dir = cached_snapshot(cache, options.revision)) return *dir;
  if (options.offline) return not_cached_offline(model_id, options);
  return download_model(model_id, options);
}

}  // namespace tgi::formats
