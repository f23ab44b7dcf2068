#include "formats/hub_cache.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tgi::formats {

namespace fs = std::filesystem;

namespace {

std::string folder_name(const std::string& repo_id) {
  std::string name = "models--";
  for (char c : repo_id) {
    if (c == '/') name += "--";
    else name += c;
  }
  return name;
}

}  // namespace

bool looks_like_commit_hash(std::string_view revision) {
  if (revision.size() != 40) return false;
  for (char c : revision) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

HubCache::HubCache(fs::path cache_dir, std::string repo_id) : repo_dir_(cache_dir / folder_name(repo_id)) {}

fs::path HubCache::blob_path(std::string_view etag) const { return repo_dir_ / "blobs" / std::string(etag); }

fs::path HubCache::snapshot_dir(std::string_view commit) const {
  return repo_dir_ / "snapshots" / std::string(commit);
}

std::optional<std::string> HubCache::resolve_revision(std::string_view revision) const {
  std::error_code ec;
  if (looks_like_commit_hash(revision) && fs::is_directory(snapshot_dir(revision), ec)) {
    return std::string(revision);
  }
  std::ifstream in(repo_dir_ / "refs" / std::string(revision));
  std::string commit;
  if (!(in >> commit) || !looks_like_commit_hash(commit)) return std::nullopt;
  return commit;
}

Result<void> HubCache::write_ref(std::string_view revision, std::string_view commit) const {
  if (revision == commit) return {};
  const fs::path ref = repo_dir_ / "refs" / std::string(revision);
  std::error_code ec;
  fs::create_directories(ref.parent_path(), ec);
  const fs::path tmp = ref.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << commit;
    if (!out) return Error::make(ErrorKind::kIo, "cannot write {}", tmp.string());
  }
  fs::rename(tmp, ref, ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot write {}: {}", ref.string(), ec.message());
  return {};
}

Result<void> HubCache::link_into_snapshot(std::string_view commit, std::string_view filename,
                                          std::string_view etag) const {
  const fs::path link = snapshot_dir(commit) / std::string(filename);
  std::error_code ec;
  fs::create_directories(link.parent_path(), ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot create {}: {}", link.parent_path().string(), ec.message());
  // Relative target, so the cache can be moved or mounted elsewhere.
  const fs::path target = fs::relative(blob_path(etag), link.parent_path(), ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot link {}: {}", link.string(), ec.message());
  fs::remove(link, ec);
  fs::create_symlink(target, link, ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot link {} -> {}: {}", link.string(), target.string(), ec.message());
  return {};
}

bool is_complete_model_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "config.json", ec)) return false;
  if (fs::is_regular_file(dir / "model.safetensors", ec)) return true;
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::is_regular_file(index_path, ec)) {
    std::ifstream in(index_path);
    auto index = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) return false;
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
      if (!shard.is_string() || !fs::is_regular_file(dir / shard.get<std::string>(), ec)) return false;
    }
    return true;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".safetensors" && entry.is_regular_file(ec)) return true;
  }
  return false;
}

}  // namespace tgi::formats
