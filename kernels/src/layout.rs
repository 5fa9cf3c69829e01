//! Padding and depadding of NHWC tensors (any of the 4 axes), alone or fused with
//! quantize / dequantize / the NHWC -> NCHW transpose, each in one pass.
//!
//! A [`Geom`] describes the *unpadded* shape `[n, h, w, c]` and the padding
//! `[[nb, ne], [hb, he], [wb, we], [cb, ce]]` (begin, end per axis); the padded shape is
//! `[n + nb + ne, h + hb + he, w + wb + we, c + cb + ce]`. Both tensors are dense,
//! row-major (NHWC). Padding elements get `fill` (the zero point, for quantized data).

use crate::quant::{
    dequantize_run, quantize_one, quantize_rgb_to_rgbx16, quantize_run, rgb_to_rgbx16, rgbx_consts,
    QType,
};
use core::ptr;

/// Shape and padding of one pad/depad call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom {
    /// Unpadded shape `[n, h, w, c]`.
    pub shape: [usize; 4],
    /// Padding `[nb, ne, hb, he, wb, we, cb, ce]`.
    pub pad: [usize; 8],
}

impl Geom {
    /// Reads 12 little-endian u32 at `p`: `n, h, w, c, nb, ne, hb, he, wb, we, cb, ce`.
    ///
    /// # Safety
    /// `p` must be valid for 48 bytes of reads, 4-byte aligned.
    pub unsafe fn read(p: *const u32) -> Geom {
        let mut g = Geom {
            shape: [0; 4],
            pad: [0; 8],
        };
        for i in 0..4 {
            g.shape[i] = *p.add(i) as usize;
        }
        for i in 0..8 {
            g.pad[i] = *p.add(4 + i) as usize;
        }
        g
    }
    /// The padded shape.
    pub fn padded(&self) -> [usize; 4] {
        let mut d = [0; 4];
        for (i, di) in d.iter_mut().enumerate() {
            *di = self.shape[i] + self.pad[2 * i] + self.pad[2 * i + 1];
        }
        d
    }
    /// Number of elements of the unpadded tensor.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// Whether the unpadded tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of elements of the padded tensor.
    pub fn padded_len(&self) -> usize {
        self.padded().iter().product()
    }
}

/// Visits every row `(n, h)` of the padded tensor: `row(dst_row_index, Some(src_row_index))`
/// for rows holding data, `row(dst_row_index, None)` for rows that are all padding.
#[inline(always)]
fn for_rows(g: &Geom, mut row: impl FnMut(usize, Option<usize>)) {
    let [n, h, _, _] = g.shape;
    let [pn, ph, _, _] = g.padded();
    for dn in 0..pn {
        for dh in 0..ph {
            let d = dn * ph + dh;
            let inside = dn >= g.pad[0] && dn < g.pad[0] + n && dh >= g.pad[2] && dh < g.pad[2] + h;
            if inside {
                row(d, Some((dn - g.pad[0]) * h + (dh - g.pad[2])));
            } else {
                row(d, None);
            }
        }
    }
}

#[inline(always)]
unsafe fn fill_u8(dst: *mut u8, len: usize, v: u8) {
    ptr::write_bytes(dst, v, len);
}

#[inline(always)]
unsafe fn fill_f32(dst: *mut f32, len: usize, v: f32) {
    if v.to_bits() == 0 {
        ptr::write_bytes(dst, 0, len);
    } else {
        for i in 0..len {
            *dst.add(i) = v;
        }
    }
}

/// Pads a tensor of `ES`-byte elements; `fill_row` fills `count` elements.
#[inline(always)]
unsafe fn pad_generic<T: Copy>(src: *const T, dst: *mut T, g: &Geom, fill: impl Fn(*mut T, usize)) {
    let [_, _, w, c] = g.shape;
    let [_, _, pw, pc] = g.padded();
    let (wb, we, cb, ce) = (g.pad[4], g.pad[5], g.pad[6], g.pad[7]);
    let drow = pw * pc;
    let srow = w * c;
    for_rows(g, |d, s| {
        let dp = dst.add(d * drow);
        match s {
            None => fill(dp, drow),
            Some(s) => {
                let sp = src.add(s * srow);
                fill(dp, wb * pc);
                if cb == 0 && ce == 0 {
                    ptr::copy_nonoverlapping(sp, dp.add(wb * pc), srow);
                } else {
                    for x in 0..w {
                        let o = dp.add((wb + x) * pc);
                        fill(o, cb);
                        ptr::copy_nonoverlapping(sp.add(x * c), o.add(cb), c);
                        fill(o.add(cb + c), ce);
                    }
                }
                fill(dp.add((wb + w) * pc), we * pc);
            }
        }
    });
}

