/**
 * Typed errors of the ONNX reader and graph runner.
 *
 * @example
 * ```ts
 * import { decodeModel } from "./read.ts";
 * const bytes = new Uint8Array([0xff]);
 * try { decodeModel(bytes); } catch (e) { if (e instanceof OnnxFormatError) console.log(e.message); }
 * ```
 */
export class OnnxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A malformed, truncated or hostile protobuf/ONNX file. @example `throw new OnnxFormatError("truncated varint at 12")` */
export class OnnxFormatError extends OnnxError {}

/** Something valid in ONNX that this runner does not implement (op, attribute, dtype, external data). @example `throw new OnnxUnsupportedError("op Loop (node n1) is not supported")` */
export class OnnxUnsupportedError extends OnnxError {}

/** A graph that cannot run: cycle, missing input, shape mismatch at run time. @example `throw new OnnxGraphError("cycle through node n3")` */
export class OnnxGraphError extends OnnxError {}

/** A supported op used with an attribute value (or optional output) that the runner does not implement. @example `throw new OnnxUnsupportedAttributeError("Resize node 'r': mode 'cubic' is not supported")` */
export class OnnxUnsupportedAttributeError extends OnnxUnsupportedError {}
