// serve/json.ts, the request reader of `axr serve`: the same values as JSON.parse (and,
// for float32 tensors, as Math.fround(Number(text))) on random and halfway-point numbers,
// malformed documents refused with a JsonError naming the byte, the nesting limit.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fillNumbers, JsonError, type JsonSpan, MAX_JSON_DEPTH, parseJson } from "../serve/json.ts";

const enc = new TextEncoder();

/** A reproducible stream of doubles (xorshift). */
function randoms(n: number, seed = 7): number[] {
  let s = seed >>> 0;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => (next() - 0.5) * 10 ** Math.floor(next() * 76 - 38));
}

describe("serve JSON reader", () => {
  test("numbers: the values JSON.parse gives, exactly", () => {
    const texts = [
      "0",
      "-0",
      "1e22",
      "1e23",
      "123456789012345",
      "1234567890123456789",
      "5e-324",
      "1.7976931348623157e308",
    ];
    for (const v of randoms(20_000)) texts.push(String(v), v.toPrecision(7), v.toFixed(6), String(Math.fround(v)));
    for (const t of texts) assert.ok(Object.is(parseJson(enc.encode(t)), JSON.parse(t)), t);
  });

  test("float32 tensors: Math.fround(Number(text)) for every value, halfway points included", () => {
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    const texts: string[] = [];
    for (const v of randoms(20_000, 11)) {
      f[0] = v;
      const here = f[0];
      u[0]++;
      const mid = (here + f[0]) / 2; // exactly halfway between two float32s
      texts.push(
        String(v),
        mid.toPrecision(17),
        String(mid),
        String(mid * (1 + 2 ** -50)),
        String(mid * (1 - 2 ** -50)),
      );
    }
    const doc = enc.encode(`{"data":[${texts.join(",")}]}`);
    const span = (parseJson(doc, undefined, new Set(["data"])) as { data: JsonSpan }).data;
    const out = new Float32Array(texts.length);
    assert.equal(fillNumbers(span, out, () => true), texts.length);
    texts.forEach((t, i) => assert.ok(Object.is(out[i], Math.fround(Number(t))), t));
  });

  test("documents: the values JSON.parse gives; malformed ones refused naming the byte", () => {
    for (
      const d of [
        '{"a":[1,2,{"b":"x\\u00e9\\n"}],"c":null,"d":true,"e":false,"f":"ünï"}',
        "[]",
        "{}",
        ' [ 1 , [ ] , "" ] ',
      ]
    ) {
      assert.deepEqual(parseJson(enc.encode(d)), JSON.parse(d), d);
    }
    const bad: [string, RegExp][] = [
      ["[1,]", /expected a value, got '\]' at byte 3/],
      ['{"a" 1}', /expected ':'/],
      ["[01]", /expected ',' or '\]'/],
      ['"\\x"', /bad escape/],
      ["1.", /expected a digit after '\.'/],
      ['"abc', /unterminated string/],
      ["[1]x", /expected the end of the document/],
      ['{"a":1,}', /expected a key string/],
    ];
    for (const [d, msg] of bad) {
      assert.throws(() => parseJson(enc.encode(d)), (e: unknown) => e instanceof JsonError && msg.test(e.message), d);
    }
    assert.throws(() => parseJson(Uint8Array.of(0x22, 0xff, 0xfe, 0x22)), /invalid UTF-8/);
  });

  test(`nesting deeper than ${MAX_JSON_DEPTH} is refused, in lazy spans too, at any depth of input`, () => {
    const deep = (n: number) => "[".repeat(n) + "1" + "]".repeat(n);
    assert.doesNotThrow(() => parseJson(enc.encode(deep(MAX_JSON_DEPTH))));
    for (const n of [MAX_JSON_DEPTH + 1, 100_000]) {
      assert.throws(() => parseJson(enc.encode(deep(n))), /nesting deeper than 64 levels/);
      assert.throws(() => parseJson(enc.encode(`{"data":${deep(n)}}`), undefined, new Set(["data"])), /nesting deeper/);
    }
    // a lazy span is checked, not built: its values come out through fillNumbers, in order
    const span = (parseJson(enc.encode('{"data":[[1,2],[3,[4]],[]]}'), undefined, new Set(["data"])) as {
      data: JsonSpan;
    }).data;
    const out = new Float32Array(4);
    assert.equal(fillNumbers(span, out, () => true), 4);
    assert.deepEqual([...out], [1, 2, 3, 4]);
    assert.throws(
      () => fillNumbers(span, out, (v) => v < 3),
      (e: unknown) => e instanceof JsonError && e.message === "3",
    );
  });
});
