/**
 * The timing networks: ONNX graphs with the published architectures of ResNet-18/50,
 * MobileNetV2, SqueezeNet 1.1, EfficientNet-B0, SSD-MobileNetV1 (300), YOLOv5s,
 * YOLOv8n/s (640) and a U-Net (256), written here from the papers' and the reference
 * implementations' layer tables, with deterministic random weights.
 *
 * Why not torchvision/timm/ultralytics: PyPI's torch (2.15.0, a 539 MB wheel) does not
 * import without its several-GB nvidia-* CUDA wheels (`libcudart.so.13`,
 * `libcublasLt` missing), and only PyPI/npm/crates.io/Debian are reachable. The timing
 * model needs only the layer shapes (every Conv's kernel, stride, groups and channels,
 * every activation, pool, add, concat, upsample), so the graphs are written from the
 * layer tables below; the comments give the source of each. Batch norms are folded into
 * the convolutions (as the compiler does), so they are not written.
 *
 * Weights: He-uniform `U(-sqrt(6/fan_in), sqrt(6/fan_in))`, biases `U(-0.1, 0.1)`, from a
 * xorshift generator seeded by the network's name: the same bytes on every machine.
 *
 * @module
 */
import { constant, Graph } from "../../compiler/graph.ts";

/** One timing network: its name in the published table, input size and graph maker. */
export interface TimingNet {
  /** Short name (file and bench row names: `timing_<name>`). */
  name: string;
  /** The model's row in ../shared/notes/metis-published-fps.md. */
  published: string;
  /** Axelera's published PCIe and M.2 FPS (Voyager SDK model zoo). */
  pcieFps: number;
  m2Fps: number;
  /** Input height = width. */
  size: number;
  /** Builds the float graph (input "images" [1,3,size,size]). */
  build: () => Graph;
  /** Half of the set the timing model's constants were fitted on; the rest validate. */
  fit: boolean;
}

type Act = "relu" | "relu6" | "silu" | "sigmoid" | null;

/**
 * A tiny graph builder: convolutions with deterministic random weights, activations,
 * pools, element-wise ops; tracks each tensor's channel count.
 *
 * @example
 * ```ts
 * const n = new NetBuilder("demo", 32);
 * const y = n.conv(n.input, 16, 3, 2, "relu");
 * n.output(n.gap(y));
 * ```
 */
export class NetBuilder {
  readonly g = new Graph();
  readonly input = "images";
  private ch = new Map<string, number>();
  private seq = 0;
  private s: number;

  /** `name` seeds the weights; `size` is the input height and width. */
  constructor(name: string, size: number) {
    let h = 2166136261;
    for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    this.s = h || 1;
    this.g.opset = 17;
    this.g.inputs.push({ name: this.input, shape: [1, 3, size, size] });
    this.ch.set(this.input, 3);
  }

  private rand(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s / 4294967296;
  }

  private id(p: string): string {
    return `${p}_${this.seq++}`;
  }

  private uniform(n: number, a: number): Float32Array {
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = (this.rand() * 2 - 1) * a;
    return d;
  }

