// examples/c: the C and C++17 classification programs, built by `zig build examples`
// with only the public headers and -laxruntime, run on the compiled test models; the
// bytes they get from the device equal what the TypeScript API's run() gives for the
// same input (so their hand-written quantize/pad matches TensorInfo.quantizePad), and
// their best class equals the argmax of depadDequantize().
// Runs unchanged under `deno test -A` and `bun test`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { prng } from "./fixtures/make_fixtures.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const localZig = join(root, ".tools", "bin", "zig");
const zig = existsSync(localZig) ? localZig : "zig";
const models = ["tiny", "uint8"].map((m) => join(root, "tests", "fixtures", m, "model.json"));

let env: EmulatorEnv;
let dir: string;

/** A float image of the input's unpadded shape, with values past saturation, NaN and infinities. */
function image(info: axr.TensorInfo, seed: number): Float32Array {
  const rnd = prng(seed);
  const span = 200 * info.scale;
  const x = new Float32Array(info.unpaddedLength).map(() => (rnd() - 0.5) * span);
  x[1] = NaN;
  x[2] = Infinity;
  x[3] = -Infinity;
  x[4] = 0.5 * info.scale; // a tie
  return x;
}

/** The TypeScript API's answer: every output buffer concatenated, and the best class. */
function viaTypeScript(modelPath: string, img: Float32Array): { bytes: Uint8Array; best: number } {
  using ctx = new axr.Context();
  const model = ctx.loadModel(modelPath);
  using conn = ctx.deviceConnect(0, 1);
  const inst = conn.loadModelInstance(model, { aipuCores: 1 });
  const [inInfo] = model.inputs();
  const outInfos = model.outputs();
  const outs = outInfos.map((o) => o.dtype === "uint8" ? new Uint8Array(o.size) : new Int8Array(o.size));
  const input = inInfo.dtype === "uint8" ? new Uint8Array(inInfo.size) : new Int8Array(inInfo.size);
  inst.run([inInfo.quantizePad(img, input)], outs);
  const scores = outInfos[0].depadDequantize(outs[0]);
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  const bytes = new Uint8Array(outs.reduce((n, o) => n + o.length, 0));
  let off = 0;
  for (const o of outs) bytes.set(new Uint8Array(o.buffer, o.byteOffset, o.length), (off += o.length) - o.length);
  return { bytes, best };
}

describe("examples/c: C and C++17 programs against libaxruntime", () => {
  let built = false;
  before(() => {
    env = useEmulatorEnv();
    dir = mkdtempSync(join(tmpdir(), "axr-c-examples-"));
  });
  after(() => {
    env.restore();
    rmSync(dir, { recursive: true, force: true });
  });

  // A test, not a hook: bun gives hooks 5 s, and a cold build takes minutes.
  test("zig build examples (headers and -laxruntime only)", { timeout: 900_000 }, () => {
    // A prefix of its own: the test never rewrites zig-out/ under other tests' feet.
    const r = spawnSync(zig, ["build", "examples", "-Doptimize=ReleaseSafe", "--prefix", join(dir, "prefix")], {
      cwd: root,
      encoding: "utf8",
      timeout: 900_000,
    });
    assert.equal(r.status, 0, `zig build examples failed:\n${r.stderr}`);
    built = true;
  });

  for (const exe of ["axr-classify-c", "axr-classify-cpp"]) {
    for (const [k, modelPath] of models.entries()) {
      const name = modelPath.split("/").at(-2);
      test(`${exe} on ${name}: output bytes and best class equal run() of the TypeScript API`, () => {
        assert.ok(built, "the examples were not built");
        using ctx = new axr.Context();
        const img = image(ctx.loadModel(modelPath).inputs()[0], 17 + k);
        const imgPath = join(dir, `${exe}-${name}.f32`);
        const outPath = join(dir, `${exe}-${name}.bin`);
        writeFileSync(imgPath, new Uint8Array(img.buffer));
        const r = spawnSync(join(dir, "prefix", "bin", exe), [modelPath, imgPath, outPath], {
          env: env.childEnv(),
          encoding: "utf8",
          timeout: 60_000,
        });
        assert.equal(r.status, 0, `${exe} failed: ${r.stderr}`);
        const want = viaTypeScript(modelPath, img);
        const got = new Uint8Array(readFileSync(outPath));
        assert.equal(got.length, want.bytes.length);
        assert.deepEqual(got, want.bytes);
        assert.match(r.stdout, new RegExp(`^best class: ${want.best}$`, "m"));
      });
    }
  }

  test("a model that cannot be loaded: exit 1 and the library's message on stderr", () => {
    assert.ok(built, "the examples were not built");
    for (const exe of ["axr-classify-c", "axr-classify-cpp"]) {
      const r = spawnSync(join(dir, "prefix", "bin", exe), [join(dir, "missing", "model.json")], {
        env: env.childEnv(),
        encoding: "utf8",
      });
      assert.equal(r.status, 1, exe);
      assert.match(r.stderr, /axr_load_model: model\.json: cannot open/, exe);
    }
  });
});
