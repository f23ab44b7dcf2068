#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "fake_hub.h"
#include "formats/hub_cache.h"
#include "formats/model_id.h"
#include "formats/safetensors.h"
#include "safetensors_image.h"

namespace tgi::formats {
namespace {

namespace fs = std::filesystem;
using formats::testing::TempDir;
using tgi::testing::FakeHub;

constexpr const char* kCommit = "0123456789abcdef0123456789abcdef01234567";
const fs::path kLlama3 = fs::path(TGI_TEST_DATA_DIR) / "models" / "llama3";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A hub repository made of llama3's serving files (not the golden fixtures beside them).
class HubDownload : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"config.json", "generation_config.json", "model.safetensors"}) {
      fs::copy_file(kLlama3 / name, repo_.path() / name);
    }
    options_.cache_dir = cache_.path();
    options_.revision = "main";
  }
  fs::path log_file() const { return work_.path() / "requests.log"; }

  TempDir repo_{"repo"}, cache_{"cache"}, work_{"work"};
  ResolveOptions options_;
};

TEST(ModelId, ValidatesRepoIdsRevisionsAndNeededFiles) {
  EXPECT_TRUE(is_valid_repo_id("meta-llama/Llama-3.2-1B"));
  EXPECT_TRUE(is_valid_repo_id("gpt2"));
  EXPECT_TRUE(is_valid_repo_id("Qwen/Qwen3-0.6B"));
  EXPECT_FALSE(is_valid_repo_id(""));
  EXPECT_FALSE(is_valid_repo_id("../etc"));
  EXPECT_FALSE(is_valid_repo_id("a/b/c"));
  EXPECT_FALSE(is_valid_repo_id("org/.hidden"));
  EXPECT_FALSE(is_valid_repo_id("org/na..me"));
  EXPECT_FALSE(is_valid_repo_id("org/na--me"));
  EXPECT_FALSE(is_valid_repo_id("org/name with space"));
  EXPECT_TRUE(is_valid_revision("main"));
  EXPECT_TRUE(is_valid_revision("refs/pr/1"));
  EXPECT_TRUE(is_valid_revision("v1.0"));
  EXPECT_FALSE(is_valid_revision("../../x"));
  EXPECT_FALSE(is_valid_revision("/abs"));
  EXPECT_FALSE(is_valid_revision(""));
  EXPECT_TRUE(is_needed_model_file("config.json"));
  EXPECT_TRUE(is_needed_model_file("tokenizer.json"));
  EXPECT_TRUE(is_needed_model_file("model-00001-of-00002.safetensors"));
  EXPECT_TRUE(is_needed_model_file("model.safetensors.index.json"));
  EXPECT_FALSE(is_needed_model_file("pytorch_model.bin"));
  EXPECT_FALSE(is_needed_model_file("README.md"));
  EXPECT_FALSE(is_needed_model_file("original/model.safetensors"));
}

TEST(ModelId, LocalDirectoryWinsAndBadIdsAreExplained) {
  ResolveOptions options;
  options.offline = true;
  auto local = resolve_model_id(kLlama3.string(), options);
  ASSERT_TRUE(local.ok()) << local.error().message;
  EXPECT_TRUE(fs::equivalent(*local, kLlama3));

  auto bad = resolve_model_id("/no/such/dir/model", options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("neither an existing directory nor a hub model id"), std::string::npos)
      << bad.error().message;
}

TEST(ModelId, OfflineUsesCacheOrSaysWhy) {
  TempDir cache("offline-cache");
  ResolveOptions options;
  options.cache_dir = cache.path();
  options.offline = true;
  auto missing = resolve_model_id("org/model", options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("HF_HUB_OFFLINE"), std::string::npos) << missing.error().message;

  // A snapshot laid out the way huggingface_hub leaves it.
  const fs::path repo = cache.path() / "models--org--model";
  fs::create_directories(repo / "snapshots" / kCommit);
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << kCommit;
  fs::copy_file(kLlama3 / "config.json", repo / "snapshots" / kCommit / "config.json");
  fs::copy_file(kLlama3 / "model.safetensors", repo / "snapshots" / kCommit / "model.safetensors");
  auto found = resolve_model_id("org/model", options);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(*found, repo / "snapshots" / kCommit);

  options.revision = kCommit;  // a commit hash names its snapshot directly
  auto by_commit = resolve_model_id("org/model", options);
  ASSERT_TRUE(by_commit.ok()) << by_commit.error().message;

  options.revision = "other-branch";
  EXPECT_FALSE(resolve_model_id("org/model", options).ok());
}

