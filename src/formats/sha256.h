#pragma once
// SHA-256 (FIPS 180-4), streaming. The hub's ETag of an LFS file (weights) is its SHA-256.
#include "formats/block_hash.h"

namespace tgi::formats {

class Sha256 : public BlockHash<8> {
 public:
  Sha256();
};

}  // namespace tgi::formats
