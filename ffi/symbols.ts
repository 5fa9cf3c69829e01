/**
 * The one symbol table of the native library (include/axruntime/axruntime.h), in the
 * format of `Deno.dlopen`. `ffi/deno.ts` hands it to Deno as it is;
 * `ffi/bun.ts` translates it to bun:ffi types.
 *
 * Handles (`axrContext*`, ...) are `"pointer"`; buffers we own and pass in
 * (strings, structs, argument arrays, out-parameters) are `"buffer"` (a
 * typed array); `size_t` is `"usize"`; enums and `int` are `"i32"`/`"u32"`.
 *
 * Symbols marked `optional: true` are extensions of libaxr (`axr_ext_*`): the
 * vendor's libaxruntime.so lacks them, and the loaders bind them only when the
 * library exports them.
 *
 * @module
 */

/** A native type of the table (the subset of Deno's `NativeType` we use). */
export type NativeType = "void" | "i32" | "u32" | "usize" | "f64" | "pointer" | "buffer" | "function";

/** A result type: a native type or a struct returned by value. */
export type ResultType = NativeType | { readonly struct: readonly NativeType[] | readonly string[] };

/** One function of the table (a subset of Deno's `ForeignFunction`). */
export interface SymbolDef {
  /** The exported name when it differs from the key (the nonblocking twin). */
  readonly name?: string;
  /** Parameter types. */
  readonly parameters: readonly NativeType[];
  /** Result type. */
  readonly result: ResultType;
  /** Run on a helper thread and return a Promise (Deno); Bun uses a Worker. */
  readonly nonblocking?: boolean;
  /** An extension of libaxr: bound only when the library exports it. */
  readonly optional?: boolean;
}

/**
 * `axrResult` codes (include/axruntime/axruntime.h): the one list, used by the
 * error classes of `runtime/errors.ts` and by the backends.
 *
 * @example
 * ```ts
 * const code: number = ResultCode.deviceInUse; // e.g. a result of axr_device_connect
 * if (code === ResultCode.deviceInUse) console.log("busy");
 * ```
 */
export const ResultCode = {
  success: 0,
  runtimeError: 1,
  valueError: 2,
  invalidArgument: 3,
  connectionError: 4,
  deviceInUse: 5,
  incompatibleDevice: 6,
  invalidConfiguration: 7,
  notImplemented: 8,
  internalError: 9,
  pendingError: 10,
  unknownError: 11,
} as const;

/**
 * `axrTensorInfo` as a Deno struct type: dims[8], ndims, bits (size_t), type
 * (int), name (char[256]), padding[8][2] (size_t), scale (double), zero_point
 * (int). Deno lays it out with C alignment: `TENSOR_INFO_BYTES` (488) bytes.
 *
 * @example
 * ```ts
 * console.log(TENSOR_INFO_STRUCT.struct.length); // 284 fields
 * ```
 */
export const TENSOR_INFO_STRUCT: { readonly struct: readonly string[] } = {
  struct: [
    ...Array<string>(10).fill("usize"), // dims[8], ndims, bits          @0..80
    "i32", //                                type                        @80
    ...Array<string>(256).fill("u8"), //     name[256]                   @84
    ...Array<string>(16).fill("usize"), //   padding[8][2]               @344
    "f64", //                                scale                       @472
    "i32", //                                zero_point                  @480 (+4 tail padding)
  ],
};

/**
 * Every function of include/axruntime/axruntime.h. Parameter comments give the C types.
 *
 * Adding a C function: export it from `ffi/src` (Zig), declare it in
 * `include/axruntime/axruntime.h`, add one entry here. The typed bindings of both
 * runtimes ({@link BoundSymbols} in `ffi/backend.ts`) derive from this table;
 * the header/exports test holds the table, the header and the library's exports
 * in agreement.
 *
 * @example
 * ```ts
 * console.log(Object.keys(symbols).length > 20); // true
 * ```
 */