  private node(op: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}, ch?: number) {
    const name = this.id(op.toLowerCase());
    const out = name + "_y";
    this.g.nodes.push({ op, name, inputs, outputs: [out], attrs });
    this.ch.set(out, ch ?? this.channels(inputs[0]));
    return out;
  }

  /** Channels of tensor `x`. */
  channels(x: string): number {
    const c = this.ch.get(x);
    if (c === undefined) throw new Error(`unknown tensor ${x}`);
    return c;
  }

  /** Activation `act` on `x` (null: none). */
  act(x: string, act: Act): string {
    switch (act) {
      case null:
        return x;
      case "relu":
        return this.node("Relu", [x]);
      case "relu6": {
        const lo = this.id("c"), hi = this.id("c");
        this.g.consts.set(lo, constant([], new Float32Array([0])));
        this.g.consts.set(hi, constant([], new Float32Array([6])));
        return this.node("Clip", [x, lo, hi]);
      }
      case "sigmoid":
        return this.node("Sigmoid", [x]);
      case "silu":
        return this.node("Mul", [x, this.node("Sigmoid", [x])]);
    }
  }

  /** Conv `k`x`k`, stride `s`, padding `k/2` (or `p`), `groups`, bias, then `act`. */
  conv(x: string, cout: number, k: number, s = 1, act: Act = null, groups = 1, p = Math.floor(k / 2)): string {
    const cin = this.channels(x);
    const fanIn = (cin / groups) * k * k;
    const w = this.id("w"), b = this.id("b");
    this.g.consts.set(w, constant([cout, cin / groups, k, k], this.uniform(cout * fanIn, Math.sqrt(6 / fanIn))));
    this.g.consts.set(b, constant([cout], this.uniform(cout, 0.1)));
    const y = this.node("Conv", [x, w, b], {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [p, p, p, p],
      group: groups,
      dilations: [1, 1],
    }, cout);
    return this.act(y, act);
  }

  /** Depthwise `k`x`k` conv (groups = channels). */
  dw(x: string, k: number, s = 1, act: Act = null): string {
    const c = this.channels(x);
    return this.conv(x, c, k, s, act, c);
  }

  maxPool(x: string, k: number, s: number, p = 0, ceil = 0): string {
    return this.node("MaxPool", [x], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], ceil_mode: ceil });
  }

  gap(x: string): string {
    return this.node("GlobalAveragePool", [x]);
  }

  add(a: string, b: string): string {
    return this.node("Add", [a, b]);
  }

  mul(a: string, b: string): string {
    return this.node("Mul", [a, b]);
  }

  concat(xs: string[]): string {
    return this.node("Concat", xs, { axis: 1 }, xs.reduce((a, x) => a + this.channels(x), 0));
  }

  /** Splits `x` along channels into parts of `sizes`. */
  split(x: string, sizes: number[]): string[] {
    const name = this.id("split");
    const sp = this.id("c");
    this.g.consts.set(sp, constant([sizes.length], new Float64Array(sizes), "int64"));
    const outs = sizes.map((_, i) => `${name}_y${i}`);
    this.g.nodes.push({ op: "Split", name, inputs: [x, sp], outputs: outs, attrs: { axis: 1 } });
    outs.forEach((o, i) => this.ch.set(o, sizes[i]));
    return outs;
  }

  /** Nearest-neighbour upsampling by 2. */
  up2(x: string): string {
    const sc = this.id("c");
    this.g.consts.set(sc, constant([4], new Float32Array([1, 1, 2, 2])));
    return this.node("Resize", [x, "", sc], {
      mode: "nearest",
      coordinate_transformation_mode: "asymmetric",
      nearest_mode: "floor",
    });
  }

  /** Flatten + fully connected layer to `n` outputs. */
  fc(x: string, n: number): string {
    const f = this.node("Flatten", [x], { axis: 1 });
    const k = this.channels(x);
    const w = this.id("w"), b = this.id("b");
    this.g.consts.set(w, constant([n, k], this.uniform(n * k, Math.sqrt(6 / k))));
    this.g.consts.set(b, constant([n], this.uniform(n, 0.1)));
    return this.node("Gemm", [f, w, b], { transB: 1 }, n);
  }

  output(...xs: string[]): Graph {
    this.g.outputs.push(...xs);
    return this.g;
  }
}

// ---- ResNet (He et al. 2015, Table 1; torchvision's v1.5: stride on the 3x3 conv) ----

function resnet(name: string, bottleneck: boolean, blocks: number[]): Graph {
  const n = new NetBuilder(name, 224);
  let x = n.conv(n.input, 64, 7, 2, "relu");
  x = n.maxPool(x, 3, 2, 1);
  const widths = [64, 128, 256, 512];
  blocks.forEach((count, stage) => {
    for (let i = 0; i < count; i++) {
      const s = i === 0 && stage > 0 ? 2 : 1;
      const w = widths[stage];
      const out = bottleneck ? w * 4 : w;
      let y: string;
      if (bottleneck) {
        y = n.conv(x, w, 1, 1, "relu");
        y = n.conv(y, w, 3, s, "relu");
        y = n.conv(y, out, 1, 1);
      } else {
        y = n.conv(x, w, 3, s, "relu");
        y = n.conv(y, w, 3, 1);
      }
      const sc = s !== 1 || n.channels(x) !== out ? n.conv(x, out, 1, s) : x;
      x = n.act(n.add(y, sc), "relu");
    }
  });
  return n.output(n.fc(n.gap(x), 1000));
}

// ---- MobileNetV2 (Sandler et al. 2018, Table 2: t, c, n, s) ----

