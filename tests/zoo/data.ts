/**
 * Inputs for the model zoo (calibration and evaluation), made here so that they look like
 * each model's real input without any image file: document pages and text lines drawn with
 * the demo's bitmap font, photo-like scenes (smooth background, coloured blobs, grain) and
 * face crops (a lit skin-coloured oval with eyes, brows and a mouth). Every image is an
 * {@link RgbImage} from a seed, so the same seed gives the same bytes on every machine.
 *
 * @module
 */
import { renderText, type RgbImage, type TextLine } from "../../examples/demo/text_image.ts";
import { prng } from "../fixtures/make_fixtures.ts";

const WORDS = [
  "METIS",
  "AXELERA",
  "INVOICE",
  "TOTAL",
  "2026",
  "DATE",
  "AMOUNT",
  "THE",
  "QUICK",
  "BROWN",
  "FOX",
  "JUMPS",
  "OVER",
  "LAZY",
  "DOG",
  "TABLE",
  "FIGURE",
  "SECTION",
  "RESULTS",
  "0123",
  "4567",
  "89",
  "EDGE",
  "AI",
  "MODEL",
  "ZOO",
];

function words(r: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
}

function blank(w: number, h: number, r: () => number): RgbImage {
  const img = renderText(w, h, []);
  const tint = [230 + r() * 25, 226 + r() * 25, 215 + r() * 30];
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) img.rgb[3 * i + c] = Math.min(255, tint[c] + (r() - 0.5) * 10);
  }
  return img;
}

function fillRect(img: RgbImage, x0: number, y0: number, x1: number, y1: number, rgb: number[]): void {
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      for (let c = 0; c < 3; c++) img.rgb[3 * (y * img.width + x) + c] = rgb[c];
    }
  }
}

function drawText(img: RgbImage, lines: TextLine[]): void {
  const ink = renderText(img.width, img.height, lines);
  for (let i = 0; i < img.width * img.height; i++) {
    if (ink.rgb[3 * i] < 128) img.rgb.set(ink.rgb.subarray(3 * i, 3 * i + 3), 3 * i);
  }
}

/**
 * A document page: a title, paragraphs of text lines, and sometimes a grey figure block
 * or a ruled table.
 *
 * @example
 * ```ts
 * const img = page(640, 320, 1);
 * ```
 */
export function page(w: number, h: number, seed: number): RgbImage {
  const r = prng(seed);
  const img = blank(w, h, r);
  const lines: TextLine[] = [];
  let y = Math.round(h * (0.03 + 0.05 * r()));
  const base = Math.max(1, Math.round(h / 260 + r() * h / 400));
  lines.push({ text: words(r, 2 + Math.floor(r() * 3)), x: Math.round(w * 0.08), y, scale: base + 1 });
  y += 7 * (base + 1) + 4 * base + 6;
  while (y < h * 0.92) {
    if (r() < 0.15) {
      const bh = Math.round(h * (0.08 + 0.15 * r()));
      const g = 120 + r() * 80;
      fillRect(img, Math.round(w * 0.1), y, Math.round(w * (0.5 + 0.4 * r())), y + bh, [g, g * 0.95, g * 0.9]);
      y += bh + 6 * base;
      continue;
    }
    const scale = Math.max(1, base + (r() < 0.2 ? 1 : 0));
    const x = Math.round(w * (0.05 + 0.1 * r()));
    const maxChars = Math.floor((w * 0.9 - x) / (6 * scale));
    let text = words(r, 2 + Math.floor(r() * 8));
    text = text.slice(0, Math.max(1, maxChars)).trimEnd();
    if (text) lines.push({ text, x, y, scale });
    y += 7 * scale + Math.round((3 + 4 * r()) * scale) + 2;
  }
  drawText(img, lines);
  return img;
}

/**
 * One line of text filling a crop of w x h (a text recognizer's or line classifier's
 * input); with `flip` it is upside down.
 *
 * @example
 * ```ts
 * const img = textLine(320, 48, 3);
 * ```
 */
export function textLine(w: number, h: number, seed: number, flip = false): RgbImage {
  const r = prng(seed);
  const img = blank(w, h, r);
  const scale = Math.max(1, Math.floor((h * (0.5 + 0.25 * r())) / 7));
  const x = Math.round(2 + r() * 8);
  const maxChars = Math.floor((w - x) / (6 * scale));
  const text = words(r, 4).slice(0, Math.max(2, Math.floor(maxChars * (0.5 + 0.5 * r())))).trimEnd() || "AI";
  drawText(img, [{ text, x, y: Math.round((h - 7 * scale) / 2 + (r() - 0.5) * 4), scale }]);
  if (flip) {
    const n = w * h;
    for (let i = 0; i < n / 2; i++) {
      for (let c = 0; c < 3; c++) {
        const a = img.rgb[3 * i + c];
        img.rgb[3 * i + c] = img.rgb[3 * (n - 1 - i) + c];
        img.rgb[3 * (n - 1 - i) + c] = a;
      }
    }
  }
  return img;
}

