#include <gtest/gtest.h>

#include "formats/safetensors.h"
#include "safetensors_image.h"

namespace tgi::formats {
namespace {

using testing::safetensors_image;

Result<std::unique_ptr<SafetensorsFile>> parse_image(const std::vector<std::byte>& image) {
  return SafetensorsFile::parse(image, "test.safetensors");
}

// Parses and expects an error whose message contains `fragment`.
void expect_error(const std::vector<std::byte>& image, ErrorKind kind, const std::string& fragment) {
  auto result = parse_image(image);
  ASSERT_FALSE(result.ok()) << "expected an error containing: " << fragment;
  EXPECT_EQ(result.error().kind, kind) << result.error().message;
  EXPECT_NE(result.error().message.find(fragment), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("test.safetensors"), std::string::npos) << result.error().message;
}

TEST(SafetensorsFile, ParsesTensorsAsZeroCopyViewsInFileOrder) {
  // "b" is listed first in JSON but stored second; tensors() follows the bytes.
  auto image = safetensors_image(
      R"({"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("__metadata__":{"format":"pt"}})",
      14);
  auto file = parse_image(image);
  ASSERT_TRUE(file.ok()) << file.error().message;
  const auto& tensors = (*file)->tensors();
  ASSERT_EQ(tensors.size(), 2u);
  EXPECT_EQ(tensors[0].name, "a");
  EXPECT_EQ(tensors[1].name, "b");
  const std::byte* data_start = image.data() + image.size() - 14;
  EXPECT_EQ(tensors[0].data, data_start);
  EXPECT_EQ(tensors[1].data, data_start + 8);
  EXPECT_EQ(tensors[1].nbytes, 6u);
  EXPECT_EQ(tensors[1].dtype, DType::kF16);
  EXPECT_EQ(tensors[1].shape, std::vector<int64_t>{3});
  ASSERT_NE((*file)->find("b"), nullptr);
  EXPECT_EQ((*file)->find("b")->data, data_start + 8);
  EXPECT_EQ((*file)->find("missing"), nullptr);
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
}

TEST(SafetensorsFile, AcceptsEveryDtypeWithItsSize) {
  const std::vector<std::pair<std::string, size_t>> dtypes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (const auto& [name, size] : dtypes) {
    auto parsed = parse_dtype(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(dtype_size(*parsed), size) << name;
    EXPECT_EQ(dtype_name(*parsed), name);
    const size_t bytes = 6 * size;
    auto image = safetensors_image(
        R"({"t":{"dtype":")" + name + R"(","shape":[2,3],"data_offsets":[0,)" + std::to_string(bytes) + "]}}",
        bytes);
    auto file = parse_image(image);
    ASSERT_TRUE(file.ok()) << name << ": " << file.error().message;
    EXPECT_EQ((*file)->tensors()[0].dtype, *parsed);
    EXPECT_EQ((*file)->tensors()[0].num_elements(), 6);
  }
  EXPECT_FALSE(parse_dtype("F4").has_value());
}

TEST(SafetensorsFile, AcceptsScalarsEmptyTensorsAndHeaderPadding) {
  auto image = safetensors_image(
      R"({"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("empty":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]}}      )",
      4);
  auto file = parse_image(image);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ((*file)->find("scalar")->num_elements(), 1);
  EXPECT_EQ((*file)->find("empty")->num_elements(), 0);
  EXPECT_EQ((*file)->find("empty")->nbytes, 0u);
}

TEST(SafetensorsFile, AcceptsAnEmptyHeaderObject) {
  auto file = parse_image(safetensors_image("{}", 0));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_TRUE((*file)->tensors().empty());
}

TEST(SafetensorsFile, RejectsFileShorterThanLengthField) {
  std::vector<std::byte> image(5);
  expect_error(image, ErrorKind::kCorruptData, "too short");
}


TEST(SafetensorsFile, RejectsHeaderLengthPastEof) {
  expect_error(safetensors_image("{}", 0, 1000), ErrorKind::kCorruptData, "past the end");
}

TEST(SafetensorsFile, RejectsHugeHeaderLength) {
  expect_error(safetensors_image("{}", 0, UINT64_MAX - 1), ErrorKind::kCorruptData, "exceeds");
  expect_error(safetensors_image("{}", 0, SafetensorsFile::kMaxHeaderBytes + 1), ErrorKind::kCorruptData,
               "exceeds");
}

TEST(SafetensorsFile, RejectsBadJson) {
  expect_error(safetensors_image(R"({"t":{"dtype":"F32",)", 0), ErrorKind::kCorruptData, "invalid JSON");
  expect_error(safetensors_image("{\"t\xff\":1}", 0), ErrorKind::kCorruptData, "invalid JSON");
}

TEST(SafetensorsFile, RejectsHeaderThatIsNotAnObject) {
  expect_error(safetensors_image("[1,2]", 0), ErrorKind::kCorruptData, "JSON object");
  expect_error(safetensors_image("", 0), ErrorKind::kCorruptData, "JSON object");
}

TEST(SafetensorsFile, RejectsDeepNesting) {
  std::string deep = R"({"__metadata__":)" + std::string(100, '[') + std::string(100, ']') + "}";
  expect_error(safetensors_image(deep, 0), ErrorKind::kCorruptData, "nested deeper");
}