function mobilenetV2(): Graph {
  const n = new NetBuilder("mobilenet_v2", 224);
  let x = n.conv(n.input, 32, 3, 2, "relu6");
  const table = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [
    6,
    320,
    1,
    1,
  ]];
  for (const [t, c, reps, s0] of table) {
    for (let i = 0; i < reps; i++) {
      const s = i === 0 ? s0 : 1;
      const cin = n.channels(x);
      let y = t === 1 ? x : n.conv(x, cin * t, 1, 1, "relu6");
      y = n.dw(y, 3, s, "relu6");
      y = n.conv(y, c, 1, 1);
      x = s === 1 && cin === c ? n.add(x, y) : y;
    }
  }
  x = n.conv(x, 1280, 1, 1, "relu6");
  return n.output(n.fc(n.gap(x), 1000));
}

// ---- SqueezeNet 1.1 (torchvision's squeezenet1_1: Fire(squeeze, expand1x1, expand3x3)) ----

function squeezenet11(): Graph {
  const n = new NetBuilder("squeezenet1_1", 224);
  const fire = (x: string, sq: number, ex: number) => {
    const s = n.conv(x, sq, 1, 1, "relu");
    return n.concat([n.conv(s, ex, 1, 1, "relu"), n.conv(s, ex, 3, 1, "relu")]);
  };
  let x = n.conv(n.input, 64, 3, 2, "relu", 1, 0);
  x = n.maxPool(x, 3, 2, 0, 1);
  x = fire(fire(x, 16, 64), 16, 64);
  x = n.maxPool(x, 3, 2, 0, 1);
  x = fire(fire(x, 32, 128), 32, 128);
  x = n.maxPool(x, 3, 2, 0, 1);
  x = fire(fire(fire(fire(x, 48, 192), 48, 192), 64, 256), 64, 256);
  x = n.conv(x, 1000, 1, 1, "relu");
  return n.output(n.gap(x));
}

// ---- EfficientNet-B0 (Tan & Le 2019, Table 1: MBConv expand, kernel, stride, channels, layers; SE 0.25) ----

function efficientnetB0(): Graph {
  const n = new NetBuilder("efficientnet_b0", 224);
  let x = n.conv(n.input, 32, 3, 2, "silu");
  const table = [[1, 3, 1, 16, 1], [6, 3, 2, 24, 2], [6, 5, 2, 40, 2], [6, 3, 2, 80, 3], [6, 5, 1, 112, 3], [
    6,
    5,
    2,
    192,
    4,
  ], [6, 3, 1, 320, 1]];
  for (const [e, k, s0, c, reps] of table) {
    for (let i = 0; i < reps; i++) {
      const s = i === 0 ? s0 : 1;
      const cin = n.channels(x);
      let y = e === 1 ? x : n.conv(x, cin * e, 1, 1, "silu");
      y = n.dw(y, k, s, "silu");
      // squeeze-and-excitation: GAP -> 1x1 (cin/4, SiLU) -> 1x1 (SiLU... sigmoid) -> scale
      const se = n.conv(
        n.conv(n.gap(y), Math.max(1, Math.floor(cin / 4)), 1, 1, "silu"),
        n.channels(y),
        1,
        1,
        "sigmoid",
      );
      y = n.mul(y, se);
      y = n.conv(y, c, 1, 1);
      x = s === 1 && cin === c ? n.add(x, y) : y;
    }
  }
  x = n.conv(x, 1280, 1, 1, "silu");
  return n.output(n.fc(n.gap(x), 1000));
}

// ---- SSD-MobileNetV1 300 (Liu et al. 2016 with Howard et al. 2017's MobileNetV1, TF object detection API:
//      feature maps 19x19x512, 10x10x1024 + 4 extra layers, 3/6 anchors, 91 classes, 1x1 box predictors) ----

