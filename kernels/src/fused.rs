//! Fused float32 kernels for the ONNX graph runner: element-wise chains in one pass, and
//! ConvTranspose (2-D) with its bias and activation, without a TypeScript scatter loop.
//!
//! Exactness: every step is the float32 operation the unfused op computes, in the same
//! order, so a fused chain gives the same bits as running its ops one by one:
//! - add / sub / mul / div: one IEEE float32 operation (round to nearest even);
//! - relu: `x > 0 ? x : +0` (NaN and -0 give +0, as the TypeScript loop `v > 0 ? v : 0`);
//! - clip: `x < lo ? lo : x`, then `x > hi ? hi : x` (NaN stays NaN; `pmax`/`pmin` are
//!   exactly these selects);
//! - sigmoid: `1 / (1 + exp(-x))` with [`crate::numeric`]'s exp, as [`crate::numeric::sigmoid`].
//!
//! The element-wise chains that apply these steps in one pass are in [`crate::chain`].
//!
//! ConvTranspose sums `w * x` over input channels in order starting from +0 (float32
//! multiply, then add), then adds the bias, then applies the activation: the order of
//! [`crate::numeric::gemm`] followed by the col2im adds into a zeroed output.

use crate::numeric::{exp_one, gemm};

/// Activation applied by [`conv_transpose`] after the bias.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    /// None.
    None,
    /// `x > 0 ? x : 0`.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `min(max(x, lo), hi)` with the selects above.
    Clip(f32, f32),
}

impl Act {
    /// Decodes `(code, lo bits, hi bits)`: 0 none, 1 relu, 2 sigmoid, 3 clip.
    pub fn from_code(code: u32, lo: u32, hi: u32) -> Option<Act> {
        match code {
            0 => Some(Act::None),
            1 => Some(Act::Relu),
            2 => Some(Act::Sigmoid),
            3 => Some(Act::Clip(f32::from_bits(lo), f32::from_bits(hi))),
            _ => None,
        }
    }

    #[inline(always)]
    pub(crate) fn one(self, v: f32) -> f32 {
        match self {
            Act::None => v,
            Act::Relu => relu_one(v),
            Act::Sigmoid => 1.0 / (1.0 + exp_one(-v)),
            Act::Clip(lo, hi) => clip_one(v, lo, hi),
        }
    }
}

#[inline(always)]
pub(crate) fn relu_one(v: f32) -> f32 {
    if v > 0.0 {
        v
    } else {
        0.0
    }
}

