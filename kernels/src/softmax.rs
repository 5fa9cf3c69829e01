//! Softmax of the ONNX graph runner (float32): along the last axis ([`softmax`]) or along a
//! middle axis with lanes over the axes after it ([`softmax_strided`]).
//!
//! Semantics, per line of `cols` values `x` (the one definition; every path gives these
//! bits):
//! - `m` = the largest `x`; `e[i] = exp(x[i] - m)` ([`crate::numeric::exp_one`], lane for
//!   lane the same as the SIMD `exp4`, here `exp4_below_hi`: `x - m` is at most 0 or NaN);
//!   `y[i] = e[i] / sum` (one float32 division).
//! - `sum` of a last-axis line: with `v = cols / 4` full vectors, four partial sums
//!   `acc[j] = (((0 + e[j]) + e[4 + j]) + ...) + e[4 (v - 1) + j]` (in float32, in that
//!   order), then `(acc[0] + acc[1]) + (acc[2] + acc[3])`, then the `cols % 4` last values
//!   added one by one in order. A strided line sums in order of the axis.
//! - A NaN anywhere in a line makes the whole line NaN (its `e` is NaN, so `sum` is NaN);
//!   the sign of a zero `m` changes no result (`x - 0` and `x - (-0)` differ only for
//!   `x = ±0`, where `exp` gives 1 either way), so `m` may be found in any order.
//!
//! [`softmax_then`] applies element-wise chain steps to each block of rows right after it
//! (the QDQ graphs' quantize-dequantize of the probabilities), in the cache.
//!
//! Rows of at most [`BLOCK_COLS`] values, a multiple of 4, go four at a time: the maxima
//! and the partial sums of four rows are transposed (4x4, XNNPACK-style shuffles) so that
//! each row's lanes reduce with vertical operations, in the order written above.

use crate::chain::{self, Step};
use crate::numeric::exp_one;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::numeric::simd;
use crate::qdq_table::Table;

/// Longest row (a multiple of 4) that takes the four-rows path of [`softmax`].
pub const BLOCK_COLS: usize = 1024;

/// Softmax along the last axis: `rows` rows of `cols` floats (may be in place).
///
/// # Safety
/// Valid for `rows * cols` floats each.
pub unsafe fn softmax(src: *const f32, dst: *mut f32, rows: usize, cols: usize) {
    softmax_then(src, dst, rows, cols, &[]);
}

/// [`softmax`], then the element-wise `steps` (scalar operands, activations, qdq: no
/// per-channel or tensor operand) on each block of rows while it is in the L1 cache: the
/// bits of [`softmax`] followed by [`crate::chain::chain`], one pass over memory instead
/// of two.
///
/// # Safety
/// As [`softmax`]; `steps` without per-channel or tensor operands.
pub unsafe fn softmax_then(
    src: *const f32,
    dst: *mut f32,
    rows: usize,
    cols: usize,
    steps: &[Step],
) {
    if steps.is_empty() || cols == 0 {
        return softmax_rows(src, dst, rows, cols);
    }
    let table = Table::new(steps, 1, rows * cols);
    // blocks of about one chain strip, a multiple of 4 rows
    let block = ((chain::STRIP / cols) & !3).max(4);
    let mut r = 0usize;
    while r < rows {
        let n = block.min(rows - r);
        softmax_rows(src.add(r * cols), dst.add(r * cols), n, cols);
        chain::plane(steps, table.as_ref(), dst.add(r * cols), n * cols, 0);
        r += n;
    }
}

