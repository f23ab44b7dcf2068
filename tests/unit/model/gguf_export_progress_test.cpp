// export_gguf's progress callback: totals known from the first report, every tensor reported once
// written, and the byte count ends at exactly the tensor data the file holds.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "formats/gguf_file.h"
#include "model/gguf_export.h"

namespace tgi::model {
namespace {

namespace fs = std::filesystem;

const fs::path kModels = fs::path(TGI_TEST_DATA_DIR) / "models";

TEST(GgufExportProgressCallback, ReportsEveryTensorAndEndsAtTheTotal) {
  const fs::path output =
      fs::temp_directory_path() / ("tgi_export_progress_" + std::to_string(::getpid()) + ".gguf");
  std::vector<GgufExportProgress> reports;
  auto written = export_gguf(kModels / "llama3", "q8_0", output, {},
                             [&reports](const GgufExportProgress& p) { reports.push_back(p); });
  ASSERT_TRUE(written.ok()) << written.error().message;

  ASSERT_EQ(reports.size(), written->num_tensors + 1);  // before the first, then after each
  EXPECT_EQ(reports.front().tensors_written, 0u);
  EXPECT_EQ(reports.front().bytes_written, 0u);
  EXPECT_GT(reports.front().bytes_total, 0u);
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].tensors_written, i);
    EXPECT_EQ(reports[i].tensors_total, written->num_tensors);
    EXPECT_EQ(reports[i].bytes_total, reports.front().bytes_total);
    if (i > 0) {
      EXPECT_GT(reports[i].bytes_written, reports[i - 1].bytes_written);
    }
  }
  EXPECT_EQ(reports.back().bytes_written, reports.back().bytes_total);

  // The total is the tensor data as the file stores it (alignment padding aside).
  auto file = formats::GgufFile::open(output);
  ASSERT_TRUE(file.ok()) << file.error().message;
  uint64_t stored = 0;
  for (const auto& tensor : (*file)->tensors()) stored += tensor.nbytes;
  EXPECT_EQ(reports.back().bytes_total, stored);
  fs::remove(output);
}

}  // namespace
}  // namespace tgi::model
