/**
 * Builds a YOLOv8-style detection-head postamble as ONNX with our writer: three scales
 * of box (4 x 16 DFL bins) and class maps, DFL softmax + 1x1 conv, sigmoid, box decode
 * against anchors and strides, concat to [1, 4 + classes, anchors].
 *
 * @example
 * ```sh
 * deno run -A bench/make_yolo_head.ts /tmp/yolo_head.onnx   # writes the file
 * ```
 * ```ts
 * import { makeYoloHead } from "./make_yolo_head.ts";
 * const model = makeYoloHead({ size: 640, classes: 80 });
 * ```
 * @module
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { encodeModel, makeModel, makeNode, type ModelProto, tensor, valueInfo } from "../onnx/mod.ts";

/** Options: input image size (multiple of 32), number of classes, DFL bins. @example `{ size: 640, classes: 80, bins: 16 }` */
export interface YoloHeadOptions {
  size?: number;
  classes?: number;
  bins?: number;
}

/** The head's input names and shapes, per scale. @example `yoloHeadInputs({ size: 640 })` */
export function yoloHeadInputs(o: YoloHeadOptions = {}): { name: string; shape: number[] }[] {
  const size = o.size ?? 640, classes = o.classes ?? 80, bins = o.bins ?? 16;
  return [8, 16, 32].flatMap((s) => [
    { name: `box${s}`, shape: [1, 4 * bins, size / s, size / s] },
    { name: `cls${s}`, shape: [1, classes, size / s, size / s] },
  ]);
}

/** Builds the head. @example `encodeModel(makeYoloHead())` */
export function makeYoloHead(o: YoloHeadOptions = {}): ModelProto {
  const size = o.size ?? 640, classes = o.classes ?? 80, bins = o.bins ?? 16;
  const strides = [8, 16, 32];
  const cells = strides.map((s) => (size / s) ** 2), total = cells.reduce((a, b) => a + b, 0);
  const anchors = new Float32Array(2 * total), strideT = new Float32Array(total);
  let k = 0;
  for (const s of strides) {
    const n = size / s;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        anchors[k] = x + 0.5;
        anchors[total + k] = y + 0.5;
        strideT[k++] = s;
      }
    }
  }
  const nodes = [];
  for (const s of strides) {
    nodes.push(makeNode("Reshape", [`box${s}`, "shape_box"], [`box${s}_flat`]));
    nodes.push(makeNode("Reshape", [`cls${s}`, "shape_cls"], [`cls${s}_flat`]));
  }
  nodes.push(
    makeNode("Concat", strides.map((s) => `box${s}_flat`), ["box"], { axis: 2 }),
    makeNode("Concat", strides.map((s) => `cls${s}_flat`), ["cls"], { axis: 2 }),
    makeNode("Reshape", ["box", "shape_dfl"], ["dfl_in"]),
    makeNode("Transpose", ["dfl_in"], ["dfl_t"], { perm: [0, 2, 1, 3] }),
    makeNode("Softmax", ["dfl_t"], ["dfl_sm"], { axis: 1 }),
    makeNode("Conv", ["dfl_sm", "dfl_w"], ["dfl_conv"]),
    makeNode("Reshape", ["dfl_conv", "shape_dist"], ["dist"]),
    makeNode("Split", ["dist", "split2"], ["lt", "rb"], { axis: 1 }),
    makeNode("Sub", ["anchors", "lt"], ["x1y1"]),
    makeNode("Add", ["anchors", "rb"], ["x2y2"]),
    makeNode("Add", ["x1y1", "x2y2"], ["c_sum"]),
    makeNode("Div", ["c_sum", "two"], ["cxy"]),
    makeNode("Sub", ["x2y2", "x1y1"], ["wh"]),
    makeNode("Concat", ["cxy", "wh"], ["xywh"], { axis: 1 }),
    makeNode("Mul", ["xywh", "strides"], ["boxes"]),
    makeNode("Sigmoid", ["cls"], ["scores"]),
    makeNode("Concat", ["boxes", "scores"], ["output0"], { axis: 1 }),
  );
  return makeModel({
    name: "yolov8_head",
    opset: 17,
    nodes,
    inputs: yoloHeadInputs(o).map((i) => valueInfo(i.name, "float32", i.shape)),
    outputs: [valueInfo("output0", "float32", [1, 4 + classes, total])],
    initializers: {
      shape_box: tensor("int64", [3], [1, 4 * bins, -1]),
      shape_cls: tensor("int64", [3], [1, classes, -1]),
      shape_dfl: tensor("int64", [4], [1, 4, bins, total]),
      shape_dist: tensor("int64", [3], [1, 4, total]),
      dfl_w: tensor("float32", [1, bins, 1, 1], Array.from({ length: bins }, (_, i) => i)),
      split2: tensor("int64", [2], [2, 2]),
      two: tensor("float32", [], [2]),
      anchors: tensor("float32", [1, 2, total], anchors),
      strides: tensor("float32", [1, 1, total], strideT),
    },
  });
}

if ((import.meta as { main?: boolean }).main) {
  const out = process.argv[2] ?? "yolo_head.onnx";
  writeFileSync(out, encodeModel(makeYoloHead()));
  console.log(`wrote ${out}`);
}