/// [`softmax`] of `rows` rows.
#[inline(always)]
pub(crate) unsafe fn softmax_rows(src: *const f32, dst: *mut f32, rows: usize, cols: usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let k = simd::ExpK::new();
    #[allow(unused_mut)]
    let mut r = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if cols >= 4 && cols % 4 == 0 && cols <= BLOCK_COLS {
        while r + 4 <= rows {
            v::rows4(src.add(r * cols), dst.add(r * cols), cols, &k);
            r += 4;
        }
    }
    while r < rows {
        let s = src.add(r * cols);
        let d = dst.add(r * cols);
        #[allow(unused_mut)]
        let mut i = 0usize;
        #[allow(unused_mut)]
        let mut m = f32::NEG_INFINITY;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            if cols >= 4 {
                let mut mv = v128_load(s as *const v128);
                i = 4;
                while i + 4 <= cols {
                    mv = f32x4_pmax(mv, v128_load(s.add(i) as *const v128));
                    i += 4;
                }
                m = max_one(m, f32x4_extract_lane::<0>(mv));
                m = max_one(m, f32x4_extract_lane::<1>(mv));
                m = max_one(m, f32x4_extract_lane::<2>(mv));
                m = max_one(m, f32x4_extract_lane::<3>(mv));
            }
        }
        while i < cols {
            m = max_one(m, *s.add(i));
            i += 1;
        }
        #[allow(unused_assignments)]
        let mut sum = 0f32;
        let mut i = 0usize;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            let mv = f32x4_splat(m);
            let mut acc = f32x4_splat(0.0);
            while i + 4 <= cols {
                let e = simd::exp4_below_hi(f32x4_sub(v128_load(s.add(i) as *const v128), mv), &k);
                v128_store(d.add(i) as *mut v128, e);
                acc = f32x4_add(acc, e);
                i += 4;
            }
            sum = f32x4_extract_lane::<0>(acc)
                + f32x4_extract_lane::<1>(acc)
                + (f32x4_extract_lane::<2>(acc) + f32x4_extract_lane::<3>(acc));
        }
        while i < cols {
            let e = exp_one(*s.add(i) - m);
            *d.add(i) = e;
            sum += e;
            i += 1;
        }
        let mut i = 0usize;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            let sv = f32x4_splat(sum);
            while i + 4 <= cols {
                v128_store(
                    d.add(i) as *mut v128,
                    f32x4_div(v128_load(d.add(i) as *const v128), sv),
                );
                i += 4;
            }
        }
        while i < cols {
            *d.add(i) /= sum;
            i += 1;
        }
        r += 1;
    }
}

