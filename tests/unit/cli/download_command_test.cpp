#include <gtest/gtest.h>

#include <filesystem>

#include "../formats/fake_hub.h"
#include "../formats/safetensors_image.h"
#include "run_tgi.h"

namespace tgi::cli {
namespace {

namespace fs = std::filesystem;
using formats::testing::TempDir;
using tgi::testing::FakeHub;
using tgi::testing::run_tgi;

const fs::path kLlama3 = fs::path(TGI_TEST_DATA_DIR) / "models" / "llama3";

class DownloadCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"config.json", "generation_config.json", "model.safetensors"}) {
      fs::copy_file(kLlama3 / name, repo_.path() / name);
    }
  }
  std::map<std::string, std::string> env(const std::string& endpoint) const {
    return {{"HF_HOME", home_.path().string()}, {"HF_ENDPOINT", endpoint}, {"HF_HUB_CACHE", ""},
            {"HUGGINGFACE_HUB_CACHE", ""},       {"HF_TOKEN", ""},          {"HUGGING_FACE_HUB_TOKEN", ""},
            {"HF_HUB_OFFLINE", ""}};
  }
  TempDir repo_{"cli-repo"}, home_{"cli-home"}, work_{"cli-work"};
};

TEST_F(DownloadCommand, DownloadsIntoTheCacheAndPrintsTheSnapshot) {
  FakeHub hub(repo_.path(), "org/llama3", work_.path() / "log", {"--interrupt", "model.safetensors"});
  ASSERT_TRUE(hub.started());
  auto run = run_tgi({"download", "org/llama3"}, env(hub.endpoint()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const fs::path snapshot = home_.path() / "hub" / "models--org--llama3" / "snapshots" /
                            "0123456789abcdef0123456789abcdef01234567";
  EXPECT_EQ(run.out, snapshot.string() + "\n");
  EXPECT_TRUE(fs::is_regular_file(snapshot / "model.safetensors"));
  EXPECT_EQ(fs::file_size(snapshot / "model.safetensors"), fs::file_size(kLlama3 / "model.safetensors"));
  EXPECT_NE(run.err.find("resuming org/llama3/model.safetensors"), std::string::npos) << run.err;

  // Offline, the cached snapshot is still found.
  auto offline_env = env(hub.endpoint());
  offline_env["HF_HUB_OFFLINE"] = "1";
  auto offline = run_tgi({"download", "org/llama3"}, offline_env);
  ASSERT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(offline.out, snapshot.string() + "\n");
}

TEST_F(DownloadCommand, ExplainsMissingRepositoryAndPrivateRepository) {
  FakeHub hub(repo_.path(), "org/private", work_.path() / "log", {"--token", "abc"});
  ASSERT_TRUE(hub.started());
  auto missing = run_tgi({"download", "org/llama3"}, env(hub.endpoint()));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("HTTP 401"), std::string::npos) << missing.err;  // hub hides private repos
  EXPECT_NE(missing.err.find("HF_TOKEN"), std::string::npos) << missing.err;

  auto with_token = env(hub.endpoint());
  with_token["HF_TOKEN"] = "abc";
  auto not_found = run_tgi({"download", "org/other"}, with_token);
  EXPECT_EQ(not_found.exit_code, 1);
  EXPECT_NE(not_found.err.find("HTTP 404"), std::string::npos) << not_found.err;

  auto ok = run_tgi({"download", "org/private", "--revision", "main"}, with_token);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(DownloadCommand, OfflineWithoutCacheFailsClearly) {
  auto offline_env = env("http://127.0.0.1:1");
  offline_env["HF_HUB_OFFLINE"] = "1";
  auto run = run_tgi({"download", "org/llama3"}, offline_env);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("HF_HUB_OFFLINE"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST(DownloadCommandHelp, DescribesItself) {
  auto run = run_tgi({"download", "--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("--revision"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("HF_TOKEN"), std::string::npos) << run.out;
  auto bad = run_tgi({"download", "../etc/passwd"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("hub model id"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace tgi::cli
