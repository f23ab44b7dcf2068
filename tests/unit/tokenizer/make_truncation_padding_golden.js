// Reference answers for tokenizer.json "truncation"/"padding" sections, from Hugging Face
// tokenizers through its npm build:
//   NODE_PATH=bench/tokenizer/node_modules node tests/unit/tokenizer/make_truncation_padding_golden.js OUT.json
const fs = require("fs");
const { Tokenizer } = require("@anush008/tokenizers");

const vocab = { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3 };
for (const w of "the quick brown fox jumps over lazy dog a b c d e f g".split(" ")) vocab[w] = Object.keys(vocab).length;
const base = {
  version: "1.0",
  added_tokens: [
    { id: 1, content: "[CLS]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 2, content: "[SEP]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 3, content: "[PAD]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  ],
  normalizer: null,
  pre_tokenizer: { type: "WhitespaceSplit" },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
    pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
    special_tokens: {
      "[CLS]": { id: "[CLS]", ids: [1], tokens: ["[CLS]"] },
      "[SEP]": { id: "[SEP]", ids: [2], tokens: ["[SEP]"] },
    },
  },
  decoder: null,
  model: { type: "WordLevel", vocab, unk_token: "[UNK]" },
};
const trunc = (max_length, extra = {}) => ({ direction: "Right", max_length, strategy: "LongestFirst", stride: 0, ...extra });
const padding = (strategy, extra = {}) => ({ strategy, direction: "Right", pad_to_multiple_of: null, pad_id: 3, pad_type_id: 0, pad_token: "[PAD]", ...extra });
// (A stride >= the length left after special tokens makes the reference abort the process, so
// that case is checked as an error in the C++ test only.)
const configs = [
  { truncation: trunc(5), padding: null },
  { truncation: trunc(5, { direction: "Left" }), padding: null },
  { truncation: trunc(6, { strategy: "OnlyFirst", stride: 1 }), padding: null },
  { truncation: trunc(2), padding: null },
  { truncation: trunc(1), padding: null },
  { truncation: trunc(0), padding: null },
  { truncation: null, padding: padding({ Fixed: 8 }) },
  { truncation: null, padding: padding({ Fixed: 8 }, { direction: "Left" }) },
  { truncation: null, padding: padding("BatchLongest", { pad_to_multiple_of: 4 }) },
  { truncation: trunc(4), padding: padding({ Fixed: 6 }, { pad_to_multiple_of: 4 }) },
  { truncation: trunc(3, { strategy: "OnlySecond" }), padding: null },
];
const texts = ["", "the", "the quick brown", "the quick brown fox jumps over the lazy dog", "a b c d e f g unknown"];
(async () => {
  const out = [];
  for (const config of configs) {
    const json = { ...base, truncation: config.truncation, padding: config.padding };
    const tokenizer = Tokenizer.fromString(JSON.stringify(json));
    const cases = [];
    for (const text of texts) {
      for (const addSpecialTokens of [true, false]) {
        try {
          const e = await tokenizer.encode(text, null, { addSpecialTokens });
          cases.push({ text, add_special_tokens: addSpecialTokens, ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets() });
        } catch (err) {
          cases.push({ text, add_special_tokens: addSpecialTokens, error: String(err) });
        }
      }
    }
    out.push({ tokenizer: json, cases });
  }
  fs.writeFileSync(process.argv[2], JSON.stringify(out) + "\n");
})();