TEST(ModelId, OptionsComeFromTheEnvironment) {
  const char* names[] = {"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN",
                         "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  for (const char* name : names) {
    const char* value = std::getenv(name);
    saved.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
    unsetenv(name);
  }
  TempDir home("hfhome");
  std::ofstream(home.path() / "token") << "stored-token\n";
  setenv("HF_HOME", home.path().c_str(), 1);
  auto options = ResolveOptions::from_environment();
  EXPECT_EQ(options.cache_dir, home.path() / "hub");
  EXPECT_EQ(options.token, "stored-token");
  EXPECT_EQ(options.endpoint, "https://huggingface.co");
  EXPECT_FALSE(options.offline);

  setenv("HUGGINGFACE_HUB_CACHE", "/legacy/cache", 1);
  setenv("HF_TOKEN", "env-token", 1);
  setenv("HF_ENDPOINT", "http://127.0.0.1:1", 1);
  setenv("HF_HUB_OFFLINE", "1", 1);
  options = ResolveOptions::from_environment();
  EXPECT_EQ(options.cache_dir, "/legacy/cache");
  EXPECT_EQ(options.token, "env-token");
  EXPECT_EQ(options.endpoint, "http://127.0.0.1:1");
  EXPECT_TRUE(options.offline);
  setenv("HF_HUB_CACHE", "/new/cache", 1);
  EXPECT_EQ(ResolveOptions::from_environment().cache_dir, "/new/cache");

  for (const auto& [name, value] : saved) {
    if (value) setenv(name.c_str(), value->c_str(), 1);
    else unsetenv(name.c_str());
  }
}

TEST_F(HubDownload, DownloadsResumesVerifiesAndReusesTheCache) {
  FakeHub hub(repo_.path(), "org/llama3", log_file(), {"--interrupt", "model.safetensors"});
  ASSERT_TRUE(hub.started());
  options_.endpoint = hub.endpoint();
  auto dir = resolve_model_id("org/llama3", options_);
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  EXPECT_EQ(*dir, cache_.path() / "models--org--llama3" / "snapshots" / kCommit);
  for (const char* name : {"config.json", "generation_config.json", "model.safetensors"}) {
    EXPECT_TRUE(fs::is_symlink(*dir / name)) << name;
    EXPECT_EQ(read_bytes(*dir / name), read_bytes(repo_.path() / name)) << name;
  }
  std::ifstream ref(cache_.path() / "models--org--llama3" / "refs" / "main");
  std::string commit;
  ref >> commit;
  EXPECT_EQ(commit, kCommit);
  for (const auto& blob : fs::directory_iterator(cache_.path() / "models--org--llama3" / "blobs")) {
    EXPECT_NE(blob.path().extension(), ".incomplete") << blob.path();
  }

  // The cut transfer was resumed where it stopped, not restarted.
  const std::string log = FakeHub::read_log(log_file());
  const size_t third = fs::file_size(repo_.path() / "model.safetensors") / 3;
  EXPECT_NE(log.find("GET /org/llama3/resolve/" + std::string(kCommit) + "/model.safetensors bytes=" +
                     std::to_string(third) + "-"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("README.md"), std::string::npos) << "fetched a file serving does not need";
  EXPECT_EQ(log.find("pytorch_model.bin"), std::string::npos);

  auto model = SafetensorsModel::open_dir(*dir);
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_NE((*model)->find("lm_head.weight"), nullptr);

  // Cached now: resolving again makes no request; `download` asks only for the revision.
  ASSERT_TRUE(resolve_model_id("org/llama3", options_).ok());
  EXPECT_EQ(FakeHub::read_log(log_file()), log);
  ASSERT_TRUE(download_model("org/llama3", options_).ok());
  const std::string after = FakeHub::read_log(log_file());
  EXPECT_EQ(count(after, "\n"), count(log, "\n") + 1) << after;
  EXPECT_NE(after.find("GET /api/models/org/llama3/revision/main"), std::string::npos);
}

TEST_F(HubDownload, SendsTheTokenAndExplains401) {
  FakeHub hub(repo_.path(), "org/private", log_file(), {"--token", "s3cret"});
  ASSERT_TRUE(hub.started());
  options_.endpoint = hub.endpoint();
  auto denied = download_model("org/private", options_);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("HTTP 401"), std::string::npos) << denied.error().message;
  EXPECT_NE(denied.error().message.find("HF_TOKEN"), std::string::npos) << denied.error().message;

  options_.token = "s3cret";
  auto granted = download_model("org/private", options_);
  ASSERT_TRUE(granted.ok()) << granted.error().message;
  EXPECT_NE(FakeHub::read_log(log_file()).find("Bearer s3cret"), std::string::npos);
}

