/**
 * Mutators for the fuzz harness: byte-level (truncation, bit flips, byte runs, huge and
 * negative 32-bit values, varint lengths) and structural (a JSON leaf replaced by a value
 * of the wrong type, a huge, negative or overflowing number; keys deleted; deep nesting),
 * plus the program container re-assembled around a mutated JSON section so that the
 * loader's deeper checks are reached, not only the header's.
 *
 * @module
 */

/** A seeded random source. */
export type Rand = () => number;

const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const EVIL_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0x40000000];
const EVIL_NUMBERS: unknown[] = [
  0,
  -1,
  -2147483649,
  2147483648,
  4294967296,
  1e308,
  -1e308,
  1e-320,
  9007199254740993,
  65536,
  65535,
  0.5,
  -0.5,
  3.000001,
  255,
  256,
  -129,
  128,
];
const EVIL_VALUES: unknown[] = [
  null,
  true,
  false,
  "",
  "x",
  "../../etc/passwd",
  "/etc/passwd",
  [],
  {},
  [[[[]]]],
  "NaN",
  "1e999",
];

/** Byte-level mutation of any file. */
export function mutateBytes(r: Rand, src: Uint8Array): Uint8Array {
  const b = new Uint8Array(src);
  switch (int(r, 6)) {
    case 0: // truncation
      return b.slice(0, int(r, b.length));
    case 1: { // bit flips
      const n = 1 + int(r, 8);
      for (let i = 0; i < n && b.length; i++) b[int(r, b.length)] ^= 1 << int(r, 8);
      return b;
    }
    case 2: { // a run of one byte value
      if (!b.length) return b;
      const at = int(r, b.length), len = 1 + int(r, 16), v = pick(r, [0, 0xff, 0x7f, 0x80]);
      b.fill(v, at, Math.min(b.length, at + len));
      return b;
    }
    case 3: { // a huge / negative / overflowing 32-bit value at an aligned offset
      if (b.length < 4) return b;
      const at = int(r, b.length >> 2) << 2;
      new DataView(b.buffer).setUint32(at, pick(r, EVIL_U32), true);
      return b;
    }
    case 4: { // a long varint (protobuf lengths)
      if (b.length < 6) return b;
      const at = int(r, b.length - 5);
      b.set([0xff, 0xff, 0xff, 0xff, pick(r, [0x0f, 0x7f, 0xff])], at);
      return b;
    }
    default: { // garbage appended or a slice duplicated
      const extra = new Uint8Array(1 + int(r, 64)).map(() => int(r, 256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b);
      out.set(extra, b.length);
      return out;
    }
  }
}

function leaves(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v !== null && typeof v === "object") {
    out.push(path);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      leaves(x, [...path, Array.isArray(v) ? Number(k) : k], out);
    }
  } else out.push(path);
  return out;
}

/** Structural mutation of a JSON document (1..3 edits). */
export function mutateJson(r: Rand, doc: unknown): unknown {
  const root = structuredClone(doc) as Record<string, unknown>;
  const edits = 1 + int(r, 3);
  for (let e = 0; e < edits; e++) {
    const paths = leaves(root).filter((p) => p.length > 0);
    if (!paths.length) break;
    const p = pick(r, paths);
    let parent: Record<string | number, unknown> = root;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = p[p.length - 1];
    const old = parent[key];
    switch (int(r, 6)) {
      case 0:
        parent[key] = pick(r, EVIL_NUMBERS);
        break;
      case 1:
        parent[key] = structuredClone(pick(r, EVIL_VALUES)); // a fresh copy: shared objects could form a cycle
        break;
      case 2:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 3: // an array grown or shrunk
        if (Array.isArray(old)) parent[key] = int(r, 2) ? [...old, ...old] : old.slice(0, int(r, old.length));
        else parent[key] = [old, old];
        break;
      case 4: { // deep nesting
        let v: unknown = 1;
        for (let i = 0; i < 200 + int(r, 2000); i++) v = [v];
        parent[key] = v;
        break;
      }
      default:
        if (typeof old === "number") parent[key] = old + pick(r, [1, -1, 1 << 16, -(1 << 16), 0.5]);
        else parent[key] = pick(r, EVIL_NUMBERS);
    }
  }
  return root;
}

const MAGIC = "AXRPROG\0";

/** Splits a program.axp into its JSON section and data section (undefined if not one). */
export function splitProgram(bytes: Uint8Array): { json: unknown; data: Uint8Array } | undefined {
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(12, true);
  const start = (16 + len + 15) & ~15;
  try {
    return {
      json: JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len))),
      data: bytes.subarray(Math.min(start, bytes.length)),
    };
  } catch {
    return undefined;
  }
}

/** Assembles a program.axp from a JSON section and a data section (docs/model-format.md). */
export function joinProgram(json: unknown, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const start = (16 + text.length + 15) & ~15;
  const out = new Uint8Array(start + data.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, 1, true);
  dv.setUint32(12, text.length, true);
  out.set(text, 16);
  out.set(data, start);
  return out;
}

/** Mutates a file by kind: JSON structurally or as bytes, a program by its JSON section or its bytes. */
export function mutateFile(r: Rand, kind: "json" | "program" | "onnx", bytes: Uint8Array): Uint8Array {
  if (kind === "json" && r() < 0.7) {
    return new TextEncoder().encode(JSON.stringify(mutateJson(r, JSON.parse(new TextDecoder().decode(bytes)))));
  }
  if (kind === "program" && r() < 0.6) {
    const p = splitProgram(bytes);
    if (p) return joinProgram(mutateJson(r, p.json), r() < 0.3 ? mutateBytes(r, p.data) : p.data);
  }
  return mutateBytes(r, bytes);
}
