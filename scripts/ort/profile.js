// profile.js — ONNX Runtime's own per-node times for a model, to set
// against qpipe's per-layer times of the same export.
//
//   ORT_THREADS=2 node profile.js MODEL.onnx DIMS [RUNS] [--json]
//
// Runs MODEL.onnx on random float32 input of shape DIMS ("1,3,32,32")
// with onnxruntime-node (CPU, ORT_THREADS intra-op threads, default 1,
// graph optimization "all" as run.js and `qpipe bench infer-ort` use),
// RUNS times (default 200) after 20 warm-up runs, with ONNX Runtime's
// profiler on (SessionOptions.enableProfiling). The profiler's JSON trace
// (written to a temporary folder, removed afterwards) has one event per
// node and run; this prints, per node of the optimized graph in execution
// order, its op type, its median and minimum kernel time in µs over the
// runs and its share of the summed medians, then the median whole run
// (the profiler's model_run, which includes ORT's own per-run work).
// --json prints one JSON object per node instead
// ({"node", "op", "median_us", "min_us", "runs"}) and a last one for the run.
// Install: npm ci --ignore-scripts (as run.js).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const ort = require('onnxruntime-node');

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// nodeTimes reads a profiler trace: per node (in first-seen order) its op
// type and the kernel time of each run in µs, and the whole runs' times.
function nodeTimes(trace, warmup) {
  const nodes = new Map();
  const runs = [];
  for (const e of trace) {
    if (e.cat === 'Session' && e.name === 'model_run') {
      runs.push(e.dur);
    } else if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
      const name = e.name.slice(0, -'_kernel_time'.length);
      if (!nodes.has(name)) {
        nodes.set(name, { op: (e.args && e.args.op_name) || '?', dur: [] });
      }
      nodes.get(name).dur.push(e.dur);
    }
  }
  for (const v of nodes.values()) {
    v.dur = v.dur.slice(warmup);
  }
  return { nodes, runs: runs.slice(warmup) };
}

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--json');
  const json = process.argv.includes('--json');
  const [model, dimsArg, runsArg] = args;
  if (!dimsArg) {
    throw new Error('usage: ORT_THREADS=N node profile.js MODEL.onnx DIMS [RUNS] [--json]');
  }
  const dims = dimsArg.split(',').map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`DIMS ${dimsArg}: want positive integers separated by commas, e.g. 1,3,32,32`);
  }
  const runs = Number(runsArg || 200);
  const warmup = 20;
  const threads = Number(process.env.ORT_THREADS || 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qpipe-ort-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3,
      graphOptimizationLevel: 'all', enableProfiling: true,
      profileFilePrefix: path.join(dir, 'ort'),
    });
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) {
      data[i] = Math.random();
    }
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
    for (let i = 0; i < warmup + runs; i++) {
      await session.run(feeds);
    }
    session.endProfiling(); // writes DIR/ort_<date>.json (the binding returns no name)
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) {
      throw new Error(`ONNX Runtime wrote ${files.length} profile files in ${dir}, want 1`);
    }
    const trace = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    report(nodeTimes(trace, warmup), threads, json);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report({ nodes, runs }, threads, json) {
  const rows = [...nodes].map(([name, v]) => ({
    node: name, op: v.op, median_us: median(v.dur), min_us: Math.min(...v.dur), runs: v.dur.length,
  }));
  const total = rows.reduce((a, r) => a + r.median_us, 0);
  const run = runs.length ? median(runs) : 0;
  if (json) {
    rows.forEach((r) => console.log(JSON.stringify(r)));
    console.log(JSON.stringify({ node: 'model_run', threads, median_us: run, nodes_median_sum_us: total, runs: runs.length }));
    return;
  }
  console.log(`${'node'.padEnd(44)} ${'op'.padEnd(22)} ${'median µs'.padStart(10)} ${'min µs'.padStart(8)} ${'share'.padStart(6)}`);
  for (const r of rows) {
    const share = total ? (100 * r.median_us) / total : 0;
    console.log(`${r.node.slice(0, 44).padEnd(44)} ${r.op.slice(0, 22).padEnd(22)} ${r.median_us.toFixed(1).padStart(10)} ${String(r.min_us).padStart(8)} ${share.toFixed(1).padStart(5)}%`);
  }
  console.log(`nodes (sum of medians) ${total.toFixed(1)} µs; model_run median ${run.toFixed(1)} µs over ${runs.length} runs, ${threads} thread(s)`);
}

main().catch((e) => {
  console.error(e.message || String(e));
  process.exit(1);
});
