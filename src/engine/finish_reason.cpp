#include "engine/token_event.h"

namespace tgi::engine {

const char* to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength: return "length";
    case FinishReason::kEosToken: return "eos_token";
    case FinishReason::kStopSequence: return "stop_sequence";
  }
  return "length";
}

}  // namespace tgi::engine