/// The running maximum's step: `v` replaces `m` when larger or NaN.
#[inline(always)]
fn max_one(m: f32, v: f32) -> f32 {
    if v > m || v.is_nan() {
        v
    } else {
        m
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod v {
    use crate::numeric::simd::{exp4_below_hi, ExpK};
    use core::arch::wasm32::*;

    /// Loads four rows of `cols` floats (a multiple of 4) at `s`, `cols` apart, into `buf`
    /// transposed (4x4 shuffles): `buf[c]` holds channel `c` of the four rows. Returns the
    /// rows' maxima (four running maxima, one per lane of the loaded vectors: the maximum of
    /// a line may be found in any order, see the module).
    #[inline(always)]
    pub(crate) unsafe fn load4(s: *const f32, cols: usize, buf: *mut v128) -> v128 {
        let mut mx = [f32x4_splat(f32::NEG_INFINITY); 4];
        let mut c = 0usize;
        while c < cols {
            let t = tr4(
                v128_load(s.add(c) as *const v128),
                v128_load(s.add(cols + c) as *const v128),
                v128_load(s.add(2 * cols + c) as *const v128),
                v128_load(s.add(3 * cols + c) as *const v128),
            );
            for (j, tj) in t.iter().enumerate() {
                *buf.add(c + j) = *tj;
                mx[j] = f32x4_pmax(mx[j], *tj);
            }
            c += 4;
        }
        f32x4_pmax(f32x4_pmax(mx[0], mx[1]), f32x4_pmax(mx[2], mx[3]))
    }

    /// `buf[c] = exp(buf[c] - mx)` in place; returns the sums in the order of
    /// [`super::softmax`]: lane partial sums over channels `j, j + 4, ..` from +0, then
    /// `(acc0 + acc1) + (acc2 + acc3)`.
    #[inline(always)]
    pub(crate) unsafe fn exp_sum(buf: *mut v128, cols: usize, mx: v128, k: &ExpK) -> v128 {
        let mut acc = [f32x4_splat(0.0); 4];
        let mut c = 0usize;
        while c < cols {
            for (j, a) in acc.iter_mut().enumerate() {
                let e = exp4_below_hi(f32x4_sub(*buf.add(c + j), mx), k);
                *buf.add(c + j) = e;
                *a = f32x4_add(*a, e);
            }
            c += 4;
        }
        f32x4_add(f32x4_add(acc[0], acc[1]), f32x4_add(acc[2], acc[3]))
    }

    /// 4x4 transpose: lane `r` of output `j` is lane `j` of input `r`.
    #[inline(always)]
    pub(crate) fn tr4(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
        [
            i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
            i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
            i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
            i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
        ]
    }

    /// Lane `L` of `v` in every lane.
    #[inline(always)]
    pub(crate) fn lane<const L: usize>(v: v128) -> v128 {
        i32x4_shuffle::<L, L, L, L>(v, v)
    }

    /// Four rows of `cols` floats (a multiple of 4, at least 4) at `s` into `d` (may be in
    /// place): the operations of [`super::softmax`]'s one-row path, with the per-row
    /// reductions of the four rows done together.
    #[inline(always)]
    pub unsafe fn rows4(s: *const f32, d: *mut f32, cols: usize, k: &ExpK) {
        let at = |r: usize, i: usize| r * cols + i;
        let mut m = [f32x4_splat(0.0); 4];
        for (r, mr) in m.iter_mut().enumerate() {
            let mut v = v128_load(s.add(at(r, 0)) as *const v128);
            let mut i = 4;
            while i < cols {
                v = f32x4_pmax(v, v128_load(s.add(at(r, i)) as *const v128));
                i += 4;
            }
            *mr = v;
        }
        let t = tr4(m[0], m[1], m[2], m[3]);
        let mx = f32x4_pmax(f32x4_pmax(t[0], t[1]), f32x4_pmax(t[2], t[3]));
        let ms = [lane::<0>(mx), lane::<1>(mx), lane::<2>(mx), lane::<3>(mx)];
        let mut acc = [f32x4_splat(0.0); 4];
        for r in 0..4 {
            let mut a = f32x4_splat(0.0);
            let mut i = 0;
            while i < cols {
                let e = exp4_below_hi(
                    f32x4_sub(v128_load(s.add(at(r, i)) as *const v128), ms[r]),
                    k,
                );
                v128_store(d.add(at(r, i)) as *mut v128, e);
                a = f32x4_add(a, e);
                i += 4;
            }
            acc[r] = a;
        }
        let t = tr4(acc[0], acc[1], acc[2], acc[3]);
        let sum = f32x4_add(f32x4_add(t[0], t[1]), f32x4_add(t[2], t[3]));
        let ss = [
            lane::<0>(sum),
            lane::<1>(sum),
            lane::<2>(sum),
            lane::<3>(sum),
        ];
        for (r, sv) in ss.iter().enumerate() {
            let mut i = 0;
            while i < cols {
                let p = d.add(at(r, i)) as *mut v128;
                v128_store(p, f32x4_div(v128_load(p), *sv));
                i += 4;
            }
        }
    }
}

/// Softmax along a middle axis: `outer` blocks of `axis` rows of `inner` contiguous floats;
/// each column `(p, q)` is normalised over the `axis` rows (may be in place). Lanes run over
/// `inner`, so no transpose is needed. Per column: the maximum, `exp(x - m)` and the sum in
/// order of the axis, then one division per value.
///
/// # Safety
/// Valid for `outer * axis * inner` floats each.
pub unsafe fn softmax_strided(
    src: *const f32,
    dst: *mut f32,
    outer: usize,
    axis: usize,
    inner: usize,
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let ek = simd::ExpK::new();
    for p in 0..outer {
        let s = src.add(p * axis * inner);
        let d = dst.add(p * axis * inner);
        #[allow(unused_mut)]
        let mut q = 0usize;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            while q + 4 <= inner {
                let mut m = f32x4_splat(f32::NEG_INFINITY);
                for k in 0..axis {
                    let v = v128_load(s.add(k * inner + q) as *const v128);
                    // v > m or v is NaN -> v (NaN propagates as in the scalar path)
                    let take = v128_or(f32x4_gt(v, m), f32x4_ne(v, v));
                    m = v128_bitselect(v, m, take);
                }
                let mut acc = f32x4_splat(0.0);
                for k in 0..axis {
                    let e = simd::exp4_below_hi(
                        f32x4_sub(v128_load(s.add(k * inner + q) as *const v128), m),
                        &ek,
                    );
                    v128_store(d.add(k * inner + q) as *mut v128, e);
                    acc = f32x4_add(acc, e);
                }
                for k in 0..axis {
                    let o = d.add(k * inner + q) as *mut v128;
                    v128_store(o, f32x4_div(v128_load(o), acc));
                }
                q += 4;
            }
        }
        while q < inner {
            let mut m = f32::NEG_INFINITY;
            for k in 0..axis {
                m = max_one(m, *s.add(k * inner + q));
            }
            let mut sum = 0f32;
            for k in 0..axis {
                let e = exp_one(*s.add(k * inner + q) - m);
                *d.add(k * inner + q) = e;
                sum += e;
            }
            for k in 0..axis {
                *d.add(k * inner + q) /= sum;
            }
            q += 1;
        }
    }
}