/// Visits the rows of a depad that hold data: `row(sp, dp)` with `sp` at the row's first
/// data element in the padded `src` (pixels `pc` apart) and `dp` at the row in the dense
/// `dst` (pixels `c` apart).
#[inline(always)]
unsafe fn depad_rows<S, D>(
    src: *const S,
    dst: *mut D,
    g: &Geom,
    mut row: impl FnMut(*const S, *mut D),
) {
    let [_, _, w, c] = g.shape;
    let [_, _, pw, pc] = g.padded();
    let (wb, cb) = (g.pad[4], g.pad[6]);
    for_rows(g, |s, d| {
        if let Some(d) = d {
            row(src.add(s * pw * pc + wb * pc + cb), dst.add(d * w * c));
        }
    });
}

/// Depads a tensor of `T` elements: copies the data region of the padded `src` into `dst`.
#[inline(always)]
unsafe fn depad_generic<T: Copy>(src: *const T, dst: *mut T, g: &Geom) {
    let [_, _, w, c] = g.shape;
    let pc = g.padded()[3];
    depad_rows(src, dst, g, |sp, dp| {
        if pc == c {
            ptr::copy_nonoverlapping(sp, dp, w * c);
        } else {
            for x in 0..w {
                ptr::copy_nonoverlapping(sp.add(x * pc), dp.add(x * c), c);
            }
        }
    });
}

/// Pads 1-byte elements (int8 or uint8) with `fill`.
///
/// # Safety
/// `src` holds `g.len()` bytes, `dst` `g.padded_len()` bytes; no overlap.
pub unsafe fn pad_u8(src: *const u8, dst: *mut u8, g: &Geom, fill: u8) {
    let [_, _, w, c] = g.shape;
    if c == 3 && g.pad[6] == 0 && g.pad[7] == 1 && w >= 16 {
        // RGB -> RGBX: 16 pixels per SIMD step, then the general path for the rest of the row.
        let [_, _, pw, _] = g.padded();
        let (wb, we) = (g.pad[4], g.pad[5]);
        for_rows(g, |d, s| {
            let dp = dst.add(d * pw * 4);
            let Some(s) = s else {
                fill_u8(dp, pw * 4, fill);
                return;
            };
            let sp = src.add(s * w * 3);
            fill_u8(dp, wb * 4, fill);
            let mut x = 0;
            while x + 16 <= w && rgb_to_rgbx16(sp.add(x * 3), dp.add((wb + x) * 4), fill) {
                x += 16;
            }
            while x < w {
                let o = dp.add((wb + x) * 4);
                ptr::copy_nonoverlapping(sp.add(x * 3), o, 3);
                *o.add(3) = fill;
                x += 1;
            }
            fill_u8(dp.add((wb + w) * 4), we * 4, fill);
        });
        return;
    }
    pad_generic(src, dst, g, |p, n| fill_u8(p, n, fill));
}

/// Pads f32 elements with `fill`.
///
/// # Safety
/// `src` holds `g.len()` floats, `dst` `g.padded_len()` floats; no overlap.
pub unsafe fn pad_f32(src: *const f32, dst: *mut f32, g: &Geom, fill: f32) {
    pad_generic(src, dst, g, |p, n| fill_f32(p, n, fill));
}

/// Depads 1-byte elements.
///
/// # Safety
/// `src` holds `g.padded_len()` bytes, `dst` `g.len()` bytes; no overlap.
pub unsafe fn depad_u8(src: *const u8, dst: *mut u8, g: &Geom) {
    depad_generic(src, dst, g);
}

/// Depads f32 elements.
///
/// # Safety
/// `src` holds `g.padded_len()` floats, `dst` `g.len()` floats; no overlap.
pub unsafe fn depad_f32(src: *const f32, dst: *mut f32, g: &Geom) {
    depad_generic(src, dst, g);
}

/// Quantizes f32 NHWC `src` and pads it in one pass; padding gets the zero point.
/// Element semantics are those of [`crate::quant`].
///
/// # Safety
/// `src` holds `g.len()` floats, `dst` `g.padded_len()` bytes; no overlap.
pub unsafe fn quantize_pad(src: *const f32, dst: *mut u8, g: &Geom, scale: f32, zp: i32, t: QType) {
    // One copy of the loop per type: a type test inside it keeps LLVM from emitting the
    // saturating narrows (it merges the two arms into clamps and a shuffle).
    match t {
        QType::I8 => quantize_pad_t::<false>(src, dst, g, scale, zp),
        QType::U8 => quantize_pad_t::<true>(src, dst, g, scale, zp),
    }
}

