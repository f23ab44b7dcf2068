#pragma once
// The scanners that read one tool-call block (the text after its open marker, or a whole output
// shaped like a call). A scanner is a pure function of the text that has arrived: called again
// with more text, it reports the same calls with the same or longer arguments. That is what makes
// the streamed deltas independent of how the text was split.
#include <string>
#include <string_view>
#include <vector>

#include "chat/output/output_format.h"

namespace tgi::chat {

struct ScannedCall {
  std::string name;
  std::string arguments;  // as far as known; only grows while the block is read
  bool arguments_complete = false;
};

struct BlockScan {
  enum class Status {
    kNeedMore,  // the block goes on past the text so far
    kComplete,  // the block ended at `end` (its close marker consumed, if it has one)
    kInvalid,   // not (or no longer) a call at `end`: `calls` stand, the rest is content
    kNotACall,  // a content section dressed as a call (functionary's "all"): content from `end`
  };
  Status status = Status::kNeedMore;
  std::vector<ScannedCall> calls;  // the calls that may be announced, in order
  size_t end = 0;
};

// In shape mode no marker vouched for the block, so a call is announced only once its arguments
// key is seen, and the first key must be a call key.
BlockScan scan_json_call_block(std::string_view text, const OutputFormat& format, bool at_end,
                               bool shape_mode);
BlockScan scan_name_then_json_block(std::string_view text, const OutputFormat& format, bool at_end);
BlockScan scan_xml_call_block(std::string_view text, const OutputFormat& format, bool at_end);
BlockScan scan_pythonic_call_block(std::string_view text, const OutputFormat& format, bool at_end);
BlockScan scan_gemma4_call_block(std::string_view text, const OutputFormat& format, bool at_end);

// Helpers shared by the scanners.
// `scan`, ended with `status` at `end`.
BlockScan ended(BlockScan scan, BlockScan::Status status, size_t end);
// The text so far does not decide the block: wait for more (`scan` as it is), or, when the output
// has ended, the block is invalid at `at`.
BlockScan undecided(BlockScan scan, bool at_end, size_t at);
size_t skip_spaces(std::string_view text, size_t pos);
// Consumes, after spaces, the ``` that closes a fenced block's calls at `pos`. False when the text
// so far may still be opening it (wait for more); true otherwise, `pos` past the fence if present.
bool skip_closing_fence(std::string_view text, size_t& pos, bool at_end);
// How a block's close marker (or its absence) ends a block whose calls end at `pos`.
BlockScan finish_block(BlockScan scan, std::string_view text, size_t pos, std::string_view close,
                       bool at_end);
// A name cannot be longer than this: a longer "name" is prose, and holding it would hold content.
inline constexpr size_t kMaxNameLength = 256;

}  // namespace tgi::chat
