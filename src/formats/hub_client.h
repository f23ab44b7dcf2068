#pragma once
// The few Hugging Face hub HTTP calls a download needs, over libcurl:
//   GET  {endpoint}/api/models/{repo}/revision/{rev}   -> commit sha + file list
//   HEAD {endpoint}/{repo}/resolve/{commit}/{file}     -> ETag (X-Linked-Etag for LFS), size
//   GET  the same URL, with Range when resuming a partial file
// HTTP failures become Errors that say what to do (401: set HF_TOKEN, 404: check the id).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace tgi::formats {

struct RepoRevision {
  std::string commit;
  std::vector<std::string> files;  // every file of the repository at that commit
};

struct HubFileInfo {
  std::string etag;               // quotes and W/ stripped
  std::optional<uint64_t> size;
};

// Called with (bytes of the file present so far, total bytes or 0 when unknown).
using DownloadProgress = std::function<void(uint64_t done, uint64_t total)>;

class HubClient {
 public:
  HubClient(std::string endpoint, std::optional<std::string> token);

  Result<RepoRevision> revision_info(const std::string& repo_id, const std::string& revision) const;
  Result<HubFileInfo> file_info(const std::string& repo_id, const std::string& commit,
                                const std::string& filename) const;
  // Appends the rest of the file to `partial` (which may hold a prefix from an earlier, interrupted
  // try; the server may also answer with the whole file, which then replaces it).
  Result<void> download(const std::string& repo_id, const std::string& commit, const std::string& filename,
                        const std::filesystem::path& partial, const DownloadProgress& progress) const;

  std::string file_url(const std::string& repo_id, const std::string& commit, const std::string& filename) const;

 private:
  std::string endpoint_;
  std::optional<std::string> token_;
};

}  // namespace tgi::formats
