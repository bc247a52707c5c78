// run.js — runs an ONNX model with onnxruntime-node (CPU) for qpipe's
// ops/onnx tests.
//
//   node run.js MODEL.onnx INPUT.f32 DIMS OUTPUT.f32 [BENCH_ITERS [OPTIMIZED.onnx]]
//
// INPUT.f32 holds little-endian float32 values of shape DIMS ("16,1,28,28");
// the model's first output is written to OUTPUT.f32 the same way. The
// session runs on one thread (ORT_THREADS=N in the environment: N intra-op
// threads, as `qpipe bench infer-ort` sets) with graph optimization level "all" (the
// level at which ONNX Runtime fuses QDQ groups into QLinearConv, QGemm,
// QLinearMatMul, ...). With BENCH_ITERS > 0, the run is repeated that many
// times after a warm-up, each timed; ms_per_run is their median and
// ms_mean their mean. With OPTIMIZED.onnx, the graph ONNX Runtime actually
// runs is written there (optimizedModelFilePath). Prints one JSON line
// {"dims": [...], "ms_per_run": ..., "ms_mean": ...}.
// Install: npm ci --ignore-scripts (the CPU binding ships in the package;
// the install script only fetches GPU add-ons).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inPath, dimsArg, outPath, iters, optimized] = process.argv.slice(2);
  if (!outPath) {
    throw new Error('usage: node run.js MODEL.onnx INPUT.f32 DIMS OUTPUT.f32 [BENCH_ITERS]');
  }
  const dims = dimsArg.split(',').map(Number);
  const buf = fs.readFileSync(inPath);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const threads = Number(process.env.ORT_THREADS || 1);
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3, graphOptimizationLevel: 'all' };
  if (optimized) {
    opts.optimizedModelFilePath = optimized;
  }
  const session = await ort.InferenceSession.create(model, opts);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  let out = await session.run(feeds);
  const y = out[session.outputNames[0]];
  fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  const report = { dims: y.dims };
  const n = Number(iters || 0);
  if (n > 0) {
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      out = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    report.ms_per_run = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    report.ms_mean = times.reduce((a, b) => a + b, 0) / n;
  }
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e.message || String(e));
  process.exit(1);
});
