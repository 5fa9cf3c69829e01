/**
 * An SVG bar chart of benchmark ratios for `axr bench --plot out.svg`.
 *
 * Rows are those of `bench/main.ts --json` ({@link BenchRow}, bench/row.ts):
 * `{"bench","runtime","ours_ms","peer","peer_ms","ratio"}` with
 * `ratio = peer_ms / ours_ms` (above 1: we are faster). The chart has one bar per
 * row on a logarithmic axis centred on 1 (green to the right: faster than the
 * peer, red to the left: slower).
 *
 * @module
 */
import type { BenchRow } from "../bench/row.ts";

export type { BenchRow };

/**
 * Checks and returns benchmark rows from parsed JSON: an array of rows, an object
 * with a `rows` array, or JSON Lines text (one row per line). Throws an Error
 * naming the first bad row.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * const rows = parseBenchRows(readFileSync("rows.json", "utf8"));
 * ```
 */
export function parseBenchRows(text: string): BenchRow[] {
  let data: unknown;
  const trimmed = text.trim();
  try {
    data = JSON.parse(trimmed);
  } catch {
    // JSON Lines
    data = trimmed.split("\n").filter((l) => l.trim().startsWith("{")).map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`line ${i + 1} is not JSON: ${l.slice(0, 60)}`);
      }
    });
  }
  if (data && typeof data === "object" && !Array.isArray(data) && Array.isArray((data as { rows?: unknown }).rows)) {
    data = (data as { rows: unknown[] }).rows;
  } else if (data && typeof data === "object" && !Array.isArray(data) && "bench" in data) {
    data = [data]; // JSON Lines with a single row
  }
  if (!Array.isArray(data)) throw new Error("expected a JSON array of benchmark rows");
  return data.map((r, i) => {
    const o = r as Record<string, unknown>;
    const ours = Number(o?.ours_ms), peer = Number(o?.peer_ms);
    let ratio = Number(o?.ratio);
    if (!Number.isFinite(ratio) && ours > 0) ratio = peer / ours;
    if (!o || typeof o.bench !== "string" || !Number.isFinite(ratio) || ratio <= 0) {
      throw new Error(`row ${i}: needs "bench" (string) and a positive "ratio" (or ours_ms and peer_ms)`);
    }
    return {
      bench: o.bench,
      runtime: String(o.runtime ?? ""),
      ours_ms: ours,
      peer: String(o.peer ?? ""),
      peer_ms: peer,
      ratio,
    };
  });
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmtRatio(r: number): string {
  return r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2);
}

/**
 * Renders the rows as a standalone SVG document (a string).
 *
 * @example
 * ```ts
 * import { readFileSync, writeFileSync } from "node:fs";
 * const rows = parseBenchRows(readFileSync("rows.json", "utf8"));
 * writeFileSync("bench.svg", benchRowsToSvg(rows, { title: "ours vs peers" }));
 * ```
 */
export function benchRowsToSvg(rows: BenchRow[], options: { title?: string } = {}): string {
  const title = options.title ?? "Benchmark ratios (peer time / our time; right of 1 = faster)";
  const barH = 22, gap = 6, left = 320, plotW = 480, right = 90, top = 56, bottom = 44;
  const height = top + rows.length * (barH + gap) + bottom;
  const width = left + plotW + right;
  let lo = 1, hi = 1;
  for (const r of rows) {
    lo = Math.min(lo, r.ratio);
    hi = Math.max(hi, r.ratio);
  }
  // Log axis over whole decades around the data, always including 1.
  const dLo = Math.floor(Math.log10(lo) - 1e-9), dHi = Math.ceil(Math.log10(hi) + 1e-9);
  const a = dLo === dHi ? dLo - 1 : dLo, b = dLo === dHi ? dHi + 1 : dHi;
  const x = (v: number) => left + ((Math.log10(v) - a) / (b - a)) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  );
  // Grid and ticks at 1, 2, 5 x 10^k.
  for (let d = a; d <= b; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > b + 1e-9) continue;
      const px = x(v).toFixed(1);
      parts.push(
        `<line x1="${px}" y1="${top - 6}" x2="${px}" y2="${height - bottom}" stroke="${m === 1 ? "#bbb" : "#eee"}"/>`,
        `<text x="${px}" y="${height - bottom + 16}" text-anchor="middle" fill="#555">${fmtRatio(v)}x</text>`,
      );
    }
  }
  const one = x(1);
  rows.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const xr = x(r.ratio);
    const x0 = Math.min(one, xr), w = Math.max(1, Math.abs(xr - one));
    const color = r.ratio >= 1 ? "#2e8b57" : "#c0392b";
    const label = `${r.bench}${r.runtime ? ` (${r.runtime})` : ""}${r.peer ? ` vs ${r.peer}` : ""}`;
    const tip = `${label}: ours ${r.ours_ms} ms, peer ${r.peer_ms} ms, ratio ${r.ratio}`;
    parts.push(
      `<g class="row"><title>${esc(tip)}</title>`,
      `<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(label)}</text>`,
      `<rect class="bar" x="${x0.toFixed(1)}" y="${y}" width="${
        w.toFixed(1)
      }" height="${barH}" fill="${color}" data-ratio="${r.ratio}"/>`,
      `<text x="${(Math.max(one, xr) + 6).toFixed(1)}" y="${y + barH / 2 + 4}" fill="#333">${
        fmtRatio(r.ratio)
      }x</text></g>`,
    );
  });
  parts.push(
    `<line x1="${one.toFixed(1)}" y1="${top - 8}" x2="${one.toFixed(1)}" y2="${
      height - bottom
    }" stroke="#333" stroke-width="1.5"/>`,
    `<text x="${(left + plotW / 2).toFixed(1)}" y="${
      height - 8
    }" text-anchor="middle" fill="#555">peer time / our time (log scale)</text>`,
    `</svg>`,
  );
  return parts.join("\n") + "\n";
}
