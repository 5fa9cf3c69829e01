/**
 * Makes the demo's input: a light page with dark lines of text drawn from a 5x7 bitmap
 * font, so the demo needs no image file and no font from elsewhere.
 *
 * @module
 */

// 5x7 glyphs, one row per string, '#' is ink.
const FONT: Record<string, string[]> = {
  A: [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
  B: ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "],
  C: [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
  D: ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
  E: ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"],
  F: ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "],
  G: [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"],
  H: ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
  I: [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
  J: ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "],
  K: ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"],
  L: ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"],
  M: ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"],
  N: ["#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"],
  O: [" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
  P: ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "],
  Q: [" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"],
  R: ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"],
  S: [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "],
  T: ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "],
  U: ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
  V: ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "],
  W: ["#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # "],
  X: ["#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"],
  Y: ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "],
  Z: ["#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"],
  "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
  "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
  "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
  "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
  "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
  "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
  "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
  "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
  "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
  "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
  " ": ["     ", "     ", "     ", "     ", "     ", "     ", "     "],
};

/** A line of text to draw: top-left corner, glyph scale (pixels per font dot). */
export interface TextLine {
  text: string;
  x: number;
  y: number;
  scale: number;
}

/** An RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * The pixel box a line of text covers when drawn.
 *
 * @example
 * ```ts
 * textBox({ text: "HI", x: 0, y: 0, scale: 2 }); // { x0: 0, y0: 0, x1: 22, y1: 14 }
 * ```
 */
export function textBox(line: TextLine): { x0: number; y0: number; x1: number; y1: number } {
  const w = line.text.length * 6 * line.scale - line.scale;
  return { x0: line.x, y0: line.y, x1: line.x + w, y1: line.y + 7 * line.scale };
}

/**
 * Draws dark text lines on a light, slightly textured page.
 *
 * @example
 * ```ts
 * const img = renderText(640, 320, [{ text: "HELLO", x: 40, y: 40, scale: 4 }]);
 * ```
 */
export function renderText(width: number, height: number, lines: readonly TextLine[]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const shade = 236 + ((x * 7 + y * 13) % 11); // paper texture
      rgb[o] = shade;
      rgb[o + 1] = shade - 4;
      rgb[o + 2] = shade - 12;
    }
  }
  for (const line of lines) {
    let cx = line.x;
    for (const ch of line.text.toUpperCase()) {
      const glyph = FONT[ch];
      if (!glyph) throw new RangeError(`renderText: no glyph for '${ch}'`);
      for (let gy = 0; gy < 7; gy++) {
        for (let gx = 0; gx < 5; gx++) {
          if (glyph[gy][gx] !== "#") continue;
          for (let dy = 0; dy < line.scale; dy++) {
            for (let dx = 0; dx < line.scale; dx++) {
              const px = cx + gx * line.scale + dx, py = line.y + gy * line.scale + dy;
              if (px < 0 || py < 0 || px >= width || py >= height) continue;
              const o = (py * width + px) * 3;
              rgb[o] = 24;
              rgb[o + 1] = 28;
              rgb[o + 2] = 40;
            }
          }
        }
      }
      cx += 6 * line.scale;
    }
  }
  return { width, height, rgb };
}

/**
 * Draws a rectangle outline (in place).
 *
 * @example
 * ```ts
 * drawBox(img, { x0: 10, y0: 10, x1: 50, y1: 30 }, [255, 0, 0], 2);
 * ```
 */
export function drawBox(
  img: RgbImage,
  b: { x0: number; y0: number; x1: number; y1: number },
  color: [number, number, number],
  thickness = 2,
): void {
  const put = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    const o = (y * img.width + x) * 3;
    img.rgb[o] = color[0];
    img.rgb[o + 1] = color[1];
    img.rgb[o + 2] = color[2];
  };
  for (let t = 0; t < thickness; t++) {
    for (let x = b.x0 - t; x <= b.x1 + t; x++) {
      put(x, b.y0 - t);
      put(x, b.y1 + t);
    }
    for (let y = b.y0 - t; y <= b.y1 + t; y++) {
      put(b.x0 - t, y);
      put(b.x1 + t, y);
    }
  }
}
