// llama_peer.mjs - llama.cpp (through the npm package node-llama-cpp, pinned 3.21.1) on a GGUF
// file, measured the way sparsescope-cli eval measures a language model: perplexity over chunks
// of --ctx tokens with the second half of each chunk scored (the same token ids, read from
// `sparsescope-cli tokenize LM --file TEXT --json`, so only the forward passes are compared),
// prompt tokens/s (one chunk evaluated at once) and generation tokens/s (greedy, batch 1, with
// the KV cache). Development-time only: the build and the tests never need Node.
//
//   node bench/peers/llama_peer.mjs --peer DIR --gguf FILE --tokens TOKENS.json [--ctx 128]
//        [--chunks 4] [--threads 1] [--gen 32] [--reps 3] [--no-ppl]
// DIR holds node_modules/node-llama-cpp (npm i -E node-llama-cpp@3.21.1). Prints one JSON object.
import path from 'node:path';
import fs from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
    return acc;
}, []));
for (const need of ['peer', 'gguf', 'tokens'])
    if (!args[need]) { console.error(`llama_peer: --${need} is required`); process.exit(2); }
const ctxLen = Number(args.ctx ?? 128), chunks = Number(args.chunks ?? 4), threads = Number(args.threads ?? 1);
const gen = Number(args.gen ?? 32), reps = Number(args.reps ?? 3);

const nlc = await import(path.join(path.resolve(args.peer), 'node_modules/node-llama-cpp/dist/index.js'));
const llama = await nlc.getLlama({gpu: false, build: 'never', logLevel: 'error'});
const model = await llama.loadModel({modelPath: args.gguf, gpuLayers: 0});
// Token ids: {"ids": [...]} as sparsescope-cli tokenize --json prints it, or a 1-D int32 / int64 .npy.
function readTokens(file) {
    if (!file.endsWith('.npy')) return JSON.parse(fs.readFileSync(file, 'utf8')).ids;
    const b = fs.readFileSync(file);
    const headerLen = b.readUInt16LE(8), header = b.toString('latin1', 10, 10 + headerLen);
    const wide = /'descr': *'<i8'/.test(header);
    if (!wide && !/'descr': *'<i4'/.test(header)) throw new Error(`${file}: token ids must be <i4 or <i8`);
    const out = [];
    for (let at = 10 + headerLen; at < b.length; at += wide ? 8 : 4) out.push(wide ? Number(b.readBigInt64LE(at)) : b.readInt32LE(at));
    return out;
}
const ids = readTokens(args.tokens);
const usable = Math.min(chunks, Math.floor(ids.length / ctxLen));
if (usable < 1) { console.error(`llama_peer: ${args.tokens} has ${ids.length} tokens, fewer than one chunk of ${ctxLen}`); process.exit(1); }
const ctx = await model.createContext({contextSize: ctxLen + gen + 8, threads, batchSize: ctxLen, sequences: 1});
const seq = ctx.getSequence();
const median = v => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

// Perplexity: next-token probabilities at positions ctx/2 .. ctx-2 of each chunk.
let nll = 0, scored = 0;
if (!args['no-ppl']) {
    for (let c = 0; c < usable; c++) {
        const t = ids.slice(c * ctxLen, (c + 1) * ctxLen);
        await seq.clearHistory();
        const first = Math.floor(ctxLen / 2);
        const items = t.map((tok, j) => (j >= first && j <= ctxLen - 2) ? [tok, {generateNext: {probabilities: true}}] : tok);
        const out = await seq.controlledEvaluate(items);
        for (let j = first; j <= ctxLen - 2; j++) {
            const p = out[j]?.next?.probabilities?.get(t[j + 1]) ?? 0;
            nll -= Math.log(Math.max(p, 1e-30));
            ++scored;
        }
    }
}

// Prompt: one chunk at once, fresh each time.
const promptTps = [];
for (let r = 0; r < reps; r++) {
    await seq.clearHistory();
    const t0 = process.hrtime.bigint();
    await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, ctxLen));
    promptTps.push(ctxLen / (Number(process.hrtime.bigint() - t0) / 1e9));
}

// Generation: greedy after an 8-token prompt; the time from the first new token to the last.
const genTps = [];
for (let r = 0; r < reps && gen > 1; r++) {
    await seq.clearHistory();
    let n = 0, t0 = 0n;
    for await (const tok of seq.evaluate(ids.slice(0, 8), {temperature: 0})) {
        if (n === 0) t0 = process.hrtime.bigint();
        if (++n >= gen) break;
    }
    genTps.push((n - 1) / (Number(process.hrtime.bigint() - t0) / 1e9));
}
console.log(JSON.stringify({
    peer: 'llama.cpp via node-llama-cpp ' + (JSON.parse(fs.readFileSync(path.join(path.resolve(args.peer), 'node_modules/node-llama-cpp/package.json'))).version),
    gguf: args.gguf, threads, ctx: ctxLen, chunks: usable, tokens_scored: scored,
    perplexity: scored ? Math.exp(nll / scored) : null, mean_nll: scored ? nll / scored : null,
    prompt_tps: median(promptTps), gen_tps: genTps.length ? median(genTps) : null, reps,
}));
process.exit(0);
