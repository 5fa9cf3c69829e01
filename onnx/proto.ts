/**
 * A small protobuf wire-format reader and writer with bounds checks: a truncated or
 * hostile buffer gives an {@link OnnxFormatError}, never a hang or an out-of-bounds read.
 *
 * @example
 * ```ts
 * const w = new ProtoWriter(); w.string(1, "hi"); const r = new ProtoReader(w.finish());
 * while (r.more()) { const [field, wire] = r.tag(); if (field === 1) r.string(); else r.skip(wire); }
 * ```
 * @module
 */
import { OnnxFormatError } from "./errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false });
const utf8enc = new TextEncoder();
const SCRATCH_F64 = new Float64Array(1);
const SCRATCH_U8 = new Uint8Array(SCRATCH_F64.buffer);
const SCRATCH_F32 = new Float32Array(SCRATCH_F64.buffer, 0, 1);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("onnx: big-endian hosts are not supported");

/** Reads protobuf fields from a byte range. @example `new ProtoReader(bytes).tag()` */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }
  /** True while bytes remain. @example `while (r.more()) {}` */
  more(): boolean {
    return this.pos < this.end;
  }
  private fail(what: string): never {
    throw new OnnxFormatError(`protobuf: ${what} at byte ${this.pos}`);
  }
  /** A varint as a number (exact up to 2^53; int64 beyond is rounded). @example `r.varint()` */
  varint(): number {
    let result = 0, mul = 1, i = 0;
    for (;;) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      if (i < 7) result += (b & 0x7f) * mul;
      else if (i < 10 && (b & 0x7f)) {
        // high bits of a negative int64: recompute via bigint path
        this.pos -= i + 1;
        return Number(this.varint64());
      }
      if (!(b & 0x80)) return result;
      mul *= 128;
      if (++i >= 10) this.fail("varint too long");
    }
  }
  /** A varint as signed int64 bigint. @example `r.varint64()` */
  varint64(): bigint {
    let lo = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      lo |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return BigInt.asIntN(64, lo);
      shift += 7n;
    }
    this.fail("varint too long");
  }
  /** A signed int64 varint as number (two's complement). @example `r.int64()` */
  int64(): number {
    return this.varint();
  }
  /** int32 (negative values are sign-extended 10-byte varints). @example `r.int32()` */
  int32(): number {
    return this.int64() | 0;
  }
  /** Field number and wire type of the next field. @example `const [f, w] = r.tag()` */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8), wire = t & 7;
    if (field === 0) this.fail("field number 0");
    return [field, wire];
  }
  /** Length of a length-delimited field, bounds-checked. @example `r.len()` */
  len(): number {
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`length ${n} past end of message`);
    return n;
  }
  /** A sub-message reader over the next length-delimited field. @example `r.sub()` */
  sub(): ProtoReader {
    const n = this.len();
    const r = new ProtoReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  /** Bytes of the next length-delimited field (a view, not a copy). @example `r.bytes()` */
  bytes(): Uint8Array {
    const n = this.len();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** A UTF-8 string field. @example `r.string()` */
  string(): string {
    const b = this.bytes();
    if (b.length <= 64) {
      let s = "";
      for (let i = 0; i < b.length; i++) {
        const c = b[i];
        if (c >= 0x80) return utf8.decode(b);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(b);
  }
  /** A fixed32 float. @example `r.float()` */
  float(): number {
    if (this.end - this.pos < 4) this.fail("truncated fixed32");
    const b = this.buf, p = this.pos;
    SCRATCH_U8[0] = b[p];
    SCRATCH_U8[1] = b[p + 1];
    SCRATCH_U8[2] = b[p + 2];
    SCRATCH_U8[3] = b[p + 3];
    this.pos += 4;
    return SCRATCH_F32[0];
  }
  /** A fixed64 double. @example `r.double()` */
  double(): number {
    if (this.end - this.pos < 8) this.fail("truncated fixed64");
    for (let i = 0; i < 8; i++) SCRATCH_U8[i] = this.buf[this.pos + i];
    this.pos += 8;
    return SCRATCH_F64[0];
  }
  /** Skips a field of the given wire type. @example `r.skip(wire)` */
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        if (this.end - this.pos < 8) this.fail("truncated fixed64");
        this.pos += 8;
        return;
      case 2: {
        const n = this.len();
        this.pos += n;
        return;
      }
      case 5:
        if (this.end - this.pos < 4) this.fail("truncated fixed32");
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }
  /** Appends a repeated numeric field (packed or not) to `out`. @example `r.repeated(wire, out, () => r.int64())` */
  repeated<T>(wire: number, out: T[], one: () => T): void {
    if (wire === 2) {
      const n = this.len();
      const stop = this.pos + n, saved = this.end;
      (this as { end: number }).end = stop;
      try {
        while (this.pos < stop) out.push(one());
      } finally {
        (this as { end: number }).end = saved;
      }
    } else out.push(one());
  }
  /** Like {@link repeated} for bigint int64 values. @example `r.repeated64(wire, out)` */
  repeated64(wire: number, out: bigint[], unsigned = false): void {
    this.repeated(wire, out, () => unsigned ? BigInt.asUintN(64, this.varint64()) : this.varint64());
  }
}

/** Builds protobuf bytes. Nested messages via {@link ProtoWriter.message}. @example `new ProtoWriter().string(1, "x").finish()` */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(256);
  private n = 0;
  private ensure(k: number) {
    if (this.n + k <= this.cur.length) return;
    let size = this.cur.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.cur.subarray(0, this.n));
    this.cur = next;
  }
  /** Raw varint from a non-negative number or a bigint (two's complement for negatives). @example `w.rawVarint(300)` */
  rawVarint(v: number | bigint): this {
    if (typeof v === "number" && v >= 0 && v < 2 ** 53 && Number.isInteger(v)) {
      this.ensure(10);
      while (v >= 128) {
        this.cur[this.n++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      this.cur[this.n++] = v;
      return this;
    }
    let b = BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(clampInt64(v)));
    this.ensure(10);
    while (b >= 128n) {
      this.cur[this.n++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.cur[this.n++] = Number(b);
    return this;
  }
  /** Field tag. @example `w.tag(1, 2)` */
  tag(field: number, wire: number): this {
    return this.rawVarint(field * 8 + wire);
  }
  /** A varint field (int32/int64/enum/bool). @example `w.int(1, 7)` */
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).rawVarint(v);
  }
  /** A length-delimited bytes field. @example `w.bytes(9, data)` */
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).rawVarint(b.length);
    this.ensure(b.length);
    this.cur.set(b, this.n);
    this.n += b.length;
    return this;
  }
  /** A string field. @example `w.string(1, "name")` */
  string(field: number, s: string): this {
    return this.bytes(field, utf8enc.encode(s));
  }
  /** A fixed32 float field. @example `w.float(2, 0.5)` */
  float(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.cur.buffer).setFloat32(this.n, v, true);
    this.n += 4;
    return this;
  }
  /** Packed repeated varints. @example `w.packedInts(8, [1, 2])` */
  packedInts(field: number, vs: ArrayLike<number | bigint>): this {
    if (vs.length === 0) return this;
    const inner = new ProtoWriter();
    for (let i = 0; i < vs.length; i++) inner.rawVarint(vs[i]);
    return this.bytes(field, inner.finish());
  }
  /** Packed repeated floats. @example `w.packedFloats(7, [1, 2])` */
  packedFloats(field: number, vs: ArrayLike<number>): this {
    if (vs.length === 0) return this;
    const f = new Float32Array(vs.length);
    for (let i = 0; i < vs.length; i++) f[i] = vs[i];
    return this.bytes(field, new Uint8Array(f.buffer));
  }
  /** A nested message field written by `fill`. @example `w.message(7, (g) => g.string(2, "graph"))` */
  message(field: number, fill: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    fill(inner);
    return this.bytes(field, inner.finish());
  }
  /** The bytes written. @example `w.finish()` */
  finish(): Uint8Array {
    return this.cur.slice(0, this.n);
  }
}

function clampInt64(v: number): bigint {
  if (!Number.isFinite(v)) return v > 0 ? 0x7fffffffffffffffn : -0x8000000000000000n;
  if (v >= 9223372036854775807) return 0x7fffffffffffffffn;
  if (v <= -9223372036854775808) return -0x8000000000000000n;
  return BigInt(Math.trunc(v));
}
