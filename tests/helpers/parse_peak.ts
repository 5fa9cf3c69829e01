// Child of tests/serve_hostile.test.ts: parses the inference request in the file argv[2]
// (JSON tensor data, shape argv[3]) and prints {"body": bytes, "peak": bytes} where peak is
// how far the resident set's high-water mark (VmHWM) rose during the parse. argv[4] =
// "json-parse" measures JSON.parse plus a number[] instead (the former way), for figures.
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseInferRequest } from "../../serve/protocol.ts";

const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
const [file, shapeText, mode] = process.argv.slice(2);
const shape = JSON.parse(shapeText) as number[];
const body = new Uint8Array(readFileSync(file));
const sig = { inputs: [{ name: "input", shape, datatype: "FP32" as const }], outputs: [] };
const before = hwm();
let n: number;
if (mode === "json-parse") {
  const req = JSON.parse(new TextDecoder().decode(body));
  const flat: number[] = [];
  const walk = (v: unknown) => Array.isArray(v) ? v.forEach(walk) : flat.push(v as number);
  walk(req.inputs[0].data);
  n = Float32Array.from(flat).length;
} else {
  n = (parseInferRequest(body, undefined, sig).inputs.input.data as Float32Array).length;
}
console.log(JSON.stringify({ body: body.length, values: n, peak: hwm() - before }));