function ssdMobilenetV1(): Graph {
  const n = new NetBuilder("ssd_mobilenet_v1", 300);
  let x = n.conv(n.input, 32, 3, 2, "relu6");
  const dws: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [
      512,
      1,
    ],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  const feats: string[] = [];
  dws.forEach(([c, s], i) => {
    x = n.conv(n.dw(x, 3, s, "relu6"), c, 1, 1, "relu6");
    if (i === 10 || i === 12) feats.push(x);
  });
  for (const [mid, c] of [[256, 512], [128, 256], [128, 256], [64, 128]]) {
    x = n.conv(n.conv(x, mid, 1, 1, "relu6"), c, 3, 2, "relu6");
    feats.push(x);
  }
  const outs: string[] = [];
  feats.forEach((f, i) => {
    const anchors = i === 0 ? 3 : 6;
    outs.push(n.conv(f, anchors * 4, 1), n.conv(f, anchors * 91, 1));
  });
  return n.output(...outs);
}

// ---- YOLOv5 v6+ (ultralytics yolov5s.yaml: depth 0.33, width 0.50; Conv = conv+BN+SiLU) ----

function yolov5s(): Graph {
  const n = new NetBuilder("yolov5s", 640);
  const C = (x: string, c: number, k: number, s = 1) => n.conv(x, c, k, s, "silu");
  const c3 = (x: string, c2: number, reps: number, shortcut: boolean) => {
    const c = c2 / 2;
    let a = C(x, c, 1);
    const b = C(x, c, 1);
    for (let i = 0; i < reps; i++) {
      const y = C(C(a, c, 1), c, 3);
      a = shortcut ? n.add(a, y) : y;
    }
    return C(n.concat([a, b]), c2, 1);
  };
  const sppf = (x: string, c2: number) => {
    const a = C(x, n.channels(x) / 2, 1);
    const p1 = n.maxPool(a, 5, 1, 2), p2 = n.maxPool(p1, 5, 1, 2), p3 = n.maxPool(p2, 5, 1, 2);
    return C(n.concat([a, p1, p2, p3]), c2, 1);
  };
  let x = n.conv(n.input, 32, 6, 2, "silu", 1, 2);
  x = c3(C(x, 64, 3, 2), 64, 1, true);
  const p3 = c3(C(x, 128, 3, 2), 128, 2, true);
  const p4 = c3(C(p3, 256, 3, 2), 256, 3, true);
  const p5 = sppf(c3(C(p4, 512, 3, 2), 512, 1, true), 512);
  const h10 = C(p5, 256, 1);
  const h13 = c3(n.concat([n.up2(h10), p4]), 256, 1, false);
  const h14 = C(h13, 128, 1);
  const o3 = c3(n.concat([n.up2(h14), p3]), 128, 1, false);
  const o4 = c3(n.concat([C(o3, 128, 3, 2), h14]), 256, 1, false);
  const o5 = c3(n.concat([C(o4, 256, 3, 2), h10]), 512, 1, false);
  return n.output(...[o3, o4, o5].map((o) => n.conv(o, 255, 1)));
}

// ---- YOLOv8 (ultralytics yolov8.yaml; n: width 0.25, s: 0.50, depth 0.33; C2f, SPPF, decoupled Detect head
//      with reg_max 16 and 80 classes; DFL and box decoding on the host) ----

function yolov8(name: string, w: number): Graph {
  const n = new NetBuilder(name, 640);
  const ch = (c: number) => c * w;
  const C = (x: string, c: number, k: number, s = 1) => n.conv(x, c, k, s, "silu");
  const c2f = (x: string, c2: number, reps: number, shortcut: boolean) => {
    const c = c2 / 2;
    const ys = [...n.split(C(x, 2 * c, 1), [c, c])];
    for (let i = 0; i < reps; i++) {
      const last = ys[ys.length - 1];
      const y = C(C(last, c, 3), c, 3);
      ys.push(shortcut ? n.add(last, y) : y);
    }
    return C(n.concat(ys), c2, 1);
  };
  const sppf = (x: string, c2: number) => {
    const a = C(x, n.channels(x) / 2, 1);
    const p1 = n.maxPool(a, 5, 1, 2), p2 = n.maxPool(p1, 5, 1, 2), p3 = n.maxPool(p2, 5, 1, 2);
    return C(n.concat([a, p1, p2, p3]), c2, 1);
  };
  let x = C(C(n.input, ch(64), 3, 2), ch(128), 3, 2);
  x = c2f(x, ch(128), 1, true);
  const p3 = c2f(C(x, ch(256), 3, 2), ch(256), 2, true);
  const p4 = c2f(C(p3, ch(512), 3, 2), ch(512), 2, true);
  const p5 = sppf(c2f(C(p4, ch(1024), 3, 2), ch(1024), 1, true), ch(1024));
  const h12 = c2f(n.concat([n.up2(p5), p4]), ch(512), 1, false);
  const o3 = c2f(n.concat([n.up2(h12), p3]), ch(256), 1, false);
  const o4 = c2f(n.concat([C(o3, ch(256), 3, 2), h12]), ch(512), 1, false);
  const o5 = c2f(n.concat([C(o4, ch(512), 3, 2), p5]), ch(1024), 1, false);
  const c2 = Math.max(16, n.channels(o3) / 4, 64), c3 = Math.max(n.channels(o3), 80);
  const outs: string[] = [];
  for (const o of [o3, o4, o5]) {
    outs.push(n.conv(C(C(o, c2, 3), c2, 3), 64, 1), n.conv(C(C(o, c3, 3), c3, 3), 80, 1));
  }
  return n.output(...outs);
}

