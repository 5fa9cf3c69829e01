//! The tiled float32 ConvTranspose of [`crate::fused::conv_transpose`]: stride = kernel =
//! (KH, 2), no dilation or padding, so every output is exactly one tap of one input pixel.
//!
//! Each output sums `w * x` over the input channels in order from +0 (float32 multiply,
//! then add), then adds the bias (skipped when 0), then the activation: the same float32
//! operations in the same order as GEMM + col2im, so the bits do not depend on the tiling.
//!
//! Register tiles. KH = 2 with an even number (>= 4) of output channels per group (the
//! text detector's 24 -> 24): [`row_wx`], two output channels x 4 taps (two weight
//! vectors) x 5 input columns, 10 accumulators: columns 0-3 one vector load splatted by
//! shuffles, column 4 a `load32_splat`. V8 checks the bounds of every memory access (3
//! instructions each): one load instead of four cut the 24 -> 24 by 8-12% under Deno and
//! 5% under Bun (AMD Zen 4, 2026-12-04), against five `load32_splat`s, which had run it
//! about 10% faster than the tile below (tiles of 4 and 6 columns, and two input channels
//! per iteration, measured slower or equal; two input channels per iteration measured
//! 3-20% slower again with the vector load).
//! Otherwise one output channel x `2 * KH` taps x 8 input columns (two vectors, 8
//! accumulators). For KH = 2 the 4 weights of an input channel are contiguous (`[c, m, kh,
//! kw]` layout) and read as one vector, splatted by shuffles: V8 (Deno) checks the bounds
//! of every memory access, so one load and four shuffles beat four broadcast loads (about
//! 10% on the demo's ConvTranspose under Deno and Bun); 2 output channels x 4 columns, 3
//! channels, and unrolling by two input channels measured slower or equal (spills).

use crate::chain::{plane, Step};
use crate::fused::{Act, ConvT};
use crate::qdq_table::Table;

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

    /// Sums of one weight-vector tile ([`super::band_wx`]): `acc[p][v]` holds the 4 taps of
    /// output channel `2 * v` (of the block at `wp`) at column `p` of the tile at `xp`;
    /// weights 8 floats (two output channels x 4 taps) per input channel, the next
    /// `wstep` floats on; inputs the next input channel `xstep` floats on.
    #[inline(always)]
    pub unsafe fn sums_wx<const NR: usize>(
        mut xp: *const f32,
        xstep: usize,
        mut wp: *const f32,
        wstep: usize,
        cg: usize,
    ) -> [[v128; 2]; NR] {
        let mut acc = [[f32x4_splat(0.0); 2]; NR];
        for _ in 0..cg {
            let w0 = v128_load(wp as *const v128);
            let w1 = v128_load(wp.add(4) as *const v128);
            // the first 4 columns: one load, splatted by shuffles (one bounds check under V8
            // instead of four); the others: a splatting load each
            let xv = v128_load(xp as *const v128);
            for (p, a) in acc.iter_mut().enumerate() {
                let s = if p < 4 {
                    lane(xv, p)
                } else {
                    v128_load32_splat(xp.add(p) as *const u32)
                };
                a[0] = f32x4_add(a[0], f32x4_mul(w0, s));
                a[1] = f32x4_add(a[1], f32x4_mul(w1, s));
            }
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
/// `g.tiles()` holds.
pub unsafe fn tiles(
    x: *const f32,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    pack: *mut f32,
    g: &ConvT,
    act: Act,
) {
    let (isz, osz) = (g.ih * g.iw, g.oh * g.ow);
    for b in 0..g.n {
        let (xb, yb) = (x.add(b * g.c * isz), y.add(b * g.m * osz));
        band(xb, isz, w, bias, yb, osz, pack, g, g.ih, act);
    }
}

/// Rows `0..rows` of one image of a tiled ConvTranspose: input planes `xs` floats apart
/// (rows `g.iw` apart within a plane), output planes `ys` floats apart (rows `g.ow`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn band(
    x: *const f32,
    xs: usize,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    ys: usize,
    pack: *mut f32,
    g: &ConvT,
    rows: usize,
    act: Act,
) {
    if g.kh == 2 {
        band_kh::<2>(x, xs, w, bias, y, ys, pack, g, rows, act)
    } else {
        band_kh::<1>(x, xs, w, bias, y, ys, pack, g, rows, act)
    }
}

#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(unused_variables)
)]
#[allow(clippy::too_many_arguments)]
#[inline(never)] // one wasm function per KH: inlined into its callers, JSC (Bun) ran it about 1.5x slower
unsafe fn band_kh<const KH: usize>(
    x: *const f32,
    isz: usize,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    osz: usize,
    pack: *mut f32,
    g: &ConvT,
    rows: usize,
    act: Act,
) {
    let cg = g.c / g.group;
    let mg = g.m / g.group;
    let ks = KH * 2;
    // Sigmoid runs over each finished row pair in a pass of its own: its 15 constants live
    // across the sums slowed JSC (Bun) down by about 20% (spills in the hot loop).
    let (act, sigmoid) = match act {
        Act::Sigmoid => (Act::None, true),
        a => (a, false),
    };
    {
        for gi in 0..g.group {
            let xb = x.add(gi * cg * isz);
            let bias_of = |oc: usize| {
                if bias.is_null() {
                    0.0
                } else {
                    *bias.add(gi * mg + oc)
                }
            };
            for i in 0..rows {
                #[allow(unused_mut)]
                let mut j = 0usize;
                #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                {
                    use core::arch::wasm32::*;
                    if KH == 2 && mg % 2 == 0 && mg >= 4 {
                        let bg = if bias.is_null() {
                            bias
                        } else {
                            bias.add(gi * mg)
                        };
                        j = row_wx(
                            xb.add(i * g.iw),
                            isz,
                            w.add(gi * cg * mg * ks),
                            bg,
                            y.add(gi * mg * osz + i * KH * g.ow),
                            osz,
                            pack,
                            g.iw,
                            g.ow,
                            cg,
                            mg,
                            act,
                        );
                    }
                    // pack the row's full tiles: pack[(tile * cg + ic) * 8 + q] = x[ic, i, tile * 8 + q],
                    // so the sums below read 32 contiguous bytes per input channel (the planes
                    // are a multiple of 4 KiB apart in the source, which aliases in the L1).
                    // With few output channels each input is read once or twice: read it in place.
                    let packed = mg >= 4 && j == 0;
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
                            crate::fused::simd::act4_cheap(act, t)
                        };
                        let (v0, v1) = (fin(v0), fin(v1));
                        let yr = y.add((gi * mg + oc) * osz + (i * KH + a) * g.ow + 2 * col);
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
                        let yb = y.add((gi * mg + oc) * osz);
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
                if sigmoid {
                    for oc in 0..mg {
                        let r = y.add((gi * mg + oc) * osz + i * KH * g.ow);
                        crate::numeric::sigmoid(r, r, KH * g.ow);
                    }
                }
            }
        }
    }
}

