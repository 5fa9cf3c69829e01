/**
 * File-descriptor-backed tensor buffers for `--input-dmabuf` / `--output-dmabuf`.
 *
 * On hardware these are dmabufs; the emulated device accepts any mappable file
 * descriptor, like a memfd. Neither Deno nor Bun exposes memfd_create, so we
 * create a file in /dev/shm (tmpfs, memory-backed like a memfd; the OS temp
 * directory when /dev/shm is missing), size it, open it, and unlink it at once:
 * the descriptor stays valid and the memory goes away when it is closed. node:fs
 * returns real OS descriptors under both runtimes (checked: /proc/self/fd/N
 * names the file), which is what the native library needs.
 *
 * @module
 */
import { closeSync, existsSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

let serial = 0;

/**
 * A memory-backed file descriptor of a fixed size.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model, { inputDmabuf: true });
 * using buf = new FdBuffer(model.inputs()[0].size);
 * buf.write(new Int8Array(buf.byteLength).fill(3));
 * const out = new Int8Array(model.outputs()[0].size);
 * inst.run([buf.fd], [out]);
 * ```
 */
export class FdBuffer {
  /** The OS file descriptor (pass it to the runtime as a dmabuf). */
  readonly fd: number;
  /** Size in bytes. */
  readonly byteLength: number;
  #closed = false;

  /** Creates and sizes an anonymous tmpfs file of `byteLength` bytes. */
  constructor(byteLength: number) {
    const dir = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
    const path = join(dir, `axr-dmabuf-${process.pid}-${serial++}-${Math.random().toString(36).slice(2)}`);
    this.fd = openSync(path, "w+", 0o600);
    try {
      ftruncateSync(this.fd, byteLength);
    } finally {
      unlinkSync(path);
    }
    this.byteLength = byteLength;
  }

  /** Copies bytes into the buffer from offset 0. */
  write(data: ArrayBufferView): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, Math.min(data.byteLength, this.byteLength));
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, off);
  }

  /** Copies the buffer's bytes out (into `into`, or a new Uint8Array). */
  read(into?: Uint8Array): Uint8Array {
    const dst = into ?? new Uint8Array(this.byteLength);
    let off = 0;
    while (off < dst.length) {
      const n = readSync(this.fd, dst, off, dst.length - off, off);
      if (n <= 0) break;
      off += n;
    }
    return dst;
  }

  /** Closes the descriptor (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.fd);
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
