/**
 * `DeviceInfo`: one device as `Context.listDevices()` reports it.
 *
 * @module
 */
import type { RawDeviceInfo } from "../ffi/native.ts";
import type { BoardType } from "./board_type.ts";

/**
 * A device of the system (Python's `DeviceInfo`, camelCase fields). Pass it to
 * `configureDevice`, `deviceReady`, `readDeviceConfiguration` or `deviceConnect`.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * for (const d of ctx.listDevices()) console.log(d.name, d.subdeviceCount, d.boardType);
 * ```
 */
export class DeviceInfo {
  /** The name of the device, e.g. "metis-0:1:0". */
  readonly name: string;
  /** The number of sub-devices (AIPU cores), 4 for Metis. */
  readonly subdeviceCount: number;
  /** The memory of the device in bytes (0 on the vendor's library, which does not fill it). */
  readonly maxMemory: number;
  /** The number of sub-devices in use. */
  readonly inUse: number;
  /** Who uses it: "user:pid,user:pid". */
  readonly inUseBy: string;
  /** The board type. */
  readonly boardType: BoardType;
  /** Firmware version, e.g. "v1.4.0". */
  readonly firmwareVersion: string;
  /** Board revision. */
  readonly boardRevision: number;
  /** Version of the firmware in flash. */
  readonly flashedFirmwareVersion: string;
  /** Board controller firmware version. */
  readonly boardControllerFirmwareVersion: string;
  /** Board controller board type. */
  readonly boardControllerBoardType: string;
  /** @internal The `axrDeviceInfo` bytes handed back to the library. */
  readonly raw: Uint8Array;

  /**
   * @internal Built by `Context.listDevices()`.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const d = ctx.listDevices()[0];
   * ```
   */
  constructor(info: RawDeviceInfo, raw: Uint8Array) {
    this.name = info.name;
    this.subdeviceCount = info.subdevice_count;
    this.maxMemory = info.max_memory;
    this.inUse = info.in_use;
    this.inUseBy = info.in_use_by;
    this.boardType = info.board_type as BoardType;
    this.firmwareVersion = info.firmware_version;
    this.boardRevision = info.board_revision;
    this.flashedFirmwareVersion = info.flashed_firmware_version;
    this.boardControllerFirmwareVersion = info.board_controller_firmware_version;
    this.boardControllerBoardType = info.board_controller_board_type;
    this.raw = raw;
    Object.freeze(this);
  }

  /** The Python snake_case view of the same fields. */
  toJSON(): Record<string, string | number> {
    return {
      name: this.name,
      subdevice_count: this.subdeviceCount,
      max_memory: this.maxMemory,
      in_use: this.inUse,
      in_use_by: this.inUseBy,
      board_type: this.boardType,
      firmware_version: this.firmwareVersion,
      board_revision: this.boardRevision,
      flashed_firmware_version: this.flashedFirmwareVersion,
      board_controller_firmware_version: this.boardControllerFirmwareVersion,
      board_controller_board_type: this.boardControllerBoardType,
    };
  }
}
