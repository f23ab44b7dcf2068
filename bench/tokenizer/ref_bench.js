// Reference side: the same measurements as tokenizer_bench.cpp, with Hugging Face tokenizers
// (Rust, through @anush008/tokenizers) -- load time, then encode throughput with one call per
// document, awaited one after another. Times are CPU seconds (all threads), so a busy machine
// does not skew the comparison; wall seconds are printed too.
const fs = require("fs");
const { Tokenizer } = require("@anush008/tokenizers");

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main() {
  const [tokenizerPath, corpusPath, name, roundsArg] = process.argv.slice(2);
  const rounds = Number(roundsArg || 3);
  const docs = JSON.parse(fs.readFileSync(corpusPath, "utf8"));
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d, "utf8"), 0);

  let c0 = cpuSeconds();
  let w0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(tokenizerPath);
  const loadCpu = cpuSeconds() - c0;
  const loadWall = Number(process.hrtime.bigint() - w0) / 1e9;

  let tokens = 0;
  for (const d of docs) tokens += (await tok.encode(d)).getIds().length;  // warm-up
  let bestCpu = Infinity, bestWall = Infinity;
  for (let r = 0; r < rounds; r++) {
    c0 = cpuSeconds();
    w0 = process.hrtime.bigint();
    let n = 0;
    for (const d of docs) n += (await tok.encode(d)).getIds().length;
    bestCpu = Math.min(bestCpu, cpuSeconds() - c0);
    bestWall = Math.min(bestWall, Number(process.hrtime.bigint() - w0) / 1e9);
    if (n !== tokens) throw new Error("token count changed between rounds");
  }
  console.log(JSON.stringify({
    impl: "hf-tokenizers-0.22.2(npm @anush008/tokenizers 0.6.0)", name,
    load_cpu_s: +loadCpu.toFixed(3), load_wall_s: +loadWall.toFixed(3), mb: +(bytes / 1e6).toFixed(3), tokens,
    encode_cpu_s: +bestCpu.toFixed(4), encode_wall_s: +bestWall.toFixed(4),
    mb_per_cpu_s: +(bytes / 1e6 / bestCpu).toFixed(2),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
