#include "formats/hub_client.h"

#include <curl/curl.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <mutex>

#include "formats/strict_json.h"

namespace tgi::formats {
namespace {

namespace fs = std::filesystem;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string to_lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag.erase(0, 2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// One libcurl transfer: status, headers of the final response, and (for errors) the body.
struct Transfer {
  CURL* curl = nullptr;
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names, last response only
  std::string body;                            // small bodies: API JSON and error text
  std::FILE* sink = nullptr;                   // download target for 200/206 responses
  bool sink_truncated = false;
  const DownloadProgress* progress = nullptr;
  uint64_t resume_offset = 0;
  std::string write_error;

  static size_t on_header(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
      t->headers.clear();  // a new response (after a redirect or 100-continue)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      t->headers[to_lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    return size * count;
  }

  static size_t on_body(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    const size_t n = size * count;
    if (t->sink == nullptr || (status != 200 && status != 206)) {
      if (t->body.size() < (1u << 20)) t->body.append(data, n);  // cap what we keep of errors
      return n;
    }
    if (status == 200 && t->resume_offset > 0 && !t->sink_truncated) {
      // We asked for a range but got the whole file: start over.
      if (std::fflush(t->sink) != 0 || ::ftruncate(fileno(t->sink), 0) != 0 || std::fseek(t->sink, 0, SEEK_SET) != 0) {
        t->write_error = "cannot truncate the partial file";
        return 0;
      }
      t->sink_truncated = true;
      t->resume_offset = 0;
    }
    if (std::fwrite(data, 1, n, t->sink) != n) {
      t->write_error = "cannot write the partial file (disk full?)";
      return 0;
    }
    return n;
  }

  static int on_progress(void* self, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(self);
    if (t->progress != nullptr && *t->progress) {
      const uint64_t base = t->resume_offset;
      (*t->progress)(base + static_cast<uint64_t>(dlnow), dltotal > 0 ? base + static_cast<uint64_t>(dltotal) : 0);
    }
    return 0;
  }
};

class CurlHandle {
 public:
  CurlHandle() : curl_(curl_easy_init()) {}
  ~CurlHandle() {
    if (curl_) curl_easy_cleanup(curl_);
    if (headers_) curl_slist_free_all(headers_);
  }
  CurlHandle(const CurlHandle&) = delete;
  CurlHandle& operator=(const CurlHandle&) = delete;
  CURL* get() const { return curl_; }
  void add_header(const std::string& header) { headers_ = curl_slist_append(headers_, header.c_str()); }
  curl_slist* headers() const { return headers_; }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

// What an HTTP failure means for someone trying to get a model.
Error http_error(long status, const Transfer& t, const std::string& what, const std::string& url) {
  auto code_it = t.headers.find("x-error-code");
  const std::string code = code_it == t.headers.end() ? "" : code_it->second;
  auto message_it = t.headers.find("x-error-message");
  const std::string server_says = message_it == t.headers.end() ? "" : " (hub: " + message_it->second + ")";
  if (status == 401 || status == 403 || code == "GatedRepo") {
    return Error::make(ErrorKind::kInvalidArgument,
                       "{}: HTTP {} from {}: the repository is private or gated, or the token is wrong; "
                       "set HF_TOKEN to a token that has access{}",
                       what, status, url, server_says);
  }
  if (status == 404) {
    std::string hint = "check the model id and --revision";
    if (code == "RevisionNotFound") hint = "the revision does not exist";
    else if (code == "EntryNotFound") hint = "the file does not exist at that revision";
    else if (code == "RepoNotFound") hint = "no such repository (or it is private: set HF_TOKEN)";
    return Error::make(ErrorKind::kNotFound, "{}: HTTP 404 from {}: {}{}", what, url, hint, server_says);
  }
  return Error::make(ErrorKind::kIo, "{}: HTTP {} from {}{}", what, status, url, server_says);
}

// Runs a prepared handle; transport failures become Errors.
Result<void> perform(CurlHandle& handle, Transfer& transfer, const std::string& what, const std::string& url) {
  CURL* curl = handle.get();
  transfer.curl = curl;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, handle.headers());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "tgi-cpp/" TGI_VERSION);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled connection (under 1 byte/s for a minute) is an error rather than a hang.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.status);
  if (!transfer.write_error.empty()) {
    return Error::make(ErrorKind::kIo, "{}: {}", what, transfer.write_error);
  }
  if (rc != CURLE_OK) {
    return Error::make(ErrorKind::kIo, "{}: {} ({})", what, error_buffer[0] ? error_buffer : curl_easy_strerror(rc),
                       url);
  }
  return {};
}

}  // namespace

HubClient::HubClient(std::string endpoint, std::optional<std::string> token)
    : endpoint_(std::move(endpoint)), token_(std::move(token)) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  init_curl_once();
}

std::string HubClient::file_url(const std::string& repo_id, const std::string& commit,
                                const std::string& filename) const {
  return endpoint_ + "/" + repo_id + "/resolve/" + percent_encode(commit, false) + "/" +
         percent_encode(filename, true);
}

