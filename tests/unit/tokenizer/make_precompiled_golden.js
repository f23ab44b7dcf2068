// Reference answers for tests/data/tokenizers/precompiled (see make_precompiled_fixture.py), from
// Hugging Face tokenizers through its npm build (bench/tokenizer's node_modules):
//   NODE_PATH=bench/tokenizer/node_modules node tests/unit/tokenizer/make_precompiled_golden.js DIR
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require("@anush008/tokenizers");

const dir = process.argv[2];
const tokenizer = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
const texts = [
  "", "hello world", "\uff21\uff22\uff23 \uff44\uff45\uff46", "\uff28\uff45\uff4c\uff4c\uff4f\uff0c\uff57\uff4f\uff52\uff4c\uff44\uff01",
  "\ufb01le \ufb03x \ufb00", "\u337f \u3300\u3301", "e\u0301 q\u0301 A\u030a q", "a\u200bb\ufeffc", "\x01x\x02y",
  "line\r\nnext\r\rlast\n", "\uff76\uff9e\uff76", "\u2460\u2461 \u00bd \u2153", "\u3000\u00a0x\u2003y",
  "\ud55c\uad6d\uc5b4 \u1100\u1161\u11a8", "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 ok", "e\u0301\u0323 A\u030a\u0301",
  "\u00e9\u00c5 caf\u00e9 na\u00efve \u00b2\u00b3", "\u2026 \u00b4 \u00a8 \u00af", "mixed \uff11\uff12\uff13 and 123",
];
(async () => {
  const cases = [];
  for (const text of texts) {
    const encoding = await tokenizer.encode(text, null, { addSpecialTokens: false });
    cases.push({
      text,
      normalized: tokenizer.getNormalizer().normalizeString(text),
      offsets: encoding.getOffsets(),
      tokens: encoding.getTokens().length,
    });
  }
  fs.writeFileSync(path.join(dir, "golden.json"), JSON.stringify({ cases }, null, 1) + "\n");
})();
