/**
 * `ModelInstance`: a model loaded onto a connection, ready to run (Python's
 * `ModelInstance`), plus `runAsync()` and `stats()`.
 *
 * @module
 */
import { ArgumentArray, native, type NativeStatus, ResultCode, type UnsafePointer } from "../ffi/native.ts";
import type { Connection } from "./connection.ts";
import type { Context } from "./context.ts";
import { errorFromStatus, InternalError, invalidArgument } from "./errors.ts";
import type { Model } from "./model.ts";
import { AxrObject, enterBusy, leaveBusy } from "./object.ts";
import { camelCase } from "./options.ts";
import { type InferInputs, type InferOutputs, InferPipeline } from "./infer.ts";
import type { TensorInfo } from "./tensor_info.ts";
import { RunGate } from "./run_gate.ts";

/** The argument arrays of one runAsync call. */
interface AsyncArgs {
  inArgs: ArgumentArray;
  outArgs: ArgumentArray;
}

const noop = (): void => {};

/**
 * A buffer in the kernels' WASM memory (`TensorInfo.allocate()`): its bytes
 * are passed to the device without a copy.
 */
export interface WasmBufferLike {
  /** Offset in the WASM memory. */
  readonly byteOffset: number;
  /** Length in bytes. */
  readonly byteLength: number;
  /** A fresh view of its bytes (views are re-created after memory growth). */
  u8(): Uint8Array;
}

/**
 * One tensor argument of `run()`: any typed array / DataView of exactly the
 * tensor's byte size, a WASM buffer, or a dmabuf/memfd file descriptor when the
 * instance was loaded with `inputDmabuf` / `outputDmabuf`.
 */
export type TensorArgument = ArrayBufferView | WasmBufferLike | number;

/**
 * Statistics of the instance's last run (libaxr's `axr_ext_instance_stats`,
 * keys in camelCase).
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const [input] = model.inputs();
 * const ins = [new Int8Array(input.size)];
 * using conn = ctx.deviceConnect();
 * const inst = conn.loadModelInstance(model);
 * const [output] = model.outputs();
 * const outs = [new Int8Array(output.size)];
 * inst.run(ins, outs);
 * console.log(inst.stats()?.lastDeviceUs);
 * ```
 */
export interface InstanceStats {
  /** Runs so far. */
  runs: number;
  /** Host time of the last run inside the library (ns). */
  lastHostNs: number;
  /** CPU time the emulator spent computing the last run (ns). */
  lastComputeNs: number;
  /** Modelled device cycles of the last run. */
  lastDeviceCycles: number;
  /** Modelled device time of the last run (µs). */
  lastDeviceUs: number;
  /** The host CPU level the emulator's kernels run at ("baseline", "avx2", "avx512", "vnni", "vbmi"; aarch64: "baseline", "dotprod"); `AXR_CPU` forces a lower one. */
  cpu?: string;
  /** Host threads a run on one sub-device splits its convolutions and lookup tables over (1: none; see the `hostThreads` option). */
  hostThreads?: number;
  /** The instance's sub-devices (round robin over the connection's); `clockMhz[i]` belongs to `subDevices[i]`. */
  subDevices: number[];
  /** Clock of each core (MHz). */
  clockMhz: number[];
  /** MVM utilisation of each core (percent). */
  mvmUtilisation: number[];
  /** Per-op spans (with `deviceProfiling`). */
  /** Per-op spans (with `deviceProfiling`); `core` is the sub-device that ran the op. */
  ops: { name: string; op: string; cycles: number; startCycle: number; macs: number; core: number }[];
  /** Host spans (with `hostProfiling`). */
  host?: { name: string; startNs: number; durNs: number }[];
  /** Any other key the library reports. */
  [key: string]: unknown;
}

function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[camelCase(k)] = camelKeys(x);
    return out;
  }
  return v;
}

function isWasmBuffer(v: unknown): v is WasmBufferLike {
  return typeof v === "object" && v !== null && typeof (v as WasmBufferLike).u8 === "function";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "object";
}

