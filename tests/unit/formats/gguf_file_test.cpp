#include "formats/gguf_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/gguf_writer.h"

namespace tgi::formats {
namespace {

std::vector<std::byte> to_bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

std::vector<std::byte> written_image(const GgufWriter& writer) {
  std::ostringstream out;
  auto r = writer.write(out);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return to_bytes(out.str());
}

// Hand-assembles GGUF bytes so tests can write what the writer never would.
class RawImage {
 public:
  RawImage& u32(uint32_t v) { return raw(&v, 4); }
  RawImage& u64(uint64_t v) { return raw(&v, 8); }
  RawImage& u8(uint8_t v) { return raw(&v, 1); }
  RawImage& raw_text(const std::string& s) { return raw(s.data(), s.size()); }
  RawImage& str(const std::string& s) {
    u64(s.size());
    return raw(s.data(), s.size());
  }
  RawImage& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    return u32(kGgufMagic).u32(version).u64(tensors).u64(kvs);
  }
  RawImage& pad(size_t alignment) {
    while (bytes_.size() % alignment) bytes_.push_back(std::byte{0});
    return *this;
  }
  RawImage& zeros(size_t n) {
    bytes_.resize(bytes_.size() + n);
    return *this;
  }
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  RawImage& raw(const void* p, size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return *this;
  }
  std::vector<std::byte> bytes_;
};

std::string parse_error(const std::vector<std::byte>& bytes) {
  auto r = GgufFile::parse(bytes);
  if (r.ok()) return "<parsed>";
  return r.error().message;
}

GgufWriter sample_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("u8", GgufValue::u8(200));
  w.set("i8", GgufValue::i8(-100));
  w.set("u16", GgufValue::u16(60000));
  w.set("i16", GgufValue::i16(-30000));
  w.set("u32", GgufValue::u32(4000000000u));
  w.set("i32", GgufValue::i32(-2000000000));
  w.set("f32", GgufValue::f32(1.5f));
  w.set("bool", GgufValue::boolean(true));
  w.set("u64", GgufValue::u64(1ull << 60));
  w.set("i64", GgufValue::i64(-(1ll << 60)));
  w.set("f64", GgufValue::f64(-2.25));
  w.set("strings", GgufValue::string_array({"a", "", "ünï"}));
  w.set("nested", GgufValue::array(GgufValueType::kArray,
                                   {GgufValue::i32_array({1, 2}), GgufValue::i32_array({}),
                                    GgufValue::i32_array({3})}));
  std::vector<std::byte> f32_data(4 * 3 * 2);
  for (size_t i = 0; i < f32_data.size(); ++i) f32_data[i] = std::byte(i);
  EXPECT_TRUE(w.add_tensor("weight", GgmlType::kF32, {3, 2}, f32_data).ok());
  std::vector<std::byte> q8_data(34 * 2, std::byte{7});
  EXPECT_TRUE(w.add_tensor("blk.0.q8", GgmlType::kQ8_0, {64}, q8_data).ok());
  return w;
}

