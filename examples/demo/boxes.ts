/**
 * Text boxes from a text-detection probability map, as PaddleOCR's DB postprocess does
 * (simplified to axis-aligned boxes): threshold, connected components, score filter,
 * then "unclip" (grow each box by area * ratio / perimeter).
 *
 * @module
 */

/** An axis-aligned box in map pixels, inclusive, with its mean probability. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

/** Postprocess settings (PaddleOCR's defaults). */
export interface BoxOptions {
  threshold?: number;
  boxThreshold?: number;
  unclipRatio?: number;
  minSize?: number;
}

/**
 * Finds text boxes in `prob` (row-major `height x width`, values in [0, 1]).
 *
 * @example
 * ```ts
 * const boxes = findBoxes(probMap, 320, 640);
 * ```
 */
export function findBoxes(prob: Float32Array, height: number, width: number, opts: BoxOptions = {}): Box[] {
  const { threshold = 0.3, boxThreshold = 0.6, unclipRatio = 1.5, minSize = 3 } = opts;
  if (prob.length !== height * width) {
    throw new RangeError(`findBoxes: map has ${prob.length} values, not ${height}x${width}`);
  }
  const label = new Int32Array(height * width).fill(-1);
  const stack: number[] = [];
  const boxes: Box[] = [];
  for (let start = 0; start < prob.length; start++) {
    if (label[start] !== -1 || prob[start] <= threshold) continue;
    let x0 = width, y0 = height, x1 = -1, y1 = -1, sum = 0, n = 0;
    label[start] = boxes.length;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const y = (p / width) | 0, x = p - y * width;
      x0 = Math.min(x0, x), x1 = Math.max(x1, x), y0 = Math.min(y0, y), y1 = Math.max(y1, y);
      sum += prob[p];
      n++;
      for (const q of [p - 1, p + 1, p - width, p + width]) {
        if (q < 0 || q >= prob.length) continue;
        if ((q === p - 1 && x === 0) || (q === p + 1 && x === width - 1)) continue;
        if (label[q] !== -1 || prob[q] <= threshold) continue;
        label[q] = boxes.length;
        stack.push(q);
      }
    }
    const w = x1 - x0 + 1, h = y1 - y0 + 1;
    const score = sum / n;
    if (Math.min(w, h) < minSize || score < boxThreshold) {
      boxes.push({ x0: -1, y0: -1, x1: -1, y1: -1, score: -1 }); // keeps labels aligned
      continue;
    }
    const grow = Math.round((w * h * unclipRatio) / (2 * (w + h)));
    boxes.push({
      x0: Math.max(0, x0 - grow),
      y0: Math.max(0, y0 - grow),
      x1: Math.min(width - 1, x1 + grow),
      y1: Math.min(height - 1, y1 + grow),
      score,
    });
  }
  return boxes.filter((b) => b.score >= 0);
}

/**
 * Intersection over union of two boxes.
 *
 * @example
 * ```ts
 * iou({ x0: 0, y0: 0, x1: 9, y1: 9, score: 1 }, { x0: 0, y0: 0, x1: 9, y1: 4, score: 1 }); // 0.5
 * ```
 */
export function iou(a: Omit<Box, "score">, b: Omit<Box, "score">): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) + 1);
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) + 1);
  const inter = ix * iy;
  const area = (r: Omit<Box, "score">) => (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
  return inter / (area(a) + area(b) - inter);
}
