// Run by scripts/test.d/qemu-arm.sh under aarch64 Bun and Deno (qemu-user) and natively: the
// tensor infos (structs returned by value in the C API: bun:ffi cannot receive them on aarch64,
// so the Bun backend must use libaxr's axr_ext_get_model_input/output there) and an infer()
// output. Prints one JSON line (byte-compared across runs) and the library facts on stderr.
// Usage: <runtime> tests/aarch64/model_run.ts MOD_URL MODEL_JSON
import process from "node:process";

const [modUrl, modelPath] = process.argv.slice(-2);
const axr = await import(modUrl);
using ctx = new axr.Context();
const model = ctx.loadModel(modelPath);
// deno-lint-ignore no-explicit-any
const info = (t: any) => ({
  shape: t.shape,
  padding: t.padding,
  scale: t.scale,
  zeroPoint: t.zeroPoint,
  dtype: t.dtype,
});
using conn = ctx.deviceConnect();
const inst = conn.loadModelInstance(model);
const x = new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i) * 3);
const out = inst.infer(x);
console.log(JSON.stringify({
  inputs: model.inputs().map(info),
  outputs: model.outputs().map(info),
  // deno-lint-ignore no-explicit-any
  out: Object.fromEntries(Object.entries(out).map(([k, v]: [string, any]) => [k, Array.from(v.data)])),
}));
const lib = axr.libraryInfo();
console.error(`${lib.runtime} on ${process.arch}: ${lib.source} ${lib.path} extensions=${lib.extensions}`);
