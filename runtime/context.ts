/**
 * `Context`: the root object (Python's `axelera.runtime.Context`).
 *
 * @module
 */
import { isStatus, native, type NativeCallback, ResultCode } from "../ffi/native.ts";
import { Connection } from "./connection.ts";
import { DeviceInfo } from "./device_info.ts";
import { AxeleraError, ConnectionError, errorFromStatus, invalidArgument } from "./errors.ts";
import { Model } from "./model.ts";
import { AxrObject } from "./object.ts";
import { type DeviceOptions, deviceProperties, snakeCase } from "./options.ts";

/** A device given by its info, its index in `listDevices()`, or its name. */
export type DeviceSelector = DeviceInfo | number | string;

/** Log levels (`axrLogLevel`). */
export const LogLevel = {
  trace: 0,
  log: 1,
  debug: 2,
  info: 3,
  fixme: 4,
  warning: 5,
  error: 6,
} as const;

/** A value of {@link LogLevel}. */
export type LogLevel = typeof LogLevel[keyof typeof LogLevel];

/** Receives the library's log messages. */
export type Logger = (level: LogLevel, message: string) => void;

/** The host CPU level of the emulator's kernels (`Context.hostCpu()`). */
export interface HostCpu {
  /** The level in use ("" when `AXR_CPU` was refused). */
  level: string;
  /** The highest level this CPU has. */
  native: string;
  /** Every level this CPU runs, lowest first. */
  levels: string[];
  /** Why `AXR_CPU` was refused, or null. */
  error: string | null;
}

/**
 * The root object: lists and configures devices, connects to them, loads
 * models. Releasing it releases everything it created.
 *
 * @example
 * ```ts
 * import * as axr from "@axelera/runtime";
 * using ctx = new axr.Context();
 * for (const d of ctx.listDevices()) console.log(d.name);
 * ```
 */
export class Context extends AxrObject {
  #logger: NativeCallback | null = null;

  /**
   * Creates a context (opens the native library on first use; throws
   * `LibraryNotFoundError` listing where it looked when there is none).
   *
   * @example
   * ```ts
   * const ctx = new Context();
   * ctx.release();
   * ```
   */
  constructor() {
    const n = native();
    const h = n.createContext();
    if (n.isNull(h)) {
      throw new AxeleraError("new Context(): the library could not create a context (out of memory?)", 9);
    }
    super("Context", h, []);
    this.node.onRelease = () => {
      this.#logger?.close();
      this.#logger = null;
    };
  }

  /** The context itself (every object has a `context`). */
  get context(): Context {
    return this;
  }

  /**
   * Lists the devices of the system (Python `list_devices()`).
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const [first] = ctx.listDevices();
   * console.log(first.name, first.boardType);
   * ```
   */
  listDevices(): DeviceInfo[] {
    const r = native().listDevices(this.handleFor("listDevices"));
    if (isStatus(r)) this.fail("listDevices", r);
    return r.map((d) => new DeviceInfo(d.info, d.bytes));
  }

