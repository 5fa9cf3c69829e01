/**
 * The option objects of the API and their native property keys (Python's
 * keyword arguments, camelCase here).
 *
 * @module
 */
import { invalidArgument } from "./errors.ts";

/**
 * Options of `Context.configureDevice` (Python: `configure_device(device, **kwargs)`).
 *
 * @example
 * ```ts
 * const o: DeviceOptions = { clockProfile: 400, mvmUtilisationCore0: 50 };
 * ```
 */
export interface DeviceOptions {
  /** Clock of every core in MHz (`clock_profile`, default 800). */
  clockProfile?: number;
  /** Clock of core 0 in MHz (`clock_profile_core_0`). */
  clockProfileCore0?: number;
  /** Clock of core 1 in MHz (`clock_profile_core_1`). */
  clockProfileCore1?: number;
  /** Clock of core 2 in MHz (`clock_profile_core_2`). */
  clockProfileCore2?: number;
  /** Clock of core 3 in MHz (`clock_profile_core_3`). */
  clockProfileCore3?: number;
  /** MVM utilisation of core 0 in percent (`mvm_utilisation_core_0`, default 100). */
  mvmUtilisationCore0?: number;
  /** MVM utilisation of core 1 in percent (`mvm_utilisation_core_1`). */
  mvmUtilisationCore1?: number;
  /** MVM utilisation of core 2 in percent (`mvm_utilisation_core_2`). */
  mvmUtilisationCore2?: number;
  /** MVM utilisation of core 3 in percent (`mvm_utilisation_core_3`). */
  mvmUtilisationCore3?: number;
  /** DDR size in bytes (`ddr_size`). */
  ddrSize?: number | bigint;
}

/**
 * Options of `Connection.loadModelInstance` (Python: `load_model_instance(model, **kwargs)`).
 *
 * @example
 * ```ts
 * const o: InstanceOptions = { aipuCores: 1, doubleBuffer: true };
 * ```
 */
export interface InstanceOptions {
  /** L2 resources to allocate: set to the batch size (`aipu_cores`, default 0). */
  aipuCores?: number;
  /** Sub-devices to use (`num_sub_devices`, default 0). */
  numSubDevices?: number;
  /**
   * Host threads a run on one sub-device splits its convolutions and lookup tables over
   * (`host_threads`, 0..8, libaxr only). Default 0: one per sub-device of the instance, at
   * most the host's CPUs, for programs with a convolution of at least 1M MACs; a value
   * above 0 splits every convolution and table op over that many threads. Outputs and the
   * modelled device time do not change (docs/emulator.md "Host threads").
   */
  hostThreads?: number;
  /** Inputs are dmabuf/memfd file descriptors (`input_dmabuf`). */
  inputDmabuf?: boolean;
  /** Outputs are dmabuf/memfd file descriptors (`output_dmabuf`). */
  outputDmabuf?: boolean;
  /** Per-op device profiling, read with `stats()` (`device_profiling`). */
  deviceProfiling?: boolean;
  /** Host-side spans, read with `stats()` (`host_profiling`). */
  hostProfiling?: boolean;
  /** Double buffering (`double_buffer`). */
  doubleBuffer?: boolean;
  /** The model was compiled with the ELF in DDR (`elf_in_ddr`, default true). */
  elfInDdr?: boolean;
  /**
   * The most memory the instance may take, in bytes (`memory_limit`; the emulator's
   * own key, the vendor's library has none). Counted: the model's declared tensors,
   * the convolutions' scratch and the parsed program (weights, tables). A model
   * that needs more is refused by `loadModelInstance` with `IncompatibleDevice`
   * naming the sizes, before anything large is allocated. Omitted or 0: the
   * `AXR_EMU_MEMORY_LIMIT` environment variable (bytes, or with K, M, G, T, e.g.
   * `8G`), else 2 GiB.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const inst = conn.loadModelInstance(model, { memoryLimit: 8 * 2 ** 30 }); // 8 GiB
   * ```
   */
  memoryLimit?: number | bigint;
}

const deviceKeys: Record<string, string> = {
  clockProfile: "clock_profile",
  clockProfileCore0: "clock_profile_core_0",
  clockProfileCore1: "clock_profile_core_1",
  clockProfileCore2: "clock_profile_core_2",
  clockProfileCore3: "clock_profile_core_3",
  mvmUtilisationCore0: "mvm_utilisation_core_0",
  mvmUtilisationCore1: "mvm_utilisation_core_1",
  mvmUtilisationCore2: "mvm_utilisation_core_2",
  mvmUtilisationCore3: "mvm_utilisation_core_3",
  ddrSize: "ddr_size",
};

const instanceKeys: Record<string, string> = {
  aipuCores: "aipu_cores",
  numSubDevices: "num_sub_devices",
  hostThreads: "host_threads",
  inputDmabuf: "input_dmabuf",
  outputDmabuf: "output_dmabuf",
  deviceProfiling: "device_profiling",
  hostProfiling: "host_profiling",
  doubleBuffer: "double_buffer",
  elfInDdr: "elf_in_ddr",
  memoryLimit: "memory_limit",
};

function toProps(where: string, options: object, keys: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    const key = keys[k] ?? (Object.values(keys).includes(k) ? k : undefined);
    if (key === undefined) {
      throw invalidArgument(where, `unknown option '${k}' (valid: ${Object.keys(keys).join(", ")})`);
    }
    if (typeof v === "boolean") out[key] = v ? "1" : "0";
    else if (typeof v === "number" || typeof v === "bigint") {
      if (typeof v === "number" && !Number.isFinite(v)) {
        throw invalidArgument(where, `option '${k}' must be a finite number, got ${v}`);
      }
      out[key] = String(v);
    } else throw invalidArgument(where, `option '${k}' must be a number or boolean, got ${typeof v}`);
  }
  return out;
}

/**
 * Native properties of {@link DeviceOptions}; InvalidArgument naming an unknown key.
 * The Python snake_case keys are accepted too.
 *
 * @example
 * ```ts
 * deviceProperties({ clockProfile: 400 }); // { clock_profile: "400" }
 * ```
 */
export function deviceProperties(options: DeviceOptions): Record<string, string> {
  return toProps("Context.configureDevice()", options, deviceKeys);
}

/**
 * Native properties of {@link InstanceOptions}; InvalidArgument naming an unknown key.
 *
 * @example
 * ```ts
 * instanceProperties({ aipuCores: 1, doubleBuffer: true }); // { aipu_cores: "1", double_buffer: "1" }
 * ```
 */
export function instanceProperties(options: InstanceOptions): Record<string, string> {
  return toProps("Connection.loadModelInstance()", options, instanceKeys);
}

/**
 * camelCase -> snake_case ("deviceName" -> "device_name").
 *
 * @example
 * ```ts
 * snakeCase("clockProfileCore0"); // "clock_profile_core_0"
 * ```
 */
export function snakeCase(s: string): string {
  return s.replace(/([a-z])([A-Z0-9])/g, "$1_$2").toLowerCase();
}

/**
 * snake_case -> camelCase ("preamble_graph" -> "preambleGraph").
 *
 * @example
 * ```ts
 * camelCase("last_device_us"); // "lastDeviceUs"
 * ```
 */
export function camelCase(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