export const symbols = {
  /** unsigned axr_api_version(void) */
  axr_api_version: { parameters: [], result: "u32" },
  /** axrContext* axr_create_context(void) */
  axr_create_context: { parameters: [], result: "pointer" },
  /** void axr_destroy(const axrObject* obj) */
  axr_destroy: { parameters: ["pointer" /* const axrObject* obj */], result: "void" },
  /** axrContext* axr_get_context(axrObject* obj) */
  axr_get_context: { parameters: ["pointer" /* axrObject* obj */], result: "pointer" },
  /** axrResult axr_last_error(const axrObject* obj) */
  axr_last_error: { parameters: ["pointer" /* const axrObject* obj */], result: "i32" },
  /** const char* axr_last_error_string(const axrObject* obj) */
  axr_last_error_string: { parameters: ["pointer" /* const axrObject* obj */], result: "pointer" },
  /** const char* axr_error_string(axrResult result) */
  axr_error_string: { parameters: ["i32" /* axrResult result */], result: "pointer" },
  /** const char* axr_board_type_string(axrBoardType board_type) */
  axr_board_type_string: { parameters: ["i32" /* axrBoardType board_type */], result: "pointer" },
  /** void axr_set_logger(axrContext* ctx, axrLogLevel level, axr_logger_fn fn, void* arg) */
  axr_set_logger: {
    parameters: [
      "pointer", /* axrContext* ctx */
      "i32", /* axrLogLevel level */
      "function", /* axr_logger_fn fn */
      "pointer", /* void* arg */
    ],
    result: "void",
  },

  /** size_t axr_list_devices(axrContext* ctx, axrDeviceInfo** devices) */
  axr_list_devices: {
    parameters: ["pointer", /* axrContext* ctx */ "buffer" /* axrDeviceInfo** devices (out) */],
    result: "usize",
  },
  /** axrResult axr_configure_device(axrContext* ctx, axrDeviceInfo* device, axrProperties* props) */
  axr_configure_device: {
    parameters: [
      "pointer", /* axrContext* ctx */
      "buffer", /* axrDeviceInfo* device */
      "pointer", /* axrProperties* props */
    ],
    result: "i32",
  },
  /** axrResult axr_device_ready(axrContext* ctx, axrDeviceInfo* device) */
  axr_device_ready: {
    parameters: ["pointer", /* axrContext* ctx */ "buffer" /* axrDeviceInfo* device */],
    result: "i32",
  },
  /** axrProperties* axr_read_device_configuration(axrContext* ctx, axrDeviceInfo* device) */
  axr_read_device_configuration: {
    parameters: ["pointer", /* axrContext* ctx */ "buffer" /* axrDeviceInfo* device */],
    result: "pointer",
  },
  /** axrConnection* axr_device_connect(axrContext* ctx, axrDeviceInfo* device, size_t num_sub_devices, axrProperties* props) */
  axr_device_connect: {
    parameters: [
      "pointer", /* axrContext* ctx */
      "buffer", /* axrDeviceInfo* device, NULL: first */
      "usize", /* size_t num_sub_devices */
      "pointer", /* axrProperties* props */
    ],
    result: "pointer",
  },

  /** axrModel* axr_load_model(axrContext* ctx, const char* path) */
  axr_load_model: { parameters: ["pointer", /* axrContext* ctx */ "buffer" /* const char* path */], result: "pointer" },
  /** size_t axr_num_model_inputs(axrModel* model) */
  axr_num_model_inputs: { parameters: ["pointer" /* axrModel* model */], result: "usize" },
  /** size_t axr_num_model_outputs(axrModel* model) */
  axr_num_model_outputs: { parameters: ["pointer" /* axrModel* model */], result: "usize" },
  /** axrTensorInfo axr_get_model_input(axrModel* model, size_t n): struct returned by value */
  axr_get_model_input: {
    parameters: ["pointer", /* axrModel* model */ "usize" /* size_t n */],
    result: TENSOR_INFO_STRUCT,
  },
  /** axrTensorInfo axr_get_model_output(axrModel* model, size_t n): struct returned by value */
  axr_get_model_output: {
    parameters: ["pointer", /* axrModel* model */ "usize" /* size_t n */],
    result: TENSOR_INFO_STRUCT,
  },
  /** axrProperties* axr_get_model_properties(axrModel* model) */
  axr_get_model_properties: { parameters: ["pointer" /* axrModel* model */], result: "pointer" },

  /** axrModelInstance* axr_load_model_instance(axrConnection* conn, axrModel* model, axrProperties* props) */
  axr_load_model_instance: {
    parameters: [
      "pointer", /* axrConnection* conn */
      "pointer", /* axrModel* model */
      "pointer", /* axrProperties* props, NULL: defaults */
    ],
    result: "pointer",
  },
  /** axrResult axr_run_model_instance(axrModelInstance* inst, axrArgument* inputs, size_t n_inputs, axrArgument* outputs, size_t n_outputs) */
  axr_run_model_instance: {
    parameters: [
      "pointer", /* axrModelInstance* inst */
      "buffer", /* axrArgument* inputs */
      "usize", /* size_t n_inputs */
      "buffer", /* axrArgument* outputs */
      "usize", /* size_t n_outputs */
    ],
    result: "i32",
  },
  /** The nonblocking twin of axr_run_model_instance (runAsync under Deno). */
  axr_run_model_instance_nonblocking: {
    name: "axr_run_model_instance",
    parameters: [
      "pointer", /* axrModelInstance* inst */
      "buffer", /* axrArgument* inputs */
      "usize", /* size_t n_inputs */
      "buffer", /* axrArgument* outputs */
      "usize", /* size_t n_outputs */
    ],
    result: "i32",
    nonblocking: true,
  },

  /** size_t axr_tensor_size(const axrTensorInfo* info) */
  axr_tensor_size: { parameters: ["buffer" /* const axrTensorInfo* info */], result: "usize" },

  /** axrProperties* axr_create_properties(axrContext* ctx, const char* initial) */
  axr_create_properties: {
    parameters: ["pointer", /* axrContext* ctx */ "buffer" /* const char* initial "k=v;k=v" */],
    result: "pointer",
  },
  /** const char* axr_get_property(axrProperties* props, const char* key): NULL if absent */
  axr_get_property: {
    parameters: ["pointer", /* axrProperties* props */ "buffer" /* const char* key */],
    result: "pointer",
  },
  /** void axr_set_property(axrProperties* props, const char* key, const char* value) */
  axr_set_property: {
    parameters: [
      "pointer", /* axrProperties* props */
      "buffer", /* const char* key */
      "buffer", /* const char* value */
    ],
    result: "void",
  },
  /** void axr_del_property(axrProperties* props, const char* key) */
  axr_del_property: {
    parameters: ["pointer", /* axrProperties* props */ "buffer" /* const char* key */],
    result: "void",
  },
  /** const char* axr_list_properties(axrProperties* props): keys, ';'-separated */
  axr_list_properties: { parameters: ["pointer" /* axrProperties* props */], result: "pointer" },

  // ---- extensions (libaxr only) ----
  /** axrResult axr_ext_get_model_input(axrModel* model, size_t n, axrTensorInfo* out) */
  axr_ext_get_model_input: {
    parameters: ["pointer", /* axrModel* model */ "usize", /* size_t n */ "buffer" /* axrTensorInfo* out */],
    result: "i32",
    optional: true,
  },
  /** axrResult axr_ext_get_model_output(axrModel* model, size_t n, axrTensorInfo* out) */
  axr_ext_get_model_output: {
    parameters: ["pointer", /* axrModel* model */ "usize", /* size_t n */ "buffer" /* axrTensorInfo* out */],
    result: "i32",
    optional: true,
  },
  /** const char* axr_ext_instance_stats(axrModelInstance* inst): JSON, owned by inst */
  axr_ext_instance_stats: { parameters: ["pointer" /* axrModelInstance* inst */], result: "pointer", optional: true },
  /** const char* axr_ext_host_cpu(void): JSON naming the host CPU level, static */
  axr_ext_host_cpu: { parameters: [], result: "pointer", optional: true },
} as const satisfies Record<string, SymbolDef>;

/** The names of the table. */
export type SymbolName = keyof typeof symbols;