#[inline(always)]
unsafe fn quantize_pad_t<const U8: bool>(
    src: *const f32,
    dst: *mut u8,
    g: &Geom,
    scale: f32,
    zp: i32,
) {
    let t = if U8 { QType::U8 } else { QType::I8 };
    let [_, _, w, c] = g.shape;
    let [_, _, pw, pc] = g.padded();
    let (wb, we, cb, ce) = (g.pad[4], g.pad[5], g.pad[6], g.pad[7]);
    let fill = zp as u8;
    let drow = pw * pc;
    let srow = w * c;
    let rgbx = c == 3 && cb == 0 && ce == 1;
    let k = rgbx_consts(scale, zp, t, fill);
    for_rows(g, |d, s| {
        let dp = dst.add(d * drow);
        let Some(s) = s else {
            fill_u8(dp, drow, fill);
            return;
        };
        let sp = src.add(s * srow);
        fill_u8(dp, wb * pc, fill);
        let mut x = 0usize;
        if cb == 0 && ce == 0 {
            quantize_run(sp, dp.add(wb * pc), srow, scale, zp, t);
            x = w;
        } else if rgbx {
            while x + 16 <= w && quantize_rgb_to_rgbx16(sp.add(x * 3), dp.add((wb + x) * 4), &k, t)
            {
                x += 16;
            }
        }
        while x < w {
            let o = dp.add((wb + x) * pc);
            fill_u8(o, cb, fill);
            if c >= 16 {
                quantize_run(sp.add(x * c), o.add(cb), c, scale, zp, t);
            } else {
                for i in 0..c {
                    *o.add(cb + i) = quantize_one(*sp.add(x * c + i), scale, zp, t) as u8;
                }
            }
            fill_u8(o.add(cb + c), ce, fill);
            x += 1;
        }
        fill_u8(dp.add((wb + w) * pc), we * pc, fill);
    });
}

/// Depads int8/uint8 NHWC `src` and dequantizes it into f32 NHWC `dst` in one pass.
///
/// # Safety
/// `src` holds `g.padded_len()` bytes, `dst` `g.len()` floats; no overlap.
pub unsafe fn depad_dequantize(
    src: *const u8,
    dst: *mut f32,
    g: &Geom,
    scale: f32,
    zp: i32,
    t: QType,
) {
    let [_, _, w, c] = g.shape;
    let pc = g.padded()[3];
    depad_rows(src, dst, g, |sp, dp| {
        if pc == c {
            dequantize_run(sp, dp, w * c, scale, zp, t);
        } else if c >= 16 || w == 1 {
            for x in 0..w {
                dequantize_run(sp.add(x * pc), dp.add(x * c), c, scale, zp, t);
            }
        } else {
            for x in 0..w {
                for i in 0..c {
                    *dp.add(x * c + i) = deq(*sp.add(x * pc + i), scale, zp, t);
                }
            }
        }
    });
}

#[inline(always)]
fn deq(b: u8, scale: f32, zp: i32, t: QType) -> f32 {
    let q = match t {
        QType::I8 => b as i8 as i32,
        QType::U8 => b as i32,
    };
    (q - zp) as f32 * scale
}

