// run.js — runs an ONNX model with onnxruntime-node (CPU) for qpipe's
// ops/onnx tests.
//
//   node run.js MODEL.onnx INPUT.f32 DIMS OUTPUT.f32 [BENCH_ITERS]
//
// INPUT.f32 holds little-endian float32 values of shape DIMS ("16,1,28,28");
// the model's first output is written to OUTPUT.f32 the same way. With
// BENCH_ITERS, the run is repeated that many times after a warm-up and
// one JSON line {"ms_per_run": ...} is printed. Prints {"dims": [...]}.
// Install: npm ci --ignore-scripts (the CPU binding ships in the package;
// the install script only fetches GPU add-ons).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inPath, dimsArg, outPath, iters] = process.argv.slice(2);
  if (!outPath) {
    throw new Error('usage: node run.js MODEL.onnx INPUT.f32 DIMS OUTPUT.f32 [BENCH_ITERS]');
  }
  const dims = dimsArg.split(',').map(Number);
  const buf = fs.readFileSync(inPath);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  let out = await session.run(feeds);
  const y = out[session.outputNames[0]];
  fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  const report = { dims: y.dims };
  if (iters) {
    const n = Number(iters);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      out = await session.run(feeds);
    }
    report.ms_per_run = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  }
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e.message || String(e));
  process.exit(1);
});
