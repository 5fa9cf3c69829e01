/**
 * End-to-end comparisons of the model zoo: top-1, detection boxes (YOLO output or a text
 * probability map), cosine similarity, share of exact zeros, and the paired comparison of
 * per-image scores that judges the float form against quantize_static.
 *
 * @module
 */
import { type Box, findBoxes, iou } from "../../examples/demo/boxes.ts";

/** A float output: data and shape. */
export interface Out {
  data: Float32Array;
  shape: number[];
}

/**
 * Index of the largest value of each row of `width` values.
 *
 * @example
 * ```ts
 * argmaxRows(new Float32Array([0, 2, 1, 5, 0, 0]), 3); // [1, 0]
 * ```
 */
export function argmaxRows(x: Float32Array, width: number): number[] {
  const out: number[] = [];
  for (let o = 0; o + width <= x.length; o += width) {
    let best = 0;
    for (let i = 1; i < width; i++) if (x[o + i] > x[o + best]) best = i;
    out.push(best);
  }
  return out;
}

/**
 * Cosine similarity of two arrays (1 when both are all zero).
 *
 * @example
 * ```ts
 * cosine(new Float32Array([1, 0]), new Float32Array([1, 0])); // 1
 * ```
 */
export function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 && bb === 0) return 1;
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/**
 * Share of elements exactly 0.
 *
 * @example
 * ```ts
 * zeroShare(new Float32Array([0, 1])); // 0.5
 * ```
 */
export function zeroShare(x: Float32Array): number {
  let z = 0;
  for (const v of x) if (v === 0) z++;
  return x.length ? z / x.length : 0;
}

/** A detection: box in input pixels, class, score. */
export interface Det extends Omit<Box, "score"> {
  cls: number;
  score: number;
}

/**
 * Detections of a YOLOv8 output `[1, 4 + classes, anchors]` (cx, cy, w, h, class scores):
 * score > `threshold`, per-class NMS at IoU 0.45.
 *
 * @example
 * ```ts
 * const dets = yoloBoxes(out.data, out.shape);
 * ```
 */
export function yoloBoxes(x: Float32Array, shape: number[], threshold = 0.25): Det[] {
  const [, f, a] = shape;
  const cand: Det[] = [];
  for (let i = 0; i < a; i++) {
    let cls = 0, score = -Infinity;
    for (let c = 4; c < f; c++) {
      if (x[c * a + i] > score) {
        score = x[c * a + i];
        cls = c - 4;
      }
    }
    if (!(score > threshold)) continue;
    const cx = x[i], cy = x[a + i], w = x[2 * a + i], h = x[3 * a + i];
    cand.push({ x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, cls, score });
  }
  cand.sort((p, q) => q.score - p.score);
  const keep: Det[] = [];
  for (const d of cand) if (!keep.some((k) => k.cls === d.cls && iou(k, d) > 0.45)) keep.push(d);
  return keep;
}

/**
 * Text boxes of a probability map `[1, 1, H, W]` (the demo's box finder).
 *
 * @example
 * ```ts
 * const dets = mapBoxes(out.data, out.shape);
 * ```
 */
export function mapBoxes(x: Float32Array, shape: number[]): Det[] {
  const [h, w] = shape.slice(-2);
  return findBoxes(x, h, w, { minSize: 4 }).map((b) => ({ ...b, cls: 0 }));
}

/** The index of `r`'s best unused match in `xs` (same class), with its IoU; -1 when none overlaps. */
function bestMatch(r: Det, xs: Det[], used: Set<number>): { at: number; iou: number } {
  let at = -1, best = 0;
  xs.forEach((o, j) => {
    if (used.has(j) || o.cls !== r.cls) return;
    const v = iou(r, o);
    if (v > best) {
      best = v;
      at = j;
    }
  });
  return { at, iou: best };
}

/** Whether `r` has a match in `xs` (IoU >= 0.9, score within `tol`), ignoring which. */
function hasMatch(r: Det, xs: Det[], tol: number): boolean {
  return xs.some((o) => o.cls === r.cls && iou(r, o) >= 0.9 && Math.abs(o.score - r.score) <= tol);
}

/**
 * Why two detection lists differ, or "" when every reference box has its own match in
 * `ours` (same class, IoU >= 0.9, score within `tol`) and there are no extra boxes.
 *
 * @example
 * ```ts
 * const why = sameBoxes(ref, ours, 2 * step);
 * ```
 */
export function sameBoxes(ref: Det[], ours: Det[], tol: number): string {
  return boxesAsEither(ref, undefined, ours, tol).why;
}

