#pragma once
// The Hugging Face hub cache layout, shared with huggingface_hub so either tool reuses the
// other's downloads:
//   <cache>/models--org--name/blobs/<etag>            file contents, named by ETag
//   <cache>/models--org--name/snapshots/<commit>/<f>  relative symlinks to blobs
//   <cache>/models--org--name/refs/<revision>         the commit a branch/tag pointed to
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tgi::formats {

class HubCache {
 public:
  HubCache(std::filesystem::path cache_dir, std::string repo_id);

  const std::filesystem::path& repo_dir() const { return repo_dir_; }
  std::filesystem::path blob_path(std::string_view etag) const;
  std::filesystem::path snapshot_dir(std::string_view commit) const;

  // The commit `revision` names locally: a commit hash with a snapshot, or refs/<revision>.
  std::optional<std::string> resolve_revision(std::string_view revision) const;
  Result<void> write_ref(std::string_view revision, std::string_view commit) const;
  // Points snapshots/<commit>/<filename> at blobs/<etag>.
  Result<void> link_into_snapshot(std::string_view commit, std::string_view filename, std::string_view etag) const;

 private:
  std::filesystem::path repo_dir_;
};

// True when `dir` has what a server needs: config.json and safetensors weights (every shard the
// index names). A half-finished download is not a model.
bool is_complete_model_dir(const std::filesystem::path& dir);

bool looks_like_commit_hash(std::string_view revision);

}  // namespace tgi::formats