  /**
   * The host CPU level the emulator's kernels run at (libaxr's `axr_ext_host_cpu`; see
   * docs/emulator.md "CPU levels"), or undefined with a library that lacks it.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * console.log(ctx.hostCpu()?.level); // "vnni"
   * ```
   */
  hostCpu(): HostCpu | undefined {
    const text = native().hostCpu();
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as HostCpu;
    } catch {
      return undefined;
    }
  }

  /** The device for a selector (index and name resolved through `listDevices()`). */
  #device(method: string, device: DeviceSelector): DeviceInfo {
    if (device instanceof DeviceInfo) return device;
    const all = this.listDevices();
    if (typeof device === "number") {
      if (!Number.isInteger(device) || device < 0 || device >= all.length) {
        throw new ConnectionError(
          `Context.${method}(): no device with index ${device} (${all.length} device(s): ${
            all.map((d) => d.name).join(", ") || "none"
          })`,
          4,
          `no device with index ${device}`,
        );
      }
      return all[device];
    }
    if (typeof device === "string") {
      const found = all.find((d) => d.name === device);
      if (found) return found;
      throw new ConnectionError(
        `Context.${method}(): no device named '${device}' (devices: ${all.map((d) => d.name).join(", ") || "none"})`,
        4,
        `no device named '${device}'`,
      );
    }
    throw invalidArgument(
      `Context.${method}()`,
      `device must be a DeviceInfo, an index or a name, got ${typeof device}`,
    );
  }

  /**
   * Changes the configuration of a device; returns true when it is complete,
   * false while it is pending (poll {@link deviceReady}). Unknown option keys
   * throw InvalidArgument before any native call; a rejected value throws
   * InvalidConfiguration.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const [d0, d1] = ctx.listDevices();
   * let r0 = ctx.configureDevice(d0, { clockProfile: 400 });
   * let r1 = ctx.configureDevice(d1, { clockProfile: 400 });
   * while (!r0 || !r1) {
   *   await new Promise((r) => setTimeout(r, 50));
   *   r0 = ctx.deviceReady(d0);
   *   r1 = ctx.deviceReady(d1);
   * }
   * ```
   */
  configureDevice(device: DeviceSelector, options: DeviceOptions = {}): boolean {
    const props = deviceProperties(options);
    const h = this.handleFor("configureDevice");
    const dev = this.#device("configureDevice", device);
    const r = native().configureDevice(h, dev.raw, props);
    if (r === 0) return true;
    if (r.code === ResultCode.pendingError) return false;
    this.fail("configureDevice", r);
  }

  /**
   * True when the last configuration of the device is complete, false while pending.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const [dev] = ctx.listDevices();
   * while (!ctx.deviceReady(dev)) await new Promise((r) => setTimeout(r, 50));
   * ```
   */
  deviceReady(device: DeviceSelector): boolean {
    const h = this.handleFor("deviceReady");
    const dev = this.#device("deviceReady", device);
    const r = native().deviceReady(h, dev.raw);
    if (r === 0) return true;
    if (r.code === ResultCode.pendingError) return false;
    this.fail("deviceReady", r);
  }

  /**
   * All configuration properties of a device (Python `read_device_configuration`),
   * snake_case keys as the library gives them ("clock_profile", ...).
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * ctx.readDeviceConfiguration(0).clock_profile; // "800"
   * ```
   */
  readDeviceConfiguration(device: DeviceSelector): Record<string, string> {
    const h = this.handleFor("readDeviceConfiguration");
    const dev = this.#device("readDeviceConfiguration", device);
    const r = native().readDeviceConfiguration(h, dev.raw);
    if (isStatus(r)) this.fail("readDeviceConfiguration", r);
    return r;
  }

  /**
   * Connects to `numSubDevices` sub-devices of a device (the first device when
   * omitted), reserving them so that no other process can use them until the
   * connection is released. `options` are passed to the library as properties
   * (camelCase keys become snake_case).
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect(0, 1);
   * ```
   */
  deviceConnect(
    device?: DeviceSelector | null,
    numSubDevices = 1,
    options?: Record<string, string | number | boolean>,
  ): Connection {
    const where = "Context.deviceConnect()";
    if (!Number.isInteger(numSubDevices) || numSubDevices < 0) {
      throw invalidArgument(where, `numSubDevices must be an integer >= 0, got ${numSubDevices}`);
    }
    let props: Record<string, string> | undefined;
    if (options) {
      props = {};
      for (const [k, v] of Object.entries(options)) {
        if (v === undefined) continue;
        props[snakeCase(k)] = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
      }
    }
    const h = this.handleFor("deviceConnect");
    const dev = device === undefined || device === null ? null : this.#device("deviceConnect", device);
    const r = native().deviceConnect(h, dev ? dev.raw : null, numSubDevices, props);
    if (isStatus(r)) throw errorFromStatus(where, r);
    return new Connection(this, r, dev, numSubDevices);
  }

  /**
   * Loads a compiled model (the path of its `model.json`). The model can be
   * loaded onto several connections with `Connection.loadModelInstance()`.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("build/resnet18/model.json");
   * console.log(model.inputs()[0].shape);
   * ```
   */
  loadModel(path: string | URL): Model {
    const p = path instanceof URL ? decodeURIComponent(path.pathname) : path;
    if (typeof p !== "string" || p === "") {
      throw invalidArgument("Context.loadModel()", "path must be a non-empty string");
    }
    const r = native().loadModel(this.handleFor("loadModel"), p);
    if (isStatus(r)) this.fail("loadModel", r);
    return new Model(this, r, p);
  }

  /**
   * Routes the library's log messages at `level` and above to `fn` (or stops
   * with `fn` null). Messages may come from any thread; they are delivered on
   * the JS thread.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * ctx.setLogger(LogLevel.info, (level, msg) => console.log(level, msg));
   * ```
   */
  setLogger(level: LogLevel | keyof typeof LogLevel, fn: Logger | null): void {
    const h = this.handleFor("setLogger");
    const lv = typeof level === "string" ? LogLevel[level] : level;
    if (lv === undefined || !Number.isInteger(lv) || lv < 0 || lv > 6) {
      throw invalidArgument("Context.setLogger()", `unknown level ${level}`);
    }
    const old = this.#logger;
    this.#logger = native().setLogger(h, lv, fn ? (l, m) => fn(l as LogLevel, m) : null);
    old?.close();
  }

  /**
   * Releases the context and everything created from it (connections, models,
   * instances). Idempotent.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * ctx.release();
   * ```
   */
  override release(): void {
    super.release();
  }
}
