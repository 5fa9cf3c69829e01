import { ResultCode } from "../ffi/native.ts";

/**
 * The typed exceptions of the runtime, one per `axrResult` code, each carrying
 * the code and the native library's own message. Python names: the same class
 * names as `axelera.runtime` (`ConnectionError`, `DeviceInUse`, ...).
 *
 * @module
 */

/**
 * Base of every error of the runtime: `.code` is the `axrResult` code and
 * `.nativeMessage` the library's message (also the end of `.message`).
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.deviceConnect("metis-9:9:0");
 * } catch (e) {
 *   if (e instanceof AxeleraError) console.error(e.code, e.nativeMessage);
 * }
 * ```
 */
export class AxeleraError extends Error {
  /** The `axrResult` code (0 when the error was raised by the TypeScript layer without a native call). */
  readonly code: number;
  /** The native library's message (or the TypeScript layer's, for checks done before any native call). */
  readonly nativeMessage: string;
  /**
   * An error with the `axrResult` code and the native message.
   *
   * @example
   * ```ts
   * throw new AxeleraError("Context.loadModel(): cannot read x", 1, "cannot read x");
   * ```
   */
  constructor(message: string, code = 11, nativeMessage: string = message, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.nativeMessage = nativeMessage;
  }
}

/**
 * `AXR_ERROR_RUNTIME_ERROR` (Python's RuntimeError): a generic failure of the library.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof RuntimeError) console.error(e.message);
 * }
 * ```
 */
export class RuntimeError extends AxeleraError {}

/**
 * `AXR_ERROR_VALUE_ERROR` (Python's ValueError): a value out of range.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof ValueError) console.error(e.message);
 * }
 * ```
 */
export class ValueError extends AxeleraError {}

/**
 * `AXR_ERROR_INVALID_ARGUMENT`: a bad argument (sizes, counts, unknown option,
 * a corrupt model file, an object of another context...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model);
 * const [output] = model.outputs();
 * const outs = [new Int8Array(output.size)];
 * assert.throws(() => inst.run([new Int8Array(1)], outs), InvalidArgument);
 * ```
 */
export class InvalidArgument extends AxeleraError {}

/**
 * `AXR_ERROR_CONNECTION_ERROR`: the device cannot be reached (e.g. it does not exist).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * assert.throws(() => ctx.deviceConnect("metis-9:9:0"), ConnectionError);
 * ```
 */
export class ConnectionError extends AxeleraError {}

/**
 * `AXR_ERROR_DEVICE_IN_USE`: the sub-devices are reserved by another connection or process.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof DeviceInUse) console.error("busy:", e.nativeMessage);
 * }
 * ```
 */
export class DeviceInUse extends AxeleraError {}

/**
 * `AXR_ERROR_INCOMPATIBLE_DEVICE`: the model does not fit the device.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof IncompatibleDevice) console.error(e.message);
 * }
 * ```
 */
export class IncompatibleDevice extends AxeleraError {}

/**
 * `AXR_ERROR_INVALID_CONFIGURATION`: a rejected device configuration (e.g. a clock out of range).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const [dev] = ctx.listDevices();
 * assert.throws(() => ctx.configureDevice(dev, { clockProfile: 5000 }), InvalidConfiguration);
 * ```
 */
export class InvalidConfiguration extends AxeleraError {}

/**
 * `AXR_ERROR_NOT_IMPLEMENTED`: a feature the library does not have.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof NotImplemented) console.error(e.message);
 * }
 * ```
 */
export class NotImplemented extends AxeleraError {}

/**
 * `AXR_ERROR_INTERNAL_ERROR`: a bug or broken invariant inside the library.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof InternalError) console.error(e.message);
 * }
 * ```
 */
export class InternalError extends AxeleraError {}

/**
 * `AXR_ERROR_PENDING_ERROR`: an operation is still pending (a device
 * configuration that has not settled). `configureDevice` and `deviceReady`
 * return false instead of raising it.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof Pending) await new Promise((r) => setTimeout(r, 50));
 * }
 * ```
 */
export class Pending extends AxeleraError {}

/**
 * `AXR_ERROR_UNKNOWN_ERROR` (and any code the runtime does not know).
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * try {
 *   ctx.loadModel("missing/model.json");
 * } catch (e) {
 *   if (e instanceof UnknownError) console.error(e.code, e.message);
 * }
 * ```
 */
export class UnknownError extends AxeleraError {}

/**
 * A call on an object that was released (directly, or through its parent:
 * releasing a Context releases everything it created). An InvalidArgument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * model.release();
 * assert.throws(() => model.inputs(), ReleasedError);
 * ```
 */
export class ReleasedError extends InvalidArgument {}

const byCode: Record<number, typeof AxeleraError> = {
  [ResultCode.runtimeError]: RuntimeError,
  [ResultCode.valueError]: ValueError,
  [ResultCode.invalidArgument]: InvalidArgument,
  [ResultCode.connectionError]: ConnectionError,
  [ResultCode.deviceInUse]: DeviceInUse,
  [ResultCode.incompatibleDevice]: IncompatibleDevice,
  [ResultCode.invalidConfiguration]: InvalidConfiguration,
  [ResultCode.notImplemented]: NotImplemented,
  [ResultCode.internalError]: InternalError,
  [ResultCode.pendingError]: Pending,
  [ResultCode.unknownError]: UnknownError,
};

/**
 * The typed error for a native failure: class by `code`, message
 * `"<where>: <native message>"`.
 *
 * @example
 * ```ts
 * throw errorFromStatus("Context.loadModel()", { code: 3, message: "model.json: bad format" });
 * ```
 */
export function errorFromStatus(where: string, status: { code: number; message: string }): AxeleraError {
  const Cls = byCode[status.code] ?? UnknownError;
  return new Cls(`${where}: ${status.message}`, status.code, status.message);
}

/**
 * An InvalidArgument raised by the TypeScript layer before any native call.
 *
 * @example
 * ```ts
 * throw invalidArgument("ModelInstance.run()", "expected 1 input, got 2");
 * ```
 */
export function invalidArgument(where: string, message: string): InvalidArgument {
  return new InvalidArgument(`${where}: ${message}`, ResultCode.invalidArgument, message);
}