// ---- U-Net (Ronneberger et al. 2015; mmsegmentation's UNet-S5-D16 + FCN head at 256x256: base 64 channels,
//      5 stages of two 3x3 convs, max-pool down, nearest x2 upsample + 1x1 conv up, 2 classes) ----

function unet(): Graph {
  const n = new NetBuilder("unet", 256);
  const block = (x: string, c: number) => n.conv(n.conv(x, c, 3, 1, "relu"), c, 3, 1, "relu");
  const skips: string[] = [];
  let x = n.input;
  [64, 128, 256, 512, 1024].forEach((c, i) => {
    if (i > 0) x = n.maxPool(x, 2, 2);
    x = block(x, c);
    skips.push(x);
  });
  for (const [i, c] of [[3, 512], [2, 256], [1, 128], [0, 64]]) {
    const u = n.conv(n.up2(x), c, 1, 1, "relu");
    x = block(n.concat([skips[i], u]), c);
  }
  x = n.conv(x, 64, 3, 1, "relu");
  return n.output(n.conv(x, 2, 1));
}

/**
 * The timing networks, in table order; `fit` marks the half the constants were fitted on.
 *
 * @example
 * ```ts
 * for (const net of TIMING_NETS) console.log(net.name, net.build().nodes.length);
 * ```
 */
export const TIMING_NETS: TimingNet[] = [
  {
    name: "resnet18",
    published: "ResNet-18",
    pcieFps: 3726,
    m2Fps: 3590,
    size: 224,
    fit: true,
    build: () => resnet("resnet18", false, [2, 2, 2, 2]),
  },
  {
    name: "resnet50",
    published: "ResNet-50 v1.5",
    pcieFps: 1877,
    m2Fps: 1768,
    size: 224,
    fit: false,
    build: () => resnet("resnet50", true, [3, 4, 6, 3]),
  },
  {
    name: "mobilenet_v2",
    published: "MobileNetV2",
    pcieFps: 3147,
    m2Fps: 3114,
    size: 224,
    fit: true,
    build: mobilenetV2,
  },
  {
    name: "squeezenet1_1",
    published: "SqueezeNet 1.1",
    pcieFps: 7124,
    m2Fps: 6855,
    size: 224,
    fit: false,
    build: squeezenet11,
  },
  {
    name: "efficientnet_b0",
    published: "EfficientNet-B0",
    pcieFps: 1307,
    m2Fps: 1309,
    size: 224,
    fit: true,
    build: efficientnetB0,
  },
  {
    name: "ssd_mobilenet_v1",
    published: "SSD-MobileNetV1",
    pcieFps: 3075,
    m2Fps: 2903,
    size: 300,
    fit: false,
    build: ssdMobilenetV1,
  },
  { name: "yolov5s", published: "YOLOv5s", pcieFps: 789, m2Fps: 558, size: 640, fit: true, build: yolov5s },
  {
    name: "yolov8n",
    published: "YOLOv8n",
    pcieFps: 714,
    m2Fps: 526,
    size: 640,
    fit: false,
    build: () => yolov8("yolov8n", 0.25),
  },
  {
    name: "yolov8s",
    published: "YOLOv8s",
    pcieFps: 556,
    m2Fps: 390,
    size: 640,
    fit: true,
    build: () => yolov8("yolov8s", 0.5),
  },
  { name: "unet", published: "U-Net FCN", pcieFps: 223, m2Fps: 181, size: 256, fit: false, build: unet },
];
