// The llama.cpp side of bench/compare-llamacpp: prefill and decode throughput of one GGUF file
// through node-llama-cpp, printed as one JSON object.
//   node measure.mjs --model FILE.gguf [--threads 2] [--prompt 512] [--decode 128]
//                    [--batches 8,32] [--build prebuilt|source]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const modelPath = arg("model");
const threads = Number(arg("threads", "2"));
const promptLength = Number(arg("prompt", "512"));
const decodeLength = Number(arg("decode", "128"));
const batches = arg("batches", "8,32").split(",").filter(Boolean).map(Number);
const build = arg("build", "prebuilt");
if (!modelPath) {
  console.error("usage: node measure.mjs --model FILE.gguf [--threads N] [--prompt N] [--decode N] [--batches 8,32]");
  process.exit(2);
}

// "source": the binary `node-llama-cpp source build` compiled here (native flags); "prebuilt": the
// package's own CPU binaries (dynamic ggml-cpu backend picked for this CPU).
const llama = await getLlama({
  gpu: false,
  build: "never",
  usePrebuiltBinaries: build !== "source",
  maxThreads: threads,
  logLevel: LlamaLogLevel.error,
});
const model = await llama.loadModel({modelPath, useMmap: true});

const now = () => Number(process.hrtime.bigint()) / 1e9;
// Random token ids away from the special tokens, from a fixed seed.
let seed = 12345;
const randomTokens = (n) => Array.from({length: n}, () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return 3 + (seed % 31000);
});

// Greedy decode of `steps` tokens on a sequence whose context holds `context` tokens already.
async function decode(sequence, firstToken, steps) {
  let produced = 0;
  const start = now();
  const iterator = sequence.evaluate([firstToken], {temperature: 0});
  for await (const token of iterator) {
    void token;
    if (++produced >= steps) break;
  }
  return {seconds: now() - start, tokens: produced};
}

const results = {threads, build, prompt_length: promptLength, decode_length: decodeLength};

{  // prefill of a promptLength-token prompt, then decode of decodeLength tokens after it
  const context = await model.createContext({contextSize: promptLength + decodeLength + 16, batchSize: promptLength,
                                             threads, sequences: 1});
  const sequence = context.getSequence();
  const prompt = randomTokens(promptLength);
  await sequence.evaluateWithoutGeneratingNewTokens(randomTokens(16));  // warm-up
  sequence.clearHistory?.();
  await sequence.eraseContextTokenRanges([{start: 0, end: sequence.nextTokenIndex}]);
  let start = now();
  await sequence.evaluateWithoutGeneratingNewTokens(prompt);
  results.prefill_tokens_per_second = promptLength / (now() - start);
  const after = await decode(sequence, 5, decodeLength);
  results.decode_after_prompt_tokens_per_second = after.tokens / after.seconds;
  await sequence.eraseContextTokenRanges([{start: 0, end: sequence.nextTokenIndex}]);
  const empty = await decode(sequence, 5, decodeLength);
  results.decode_tokens_per_second = empty.tokens / empty.seconds;
  await context.dispose();
}

results.batched = [];
for (const batch of batches) {  // `batch` sequences decoding together from an empty context
  const context = await model.createContext({contextSize: batch * (decodeLength + 16), batchSize: Math.max(512, batch),
                                             threads, sequences: batch});
  const sequences = Array.from({length: batch}, () => context.getSequence());
  const start = now();
  const runs = await Promise.all(sequences.map((s, i) => decode(s, 5 + i, decodeLength)));
  const seconds = now() - start;
  const tokens = runs.reduce((a, r) => a + r.tokens, 0);
  results.batched.push({batch_size: batch, tokens_per_second: tokens / seconds});
  await context.dispose();
}

console.log(JSON.stringify(results));
await model.dispose();
await llama.dispose();
