/**
 * The one Python environment of the tests: onnxruntime (the version of the
 * `onnxruntime-node` dev dependency), onnx and numpy wheels with their dependencies, each
 * pinned, installed by pip (`--target`, `--no-deps`, wheels only) into the cache outside
 * the repository. `tests/compiler_qdq.test.ts` (quantize_static models) and the zoo
 * (`tests/zoo/prepare.py`) run with it.
 *
 * @example
 * ```ts
 * import { pythonPath } from "./tests/helpers/python.ts";
 * execFileSync("python3", ["script.py"], { env: { ...process.env, PYTHONPATH: pythonPath() } });
 * ```
 * @module
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** The pinned Python packages (onnxruntime is onnxruntime-node's version). @example `PY_PINS[0]` */
export const PY_PINS: readonly string[] = [
  "onnxruntime==1.30.0",
  "numpy==2.2.6",
  "onnx==1.18.0",
  "protobuf==7.36.2",
  "flatbuffers==25.12.19",
  "packaging==26.4",
  "typing_extensions==4.16.0",
  "ml_dtypes==0.5.4",
];

/**
 * The directory to put on PYTHONPATH, installing the pinned packages on first use.
 *
 * @example
 * ```ts
 * const py = pythonPath(); // ~/.cache/axr-runtime/py-<hash of the pins>
 * ```
 */
export function pythonPath(): string {
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "axr-runtime");
  const dir = join(cache, `py-${createHash("sha256").update(PY_PINS.join(" ")).digest("hex").slice(0, 16)}`);
  if (existsSync(join(dir, ".done"))) return dir;
  console.error(`[python] installing ${PY_PINS.join(" ")} from PyPI into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync("python3", [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--root-user-action=ignore",
    "--disable-pip-version-check",
    "--no-deps",
    "--only-binary",
    ":all:",
    "--target",
    dir,
    ...PY_PINS,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`pip install of the tests' Python packages failed (${r.status})`);
  writeFileSync(join(dir, ".done"), PY_PINS.join("\n"));
  return dir;
}
