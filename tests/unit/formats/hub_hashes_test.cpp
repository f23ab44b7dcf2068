#include <gtest/gtest.h>

#include <string>

#include "formats/sha1.h"
#include "formats/sha256.h"

namespace tgi::formats {
namespace {

std::string sha256_of(const std::string& text) {
  Sha256 hash;
  hash.update(std::as_bytes(std::span(text)));
  return hash.hex_digest();
}

std::string sha1_of(const std::string& text) {
  Sha1 hash;
  hash.update(std::as_bytes(std::span(text)));
  return hash.hex_digest();
}

TEST(Sha256, MatchesStandardVectors) {
  EXPECT_EQ(sha256_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_of(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingInOddPiecesEqualsOneShot) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 7);
  Sha256 pieces;
  for (size_t at = 0, step = 1; at < text.size(); at += step, step = step % 70 + 3) {
    pieces.update(std::as_bytes(std::span(text.data() + at, std::min(step, text.size() - at))));
  }
  EXPECT_EQ(pieces.hex_digest(), sha256_of(text));
}

TEST(Sha1, MatchesStandardVectorsAndGitBlobIds) {
  EXPECT_EQ(sha1_of("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  // `git hash-object` of a file containing "hello\n".
  EXPECT_EQ(sha1_of(std::string("blob 6\0hello\n", 13)), "ce013625030ba8dba906f756967f9e9ca394464a");
}

}  // namespace
}  // namespace tgi::formats