TEST(SafetensorsFile, RejectsNonObjectEntry) {
  expect_error(safetensors_image(R"({"t":[1,2]})", 0), ErrorKind::kCorruptData, "not a JSON object");
  expect_error(safetensors_image(R"({"t":"F32"})", 0), ErrorKind::kCorruptData, "not a JSON object");
}

TEST(SafetensorsFile, RejectsMissingOrMistypedFields) {
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[1]}})", 4), ErrorKind::kCorruptData,
               "needs \"dtype\"");
  expect_error(safetensors_image(R"({"t":{"dtype":5,"shape":[1],"data_offsets":[0,4]}})", 4),
               ErrorKind::kCorruptData, "\"dtype\" is not a string");
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", 4),
               ErrorKind::kCorruptData, "must be an array");
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
               ErrorKind::kCorruptData, "two non-negative integers");
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", 4),
               ErrorKind::kCorruptData, "two non-negative integers");
}

TEST(SafetensorsFile, RejectsUnknownDtype) {
  expect_error(safetensors_image(R"({"t":{"dtype":"F4","shape":[1],"data_offsets":[0,1]}})", 1),
               ErrorKind::kUnsupported, "unknown dtype \"F4\"");
}

TEST(SafetensorsFile, RejectsNegativeAndNonIntegerDimensions) {
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
               ErrorKind::kCorruptData, "negative dimension");
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4),
               ErrorKind::kCorruptData, "not an integer");
}

TEST(SafetensorsFile, RejectsShapeWhoseElementCountOverflows) {
  expect_error(safetensors_image(
                   R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0),
               ErrorKind::kCorruptData, "overflows the element count");
  // Overflow before a zero dimension still counts: a later 0 must not hide it.
  expect_error(safetensors_image(
                   R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})", 0),
               ErrorKind::kCorruptData, "overflows the element count");
  expect_error(safetensors_image(
                   R"({"t":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0]}})", 0),
               ErrorKind::kCorruptData, "overflows the element count");
}

TEST(SafetensorsFile, RejectsShapeWhoseByteSizeOverflows) {
  expect_error(safetensors_image(
                   R"({"t":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0),
               ErrorKind::kCorruptData, "overflows the byte size");
}

TEST(SafetensorsFile, RejectsSizeMismatchBetweenShapeAndOffsets) {
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4),
               ErrorKind::kCorruptData, "needs 8 bytes but data_offsets span 4");
}

TEST(SafetensorsFile, RejectsOffsetsOutOfRange) {
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
               ErrorKind::kCorruptData, "outside the 4-byte data section");
  expect_error(safetensors_image(R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8),
               ErrorKind::kCorruptData, "outside");
  expect_error(safetensors_image(
                   R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", 1),
               ErrorKind::kCorruptData, "outside");
}

TEST(SafetensorsFile, RejectsOverlappingTensors) {
  expect_error(safetensors_image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                 12),
               ErrorKind::kCorruptData, "overlaps");
  // Two names for the same bytes.
  expect_error(safetensors_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                 4),
               ErrorKind::kCorruptData, "overlaps");
}

TEST(SafetensorsFile, RejectsDataSectionNotCovered) {
  expect_error(safetensors_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
               ErrorKind::kCorruptData, "bytes [0, 4) of the data section belong to no tensor");
  expect_error(safetensors_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 9),
               ErrorKind::kCorruptData, "bytes [4, 9)");
}

TEST(SafetensorsFile, RejectsDuplicateNames) {
  expect_error(safetensors_image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                 8),
               ErrorKind::kCorruptData, "duplicate key \"a\"");
}

TEST(SafetensorsFile, RejectsMalformedMetadata) {
  expect_error(safetensors_image(R"({"__metadata__":{"format":1}})", 0), ErrorKind::kCorruptData,
               "\"format\" is not a string");
  expect_error(safetensors_image(R"({"__metadata__":[1]})", 0), ErrorKind::kCorruptData,
               "\"__metadata__\" must be an object");
}

TEST(SafetensorsFile, OpenReportsMissingFilesAndDirectories) {
  auto missing = SafetensorsFile::open("/nonexistent/tgi/model.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("/nonexistent/tgi/model.safetensors"), std::string::npos);

  testing::TempDir dir("open");
  auto directory = SafetensorsFile::open(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos);

  testing::write_file(dir.path() / "empty.safetensors", {});
  auto empty = SafetensorsFile::open(dir.path() / "empty.safetensors");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("too short"), std::string::npos);
}

TEST(SafetensorsFile, OpenMapsFileAndViewsStayValid) {
  testing::TempDir dir("map");
  auto image = safetensors_image(R"({"t":{"dtype":"U8","shape":[5],"data_offsets":[0,5]}})", 5);
  testing::write_file(dir.path() / "m.safetensors", image);
  auto file = SafetensorsFile::open(dir.path() / "m.safetensors");
  ASSERT_TRUE(file.ok()) << file.error().message;
  const TensorView* t = (*file)->find("t");
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(static_cast<int>(t->data[i]), i);
}

}  // namespace
}  // namespace tgi::formats
