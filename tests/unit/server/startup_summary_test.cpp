// The "Ready" line: human sizes and parameter counts in text, exact numbers in JSON.
#include "server/startup_summary.h"

#include <gtest/gtest.h>

namespace tgi::server {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;

StartupSummary tinyllama() {
  StartupSummary s;
  s.architecture = "llama";
  s.parameters = 1'100'048'384;
  s.weight_formats = {"Q8_0 GGUF"};
  s.weights_bytes = static_cast<uint64_t>(1.09 * kGiB);
  s.isa = "avx2";
  s.threads = 2;
  s.kv_cache_dtype = "float32";
  s.kv_budget_tokens = 32768;
  s.kv_budget_bytes = static_cast<uint64_t>(1.40 * kGiB);
  s.max_total_tokens = 2048;
  s.max_input_tokens = 2047;
  s.max_concurrent_requests = 128;
  s.load_seconds = 1.83;
  return s;
}

TEST(StartupSummary, OneReadableLine) {
  EXPECT_EQ(startup_summary_text(tinyllama()),
            "Ready in 1.8s: llama 1.10B params, Q8_0 GGUF (1.09 GiB), avx2 x2 threads, KV cache float32 "
            "32768 tokens "
            "(1.40 GiB), context 2048 (input 2047), 128 concurrent requests");
}

TEST(StartupSummary, SmallModelsQuantizedAtLoadAndWiderIsas) {
  StartupSummary s = tinyllama();
  s.architecture = "llama";
  s.parameters = 134'515'008;
  s.weight_formats = {"BF16 safetensors", "quantized at load to q8_0"};
  s.weights_bytes = 150ull * 1024 * 1024;
  s.isa = "avx512";
  s.isa_features = {"vnni", "bf16"};
  s.threads = 16;
  const std::string text = startup_summary_text(s);
  EXPECT_NE(text.find("llama 135M params, BF16 safetensors + quantized at load to q8_0 (150 MiB), "
                      "avx512+vnni+bf16 x16 threads,"),
            std::string::npos)
      << text;
}

TEST(StartupSummary, MissingPartsAreLeftOut) {
  StartupSummary s;
  s.load_seconds = 0.31;
  s.max_total_tokens = 512;
  EXPECT_EQ(startup_summary_text(s), "Ready in 0.3s: context 512");
}

TEST(StartupSummary, JsonFieldsAreExactNumbers) {
  const LogEvent event = startup_summary_event(tinyllama());
  EXPECT_EQ(event.target, "tgi::startup");
  EXPECT_EQ(event.level, spdlog::level::info);
  EXPECT_TRUE(event.span.empty());  // text mode prints the message alone
  const auto fields = event_json_fields(event);
  EXPECT_EQ(fields["message"], startup_summary_text(tinyllama()));
  EXPECT_EQ(fields["parameters"], 1'100'048'384);
  EXPECT_EQ(fields["weight_formats"], nlohmann::ordered_json::array({"Q8_0 GGUF"}));
  EXPECT_EQ(fields["kv_budget_tokens"], 32768);
  EXPECT_EQ(fields["max_input_tokens"], 2047);
  EXPECT_EQ(fields["threads"], 2);
  EXPECT_EQ(fields["isa"], "avx2");
  EXPECT_DOUBLE_EQ(fields["load_seconds"].get<double>(), 1.83);
}

}  // namespace
}  // namespace tgi::server