/**
 * A photo-like scene: a vertical sky/ground gradient, a few soft coloured blobs (some
 * skin-toned), fine grain.
 *
 * @example
 * ```ts
 * const img = photo(224, 224, 5);
 * ```
 */
export function photo(w: number, h: number, seed: number): RgbImage {
  const r = prng(seed);
  const top = [r() * 255, r() * 255, r() * 255], bottom = [r() * 255, r() * 255, r() * 255];
  const blobs = Array.from({ length: 3 + Math.floor(r() * 5) }, () => ({
    x: r() * w,
    y: r() * h,
    s: (0.08 + 0.25 * r()) * Math.min(w, h),
    c: r() < 0.4 ? [200 + r() * 40, 140 + r() * 40, 110 + r() * 40] : [r() * 255, r() * 255, r() * 255],
  }));
  const img: RgbImage = { width: w, height: h, rgb: new Uint8Array(w * h * 3) };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = y / h;
      const px = [0, 1, 2].map((c) => top[c] * (1 - t) + bottom[c] * t);
      for (const b of blobs) {
        const a = Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
        for (let c = 0; c < 3; c++) px[c] = px[c] * (1 - a) + b.c[c] * a;
      }
      for (let c = 0; c < 3; c++) img.rgb[3 * (y * w + x) + c] = Math.max(0, Math.min(255, px[c] + (r() - 0.5) * 16));
    }
  }
  return img;
}

/**
 * A face crop: background, a lit skin-coloured oval, two eyes with brows, a nose shadow
 * and a mouth, at a random offset, size and lighting.
 *
 * @example
 * ```ts
 * const img = face(48, 48, 2);
 * ```
 */
export function face(w: number, h: number, seed: number): RgbImage {
  const r = prng(seed);
  const img = photo(w, h, seed + 1000);
  const cx = w * (0.45 + 0.1 * r()), cy = h * (0.47 + 0.1 * r());
  const rx = w * (0.3 + 0.08 * r()), ry = h * (0.4 + 0.08 * r());
  const skin = [170 + r() * 70, 110 + r() * 60, 80 + r() * 50];
  const light = 0.7 + 0.5 * r();
  const dark = (x: number, y: number, ex: number, ey: number, sx: number, sy: number) =>
    Math.exp(-(((x - ex) / sx) ** 2 + ((y - ey) / sy) ** 2));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (d > 1) continue;
      let k = light * (1 - 0.3 * d) * (1 - 0.2 * (x - cx) / rx);
      k *= 1 - 0.85 * dark(x, y, cx - 0.4 * rx, cy - 0.2 * ry, 0.12 * rx, 0.07 * ry);
      k *= 1 - 0.85 * dark(x, y, cx + 0.4 * rx, cy - 0.2 * ry, 0.12 * rx, 0.07 * ry);
      k *= 1 - 0.6 * dark(x, y, cx - 0.4 * rx, cy - 0.38 * ry, 0.2 * rx, 0.04 * ry);
      k *= 1 - 0.6 * dark(x, y, cx + 0.4 * rx, cy - 0.38 * ry, 0.2 * rx, 0.04 * ry);
      k *= 1 - 0.3 * dark(x, y, cx, cy + 0.1 * ry, 0.08 * rx, 0.15 * ry);
      k *= 1 - 0.7 * dark(x, y, cx, cy + 0.5 * ry, 0.3 * rx, 0.06 * ry);
      for (let c = 0; c < 3; c++) {
        img.rgb[3 * (y * w + x) + c] = Math.max(0, Math.min(255, skin[c] * k + (r() - 0.5) * 8));
      }
    }
  }
  return img;
}

/**
 * RGB image -> float32 tensor: per channel `(v * a[c] - b[c])` in NCHW or NHWC, channels
 * in RGB or BGR order.
 *
 * @example
 * ```ts
 * const x = toTensor(img, { layout: "NCHW", mul: [1 / 255, 1 / 255, 1 / 255], sub: [0, 0, 0] });
 * ```
 */
export function toTensor(
  img: RgbImage,
  o: { layout: "NCHW" | "NHWC"; bgr?: boolean; mul: number[]; sub: number[] },
): Float32Array {
  const n = img.width * img.height;
  const x = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const src = o.bgr ? 2 - c : c;
      const v = img.rgb[3 * i + src] * o.mul[c] - o.sub[c];
      if (o.layout === "NCHW") x[c * n + i] = v;
      else x[3 * i + c] = v;
    }
  }
  return x;
}