#[inline(always)]
pub(crate) fn clip_one(v: f32, lo: f32, hi: f32) -> f32 {
    let v = if v < lo { lo } else { v };
    if v > hi {
        hi
    } else {
        v
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use super::Act;
    pub use crate::numeric::simd::{sigmoid4, ExpK};
    use core::arch::wasm32::*;

    #[inline(always)]
    pub fn relu4(v: v128) -> v128 {
        v128_and(v, f32x4_gt(v, f32x4_splat(0.0)))
    }

    #[inline(always)]
    pub fn clip4(v: v128, lo: f32, hi: f32) -> v128 {
        // pmax(v, lo) = v < lo ? lo : v; pmin(v, hi) = hi < v ? hi : v
        f32x4_pmin(f32x4_pmax(v, f32x4_splat(lo)), f32x4_splat(hi))
    }

    #[inline(always)]
    pub fn act4(a: Act, v: v128, k: &ExpK) -> v128 {
        match a {
            Act::Sigmoid => sigmoid4(v, k),
            a => act4_cheap(a, v),
        }
    }

    /// [`act4`] for the activations without constants (None, Relu, Clip); Sigmoid gives `v`.
    #[inline(always)]
    pub fn act4_cheap(a: Act, v: v128) -> v128 {
        match a {
            Act::None | Act::Sigmoid => v,
            Act::Relu => relu4(v),
            Act::Clip(lo, hi) => clip4(v, lo, hi),
        }
    }
}

/// ConvTranspose geometry (2-D, NCHW; weights `[c, m / group, kh, kw]`).
#[derive(Clone, Copy, Debug)]
pub struct ConvT {
    pub n: usize,
    pub c: usize,
    pub m: usize,
    pub group: usize,
    pub ih: usize,
    pub iw: usize,
    pub oh: usize,
    pub ow: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub pt: usize,
    pub pl: usize,
}

impl ConvT {
    /// Reads 16 u32: n c m group ih iw oh ow kh kw sh sw dh dw pt pl.
    pub fn read(p: &[u32]) -> ConvT {
        let u = |i: usize| p[i] as usize;
        ConvT {
            n: u(0),
            c: u(1),
            m: u(2),
            group: u(3),
            ih: u(4),
            iw: u(5),
            oh: u(6),
            ow: u(7),
            kh: u(8),
            kw: u(9),
            sh: u(10),
            sw: u(11),
            dh: u(12),
            dw: u(13),
            pt: u(14),
            pl: u(15),
        }
    }

    /// Each output gets exactly one tap: stride = kernel (width 2), no dilation or padding.
    pub(crate) fn tiles(&self) -> bool {
        self.kw == 2
            && self.sw == 2
            && (self.kh == 1 || self.kh == 2)
            && self.sh == self.kh
            && self.dh == 1
            && self.dw == 1
            && self.pt == 0
            && self.pl == 0
            && self.oh == self.ih * self.sh
            && self.ow == self.iw * 2
    }

    /// Floats of scratch [`conv_transpose`] needs (one packed input row on the tiled path).
    pub fn scratch_len(&self) -> usize {
        if self.tiles() {
            (self.c / self.group.max(1)) * self.iw
        } else {
            (self.m / self.group.max(1)) * self.kh * self.kw * self.ih * self.iw
        }
    }
}

/// ConvTranspose with bias (`bias` may be null) and activation. When stride equals the
/// kernel (width 2, height 1 or 2) every output is one tap and the kernel writes outputs
/// directly (register tiles of input columns x taps, see [`crate::convt`]; `col` holds
/// one packed input row); otherwise
/// per group a GEMM `W^T X` into `col` ([`ConvT::scratch_len`] floats), then col2im adds
/// into the zeroed output, bias and activation.
///
/// # Safety
/// Pointers valid for the sizes the geometry implies; `y` does not overlap the others.
pub unsafe fn conv_transpose(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    col: *mut f32,
    g: &ConvT,
    act: Act,
) {
    if g.tiles() {
        crate::convt::tiles(x, w, bias, y, col, g, act);
        return;
    }
    let cg = g.c / g.group;
    let mg = g.m / g.group;
    let ks = g.kh * g.kw;
    let isz = g.ih * g.iw;
    let osz = g.oh * g.ow;
    let rows = mg * ks;
    for b in 0..g.n {
        for gi in 0..g.group {
            let xo = x.add((b * g.c + gi * cg) * isz);
            let wo = w.add(gi * cg * rows);
            // col[(oc, tap), p] = sum_ic w[ic, (oc, tap)] x[ic, p]
            gemm(wo, 1, rows, xo, isz, col, rows, isz, cg, false);
            for oc in 0..mg {
                let yb = y.add((b * g.m + gi * mg + oc) * osz);
                for i in 0..osz {
                    *yb.add(i) = 0.0;
                }
                for a in 0..g.kh {
                    for e in 0..g.kw {
                        let t = col.add((oc * ks + a * g.kw + e) * isz);
                        for i in 0..g.ih {
                            let r = (i * g.sh + a * g.dh) as isize - g.pt as isize;
                            if r < 0 || r >= g.oh as isize {
                                continue;
                            }
                            let yr = yb.add(r as usize * g.ow);
                            for j in 0..g.iw {
                                let q = (j * g.sw + e * g.dw) as isize - g.pl as isize;
                                if q >= 0 && q < g.ow as isize {
                                    *yr.add(q as usize) += *t.add(i * g.iw + j);
                                }
                            }
                        }
                    }
                }
                let bv = if bias.is_null() {
                    0.0
                } else {
                    *bias.add(gi * mg + oc)
                };
                epilogue(yb, osz, bv, act);
            }
        }
    }
}

/// `y = act(y + bias)` over one channel plane (the add skipped when the bias is 0, as the
/// unfused op does).
unsafe fn epilogue(y: *mut f32, len: usize, bv: f32, act: Act) {
    if bv == 0.0 && act == Act::None {
        return;
    }
    #[allow(unused_mut)]
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let b = f32x4_splat(bv);
        let k = simd::ExpK::new();
        while i + 4 <= len {
            let mut v = v128_load(y.add(i) as *const v128);
            if bv != 0.0 {
                v = f32x4_add(v, b);
            }
            v128_store(y.add(i) as *mut v128, simd::act4(act, v, &k));
            i += 4;
        }
    }
    while i < len {
        let mut v = *y.add(i);
        if bv != 0.0 {
            v += bv;
        }
        *y.add(i) = act.one(v);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{chain, Operand, Step};

    /// The unfused reference: GEMM + col2im in a zeroed output, then bias, then act.
    fn reference(x: &[f32], w: &[f32], bias: &[f32], g: &ConvT, act: Act) -> Vec<f32> {
        let mut y = vec![0.0f32; g.n * g.m * g.oh * g.ow];
        let (cg, mg) = (g.c / g.group, g.m / g.group);
        for b in 0..g.n {
            for gi in 0..g.group {
                for oc in 0..mg {
                    for a in 0..g.kh {
                        for e in 0..g.kw {
                            for i in 0..g.ih {
                                for j in 0..g.iw {
                                    let r = (i * g.sh + a * g.dh) as isize - g.pt as isize;
                                    let q = (j * g.sw + e * g.dw) as isize - g.pl as isize;
                                    if r < 0 || q < 0 || r >= g.oh as isize || q >= g.ow as isize {
                                        continue;
                                    }
                                    let mut s = 0.0f32;
                                    for ic in 0..cg {
                                        s += w[((gi * cg + ic) * mg + oc) * g.kh * g.kw
                                            + a * g.kw
                                            + e]
                                            * x[(b * g.c + gi * cg + ic) * g.ih * g.iw
                                                + i * g.iw
                                                + j];
                                    }
                                    y[((b * g.m + gi * mg + oc) * g.oh + r as usize) * g.ow
                                        + q as usize] += s;
                                }
                            }
                        }
                    }
                    let bv = bias[gi * mg + oc];
                    let base = (b * g.m + gi * mg + oc) * g.oh * g.ow;
                    for v in &mut y[base..base + g.oh * g.ow] {
                        if bv != 0.0 {
                            *v += bv;
                        }
                        *v = act.one(*v);
                    }
                }
            }
        }
        y
    }

    fn data(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn conv_transpose_matches_reference_bits() {
        let shapes = [
            (1, 3, 4, 1, 5, 9, 2, 2, 2, 2, 1, 1, 0, 0),
            (1, 2, 3, 1, 3, 4, 1, 2, 1, 2, 1, 1, 0, 0),
            (2, 4, 2, 2, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1),
            (1, 2, 2, 1, 3, 3, 3, 2, 1, 2, 2, 1, 0, 0),
        ];
        for &(n, c, m, group, ih, iw, kh, kw, sh, sw, dh, dw, pt, pl) in &shapes {
            let oh = (ih - 1) * sh + (kh - 1) * dh + 1 - 2 * pt;
            let ow = (iw - 1) * sw + (kw - 1) * dw + 1 - 2 * pl;
            let g = ConvT {
                n,
                c,
                m,
                group,
                ih,
                iw,
                oh,
                ow,
                kh,
                kw,
                sh,
                sw,
                dh,
                dw,
                pt,
                pl,
            };
            let x = data(n * c * ih * iw, 1);
            let w = data(c * (m / group) * kh * kw, 2);
            let bias = data(m, 3);
            for act in [Act::None, Act::Relu, Act::Sigmoid, Act::Clip(-0.5, 0.5)] {
                let want = reference(&x, &w, &bias, &g, act);
                let mut y = vec![7.0f32; want.len()];
                let mut col = vec![0.0f32; g.scratch_len().max(1)];
                unsafe {
                    conv_transpose(
                        x.as_ptr(),
                        w.as_ptr(),
                        bias.as_ptr(),
                        y.as_mut_ptr(),
                        col.as_mut_ptr(),
                        &g,
                        act,
                    )
                };
                for (k, (a, b)) in y.iter().zip(&want).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{:?} {:?} at {}",
                        (n, c, m, kh, kw),
                        act,
                        k
                    );
                }
            }
        }
    }

    #[test]
    fn chain_is_the_ops_one_by_one() {
        let x = data(2 * 3 * 5, 4);
        let t = data(x.len(), 5);
        let ch = [0.5f32, -2.0, 3.0];
        let steps = [
            Step::Binary(0, Operand::Channel(ch.as_ptr())),
            Step::Act(Act::Relu),
            Step::Binary(2, Operand::Tensor(t.as_ptr())),
            Step::Binary(5, Operand::Scalar(1.5)),
            Step::Act(Act::Clip(-1.0, 1.0)),
            Step::Act(Act::Sigmoid),
        ];
        let mut y = vec![0.0f32; x.len()];
        unsafe { chain(x.as_ptr(), y.as_mut_ptr(), x.len(), 5, 3, &steps) };
        for i in 0..x.len() {
            let c = ch[(i / 5) % 3];
            let v = clip_one(1.5 / (relu_one(x[i] + c) * t[i]), -1.0, 1.0);
            let v = 1.0 / (1.0 + exp_one(-v));
            assert_eq!(y[i].to_bits(), v.to_bits(), "at {i}");
        }
    }
}
