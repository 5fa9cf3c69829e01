/**
 * `Connection`: reserved sub-devices of one device (Python's `Connection`).
 *
 * @module
 */
import { isStatus, native, type UnsafePointer } from "../ffi/native.ts";
import type { Context } from "./context.ts";
import type { DeviceInfo } from "./device_info.ts";
import { invalidArgument } from "./errors.ts";
import type { Model } from "./model.ts";
import { ModelInstance } from "./model_instance.ts";
import { AxrObject } from "./object.ts";
import { type InstanceOptions, instanceProperties } from "./options.ts";

/**
 * A connection to one or more sub-devices, made by `Context.deviceConnect()`.
 * The sub-devices stay reserved (no other process can use them) until it is
 * released.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * using conn = ctx.deviceConnect(0, 1);
 * const inst = conn.loadModelInstance(model, { aipuCores: 1 });
 * ```
 */
export class Connection extends AxrObject {
  /** The context that owns it. */
  readonly context: Context;
  /** The device it is connected to (null: the library's first device). */
  readonly device: DeviceInfo | null;
  /** The number of sub-devices asked for. */
  readonly numSubDevices: number;

  /**
   * @internal Made by `Context.deviceConnect()`.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const conn = ctx.deviceConnect();
   * ```
   */
  constructor(context: Context, handle: UnsafePointer, device: DeviceInfo | null, numSubDevices: number) {
    super("Connection", handle, [context]);
    this.context = context;
    this.device = device;
    this.numSubDevices = numSubDevices;
  }

  /**
   * Loads a model onto the connected sub-devices (Python `load_model_instance(model, **kwargs)`).
   * Unknown option keys throw InvalidArgument before any native call.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const inst = conn.loadModelInstance(model, { aipuCores: 1, doubleBuffer: true });
   * ```
   */
  loadModelInstance(model: Model, options: InstanceOptions = {}): ModelInstance {
    const where = "Connection.loadModelInstance()";
    const props = instanceProperties(options);
    const h = this.handleFor("loadModelInstance");
    if (!model || typeof model !== "object" || !("node" in model) || model.node.kind !== "Model") {
      throw invalidArgument(where, "model must be a Model from Context.loadModel()");
    }
    if (model.context !== this.context) throw invalidArgument(where, "the model belongs to another Context");
    const mh = model.unsafeHandle("loadModelInstance");
    const r = native().loadModelInstance(h, mh, Object.keys(props).length ? props : undefined);
    if (isStatus(r)) this.fail("loadModelInstance", r);
    return new ModelInstance(this, model, r, {
      inputDmabuf: options.inputDmabuf ?? false,
      outputDmabuf: options.outputDmabuf ?? false,
    });
  }
}
