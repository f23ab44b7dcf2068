#pragma once
// The ragged batch: the one input of a forward pass (see DESIGN.md, "Ragged batch").
// All scheduled tokens of a step are concatenated; each sequence owns a contiguous run of rows,
// has its own KV context and its own block table. Prefill chunks and decode tokens mix freely.
#include <cstdint>
#include <span>

namespace tgi::model {

enum class LogitsWanted : uint8_t {
  kNone,  // an intermediate prefill chunk: nothing sampled from it
  kLast,  // the usual case: only the sequence's last row is sampled
  kAll,   // prompt logprobs (decoder_input_details): every row of the sequence
};

struct SequenceInBatch {
  int32_t query_start = 0;   // first row of this sequence in Batch::token_ids
  int32_t query_len = 0;     // rows this step: a prefill chunk, or 1 for a decode step
  int32_t context_len = 0;   // tokens already in this sequence's KV cache before this step
  std::span<const int32_t> block_table;  // KV blocks covering context_len + query_len tokens
  LogitsWanted logits = LogitsWanted::kLast;
};

struct Batch {
  std::span<const int32_t> token_ids;  // [T]
  std::span<const int32_t> positions;  // [T] absolute positions (context_len + i for row i)
  std::span<const SequenceInBatch> sequences;

  int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }
  // Rows of the logits output, in sequence order: query_len for kAll, 1 for kLast, 0 for kNone.
  int32_t num_logit_rows() const {
    int32_t rows = 0;
    for (const auto& s : sequences)
      rows += s.logits == LogitsWanted::kAll ? s.query_len : (s.logits == LogitsWanted::kLast ? 1 : 0);
    return rows;
  }
};

}  // namespace tgi::model
