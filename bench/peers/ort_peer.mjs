// ort_peer.mjs - ONNX Runtime (the npm package onnxruntime-node, pinned 1.20.1, CPU execution
// provider) on an ONNX classifier, measured the way sparsescope-cli eval measures one: throughput
// at batch N (samples/s, the median over timed runs of one batch) and batch-1 latency (the median
// of timed single-sample runs, after a warm-up). Development-time only: the build and the tests
// never need Node.
//
//   node bench/peers/ort_peer.mjs --peer DIR --onnx FILE [--threads 1] [--batch 256] [--runs 60]
//        [--latency-samples 200]
// DIR holds node_modules/onnxruntime-node (npm i -E --ignore-scripts onnxruntime-node@1.20.1: the
// CPU libraries ship in the package; its install script only fetches GPU ones). Prints one JSON object.
import path from 'node:path';
import fs from 'node:fs';
import {createRequire} from 'node:module';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]);
    return acc;
}, []));
for (const need of ['peer', 'onnx'])
    if (!args[need]) { console.error(`ort_peer: --${need} is required`); process.exit(2); }
const threads = Number(args.threads ?? 1), batch = Number(args.batch ?? 256);
const runs = Number(args.runs ?? 60), latencySamples = Number(args['latency-samples'] ?? 200);

const require = createRequire(path.join(path.resolve(args.peer), 'package.json'));
const ort = require('onnxruntime-node');
const session = await ort.InferenceSession.create(args.onnx, {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
});
const input = session.inputNames[0];
const width = Number(args.width ?? 784);
const median = v => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
// Inputs in [0, 1), as Fashion-MNIST pixels scaled; a fixed generator so every run sees the same.
function tensor(n) {
    const x = new Float32Array(n * width);
    let s = 12345;
    for (let i = 0; i < x.length; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = (s >>> 8) / 16777216; }
    return new ort.Tensor('float32', x, [n, width]);
}

const big = {[input]: tensor(batch)}, one = {[input]: tensor(1)};
for (let i = 0; i < 5; i++) await session.run(big); // warm-up
const sps = [];
for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(big);
    sps.push(batch / (Number(process.hrtime.bigint() - t0) / 1e9));
}
for (let i = 0; i < 20; i++) await session.run(one);
const lat = [];
for (let i = 0; i < latencySamples; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(one);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
console.log(JSON.stringify({
    peer: 'ONNX Runtime via onnxruntime-node ' + JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'))).version,
    onnx: args.onnx, threads, batch, throughput_sps: median(sps), latency_p50_ms: median(lat), runs, latency_samples: latencySamples,
}));
process.exit(0);