Result<RepoRevision> HubClient::revision_info(const std::string& repo_id, const std::string& revision) const {
  const std::string url = endpoint_ + "/api/models/" + repo_id + "/revision/" + percent_encode(revision, false);
  const std::string what = "looking up " + repo_id + " at revision " + revision;
  CurlHandle handle;
  if (token_) handle.add_header("Authorization: Bearer " + *token_);
  curl_easy_setopt(handle.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle.get(), CURLOPT_TIMEOUT, 120L);
  Transfer transfer;
  TGI_TRY(perform(handle, transfer, what, url));
  if (transfer.status != 200) return http_error(transfer.status, transfer, what, url);
  TGI_ASSIGN_OR_RETURN(auto info, parse_strict_json(transfer.body, "hub answer for " + repo_id));
  RepoRevision result;
  if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string()) {
    return Error::make(ErrorKind::kCorruptData, "{}: the hub's answer has no commit \"sha\"", what);
  }
  result.commit = info["sha"].get<std::string>();
  if (info.contains("siblings") && info["siblings"].is_array()) {
    for (const auto& sibling : info["siblings"]) {
      if (sibling.is_object() && sibling.contains("rfilename") && sibling["rfilename"].is_string()) {
        result.files.push_back(sibling["rfilename"].get<std::string>());
      }
    }
  }
  return result;
}

Result<HubFileInfo> HubClient::file_info(const std::string& repo_id, const std::string& commit,
                                         const std::string& filename) const {
  const std::string url = file_url(repo_id, commit, filename);
  const std::string what = "checking " + repo_id + "/" + filename;
  CurlHandle handle;
  if (token_) handle.add_header("Authorization: Bearer " + *token_);
  // LFS files redirect to a CDN; their ETag (the SHA-256) is on the hub's own 302 as X-Linked-Etag.
  curl_easy_setopt(handle.get(), CURLOPT_NOBODY, 1L);
  curl_easy_setopt(handle.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle.get(), CURLOPT_TIMEOUT, 120L);
  Transfer transfer;
  TGI_TRY(perform(handle, transfer, what, url));
  if (transfer.status >= 400 || transfer.status < 200) return http_error(transfer.status, transfer, what, url);
  HubFileInfo info;
  auto linked = transfer.headers.find("x-linked-etag");
  auto plain = transfer.headers.find("etag");
  if (linked != transfer.headers.end()) info.etag = normalize_etag(linked->second);
  else if (plain != transfer.headers.end()) info.etag = normalize_etag(plain->second);
  if (info.etag.empty()) {
    return Error::make(ErrorKind::kCorruptData, "{}: the hub sent no ETag, so the download cannot be verified", what);
  }
  for (char c : info.etag) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Error::make(ErrorKind::kCorruptData, "{}: unusable ETag \"{}\"", what, info.etag);
    }
  }
  auto size_it = transfer.headers.find("x-linked-size");
  if (size_it == transfer.headers.end()) size_it = transfer.headers.find("content-length");
  if (size_it != transfer.headers.end()) {
    try {
      info.size = std::stoull(size_it->second);
    } catch (...) {
      // a malformed size is only a missing hint
    }
  }
  return info;
}

Result<void> HubClient::download(const std::string& repo_id, const std::string& commit, const std::string& filename,
                                 const fs::path& partial, const DownloadProgress& progress) const {
  const std::string url = file_url(repo_id, commit, filename);
  const std::string what = "downloading " + repo_id + "/" + filename;
  std::error_code ec;
  const uint64_t have = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
  std::FILE* sink = std::fopen(partial.c_str(), "ab");
  if (sink == nullptr) return Error::make(ErrorKind::kIo, "{}: cannot open {}", what, partial.string());
  CurlHandle handle;
  if (token_) handle.add_header("Authorization: Bearer " + *token_);
  curl_easy_setopt(handle.get(), CURLOPT_FOLLOWLOCATION, 1L);
  // A plain Range header rather than CURLOPT_RESUME_FROM: libcurl would fail on a server that
  // ignores ranges, while we can just start over.
  if (have > 0) handle.add_header("Range: bytes=" + std::to_string(have) + "-");
  curl_easy_setopt(handle.get(), CURLOPT_NOPROGRESS, progress ? 0L : 1L);
  curl_easy_setopt(handle.get(), CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
  Transfer transfer;
  transfer.sink = sink;
  transfer.resume_offset = have;
  transfer.progress = &progress;
  curl_easy_setopt(handle.get(), CURLOPT_XFERINFODATA, &transfer);
  auto result = perform(handle, transfer, what, url);
  const bool closed = std::fclose(sink) == 0;
  if (!result.ok()) return result;
  if (!closed) return Error::make(ErrorKind::kIo, "{}: cannot write {}", what, partial.string());
  if (transfer.status == 416 && have > 0) {
    // We already hold at least the whole file; the checksum decides whether it is right.
    return {};
  }
  if (transfer.status != 200 && transfer.status != 206) return http_error(transfer.status, transfer, what, url);
  return {};
}

}  // namespace tgi::formats
