#pragma once
// SHA-1, streaming. Only for verifying the hub's ETag of a regular (non-LFS) git file, which is
// the git blob id: sha1("blob <size>\0" + content). Not used for anything security-relevant.
#include "formats/block_hash.h"

namespace tgi::formats {

class Sha1 : public BlockHash<5> {
 public:
  Sha1();
};

}  // namespace tgi::formats
