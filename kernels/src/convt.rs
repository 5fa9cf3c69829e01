//! The tiled float32 ConvTranspose of [`crate::fused::conv_transpose`]: stride = kernel =
//! (KH, 2), no dilation or padding, so every output is exactly one tap of one input pixel.
//!
//! Each output sums `w * x` over the input channels in order from +0 (float32 multiply,
//! then add), then adds the bias (skipped when 0), then the activation: the same float32
//! operations in the same order as GEMM + col2im, so the bits do not depend on the tiling.
//!
//! Register tile: one output channel x `2 * KH` taps x 8 input columns (two vectors, 8
//! accumulators). For KH = 2 the 4 weights of an input channel are contiguous (`[c, m, kh,
//! kw]` layout) and read as one vector, splatted by shuffles: V8 (Deno) checks the bounds
//! of every memory access, so one load and four shuffles beat four broadcast loads (about
//! 10% on the demo's ConvTranspose under Deno and Bun); 2 output channels x 4 columns, 3
//! channels, and unrolling by two input channels measured slower or equal (spills).

use crate::fused::{Act, ConvT};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Lane `l` of `v` in all four lanes.
    #[inline(always)]
    pub fn lane(v: v128, l: usize) -> v128 {
        match l & 3 {
            0 => i32x4_shuffle::<0, 0, 0, 0>(v, v),
            1 => i32x4_shuffle::<1, 1, 1, 1>(v, v),
            2 => i32x4_shuffle::<2, 2, 2, 2>(v, v),
            _ => i32x4_shuffle::<3, 3, 3, 3>(v, v),
        }
    }

    /// Sums of one register tile over `cg` input channels: `acc[o][a][e][v]` for output
    /// channel `o`, tap `(a, e)`, columns `4v..4v+4` of the tile at `xp` (next input
    /// channel `step` floats on); weights at `wp` (`OCB * KH * 2` floats per input channel,
    /// next input channel `wstep` floats on).
    /// Adds the products of one input channel to `acc` (see [`sums`]).
    #[inline(always)]
    unsafe fn step<const KH: usize, const OCB: usize, const CV: usize, const SHUF: bool>(
        acc: &mut [[[[v128; CV]; 2]; KH]; OCB],
        xp: *const f32,
        wp: *const f32,
    ) {
        let mut xv = [f32x4_splat(0.0); CV];
        for (v, x) in xv.iter_mut().enumerate() {
            *x = v128_load(xp.add(4 * v) as *const v128);
        }
        let mut wv = [f32x4_splat(0.0); 2];
        if SHUF {
            for (k, w) in wv.iter_mut().enumerate().take((OCB * KH * 2).div_ceil(4)) {
                *w = v128_load(wp.add(4 * k) as *const v128);
            }
        }
        for (o, acc_o) in acc.iter_mut().enumerate() {
            for (a, acc_a) in acc_o.iter_mut().enumerate() {
                for (e, acc_e) in acc_a.iter_mut().enumerate() {
                    let k = (o * KH + a) * 2 + e;
                    let ws = if SHUF {
                        lane(wv[k / 4], k % 4)
                    } else {
                        v128_load32_splat(wp.add(k) as *const u32)
                    };
                    for (v, s) in acc_e.iter_mut().enumerate() {
                        *s = f32x4_add(*s, f32x4_mul(ws, xv[v]));
                    }
                }
            }
        }
    }

    /// Sums of one register tile over `cg` input channels: `acc[o][a][e][v]` for output
    /// channel `o`, tap `(a, e)`, columns `4v..4v+4` of the tile at `xp` (next input
    /// channel `step` floats on); weights at `wp` (`OCB * KH * 2` floats per input channel,
    /// next input channel `wstep` floats on).
    #[inline(always)]
    pub unsafe fn sums<const KH: usize, const OCB: usize, const CV: usize, const SHUF: bool>(
        mut xp: *const f32,
        xstep: usize,
        mut wp: *const f32,
        wstep: usize,
        cg: usize,
    ) -> [[[[v128; CV]; 2]; KH]; OCB] {
        // (unrolling by two input channels spills accumulators under V8: slower)
        let mut acc = [[[[f32x4_splat(0.0); CV]; 2]; KH]; OCB];
        for _ in 0..cg {
            step::<KH, OCB, CV, SHUF>(&mut acc, xp, wp);
            xp = xp.add(xstep);
            wp = wp.add(wstep);
        }
        acc
    }
}

