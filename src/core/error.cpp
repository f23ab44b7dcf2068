#include "core/error.h"

namespace tgi {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kValidation: return "validation";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kCorruptData: return "corrupt_data";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kOverloaded: return "overloaded";
    case ErrorKind::kGeneration: return "generation";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace tgi
