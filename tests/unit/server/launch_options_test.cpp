// `tgi serve` options are checked before anything loads; flags needing a missing backend say so.
#include <gtest/gtest.h>

#include "server/launch_options.h"

namespace tgi::server {
namespace {

std::string error_of(const LaunchOptions& o) {
  auto r = validate_launch_options(o);
  return r.ok() ? "" : r.error().message;
}

TEST(LaunchOptions, DefaultsAreValidAndMatchTgi) {
  LaunchOptions o;
  EXPECT_EQ(error_of(o), "");
  EXPECT_EQ(o.port, 3000);
  EXPECT_EQ(o.max_concurrent_requests, 128);
  EXPECT_EQ(o.payload_limit, 2000000);
  EXPECT_EQ(o.graceful_termination_timeout, 90);
  EXPECT_NE(describe_launch_options(o).find("max_best_of: 2, max_stop_sequences: 4, max_top_n_tokens: 5"),
            std::string::npos);
}

TEST(LaunchOptions, UnsupportedBackendsAreRejectedClearly) {
  LaunchOptions o;
  o.num_shard = 2;
  EXPECT_NE(error_of(o).find("--num-shard 2 needs tensor parallelism"), std::string::npos);
  o = LaunchOptions{};
  o.quantize = "gptq";
  EXPECT_NE(error_of(o).find("--quantize gptq is not supported"), std::string::npos);
  o = LaunchOptions{};
  o.lora_adapters = "a";
  EXPECT_NE(error_of(o), "");
}

TEST(LaunchOptions, LoadTimeQuantizationMethodsAreAccepted) {
  for (const std::string method : {"q8_0", "q4_0", "q4_k", "eetq", "bitsandbytes", "bitsandbytes-nf4",
                                   "bitsandbytes-fp4"}) {
    LaunchOptions o;
    o.quantize = method;
    EXPECT_EQ(error_of(o), "") << method;
  }
  EXPECT_EQ(load_quantization_for("q4_k"), "q4_k");
  EXPECT_EQ(load_quantization_for("eetq"), "q8_0");
  EXPECT_EQ(load_quantization_for("bitsandbytes"), "q8_0");
  EXPECT_EQ(load_quantization_for("bitsandbytes-nf4"), "q4_0");
  EXPECT_EQ(load_quantization_for("bitsandbytes-fp4"), "q4_0");
  for (const std::string method : {"awq", "gptq", "marlin", "exl2", "fp8", "Q8_0", ""}) {
    EXPECT_EQ(load_quantization_for(method), std::nullopt) << method;
  }
}

TEST(LaunchOptions, KvCacheDtypesOfTheCpuCacheAreAccepted) {
  for (const std::string dtype : {"float32", "bfloat16", "float16", "int8", "bf16", "fp16"}) {
    LaunchOptions o;
    o.kv_cache_dtype = dtype;
    EXPECT_EQ(error_of(o), "") << dtype;
  }
  for (const std::string dtype : {"fp8_e4m3fn", "fp8_e5m2", "int4"}) {
    LaunchOptions o;
    o.kv_cache_dtype = dtype;
    EXPECT_NE(error_of(o).find("--kv-cache-dtype " + dtype + " is not supported"), std::string::npos)
        << dtype;
  }
}

TEST(LaunchOptions, InconsistentLimitsAreRejected) {
  LaunchOptions o;
  o.max_input_tokens = 10;
  o.max_input_length = 10;
  EXPECT_NE(error_of(o), "");
  o = LaunchOptions{};
  o.max_input_tokens = 10;
  o.max_total_tokens = 10;
  EXPECT_EQ(error_of(o), "`max_input_tokens` must be < `max_total_tokens`: 10 >= 10");
  o = LaunchOptions{};
  o.validation_workers = 0;
  EXPECT_EQ(error_of(o), "`validation_workers` must be > 0");
  o = LaunchOptions{};
  o.dtype = "int8";
  EXPECT_NE(error_of(o), "");
}

}  // namespace
}  // namespace tgi::server