/// Columns per register tile of [`row_wx`] (then tiles of 4, then single columns).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const NR_WX: usize = 5;

/// One input row of a tiled ConvTranspose with KH = 2 and an even number (>= 4) of output
/// channels per group, as weight-vector tiles: two output channels x 4 taps (8 weights,
/// two vectors, contiguous in the `[c, m, 2, 2]` layout) x `NR_WX` input columns, each
/// input splatted (the first 4 from one vector load by shuffles, the fifth by
/// `load32_splat`): 10 accumulators. Each accumulator lane is one output, summed over the input channels in order
/// from +0 as in [`simd::sums`], so the bits are the same. `x` is row `i` of input plane
/// 0 (planes `isz` floats apart), `y` row `2 i` of output plane 0 (planes `osz` apart,
/// rows `ow`); `w` and `bias` (null or `mg` values) of the group. The row is first copied
/// to `pack` (`cg * iw` floats, planes `iw` apart: no L1 aliasing between planes a
/// multiple of 4 KiB apart). Returns the columns done (the rest: one at a time).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn row_wx(
    x: *const f32,
    isz: usize,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    osz: usize,
    pack: *mut f32,
    iw: usize,
    ow: usize,
    cg: usize,
    mg: usize,
    act: Act,
) -> usize {
    use core::arch::wasm32::*;
    for ic in 0..cg {
        let (src, dst) = (x.add(ic * isz), pack.add(ic * iw));
        let mut j = 0;
        while j + 4 <= iw {
            v128_store(
                dst.add(j) as *mut v128,
                v128_load(src.add(j) as *const v128),
            );
            j += 4;
        }
        while j < iw {
            *dst.add(j) = *src.add(j);
            j += 1;
        }
    }
    let mut j = 0;
    while j + NR_WX <= iw {
        tile_wx::<NR_WX>(pack.add(j), iw, w, bias, y.add(2 * j), osz, ow, cg, mg, act);
        j += NR_WX;
    }
    while j + 4 <= iw {
        tile_wx::<4>(pack.add(j), iw, w, bias, y.add(2 * j), osz, ow, cg, mg, act);
        j += 4;
    }
    j
}