/**
 * {@link sameBoxes} where onnxruntime answers twice: `ref` (ORT_DISABLE_ALL, the
 * reference) and `alt` (ORT_ENABLE_ALL, its integer kernels). A box on which the two agree
 * (each has a match in the other) must be in `ours`; a box on which they disagree (a
 * reference box with no match in `alt`, or an `alt` box with no match in `ref`) is
 * onnxruntime's answer either way, so `ours` may have it or not; every box of `ours` must
 * match a box of `ref` or of `alt`. `split` counts the reference boxes that `ours` gives
 * as `alt` does (docs/zoo.md: where float ties at .5 rounding boundaries move a box).
 *
 * @example
 * ```ts
 * const { why, split } = boxesAsEither(ref, all, ours, 2 * step);
 * ```
 */
export function boxesAsEither(
  ref: Det[],
  alt: Det[] | undefined,
  ours: Det[],
  tol: number,
): { why: string; split: number } {
  const used = new Set<number>();
  let split = 0;
  for (const r of ref) {
    const m = bestMatch(r, ours, used);
    const close = m.at >= 0 && m.iou >= 0.9;
    if (close && Math.abs(ours[m.at].score - r.score) <= tol) {
      used.add(m.at);
      continue;
    }
    if (alt && !hasMatch(r, alt, tol)) {
      split++;
      continue;
    }
    const why = close
      ? `box ${fmtBox(r)}: score ${ours[m.at].score.toFixed(4)} vs ${r.score.toFixed(4)} (> ${tol.toPrecision(3)})`
      : `reference box ${fmtBox(r)} has no match (best IoU ${m.iou.toFixed(2)}); ${ours.length} vs ${ref.length} boxes`;
    return { why, split };
  }
  const usedAlt = new Set<number>();
  for (const a of alt ?? []) {
    const m = bestMatch(a, ours, usedAlt);
    if (m.at >= 0 && m.iou >= 0.9 && Math.abs(ours[m.at].score - a.score) <= tol) usedAlt.add(m.at);
    else if (hasMatch(a, ref, tol)) {
      return {
        why: `box ${fmtBox(a)} (onnxruntime at both levels) has no match (best IoU ${m.iou.toFixed(2)})`,
        split,
      };
    }
  }
  const extra = ours.filter((_, j) => !used.has(j) && !usedAlt.has(j)).length;
  if (extra) return { why: `${extra} extra boxes (${ours.length} vs ${ref.length})`, split };
  return { why: "", split };
}

function fmtBox(b: Det): string {
  return `[${[b.x0, b.y0, b.x1, b.y1].map((v) => Math.round(v)).join(",")}] class ${b.cls} score ${b.score.toFixed(3)}`;
}

/** A paired comparison of ours against a reference, item by item (see {@link pairedComparison}). */
export interface Paired {
  /** Number of items (images, or top-1 decisions). */
  n: number;
  /** Mean of ours - reference (positive: ours is better). */
  mean: number;
  /** Standard error of that mean (sample standard deviation of the differences / sqrt(n)). */
  se: number;
  /** Items where ours scores higher / lower. */
  wins: number;
  losses: number;
  /** Ours is worse beyond the noise: mean < -2 se (with se 0: any mean below 0). */
  worse: boolean;
}

/**
 * Compares two scores per item (higher is better: a cosine, or 1/0 for a right/wrong
 * top-1), paired by item. Ours is `worse` when the mean of the differences is below
 * -2 standard errors of that mean: a tie within the image-to-image spread of the
 * differences passes, a difference that the items show consistently fails (a constant
 * deficit, however small, has no spread and fails). For 0/1 scores this is McNemar's test
 * (normal form): worse when (only-reference-right - only-ours-right) > ~2 sqrt(their sum).
 *
 * @example
 * ```ts
 * pairedComparison([0.9, 0.8, 0.95], [0.91, 0.79, 0.95]).worse; // false: a tie
 * pairedComparison([0.9, 0.8, 0.7], [0.91, 0.81, 0.71]).worse;  // true: behind on every item
 * ```
 */
export function pairedComparison(ours: readonly number[], ref: readonly number[]): Paired {
  if (ours.length !== ref.length) throw new RangeError(`${ours.length} scores against ${ref.length}`);
  const n = ours.length;
  const d = ours.map((v, i) => v - ref[i]);
  const mean = n ? d.reduce((a, b) => a + b, 0) / n : 0;
  const sd = n > 1 ? Math.sqrt(d.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  const se = n ? sd / Math.sqrt(n) : 0;
  return {
    n,
    mean,
    se,
    wins: d.filter((x) => x > 0).length,
    losses: d.filter((x) => x < 0).length,
    worse: mean < -2 * se,
  };
}