TEST_F(HubDownload, Explains404ForRepositoryAndRevision) {
  FakeHub hub(repo_.path(), "org/llama3", log_file());
  ASSERT_TRUE(hub.started());
  options_.endpoint = hub.endpoint();
  auto no_repo = download_model("org/missing", options_);
  ASSERT_FALSE(no_repo.ok());
  EXPECT_EQ(no_repo.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(no_repo.error().message.find("HTTP 404"), std::string::npos) << no_repo.error().message;
  EXPECT_NE(no_repo.error().message.find("no such repository"), std::string::npos) << no_repo.error().message;

  options_.revision = "v9";
  auto no_revision = download_model("org/llama3", options_);
  ASSERT_FALSE(no_revision.ok());
  EXPECT_NE(no_revision.error().message.find("revision does not exist"), std::string::npos)
      << no_revision.error().message;
}

TEST_F(HubDownload, RejectsBytesThatDoNotMatchTheEtag) {
  FakeHub hub(repo_.path(), "org/llama3", log_file(), {"--corrupt", "model.safetensors"});
  ASSERT_TRUE(hub.started());
  options_.endpoint = hub.endpoint();
  auto result = download_model("org/llama3", options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::kCorruptData);
  EXPECT_NE(result.error().message.find("checksum mismatch"), std::string::npos) << result.error().message;
  EXPECT_FALSE(is_complete_model_dir(cache_.path() / "models--org--llama3" / "snapshots" / kCommit));
  // Nothing unverified stays behind to be trusted later.
  for (const auto& blob : fs::directory_iterator(cache_.path() / "models--org--llama3" / "blobs")) {
    EXPECT_EQ(fs::file_size(blob.path()) == fs::file_size(repo_.path() / "model.safetensors"), false)
        << blob.path();
  }
}

TEST_F(HubDownload, ResumesAPartialFileLeftByAnEarlierRun) {
  FakeHub hub(repo_.path(), "org/llama3", log_file());
  ASSERT_TRUE(hub.started());
  options_.endpoint = hub.endpoint();
  // What an interrupted earlier run leaves: blobs/<sha256>.incomplete holding a prefix.
  const fs::path blobs = cache_.path() / "models--org--llama3" / "blobs";
  fs::create_directories(blobs);
  auto first = download_model("org/llama3", options_);  // learn the etag names
  ASSERT_TRUE(first.ok()) << first.error().message;
  const fs::path weights_blob = fs::canonical(*first / "model.safetensors");
  const std::string weights = read_bytes(weights_blob);
  fs::remove_all(cache_.path() / "models--org--llama3" / "snapshots");
  fs::remove(weights_blob);
  {
    std::ofstream partial(weights_blob.string() + ".incomplete", std::ios::binary);
    partial.write(weights.data(), 1000);
  }
  auto second = download_model("org/llama3", options_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(read_bytes(*second / "model.safetensors"), weights);
  EXPECT_NE(FakeHub::read_log(log_file()).find("model.safetensors bytes=1000-"), std::string::npos);
}

TEST(ModelIdNetwork, UnreachableHubIsAnIoError) {
  TempDir cache("unreachable");
  ResolveOptions options;
  options.cache_dir = cache.path();
  options.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  auto result = resolve_model_id("org/model", options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::kIo);
  EXPECT_NE(result.error().message.find("org/model"), std::string::npos) << result.error().message;
}

}  // namespace
}  // namespace tgi::formats