/// Depads int8/uint8 NHWC `src`, dequantizes and writes f32 NCHW `dst` (shape
/// `[n, c, h, w]`), in one pass.
///
/// # Safety
/// `src` holds `g.padded_len()` bytes, `dst` `g.len()` floats; no overlap.
pub unsafe fn depad_dequantize_nchw(
    src: *const u8,
    dst: *mut f32,
    g: &Geom,
    scale: f32,
    zp: i32,
    t: QType,
) {
    let [n, h, w, c] = g.shape;
    let [_, ph, pw, pc] = g.padded();
    let (nb, hb, wb, cb) = (g.pad[0], g.pad[2], g.pad[4], g.pad[6]);
    // Blocks of 16 pixels: dequantize each pixel's channels (SIMD when c >= 16) into a
    // stack buffer laid out [c][16], then write 16 contiguous floats per channel plane.
    const B: usize = 16;
    const CMAX: usize = 256;
    let mut buf = [0f32; B * CMAX];
    let mut pix = [0f32; CMAX];
    for y in 0..n {
        for r in 0..h {
            let srow = src.add((((y + nb) * ph) + r + hb) * pw * pc + wb * pc + cb);
            let dplane = dst.add(y * c * h * w + r * w);
            if c > CMAX {
                for x in 0..w {
                    for i in 0..c {
                        *dplane.add(i * h * w + x) = deq(*srow.add(x * pc + i), scale, zp, t);
                    }
                }
                continue;
            }
            let mut x0 = 0;
            while x0 < w {
                let nb = (w - x0).min(B);
                for j in 0..nb {
                    dequantize_run(srow.add((x0 + j) * pc), pix.as_mut_ptr(), c, scale, zp, t);
                    for i in 0..c {
                        buf[i * B + j] = pix[i];
                    }
                }
                for i in 0..c {
                    ptr::copy_nonoverlapping(
                        buf.as_ptr().add(i * B),
                        dplane.add(i * h * w + x0),
                        nb,
                    );
                }
                x0 += nb;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(d: [usize; 4], n: usize, h: usize, w: usize, c: usize) -> usize {
        ((n * d[1] + h) * d[2] + w) * d[3] + c
    }

    fn geoms() -> Vec<Geom> {
        let mut v = vec![
            Geom {
                shape: [1, 230, 240, 3],
                pad: [0, 0, 3, 3, 3, 13, 0, 1],
            },
            Geom {
                shape: [1, 1, 1, 1024],
                pad: [0, 0, 0, 0, 0, 0, 0, 24],
            },
            Geom {
                shape: [1, 80, 80, 60],
                pad: [0, 0, 0, 0, 0, 0, 0, 4],
            },
        ];
        for m in 0..256usize {
            let p: Vec<usize> = (0..8)
                .map(|i| if m & (1 << i) != 0 { 1 + i % 3 } else { 0 })
                .collect();
            let shape = [1 + m % 2, 2 + m % 3, 3 + m % 5, [1, 3, 5, 17, 20][m % 5]];
            v.push(Geom {
                shape,
                pad: p.try_into().unwrap(),
            });
        }
        v
    }

    fn reference_pad(src: &[u8], g: &Geom, fill: u8) -> Vec<u8> {
        let pd = g.padded();
        let mut out = vec![fill; g.padded_len()];
        let s = g.shape;
        for n in 0..s[0] {
            for h in 0..s[1] {
                for w in 0..s[2] {
                    for c in 0..s[3] {
                        out[idx(pd, n + g.pad[0], h + g.pad[2], w + g.pad[4], c + g.pad[6])] =
                            src[idx(s, n, h, w, c)];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn pad_and_depad_match_reference() {
        for g in geoms() {
            let src: Vec<u8> = (0..g.len()).map(|i| (i * 7 + 1) as u8).collect();
            let want = reference_pad(&src, &g, 0xAB);
            let mut got = vec![0u8; g.padded_len()];
            unsafe { pad_u8(src.as_ptr(), got.as_mut_ptr(), &g, 0xAB) };
            assert_eq!(got, want, "{g:?}");
            let mut back = vec![0u8; g.len()];
            unsafe { depad_u8(got.as_ptr(), back.as_mut_ptr(), &g) };
            assert_eq!(back, src, "{g:?}");

            let srcf: Vec<f32> = src.iter().map(|&b| b as f32 - 0.5).collect();
            let mut gotf = vec![0f32; g.padded_len()];
            unsafe { pad_f32(srcf.as_ptr(), gotf.as_mut_ptr(), &g, -1.0) };
            let wantf: Vec<f32> = reference_pad(&src, &g, 0xAB)
                .iter()
                .map(|&b| b as f32 - 0.5)
                .collect();
            for (i, (a, b)) in gotf.iter().zip(wantf.iter()).enumerate() {
                assert!(
                    a == b || (*a == -1.0 && *b == 0xAB as f32 - 0.5),
                    "{g:?} at {i}"
                );
            }
            let mut backf = vec![0f32; g.len()];
            unsafe { depad_f32(gotf.as_ptr(), backf.as_mut_ptr(), &g) };
            assert_eq!(backf, srcf);
        }
    }

    #[test]
    fn fused_kernels_match_composition() {
        for g in geoms() {
            let src: Vec<f32> = (0..g.len())
                .map(|i| ((i * 37) % 1001) as f32 * 0.5 - 250.0)
                .collect();
            for (t, zp) in [(QType::I8, -128), (QType::I8, 5), (QType::U8, 128)] {
                let scale = 0.75f32;
                let q: Vec<u8> = src
                    .iter()
                    .map(|&x| quantize_one(x, scale, zp, t) as u8)
                    .collect();
                let want = reference_pad(&q, &g, zp as u8);
                let mut got = vec![0u8; g.padded_len()];
                unsafe { quantize_pad(src.as_ptr(), got.as_mut_ptr(), &g, scale, zp, t) };
                assert_eq!(got, want, "{g:?} {t:?}");

                let want_f: Vec<f32> = q.iter().map(|&b| deq(b, scale, zp, t)).collect();
                let mut f = vec![0f32; g.len()];
                unsafe { depad_dequantize(got.as_ptr(), f.as_mut_ptr(), &g, scale, zp, t) };
                assert_eq!(f, want_f, "{g:?} {t:?}");

                let mut nchw = vec![0f32; g.len()];
                unsafe { depad_dequantize_nchw(got.as_ptr(), nchw.as_mut_ptr(), &g, scale, zp, t) };
                let [n, h, w, c] = g.shape;
                for y in 0..n {
                    for r in 0..h {
                        for x in 0..w {
                            for i in 0..c {
                                assert_eq!(
                                    nchw[((y * c + i) * h + r) * w + x],
                                    want_f[idx(g.shape, y, r, x, i)]
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
