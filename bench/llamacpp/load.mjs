// The llama.cpp side of bench/startup/compare-startup: seconds from nothing to a model loaded and
// a 4096-token context created (what `llama-server` does before it answers), through
// node-llama-cpp's prebuilt CPU binaries, printed as one JSON object.
//   node load.mjs --model FILE.gguf [--threads 2] [--context 4096]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const modelPath = arg("model");
const threads = Number(arg("threads", "2"));
const contextSize = Number(arg("context", "4096"));
if (!modelPath) {
  console.error("usage: node load.mjs --model FILE.gguf [--threads N] [--context N]");
  process.exit(2);
}
const now = () => Number(process.hrtime.bigint()) / 1e9;
const start = now();
const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true, maxThreads: threads,
                              logLevel: LlamaLogLevel.error});
const runtimeReady = now();
const model = await llama.loadModel({modelPath, useMmap: true});
const context = await model.createContext({contextSize, threads, sequences: 1});
const ready = now();
console.log(JSON.stringify({load_seconds: ready - runtimeReady, with_runtime_seconds: ready - start, context_size: contextSize,
                            rss_bytes: process.memoryUsage().rss}));
await context.dispose();
await model.dispose();
