/**
 * Quickstart: list the devices, load a compiled model, run it once, read the
 * result. The same file runs unchanged under Deno and Bun:
 *
 *     deno run -A examples/quickstart.ts [path/to/model.json]
 *     bun examples/quickstart.ts [path/to/model.json]
 *
 * Without an argument it runs the tiny test model of tests/fixtures/.
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";

const modelPath = process.argv.length > 2 && process.argv[process.argv.length - 1].endsWith(".json")
  ? process.argv[process.argv.length - 1]
  : fileURLToPath(new URL("../tests/fixtures/tiny/model.json", import.meta.url));

// The context owns everything; `using` releases it (and all its children) at the end of the scope.
using ctx = new axr.Context();

for (const [i, d] of ctx.listDevices().entries()) {
  console.log(
    `device ${i}: ${d.name} board=${
      axr.boardTypeName(d.boardType)
    } subdevices=${d.subdeviceCount} fw=${d.firmwareVersion}`,
  );
}

const model = ctx.loadModel(modelPath);
const [inInfo] = model.inputs();
const [outInfo] = model.outputs();
console.log(
  `input  ${inInfo.name}: shape ${JSON.stringify(inInfo.shape)} (unpadded ${
    JSON.stringify(inInfo.unpaddedShape)
  }) scale ${inInfo.scale} zp ${inInfo.zeroPoint}`,
);
console.log(
  `output ${outInfo.name}: shape ${JSON.stringify(outInfo.shape)} (unpadded ${JSON.stringify(outInfo.unpaddedShape)})`,
);

// Connect to one sub-device of the first device and load the model onto it.
using conn = ctx.deviceConnect(0, 1);
const inst = conn.loadModelInstance(model, { aipuCores: 1 });

// A deterministic float input (NHWC, unpadded), quantized and padded as the device wants it.
const image = new Float32Array(inInfo.unpaddedLength).map((_, i) => Math.sin(i * 0.37) * 0.8);
const input = inInfo.quantizePad(image);
const output = new Int8Array(outInfo.size);

inst.run([input], [output]);
const scores = outInfo.depadDequantize(output);

let best = 0;
for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
console.log(`scores: ${Array.from(scores, (v) => v.toFixed(3)).join(" ")}`);
console.log(`best class: ${best}`);

// The same run without blocking the event loop.
const again = new Int8Array(outInfo.size);
await inst.runAsync([input], [again]);
console.log(`runAsync matches run: ${again.every((v, i) => v === output[i])}`);
const stats = inst.stats();
if (stats) console.log(`modelled device time: ${stats.lastDeviceUs} us`);
