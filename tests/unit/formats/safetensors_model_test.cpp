#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "formats/safetensors.h"
#include "safetensors_image.h"

namespace tgi::formats {
namespace {

namespace fs = std::filesystem;
using testing::safetensors_image;
using testing::TempDir;
using testing::write_file;
using testing::write_text;

std::vector<std::byte> one_tensor(const std::string& name, int elements) {
  return safetensors_image(R"({")" + name + R"(":{"dtype":"F32","shape":[)" + std::to_string(elements) +
                               R"(],"data_offsets":[0,)" + std::to_string(4 * elements) + "]}}",
                           4 * static_cast<size_t>(elements));
}

TEST(SafetensorsModel, OpensSingleFile) {
  TempDir dir("single");
  write_file(dir.path() / "model.safetensors", one_tensor("w", 3));
  write_file(dir.path() / "other.safetensors", one_tensor("ignored", 1));  // single file wins
  auto model = SafetensorsModel::open_dir(dir.path());
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_EQ((*model)->all().size(), 1u);
  ASSERT_TRUE((*model)->require("w").ok());
  EXPECT_EQ((*(*model)->require("w"))->shape, std::vector<int64_t>{3});
  auto missing = (*model)->require("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("\"nope\""), std::string::npos);
}

TEST(SafetensorsModel, OpensShardsListedByIndex) {
  TempDir dir("sharded");
  write_file(dir.path() / "model-00001-of-00002.safetensors", one_tensor("a", 2));
  write_file(dir.path() / "model-00002-of-00002.safetensors", one_tensor("b", 4));
  write_text(dir.path() / "model.safetensors.index.json",
             R"({"metadata":{"total_size":24},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
             R"("b":"model-00002-of-00002.safetensors"}})");
  auto model = SafetensorsModel::open_dir(dir.path());
  ASSERT_TRUE(model.ok()) << model.error().message;
  auto all = (*model)->all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->name, "a");
  EXPECT_EQ(all[1]->name, "b");
  EXPECT_EQ(all[1]->num_elements(), 4);
  EXPECT_EQ((*model)->files().size(), 2u);
}

TEST(SafetensorsModel, FallsBackToEverySafetensorsFile) {
  TempDir dir("fallback");
  write_file(dir.path() / "consolidated-1.safetensors", one_tensor("x", 1));
  write_file(dir.path() / "consolidated-2.safetensors", one_tensor("y", 1));
  auto model = SafetensorsModel::open_dir(dir.path());
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_NE((*model)->find("x"), nullptr);
  EXPECT_NE((*model)->find("y"), nullptr);
}

TEST(SafetensorsModel, RejectsTensorStoredInTwoShards) {
  TempDir dir("dupshard");
  write_file(dir.path() / "a.safetensors", one_tensor("w", 1));
  write_file(dir.path() / "b.safetensors", one_tensor("w", 1));
  auto model = SafetensorsModel::open_dir(dir.path());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("stored twice"), std::string::npos) << model.error().message;
}

TEST(SafetensorsModel, RejectsIndexEscapingTheDirectory) {
  TempDir dir("escape");
  write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map":{"a":"../secret.safetensors"}})");
  auto model = SafetensorsModel::open_dir(dir.path());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("not a file name in the directory"), std::string::npos)
      << model.error().message;
}

TEST(SafetensorsModel, RejectsIndexThatLies) {
  TempDir dir("lies");
  write_file(dir.path() / "s1.safetensors", one_tensor("a", 1));
  write_file(dir.path() / "s2.safetensors", one_tensor("b", 1));
  write_text(dir.path() / "model.safetensors.index.json",
             R"({"weight_map":{"a":"s2.safetensors","b":"s2.safetensors"}})");
  auto model = SafetensorsModel::open_dir(dir.path());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message.find("\"a\" is not in s2.safetensors"), std::string::npos)
      << model.error().message;
}

TEST(SafetensorsModel, ReportsBadIndexMissingShardAndEmptyDirectory) {
  TempDir dir("badindex");
  write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map":)");
  auto bad_json = SafetensorsModel::open_dir(dir.path());
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.error().message.find("invalid JSON"), std::string::npos);

  write_text(dir.path() / "model.safetensors.index.json", R"({"weight_map":{"a":"gone.safetensors"}})");
  auto missing = SafetensorsModel::open_dir(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("gone.safetensors"), std::string::npos);

  TempDir empty("emptydir");
  auto none = SafetensorsModel::open_dir(empty.path());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no model.safetensors"), std::string::npos);

  auto not_dir = SafetensorsModel::open_dir(empty.path() / "nope");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.error().kind, ErrorKind::kNotFound);
}

// Every golden checkpoint loads, and its tensors have exactly the names, shapes and dtypes
// that the reference implementation recorded.
TEST(SafetensorsModel, LoadsAllGoldenCheckpoints) {
  const fs::path models = fs::path(TGI_TEST_DATA_DIR) / "models";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(models)) {
    if (!fs::exists(entry.path() / "golden.json")) continue;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path() / "golden.json");
    const auto golden = nlohmann::json::parse(in);
    const auto& expected = golden.at("safetensors_keys");
    auto model = SafetensorsModel::open_dir(entry.path());
    ASSERT_TRUE(model.ok()) << model.error().message;
    EXPECT_EQ((*model)->all().size(), expected.size());
    for (const auto& [name, shape_and_dtype] : expected.items()) {
      const TensorView* view = (*model)->find(name);
      ASSERT_NE(view, nullptr) << name;
      EXPECT_EQ(view->shape, shape_and_dtype.at(0).get<std::vector<int64_t>>()) << name;
      EXPECT_EQ(dtype_name(view->dtype), shape_and_dtype.at(1).get<std::string>()) << name;
      EXPECT_EQ(view->nbytes, static_cast<size_t>(view->num_elements()) * dtype_size(view->dtype)) << name;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 23);
}

}  // namespace
}  // namespace tgi::formats