/**
 * A model loaded onto a connection (`Connection.loadModelInstance()`).
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model, { aipuCores: 1 });
 * const inputs = model.inputs().map((t) => new Int8Array(t.size));
 * const outputs = model.outputs().map((t) => new Int8Array(t.size));
 * inst.run(inputs, outputs);
 * await inst.runAsync(inputs, outputs); // same, without blocking the event loop
 * ```
 */
export class ModelInstance extends AxrObject {
  /** The context that owns it. */
  readonly context: Context;
  /** The connection it runs on. */
  readonly connection: Connection;
  /** The model it runs. */
  readonly model: Model;
  /** Inputs are file descriptors. */
  readonly inputDmabuf: boolean;
  /** Outputs are file descriptors. */
  readonly outputDmabuf: boolean;
  readonly #inputs: TensorInfo[];
  readonly #outputs: TensorInfo[];
  /** Preallocated argument arrays of run(): filled in place, no allocation per call. */
  readonly #inArgs: ArgumentArray;
  readonly #outArgs: ArgumentArray;
  /** The tail of the runAsync queue (one native run at a time per instance). */
  #queue: Promise<unknown> = Promise.resolve();
  /** Argument arrays of runAsync calls, free for reuse. */
  #asyncArgs: AsyncArgs[] = [];
  /** The host pipeline of infer(), made on first use. */
  #infer: InferPipeline | undefined;
  /** infer()s share one set of device buffers: one at a time. */
  #inferQueue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  /** Whether an idle runAsync() runs inline (runtime/run_gate.ts). */
  readonly #gate = new RunGate();

  /**
   * @internal Made by `Connection.loadModelInstance()`.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const inst = conn.loadModelInstance(model);
   * ```
   */
  constructor(
    connection: Connection,
    model: Model,
    handle: UnsafePointer,
    flags: { inputDmabuf: boolean; outputDmabuf: boolean },
  ) {
    super("ModelInstance", handle, [connection, model]);
    this.context = connection.context;
    this.connection = connection;
    this.model = model;
    this.inputDmabuf = flags.inputDmabuf;
    this.outputDmabuf = flags.outputDmabuf;
    this.#inputs = model.inputs();
    this.#outputs = model.outputs();
    this.#inArgs = new ArgumentArray(this.#inputs.length);
    this.#outArgs = new ArgumentArray(this.#outputs.length);
  }

