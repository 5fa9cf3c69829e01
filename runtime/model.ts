/**
 * `Model`: a compiled model loaded from disk (Python's `Model`).
 *
 * @module
 */
import { isStatus, native, type RawTensorInfo, type UnsafePointer } from "../ffi/native.ts";
import type { Context } from "./context.ts";
import { AxrObject } from "./object.ts";
import { camelCase } from "./options.ts";
import { type DType, TensorInfo } from "./tensor_info.ts";

/**
 * The properties of a model: the library's snake_case keys and their camelCase twins.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const p: ModelProperties = model.properties;
 * p.inputTensorLayout; // "NHWC"
 * ```
 */
export interface ModelProperties {
  /** Relative path of the preamble ONNX graph (run on the host before the device), if any. */
  preambleGraph?: string;
  /** Relative path of the postamble ONNX graph (run on the host after the device), if any. */
  postambleGraph?: string;
  /** Always "NHWC" in this version. */
  inputTensorLayout: string;
  /** Every property, snake_case ("preamble_graph", ...) and camelCase. */
  [key: string]: string | undefined;
}

function dtypeOf(t: RawTensorInfo): DType {
  if (t.type === 2) return "float32";
  return t.type === 0 ? "uint8" : "int8";
}

/**
 * A model made by `Context.loadModel(path)`; load it onto connections with
 * `Connection.loadModelInstance()`.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * for (const t of model.inputs()) console.log(t.name, t.shape, t.scale, t.zeroPoint);
 * ```
 */
export class Model extends AxrObject {
  /** The context that owns it. */
  readonly context: Context;
  /** The path it was loaded from (model.json). */
  readonly path: string;
  #inputs: TensorInfo[] | undefined;
  #outputs: TensorInfo[] | undefined;
  #props: ModelProperties | undefined;

  /**
   * @internal Made by `Context.loadModel()`.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("model.json");
   * ```
   */
  constructor(context: Context, handle: UnsafePointer, path: string) {
    super("Model", handle, [context]);
    this.context = context;
    this.path = path;
  }

  /** The directory of the model (where model.json lies). */
  get directory(): string {
    const i = this.path.lastIndexOf("/");
    return i < 0 ? "." : i === 0 ? "/" : this.path.slice(0, i);
  }

  /** @internal The live handle (for Connection.loadModelInstance). */
  unsafeHandle(method: string): UnsafePointer {
    return this.handleFor(method);
  }

  #tensors(method: string, output: boolean): TensorInfo[] {
    const r = native().modelTensors(this.handleFor(method), output);
    if (isStatus(r)) this.fail(method, r);
    return r.map((t) =>
      new TensorInfo(t.dims, {
        dtype: dtypeOf(t),
        name: t.name,
        padding: t.padding,
        scale: t.scale,
        zeroPoint: t.zero_point,
      })
    );
  }

  /**
   * Information about the input tensors (shape as the device sees it, padding,
   * quantization).
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const [input] = model.inputs();
   * const buf = new Int8Array(input.size);
   * ```
   */
  inputs(): TensorInfo[] {
    this.handleFor("inputs");
    this.#inputs ??= this.#tensors("inputs", false);
    return [...this.#inputs];
  }

  /**
   * Information about the output tensors.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const outs = model.outputs().map((t) => new Int8Array(t.size));
   * ```
   */
  outputs(): TensorInfo[] {
    this.handleFor("outputs");
    this.#outputs ??= this.#tensors("outputs", true);
    return [...this.#outputs];
  }

  /**
   * The model's properties: `preambleGraph`, `postambleGraph` (absent when the
   * model has none), `inputTensorLayout`, and the raw snake_case keys.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * if (model.properties.postambleGraph) console.log("has a postamble");
   * ```
   */
  get properties(): ModelProperties {
    this.handleFor("properties");
    if (!this.#props) {
      const r = native().modelProperties(this.handleFor("properties"));
      if (isStatus(r)) this.fail("properties", r);
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(r)) {
        if (v === "" && (k === "preamble_graph" || k === "postamble_graph")) continue; // none
        out[k] = v;
        out[camelCase(k)] = v;
      }
      out.inputTensorLayout ??= "NHWC";
      this.#props = Object.freeze(out) as ModelProperties;
    }
    return this.#props;
  }
}