TEST(GgufFileTest, ReadsEveryValueTypeAndTensorInfo) {
  const auto image = written_image(sample_writer());
  auto parsed = GgufFile::parse(image);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const GgufFile& f = **parsed;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(*f.architecture(), "llama");
  EXPECT_EQ(*f.get_int("u8"), 200);
  EXPECT_EQ(*f.get_int("i8"), -100);
  EXPECT_EQ(*f.get_int("u16"), 60000);
  EXPECT_EQ(*f.get_int("i16"), -30000);
  EXPECT_EQ(*f.get_int("u32"), 4000000000ll);
  EXPECT_EQ(*f.get_int("i32"), -2000000000);
  EXPECT_EQ(*f.get_double("f32"), 1.5);
  EXPECT_EQ(f.find_value("bool")->as_bool(), true);
  EXPECT_EQ(*f.get_int("u64"), 1ll << 60);
  EXPECT_EQ(*f.get_int("i64"), -(1ll << 60));
  EXPECT_EQ(*f.get_double("f64"), -2.25);
  EXPECT_EQ(*f.find_value("strings")->as_strings(), (std::vector<std::string>{"a", "", "ünï"}));
  const auto* nested = f.find_value("nested")->as_array();
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(*nested->items[0].as_ints(), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(nested->items[1].as_ints()->empty());
  EXPECT_EQ(*nested->items[2].as_ints(), (std::vector<int64_t>{3}));
  EXPECT_EQ(f.metadata().front().first, "general.architecture");  // file order kept

  EXPECT_EQ(f.get_int("missing").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(f.get_int("strings").error().kind, ErrorKind::kCorruptData);
  EXPECT_EQ(f.get_string("u8").error().kind, ErrorKind::kCorruptData);

  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensor* w = f.find_tensor("weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type, GgmlType::kF32);
  EXPECT_EQ(w->dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(w->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->nbytes, 24u);
  EXPECT_EQ(w->data, image.data() + f.data_offset());  // zero-copy
  EXPECT_EQ(w->data[5], std::byte{5});
  const auto view = w->as_tensor_view();
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->dtype, DType::kF32);
  EXPECT_EQ(view->shape, (std::vector<int64_t>{2, 3}));

  const GgufTensor* q = f.find_tensor("blk.0.q8");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::kQ8_0);
  EXPECT_EQ(q->nbytes, 68u);
  EXPECT_EQ(q->offset, 32u);  // 24 bytes of F32 padded to the alignment
  EXPECT_EQ(q->data[0], std::byte{7});
  EXPECT_FALSE(q->as_tensor_view().has_value());
  EXPECT_EQ(f.find_tensor("nope"), nullptr);
}

TEST(GgufFileTest, HonoursCustomAlignment) {
  GgufWriter w(64);
  ASSERT_TRUE(w.add_tensor("a", GgmlType::kF16, {3}, std::vector<std::byte>(6)).ok());
  ASSERT_TRUE(w.add_tensor("b", GgmlType::kBF16, {5}, std::vector<std::byte>(10)).ok());
  const auto image = written_image(w);
  auto f = GgufFile::parse(image);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ((*f)->data_offset() % 64, 0u);
  EXPECT_EQ((*f)->find_tensor("b")->offset, 64u);
}

TEST(GgufFileTest, AcceptsVersion2AndRejectsOthers) {
  auto image = written_image(sample_writer());
  image[4] = std::byte{2};
  auto v2 = GgufFile::parse(image);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ((*v2)->version(), 2u);

  image[4] = std::byte{1};
  EXPECT_EQ(GgufFile::parse(image).error().kind, ErrorKind::kUnsupported);
  image[4] = std::byte{9};
  EXPECT_NE(parse_error(image).find("unsupported version 9"), std::string::npos);
  image[4] = std::byte{0};
  image[7] = std::byte{3};  // version 3 written big-endian
  EXPECT_NE(parse_error(image).find("big-endian"), std::string::npos);

  image = written_image(sample_writer());
  image[0] = std::byte{'X'};
  EXPECT_NE(parse_error(image).find("bad magic"), std::string::npos);
}

TEST(GgufFileTest, EveryTruncationIsAnError) {
  const auto image = written_image(sample_writer());
  auto whole = GgufFile::parse(image);
  ASSERT_TRUE(whole.ok());
  const GgufTensor& last = (*whole)->tensors().back();
  const size_t used = (*whole)->data_offset() + last.offset + last.nbytes;  // the rest is padding
  for (size_t n = 0; n < used; ++n) {
    std::vector<std::byte> prefix(image.begin(), image.begin() + static_cast<long>(n));
    auto r = GgufFile::parse(prefix);
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(r.error().kind, ErrorKind::kCorruptData) << r.error().message;
  }
}

TEST(GgufFileTest, RejectsStringLongerThanFile) {
  RawImage img;
  img.header(0, 1).str("key").u32(8).u64(1000).raw_text("short");
  EXPECT_NE(parse_error(img.bytes()).find("claims 1000 bytes"), std::string::npos);
  RawImage key;
  key.header(0, 1).u64(~0ull).zeros(16);
  EXPECT_NE(parse_error(key.bytes()).find("metadata key"), std::string::npos);
}

TEST(GgufFileTest, RejectsCountsLargerThanTheFile) {
  RawImage kv;
  kv.header(0, 1ull << 62);
  EXPECT_NE(parse_error(kv.bytes()).find("metadata count"), std::string::npos);
  RawImage tensors;
  tensors.header(~0ull, 0);
  EXPECT_NE(parse_error(tensors.bytes()).find("tensor count"), std::string::npos);
  RawImage array;
  array.header(0, 1).str("arr").u32(9).u32(4).u64(1ull << 61).u32(1);
  EXPECT_NE(parse_error(array.bytes()).find("claims 2305843009213693952 u32 elements"), std::string::npos);
  RawImage strings;  // each string needs at least its 8-byte length
  strings.header(0, 1).str("arr").u32(9).u32(8).u64(3).u64(0).u64(0);
  EXPECT_NE(parse_error(strings.bytes()).find("claims 3 string elements"), std::string::npos);
}

TEST(GgufFileTest, RejectsUnknownAndMalformedValues) {
  RawImage type;
  type.header(0, 1).str("k").u32(13).u32(0);
  EXPECT_NE(parse_error(type.bytes()).find("unknown value type 13"), std::string::npos);
  RawImage element;
  element.header(0, 1).str("k").u32(9).u32(77).u64(0);
  EXPECT_NE(parse_error(element.bytes()).find("unknown element type 77"), std::string::npos);
  RawImage boolean;
  boolean.header(0, 1).str("k").u32(7).u8(2);
  EXPECT_NE(parse_error(boolean.bytes()).find("not 0 or 1"), std::string::npos);
  RawImage duplicate;
  duplicate.header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2);
  EXPECT_NE(parse_error(duplicate.bytes()).find("duplicate metadata key 'k'"), std::string::npos);
  RawImage deep;
  deep.header(0, 1).str("k").u32(9);
  for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  EXPECT_NE(parse_error(deep.bytes()).find("nest deeper"), std::string::npos);
}

TEST(GgufFileTest, ValidatesAlignment) {
  RawImage zero;
  zero.header(0, 1).str("general.alignment").u32(4).u32(0);
  EXPECT_NE(parse_error(zero.bytes()).find("not a power of two"), std::string::npos);
  RawImage odd;
  odd.header(0, 1).str("general.alignment").u32(4).u32(48);
  EXPECT_NE(parse_error(odd.bytes()).find("not a power of two"), std::string::npos);
  RawImage wrong_type;
  wrong_type.header(0, 1).str("general.alignment").u32(10).u64(32);
  EXPECT_NE(parse_error(wrong_type.bytes()).find("must be a u32"), std::string::npos);
}

// One F32 tensor "t" with the given dims/type/offset and `data_bytes` bytes of data.
std::vector<std::byte> one_tensor(std::vector<uint64_t> dims, uint32_t type, uint64_t offset, size_t data_bytes) {
  RawImage img;
  img.header(1, 0).str("t").u32(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) img.u64(d);
  img.u32(type).u64(offset).pad(32).zeros(data_bytes);
  return img.bytes();
}

TEST(GgufFileTest, ValidatesTensorInfos) {
  EXPECT_EQ(parse_error(one_tensor({4, 2}, 0, 0, 32)), "<parsed>");
  EXPECT_NE(parse_error(one_tensor({4, 2}, 0, 32, 32)).find("extends past the end"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({4, 2}, 0, ~0ull & ~31ull, 32)).find("extends past the end"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({4, 2}, 0, 4, 64)).find("not a multiple of the alignment"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({4, 2}, 0, 0, 31)).find("extends past the end"), std::string::npos);
  auto unknown = GgufFile::parse(one_tensor({4}, 4, 0, 64));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(unknown.error().message.find("unsupported ggml type 4"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({16}, 8, 0, 64)).find("not a multiple of its block size 32"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({1ull << 32, 1ull << 32}, 0, 0, 0)).find("overflows"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({~0ull}, 0, 0, 0)).find("overflows"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({}, 0, 0, 0)).find("0 dimensions"), std::string::npos);
  EXPECT_NE(parse_error(one_tensor({1, 1, 1, 1, 1}, 0, 0, 0)).find("5 dimensions"), std::string::npos);
  // Large but representable: 2^40 elements of Q8_0, byte size does not overflow, but the file is short.
  EXPECT_NE(parse_error(one_tensor({1ull << 40}, 8, 0, 0)).find("extends past the end"), std::string::npos);

  RawImage duplicate;
  duplicate.header(2, 0).str("t").u32(1).u64(1).u32(0).u64(0).str("t").u32(1).u64(1).u32(0).u64(32).pad(32).zeros(64);
  EXPECT_NE(parse_error(duplicate.bytes()).find("duplicate tensor name"), std::string::npos);
}

TEST(GgufFileTest, OpensFilesFromDisk) {
  const auto path = std::filesystem::temp_directory_path() / "tgi_gguf_file_test.gguf";
  ASSERT_TRUE(sample_writer().write_file(path).ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)->tensors().size(), 2u);
  EXPECT_EQ((*f)->find_tensor("weight")->data[23], std::byte{23});
  std::filesystem::remove(path);

  auto missing = GgufFile::open(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);

  std::ofstream(path).close();  // empty file
  auto empty = GgufFile::open(path);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, ErrorKind::kCorruptData);
  std::filesystem::remove(path);
}

TEST(GgufWriterTest, RejectsInconsistentTensorsAndValues) {
  GgufWriter w;
  EXPECT_FALSE(w.add_tensor("q", GgmlType::kQ4_K, {128}).ok());  // not a whole super-block
  EXPECT_FALSE(w.add_tensor("d", GgmlType::kF32, {4}, std::vector<std::byte>(15)).ok());
  ASSERT_TRUE(w.add_tensor("d", GgmlType::kF32, {4}, std::vector<std::byte>(16)).ok());
  EXPECT_FALSE(w.add_tensor("d", GgmlType::kF32, {4}, std::vector<std::byte>(16)).ok());
  w.set("bad", GgufValue{GgufValueType::kU32, std::string("x")});
  std::ostringstream out;
  EXPECT_FALSE(w.write(out).ok());
}

}  // namespace
}  // namespace tgi::formats