  /** Fills `args` from `list`; InvalidArgument naming the tensor on a bad count, type or size. */
  #fill(
    method: string,
    kind: "input" | "output",
    list: readonly TensorArgument[],
    infos: TensorInfo[],
    args: ArgumentArray,
    dmabuf: boolean,
  ): void {
    const where = `ModelInstance.${method}()`;
    if (!Array.isArray(list)) throw invalidArgument(where, `${kind}s must be an array, got ${describe(list)}`);
    if (list.length !== infos.length) {
      throw invalidArgument(
        where,
        `the model has ${infos.length} ${kind}(s) (${infos.map((t) => `'${t.name}'`).join(", ")}), got ${list.length}`,
      );
    }
    const n = native();
    for (let i = 0; i < infos.length; i++) {
      const v = list[i];
      const info = infos[i];
      const size = info.size;
      if (dmabuf) {
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
          throw invalidArgument(
            where,
            `${kind} ${i} '${info.name}': the instance was loaded with ${kind}Dmabuf, so it must be a file descriptor, got ${
              describe(v)
            }`,
          );
        }
        args.setFd(i, v, size);
        continue;
      }
      let view: ArrayBufferView;
      if (ArrayBuffer.isView(v)) view = v;
      else if (isWasmBuffer(v)) view = v.u8();
      else if (typeof v === "number") {
        throw invalidArgument(
          where,
          `${kind} ${i} '${info.name}' is a number (a file descriptor?) but the instance was not loaded with ${kind}Dmabuf: true`,
        );
      } else throw invalidArgument(where, `${kind} ${i} '${info.name}' must be a typed array, got ${describe(v)}`);
      if (view.byteLength !== size) {
        throw invalidArgument(
          where,
          `${kind} ${i} '${info.name}' needs ${size} bytes (shape ${
            JSON.stringify(info.shape)
          } ${info.dtype}), got ${view.byteLength} bytes`,
        );
      }
      args.setPointer(i, n.unsafeAddress(view), size);
    }
  }

  /**
   * Runs the model on the device: reads `inputs`, writes `outputs` (buffers as
   * the device sees them: quantized and padded; see `TensorInfo.quantizePad`).
   * Counts and sizes are checked first (InvalidArgument naming the tensor, the
   * expected and the given size). Nothing is copied: the device reads and writes
   * the caller's memory.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const [input] = model.inputs();
   * using conn = ctx.deviceConnect();
   * const inst = conn.loadModelInstance(model);
   * const [output] = model.outputs();
   * const x = new Int8Array(input.size), y = new Int8Array(output.size);
   * inst.run([x], [y]);
   * ```
   */
  run(inputs: readonly TensorArgument[], outputs: readonly TensorArgument[]): void {
    const h = this.handleFor("run");
    if (this.#pending > 0) {
      throw invalidArgument(
        "ModelInstance.run()",
        `${this.#pending} runAsync() call(s) of this instance are in flight; await them before run()`,
      );
    }
    this.#fill("run", "input", inputs, this.#inputs, this.#inArgs, this.inputDmabuf);
    this.#fill("run", "output", outputs, this.#outputs, this.#outArgs, this.outputDmabuf);
    const r = this.#runFilled(h);
    if (r !== 0) this.fail("run", r);
  }

  /** The native run with the arguments of `#fill`, timed for the gate of runAsync(). */
  #runFilled(h: UnsafePointer): NativeStatus | 0 {
    const t0 = performance.now();
    const r = native().unsafeRun(h, this.#inArgs.bytes, this.#inArgs.length, this.#outArgs.bytes, this.#outArgs.length);
    this.#gate.ran(performance.now() - t0);
    return r;
  }

  /**
   * Like {@link run}, off the JS thread: the event loop runs on while the
   * device works. Calls on one instance run one after the other, in call
   * order; calls on different instances run in parallel. The buffers must
   * not be changed until the promise settles (they are kept alive until then).
   * Arguments are checked synchronously (a bad size rejects at once).
   * Runs shorter than the hand-off to another thread (at most 50 us, measured)
   * run on the calling thread when the instance is idle, and the promise is
   * settled on return: see runtime/run_gate.ts.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const [input] = model.inputs(), [output] = model.outputs();
   * using conn = ctx.deviceConnect();
   * const instances = [conn.loadModelInstance(model), conn.loadModelInstance(model)];
   * const ins = instances.map(() => [new Int8Array(input.size)]);
   * const outs = instances.map(() => [new Int8Array(output.size)]);
   * await Promise.all(instances.map((inst, i) => inst.runAsync(ins[i], outs[i])));
   * ```
   */
  runAsync(inputs: readonly TensorArgument[], outputs: readonly TensorArgument[]): Promise<void> {
    if (this.#pending === 0 && this.#gate.inline()) return this.#runInline(inputs, outputs);
    let args: AsyncArgs | undefined;
    try {
      this.handleFor("runAsync");
      // argument arrays are reused (one pair per call in flight): no allocation per call
      args = this.#asyncArgs.pop() ??
        { inArgs: new ArgumentArray(this.#inputs.length), outArgs: new ArgumentArray(this.#outputs.length) };
      this.#fill("runAsync", "input", inputs, this.#inputs, args.inArgs, this.inputDmabuf);
      this.#fill("runAsync", "output", outputs, this.#outputs, args.outArgs, this.outputDmabuf);
    } catch (e) {
      if (args) this.#asyncArgs.push(args);
      return Promise.reject(e);
    }
    const a = args;
    const job = async (): Promise<void> => {
      try {
        const h = this.handleFor("runAsync"); // released while queued: fail cleanly
        enterBusy(this.node); // a release now waits for the native call to return
        let r;
        const t0 = performance.now();
        try {
          // the caller's arrays are referenced until the call returns: they stay alive
          r = await native().unsafeRunAsync(h, a.inArgs.bytes, a.inArgs.length, a.outArgs.bytes, a.outArgs.length, [
            inputs,
            outputs,
          ]);
        } finally {
          leaveBusy(this.node);
        }
        this.#gate.handedOff(performance.now() - t0);
        if (r !== 0) throw errorFromStatus("ModelInstance.runAsync()", r);
      } finally {
        this.#pending--;
        this.#asyncArgs.push(a);
      }
    };
    // Idle instance: the native call starts now; else after the calls queued before it.
    const settled = this.#pending++ === 0 ? job() : this.#queue.then(job);
    this.#queue = settled.then(noop, noop);
    return settled;
  }

  /** runAsync() on the calling thread (an idle instance, a short run): settled on return. */
  #runInline(inputs: readonly TensorArgument[], outputs: readonly TensorArgument[]): Promise<void> {
    try {
      const h = this.handleFor("runAsync");
      this.#fill("runAsync", "input", inputs, this.#inputs, this.#inArgs, this.inputDmabuf);
      this.#fill("runAsync", "output", outputs, this.#outputs, this.#outArgs, this.outputDmabuf);
      const r = this.#runFilled(h);
      if (r !== 0) throw errorFromStatus("ModelInstance.runAsync()", r);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The number of runAsync calls not yet settled. */
  get pendingRuns(): number {
    return this.#pending;
  }

  /**
   * Statistics of the last run (modelled device time, per-op cycles with
   * `deviceProfiling`, host spans with `hostProfiling`), or undefined when the
   * library lacks the `axr_ext_instance_stats` extension (the vendor's).
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const inst = conn.loadModelInstance(model);
   * const s = inst.stats();
   * if (s) console.log(`${s.lastDeviceUs} µs on the device`);
   * ```
   */
  stats(): InstanceStats | undefined {
    const text = native().instanceStats(this.handleFor("stats"));
    if (text === undefined) return undefined;
    try {
      return camelKeys(JSON.parse(text)) as InstanceStats;
    } catch (e) {
      // The library's own JSON: a parse failure is a bug there, reported with the text.
      throw new InternalError(
        `ModelInstance.stats(): axr_ext_instance_stats returned invalid JSON (${(e as Error).message}): ${
          text.slice(0, 200)
        }`,
        ResultCode.internalError,
        (e as Error).message,
      );
    }
  }

  #pipeline(): InferPipeline {
    this.handleFor("infer");
    if (!this.#infer) {
      const p = new InferPipeline(this.model);
      this.#infer = p;
      const prev = this.node.onRelease;
      this.node.onRelease = () => {
        prev?.();
        p.free();
      };
    }
    return this.#infer;
  }

  /**
   * The whole host path in one call: float inputs in their original (unpadded,
   * NCHW for images) shapes -> preamble graph -> quantize + pad -> `run` ->
   * depad + dequantize -> postamble graph -> float outputs by name. The device
   * buffers live in the kernels' WebAssembly memory: nothing is copied between
   * the kernels and the device.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const inst = conn.loadModelInstance(model);
   * const out = inst.infer(new Float32Array(3 * 224 * 224));
   * const [name] = Object.keys(out);
   * console.log(name, out[name].shape, out[name].data);
   * ```
   */
  infer(inputs: InferInputs): InferOutputs {
    const p = this.#pipeline();
    if (this.#pending > 0) {
      throw invalidArgument(
        "ModelInstance.infer()",
        `${this.#pending} runAsync() call(s) of this instance are in flight; await them before infer()`,
      );
    }
    return p.infer(inputs, (ins, outs) => this.run(ins, outs));
  }

  /**
   * Like {@link infer}, with the device step off the JS thread (`runAsync`).
   * Calls on one instance run one after the other.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const inst = conn.loadModelInstance(model);
   * const [input] = model.inputs();
   * const pixels = new Float32Array(input.unpaddedLength);
   * const out = await inst.inferAsync({ images: pixels });
   * ```
   */
  inferAsync(inputs: InferInputs): Promise<InferOutputs> {
    const job = this.#inferQueue.then(async () => {
      const p = this.#pipeline();
      p.prepare(inputs);
      const { inputs: ins, outputs: outs } = p.deviceBuffers;
      await this.runAsync(ins, outs);
      return p.finish();
    });
    this.#inferQueue = job.catch(() => undefined);
    return job;
  }
}
