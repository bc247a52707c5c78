// nodeprof.js — ONNX Runtime's per-node times for a model, to compare
// with qpipe's per-step times of the same export (bench's
// BenchmarkTorchvisionLayers; docs/performance.md).
//
//   node scripts/ort/nodeprof.js MODEL.onnx DIMS [RUNS]
//
// Runs MODEL on a deterministic input of shape DIMS ("1,3,224,224") with
// ORT_THREADS intra-op threads (default 2) and graph optimization "all",
// as `qpipe bench infer-ort` does, with ONNX Runtime's profiler on: 20
// warm-up runs, then RUNS (default 200) timed ones. Prints one line per
// node of the optimized graph (its name, operator, output shape and the
// median of its kernel times over the timed runs, in µs), then the sum of
// the medians and the median run. The profiler's JSON trace is written
// to the system's temporary folder and removed afterwards.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const [model, dimsArg, runsArg] = process.argv.slice(2);
  if (!dimsArg) {
    throw new Error('usage: node nodeprof.js MODEL.onnx DIMS [RUNS]');
  }
  const dims = dimsArg.split(',').map(Number);
  const runs = Number(runsArg || 200);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodeprof-'));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(process.env.ORT_THREADS || 2), interOpNumThreads: 1, logSeverityLevel: 3,
    graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: path.join(dir, 'p'),
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const warm = 20;
  for (let i = 0; i < warm + runs; i++) await session.run(feeds);
  session.endProfiling();
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))[0];
  const events = JSON.parse(fs.readFileSync(path.join(dir, file)));
  fs.rmSync(dir, { recursive: true });
  const nodes = new Map();
  const total = [];
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') total.push(e.dur);
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!nodes.has(name)) nodes.set(name, { op: e.args.op_name, shape: JSON.stringify(e.args.output_type_shape), dur: [] });
    nodes.get(name).dur.push(e.dur);
  }
  let sum = 0;
  for (const [name, n] of nodes) {
    const d = median(n.dur.slice(warm));
    sum += d;
    console.log(`${name.padEnd(44)} ${n.op.padEnd(18)} ${d.toFixed(1).padStart(9)} µs  ${n.shape}`);
  }
  console.log(`sum of the medians ${sum.toFixed(1)} µs, median run ${median(total.slice(warm)).toFixed(1)} µs (${runs} runs)`);
}

main().catch((e) => {
  console.error(e.message || String(e));
  process.exit(1);
});