/// The tiled ConvTranspose (see the module doc); `pack` holds one packed input row
/// ([`ConvT::scratch_len`] floats).
///
/// # Safety
/// Pointers valid for the sizes the geometry implies; `y` does not overlap the others;
/// `g.tiles()` holds with `g.kh == KH`.
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(unused_variables)
)]
pub unsafe fn tiles<const KH: usize>(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    pack: *mut f32,
    g: &ConvT,
    act: Act,
) {
    let cg = g.c / g.group;
    let mg = g.m / g.group;
    let ks = KH * 2;
    let isz = g.ih * g.iw;
    let osz = g.oh * g.ow;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let ek = crate::fused::simd::ExpK::new();
    for b in 0..g.n {
        for gi in 0..g.group {
            let xb = x.add((b * g.c + gi * cg) * isz);
            let bias_of = |oc: usize| {
                if bias.is_null() {
                    0.0
                } else {
                    *bias.add(gi * mg + oc)
                }
            };
            for i in 0..g.ih {
                #[allow(unused_mut)]
                let mut j = 0usize;
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                {
                    use core::arch::wasm32::*;
                    // pack the row's full tiles: pack[(tile * cg + ic) * 8 + q] = x[ic, i, tile * 8 + q],
                    // so the sums below read 32 contiguous bytes per input channel (the planes
                    // are a multiple of 4 KiB apart in the source, which aliases in the L1).
                    // With few output channels each input is read once or twice: read it in place.
                    let packed = mg >= 4;
                    let ntiles = if packed { g.iw / 8 } else { 0 };
                    for ic in 0..cg {
                        let src = xb.add(ic * isz + i * g.iw);
                        for t in 0..ntiles {
                            let d = pack.add((t * cg + ic) * 8);
                            v128_store(d as *mut v128, v128_load(src.add(t * 8) as *const v128));
                            v128_store(
                                d.add(4) as *mut v128,
                                v128_load(src.add(t * 8 + 4) as *const v128),
                            );
                        }
                    }
                    // one output row segment: taps (a, 0) and (a, 1) of 4 columns interleaved
                    let put = |oc: usize, a: usize, col: usize, v0: v128, v1: v128| {
                        let bv = bias_of(oc);
                        let bb = f32x4_splat(bv);
                        let fin = |t: v128| {
                            let t = if bv != 0.0 { f32x4_add(t, bb) } else { t };
                            crate::fused::simd::act4(act, t, &ek)
                        };
                        let (v0, v1) = (fin(v0), fin(v1));
                        let yr =
                            y.add((b * g.m + gi * mg + oc) * osz + (i * KH + a) * g.ow + 2 * col);
                        v128_store(yr as *mut v128, i32x4_shuffle::<0, 4, 1, 5>(v0, v1));
                        v128_store(yr.add(4) as *mut v128, i32x4_shuffle::<2, 6, 3, 7>(v0, v1));
                    };
                    while j + 8 <= g.iw {
                        let (tile, step) = if packed {
                            (pack.add((j / 8) * cg * 8) as *const f32, 8)
                        } else {
                            (xb.add(i * g.iw + j), isz)
                        };
                        let wb = w.add(gi * cg * mg * ks);
                        for oc in 0..mg {
                            // KH = 2: the 4 weights of an input channel in one load, splatted
                            // by shuffles; KH = 1: 2 weights, read as broadcasts
                            let acc = if KH == 1 {
                                simd::sums::<KH, 1, 2, false>(
                                    tile,
                                    step,
                                    wb.add(oc * ks),
                                    mg * ks,
                                    cg,
                                )
                            } else {
                                simd::sums::<KH, 1, 2, true>(
                                    tile,
                                    step,
                                    wb.add(oc * ks),
                                    mg * ks,
                                    cg,
                                )
                            };
                            for (a, r) in acc[0].iter().enumerate() {
                                for h in 0..2 {
                                    put(oc, a, j + 4 * h, r[0][h], r[1][h]);
                                }
                            }
                        }
                        j += 8;
                    }
                }
                // tail columns: the same sums, one column at a time
                while j < g.iw {
                    for oc in 0..mg {
                        let bv = bias_of(oc);
                        let yb = y.add((b * g.m + gi * mg + oc) * osz);
                        for a in 0..KH {
                            for e in 0..2 {
                                let mut s = 0.0f32;
                                for ic in 0..cg {
                                    s += *w.add(((gi * cg + ic) * mg + oc) * ks + a * 2 + e)
                                        * *xb.add(ic * isz + i * g.iw + j);
                                }
                                if bv != 0.0 {
                                    s += bv;
                                }
                                *yb.add((i * KH + a) * g.ow + 2 * j + e) = act.one(s);
                            }
                        }
                    }
                    j += 1;
                }
            }
        }
    }
}
