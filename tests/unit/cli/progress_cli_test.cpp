// Progress as a user of the binary sees it when stderr is a file (CI, a pipe): plain lines, never
// a bar's carriage returns, and nothing on stdout.
#include <gtest/gtest.h>

#include <filesystem>

#include "../formats/safetensors_image.h"
#include "run_tgi.h"

namespace tgi::cli {
namespace {

namespace fs = std::filesystem;
using formats::testing::TempDir;
using tgi::testing::run_tgi;

const fs::path kModel = fs::path(TGI_TEST_DATA_DIR) / "models" / "qwen3-tok";

TEST(ProgressCli, ConvertEndsWithAPlainDoneLineOnStderr) {
  TempDir dir("progress-cli");
  const fs::path gguf = dir.path() / "model.gguf";
  const auto run = run_tgi({"convert", "--model-id", kModel.string(), "--type", "q8_0", gguf.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("Writing " + gguf.string() + ": done, "), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find('\r'), std::string::npos) << "a bar was drawn into a file";
  EXPECT_TRUE(run.out.empty()) << run.out;
}

}  // namespace
}  // namespace tgi::cli
