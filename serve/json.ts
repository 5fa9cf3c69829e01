/**
 * A JSON reader over the request bytes for the inference protocol, with two things
 * `JSON.parse` lacks: a nesting limit (a request nested 100,000 deep is a 400, not a
 * stack overflow), and tensor `data` left in the body as a {@link JsonSpan} (checked for
 * syntax, not built) that {@link fillNumbers} later writes straight into the tensor's
 * typed array. A request's memory is then its body plus its tensors, never a JS array
 * of every value.
 *
 * @module
 */

/** Nesting deeper than this (objects and arrays together) is refused. */
export const MAX_JSON_DEPTH = 64;

/** A malformed document: `message` names the byte offset. */
export class JsonError extends Error {
  /**
   * @example
   * ```ts
   * throw new JsonError("unexpected ']' at byte 12");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "JsonError";
  }
}

/** A value left unparsed in the document: bytes `[start, end)` of `doc`. */
export class JsonSpan {
  /**
   * @example
   * ```ts
   * const doc = new TextEncoder().encode('{"data": [1, 2]}');
   * new JsonSpan(doc, 9, 15, 1); // "[1, 2]", one level deep
   * ```
   */
  constructor(readonly doc: Uint8Array, readonly start: number, readonly end: number, readonly depth: number) {}
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lossy = new TextDecoder();
const Q = 0x22, BS = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const LBRACK = 0x5b, RBRACK = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d, MINUS = 0x2d;

const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float32 that the decimal `m` x 10^scale rounds to (as `Math.fround(Number(text))`
 * would give it), when certain; undefined when the approximation lies too close to a
 * point halfway between two float32s (the caller then parses the text). `m`, summed
 * digit by digit in doubles, and the power of ten carry a relative error below
 * (digits + 4) x 2^-52 together; the float32 is certain when both halfway points around
 * it are farther than that.
 */
function float32Of(m: number, scale: number, digits: number): number | undefined {
  const d = scale < 0 ? m / 10 ** -scale : m * 10 ** scale;
  if (!(d >= 1.2e-38 && d <= 3.4e38)) return undefined; // normal float32s only
  const f = Math.fround(d);
  f32[0] = f;
  const bits = u32[0];
  u32[0] = bits + 1;
  const up = f32[0];
  u32[0] = bits - 1;
  const down = f32[0];
  const tol = (digits + 4) * 2 ** -52 * d * 4;
  return d - (f + down) / 2 > tol && (f + up) / 2 - d > tol ? f : undefined;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A cursor over one document. */
class Reader {
  pos: number;
  constructor(readonly doc: Uint8Array, readonly end: number, start = 0) {
    this.pos = start;
  }

  fail(what: string): never {
    const at = this.pos < this.end
      ? `'${String.fromCharCode(this.doc[this.pos])}' at byte ${this.pos}`
      : "end of input";
    throw new JsonError(`${what}, got ${at}`);
  }

  ws(): void {
    const d = this.doc;
    while (this.pos < this.end && isWs(d[this.pos])) this.pos++;
  }

  /** The next non-space byte (-1 at the end), not consumed. */
  peek(): number {
    this.ws();
    return this.pos < this.end ? this.doc[this.pos] : -1;
  }

  depthCheck(depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw new JsonError(`nesting deeper than ${MAX_JSON_DEPTH} levels at byte ${this.pos}`);
  }

  /**
   * A number token; its value (0 with `skip`: the syntax only). With `f32`, the value is only wanted as a float32: a
   * token of more than 15 significant digits then also avoids a string when the float32
   * it rounds to is certain (see {@link float32Of}).
   */
  number(f32 = false, skip = false): number {
    const d = this.doc, s = this.pos;
    let p = s;
    const neg = d[p] === MINUS;
    if (neg) p++;
    // Clinger's fast path: up to 15 significant digits m and a power of ten k with
    // |k| <= 22 are both exact doubles, so m / 10^k (one rounding) is the correctly
    // rounded value, as Number() would give it, with no string made.
    let m = 0, digits = 0, scale = 0;
    if (d[p] === 0x30) p++;
    else if (isDigit(d[p])) {
      while (isDigit(d[p])) {
        m = m * 10 + d[p++] - 0x30;
        digits++;
      }
    } else this.fail("expected a digit");
    if (d[p] === 0x2e) {
      p++;
      if (!isDigit(d[p])) {
        this.pos = p;
        this.fail("expected a digit after '.'");
      }
      while (isDigit(d[p])) {
        m = m * 10 + d[p++] - 0x30;
        if (m !== 0) digits++;
        scale--;
      }
    }
    if (d[p] === 0x65 || d[p] === 0x45) {
      p++;
      let esign = 1, e = 0;
      if (d[p] === 0x2b || d[p] === MINUS) esign = d[p++] === MINUS ? -1 : 1;
      if (!isDigit(d[p])) {
        this.pos = p;
        this.fail("expected a digit in the exponent");
      }
      while (isDigit(d[p])) if ((e = e * 10 + d[p++] - 0x30) > 1e6) e = 1e6;
      scale += esign * e;
    }
    this.pos = p;
    if (skip) return 0;
    if (digits <= 15 && scale >= -22 && scale <= 22) {
      const v = scale < 0 ? m / POW10[-scale] : m * POW10[scale];
      return neg ? -v : v;
    }
    if (f32 && digits <= 40 && scale >= -60 && scale <= 60) {
      const f = float32Of(m, scale, digits);
      if (f !== undefined) return neg ? -f : f;
    }
    return Number(String.fromCharCode.apply(null, d.subarray(s, p) as unknown as number[]));
  }

  /** Skips a string token; whether it holds escapes or non-ASCII bytes. */
  skipString(): boolean {
    const d = this.doc;
    let p = this.pos + 1, plain = true;
    for (;;) {
      if (p >= this.end) {
        this.pos = p;
        this.fail("unterminated string");
      }
      const c = d[p];
      if (c === Q) break;
      if (c === BS) {
        plain = false;
        p += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail("control character in a string");
      }
      if (c >= 0x80) plain = false;
      p++;
    }
    this.pos = p + 1;
    return plain;
  }

  string(): string {
    const s = this.pos;
    const plain = this.skipString();
    const body = this.doc.subarray(s + 1, this.pos - 1);
    if (plain) return String.fromCharCode.apply(null, body as unknown as number[]);
    let text: string;
    try {
      text = utf8.decode(this.doc.subarray(s, this.pos));
    } catch {
      throw new JsonError(`invalid UTF-8 in the string at byte ${s}`);
    }
    try {
      return JSON.parse(text) as string; // escapes, exactly as JSON defines them
    } catch {
      throw new JsonError(`bad escape in the string at byte ${s}`);
    }
  }

  literal(word: string, v: unknown): unknown {
    for (let k = 0; k < word.length; k++) {
      if (this.doc[this.pos + k] !== word.charCodeAt(k)) this.fail(`expected '${word}'`);
    }
    this.pos += word.length;
    return v;
  }

  /** Parses one value; arrays under a key of `lazy` become {@link JsonSpan}s. */
  value(depth: number, lazy: ReadonlySet<string>, key?: string): unknown {
    const c = this.peek();
    if (c === LBRACE) {
      this.depthCheck(depth + 1);
      this.pos++;
      const o: Record<string, unknown> = {};
      if (this.peek() === RBRACE) {
        this.pos++;
        return o;
      }
      for (;;) {
        if (this.peek() !== Q) this.fail("expected a key string");
        const k = this.string();
        if (this.peek() !== COLON) this.fail("expected ':'");
        this.pos++;
        const v = this.value(depth + 1, lazy, k);
        if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true });
        else o[k] = v;
        const n = this.peek();
        this.pos++;
        if (n === RBRACE) return o;
        if (n !== COMMA) {
          this.pos--;
          this.fail("expected ',' or '}'");
        }
      }
    }
    if (c === LBRACK) {
      if (key !== undefined && lazy.has(key)) {
        const s = this.pos;
        this.skip(depth);
        return new JsonSpan(this.doc, s, this.pos, depth);
      }
      this.depthCheck(depth + 1);
      this.pos++;
      const a: unknown[] = [];
      if (this.peek() === RBRACK) {
        this.pos++;
        return a;
      }
      for (;;) {
        a.push(this.value(depth + 1, lazy));
        const n = this.peek();
        this.pos++;
        if (n === RBRACK) return a;
        if (n !== COMMA) {
          this.pos--;
          this.fail("expected ',' or ']'");
        }
      }
    }
    if (c === Q) return this.string();
    if (c === MINUS || isDigit(c)) return this.number();
    if (c === 0x74) return this.literal("true", true);
    if (c === 0x66) return this.literal("false", false);
    if (c === 0x6e) return this.literal("null", null);
    return this.fail("expected a value");
  }