/// `NR` columns of [`row_wx`] for every output channel: bias, activation, then lanes 0-1
/// (taps (0, 0), (0, 1)) of columns `p`, `p + 1` to output row 0 and lanes 2-3 to row 1.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn tile_wx<const NR: usize>(
    x: *const f32,
    xstep: usize,
    w: *const f32,
    bias: *const f32,
    y: *mut f32,
    osz: usize,
    ow: usize,
    cg: usize,
    mg: usize,
    act: Act,
) {
    use core::arch::wasm32::*;
    let mut oc = 0;
    while oc < mg {
        let acc = simd::sums_wx::<NR>(x, xstep, w.add(oc * 4), mg * 4, cg);
        for v in 0..2 {
            let o = oc + v;
            let bv = if bias.is_null() { 0.0 } else { *bias.add(o) };
            let bb = f32x4_splat(bv);
            let fin = |t: v128| {
                let t = if bv != 0.0 { f32x4_add(t, bb) } else { t };
                crate::fused::simd::act4_cheap(act, t)
            };
            let r0 = y.add(o * osz);
            let r1 = r0.add(ow);
            let mut p = 0;
            while p + 2 <= NR {
                let (a, b) = (fin(acc[p][v]), fin(acc[p + 1][v]));
                v128_store(
                    r0.add(2 * p) as *mut v128,
                    i32x4_shuffle::<0, 1, 4, 5>(a, b),
                );
                v128_store(
                    r1.add(2 * p) as *mut v128,
                    i32x4_shuffle::<2, 3, 6, 7>(a, b),
                );
                p += 2;
            }
            if NR % 2 == 1 {
                let a = fin(acc[NR - 1][v]);
                v128_store64_lane::<0>(a, r0.add(2 * (NR - 1)) as *mut u64);
                v128_store64_lane::<1>(a, r1.add(2 * (NR - 1)) as *mut u64);
            }
        }
        oc += 2;
    }
}

/// Whether [`pair`] runs `g1` then `g2`: both tiled, the second reading the first's output.
pub fn pairs(g1: &ConvT, g2: &ConvT) -> bool {
    g1.tiles() && g2.tiles() && g2.n == g1.n && g2.c == g1.m && g2.ih == g1.oh && g2.iw == g1.ow
}

/// Floats of scratch [`pair`] needs: one band of the first's output (all its channels,
/// `g1.kh` rows) and the larger of the two packed rows.
pub fn pair_scratch_len(g1: &ConvT, g2: &ConvT) -> usize {
    g1.m * g1.kh * g1.ow + g1.scratch_len().max(g2.scratch_len())
}

/// Two tiled ConvTransposes back to back (see [`pairs`]), streamed by input rows of the
/// first: its `g1.kh` output rows of every channel stay in `scratch` (in the L1/L2 cache,
/// never written out in full and read back), and the second turns them into
/// `g1.kh * g2.kh` rows of `y`. Each output band then goes through its element-wise chain
/// (`chain1`, `chain2`: per-channel operands by output channel, see [`plane`]). Each output is the same float32 operations in the same
/// order as running the two one after the other, so the bits are the same.
///
/// # Safety
/// Pointers valid for the sizes the geometries imply, `scratch` for
/// [`pair_scratch_len`] floats; `y` and `scratch` overlap nothing else; `pairs(g1, g2)`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn pair(
    x: *const f32,
    w1: *const f32,
    b1: *const f32,
    act1: Act,
    chain1: &[Step],
    g1: &ConvT,
    w2: *const f32,
    b2: *const f32,
    act2: Act,
    chain2: &[Step],
    g2: &ConvT,
    y: *mut f32,
    scratch: *mut f32,
) {
    let mid = scratch;
    let ms = g1.kh * g1.ow;
    let pack = scratch.add(g1.m * ms);
    let (isz, osz) = (g1.ih * g1.iw, g2.oh * g2.ow);
    let t1 = Table::new(chain1, g1.m, g1.n * g1.m * g1.oh * g1.ow);
    let t2 = Table::new(chain2, g2.m, g2.n * g2.m * osz);
    for b in 0..g1.n {
        for i in 0..g1.ih {
            let xi = x.add(b * g1.c * isz + i * g1.iw);
            band(xi, isz, w1, b1, mid, ms, pack, g1, 1, act1);
            // (an empty chain has no table: nothing to do, not even the calls)
            if !chain1.is_empty() {
                for oc in 0..g1.m {
                    plane(chain1, t1.as_ref(), mid.add(oc * ms), ms, oc);
                }
            }
            let yi = y.add(b * g2.m * osz + i * g1.kh * g2.kh * g2.ow);
            band(mid, ms, w2, b2, yi, osz, pack, g2, g1.kh, act2);
            if !chain2.is_empty() {
                for oc in 0..g2.m {
                    plane(
                        chain2,
                        t2.as_ref(),
                        yi.add(oc * osz),
                        g1.kh * g2.kh * g2.ow,
                        oc,
                    );
                }
            }
        }
    }
}