  /** Skips one value, checking its syntax and depth, building nothing. */
  skip(depth: number): void {
    const c = this.peek();
    if (c === LBRACK || c === LBRACE) {
      const close = c === LBRACK ? RBRACK : RBRACE;
      this.depthCheck(depth + 1);
      this.pos++;
      if (this.peek() === close) {
        this.pos++;
        return;
      }
      for (;;) {
        if (close === RBRACE) {
          if (this.peek() !== Q) this.fail("expected a key string");
          this.string();
          if (this.peek() !== COLON) this.fail("expected ':'");
          this.pos++;
        }
        this.skip(depth + 1);
        const n = this.peek();
        this.pos++;
        if (n === close) return;
        if (n !== COMMA) {
          this.pos--;
          this.fail(`expected ',' or '${String.fromCharCode(close)}'`);
        }
      }
    }
    if (c === Q) this.skipString();
    else if (c === MINUS || isDigit(c)) this.number(false, true);
    else this.value(depth, EMPTY);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * Parses the JSON document in `doc[0, end)`. Arrays that are the value of a key in
 * `lazy` are returned as {@link JsonSpan}s (syntax and depth checked). Throws
 * {@link JsonError} for malformed input or nesting deeper than {@link MAX_JSON_DEPTH}.
 *
 * @example
 * ```ts
 * const req = parseJson(new TextEncoder().encode('{"data": [1, 2]}'), undefined, new Set(["data"]));
 * // (req as { data: JsonSpan }).data is a JsonSpan over "[1, 2]"
 * ```
 */
export function parseJson(doc: Uint8Array, end = doc.length, lazy: ReadonlySet<string> = EMPTY): unknown {
  const r = new Reader(doc, end);
  if (end >= 3 && doc[0] === 0xef && doc[1] === 0xbb && doc[2] === 0xbf) r.pos = 3; // BOM
  const v = r.value(0, lazy);
  if (r.peek() !== -1) r.fail("expected the end of the document");
  return v;
}

/**
 * Writes the numbers of a (possibly nested) array span into `out`, in order, and
 * returns how many there are (it stops writing, but keeps counting, past `out.length`).
 * A value that is not a number or an array, or a number `ok` refuses, throws a
 * {@link JsonError} whose message is that value's text.
 *
 * @example
 * ```ts
 * const doc = new TextEncoder().encode('{"data": [[1, 2], [3, 4]]}');
 * const { data } = parseJson(doc, undefined, new Set(["data"])) as { data: JsonSpan };
 * const out = new Float32Array(4);
 * const n = fillNumbers(data, out, Number.isFinite); // 4; out = [1, 2, 3, 4]
 * ```
 */
export function fillNumbers(
  span: JsonSpan,
  out: { length: number; [i: number]: number },
  ok: (v: number) => boolean,
): number {
  const r = new Reader(span.doc, span.end, span.start);
  const f32Out = out instanceof Float32Array;
  let n = 0;
  let depth = 0;
  // iterative: the span's syntax and depth were checked when it was skipped
  for (;;) {
    const c = r.peek();
    if (c === LBRACK) {
      r.pos++;
      depth++;
      if (r.peek() !== RBRACK) continue;
      r.pos++;
      depth--;
    } else if (c === MINUS || isDigit(c)) {
      const s = r.pos;
      const v = r.number(f32Out);
      if (!ok(v)) throw new JsonError(lossy.decode(span.doc.subarray(s, r.pos)));
      if (n < out.length) out[n] = v;
      n++;
    } else {
      const s = r.pos;
      r.skip(0);
      throw new JsonError(lossy.decode(span.doc.subarray(s, Math.min(r.pos, s + 40))));
    }
    // after a value: ',' goes on in this array, each ']' closes one
    for (;;) {
      if (depth === 0) return n;
      const sep = r.peek();
      r.pos++;
      if (sep === COMMA) break;
      depth--;
    }
  }
}
