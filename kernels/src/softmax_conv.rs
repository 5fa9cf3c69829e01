//! Softmax then a 1x1 convolution over each row ([`softmax_then_conv1x1`]): YOLOv8's
//! distribution head, its probabilities never written out. The softmax's semantics are
//! those of [`crate::softmax`]; the dot products' those of [`crate::permute::conv1x1_permuted`].

use crate::chain::{self, Step};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::numeric::simd;
use crate::qdq_table::Table;
use crate::softmax::softmax_rows;

/// Where the rows of [`softmax_then_conv1x1`] go: row `r` (of the whole tensor) is the
/// pixel whose index, decomposed over `sizes[..rank]` (row-major, last fastest), gives the
/// output element `sum idx[j] * out_st[j]` of each output channel.
#[derive(Clone, Copy, Debug)]
pub struct RowOrder {
    /// Axes of the row index (at most [`crate::permute::MAX_RANK`]).
    pub rank: usize,
    /// Their sizes (row-major over the rows).
    pub sizes: [usize; crate::permute::MAX_RANK],
    /// The output element stride of each axis.
    pub out_st: [usize; crate::permute::MAX_RANK],
}

/// The output element of each row of a [`RowOrder`] in turn, from a first row on (an
/// odometer over the axes: no division per row).
struct Rows<'a> {
    order: &'a RowOrder,
    idx: [usize; crate::permute::MAX_RANK],
    at: usize,
}

impl<'a> Rows<'a> {
    /// Positioned at row `r`.
    fn new(order: &'a RowOrder, r: usize) -> Rows<'a> {
        let mut idx = [0usize; crate::permute::MAX_RANK];
        let (mut r, mut at) = (r, 0usize);
        for j in (0..order.rank).rev() {
            idx[j] = r % order.sizes[j];
            at += idx[j] * order.out_st[j];
            r /= order.sizes[j];
        }
        Rows { order, idx, at }
    }

    /// The output element of the current row; moves to the next row.
    #[inline(always)]
    fn next(&mut self) -> usize {
        let here = self.at;
        self.advance(1);
        here
    }

    /// Whether the next rows go four at a time along the last axis (`next4`): its size is a
    /// multiple of 4 and the current row's index on it too.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn by_fours(&self) -> bool {
        let l = self.order.rank - 1;
        self.order.sizes[l].is_multiple_of(4) && self.idx[l].is_multiple_of(4)
    }

    /// Whether four groups of four rows at a time cover four consecutive outputs of each
    /// index of the last axis: it has size 4, the axis before it (its size a multiple of 4)
    /// has output stride 1, and the current row starts such a block (YOLOv8's `[anchors, 4]`
    /// rows, whose output is `[4, anchors]`).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn blocks4(&self) -> bool {
        let o = self.order;
        let l = o.rank - 1;
        o.rank >= 2
            && o.sizes[l] == 4
            && self.idx[l] == 0
            && o.out_st[l - 1] == 1
            && o.sizes[l - 1].is_multiple_of(4)
            && self.idx[l - 1].is_multiple_of(4)
    }

    /// With [`Rows::by_fours`]: the output elements of the next four rows, `[at, at + st,
    /// at + 2 st, at + 3 st]` for the last axis' stride `st`; moves past them (one carry
    /// at most, as four calls of [`Rows::next`] would make).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn next4(&mut self) -> [usize; 4] {
        let (here, st) = (self.at, self.order.out_st[self.order.rank - 1]);
        self.advance(4);
        [here, here + st, here + 2 * st, here + 3 * st]
    }

    /// With [`Rows::blocks4`]: the output element of the next row, then moves 16 rows on
    /// (4 along the axis before the last, one carry at most).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn next16(&mut self) -> usize {
        let here = self.at;
        self.advance_at(self.order.rank - 1, 4);
        here
    }

    /// Moves `n` rows on along the last axis (`n` = 1, or 4 with [`Rows::by_fours`]: the
    /// index stays at most its size), carrying into the axes before it.
    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.advance_at(self.order.rank, n)
    }

    /// Moves `n` steps on along axis `j - 1` (`n` keeps its index at most its size).
    #[inline(always)]
    fn advance_at(&mut self, j: usize, n: usize) {
        let o = self.order;
        let mut j = j;
        let mut n = n;
        while j > 0 {
            j -= 1;
            self.idx[j] += n;
            self.at += n * o.out_st[j];
            if self.idx[j] < o.sizes[j] {
                break;
            }
            self.at -= o.out_st[j] * o.sizes[j];
            self.idx[j] = 0;
            n = 1;
        }
    }
}

/// Where [`softmax_then_conv1x1`]'s four-rows path with one output channel and the
/// unclamped quantize (YOLOv8's DFL) adds up the next group's exponentials: `false`
/// (default) in the loop that computes them (four accumulators live through it), `true` in
/// a pass of their own over the stored exponentials right after it (the same additions in
/// the same order: the same bits). JavaScriptCore then keeps more of `exp`'s constants in
/// registers (fewer reloads from its stack; kernel 1-3.5% faster), V8 does not gain
/// (+1.5%), so the TypeScript side sets `true` under Bun ([`crate::set_softmax_sums_apart`]).
pub static SUMS_APART: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Longest row of the transposed four-rows path of [`softmax_then_conv1x1`].
pub const CONV_T_COLS: usize = 64;

/// [`softmax_then`](crate::softmax::softmax_then) of `rows` rows of `cols` values (rows `r0..r0 + rows` of a tensor of
/// `pixels` rows), then a 1x1 convolution over each row as the channels of a pixel:
/// `y[o * pixels + order(r)] = sum over c of w[o * cols + c] * p[r, c]` for `o < m`, the sum
/// from +0 with one float32 multiply then one float32 add per channel in order of `c` (the
/// bits of [`crate::permute::conv1x1_permuted`] over the permuted output of
/// [`softmax_then`](crate::softmax::softmax_then)). YOLOv8's distribution head: the probabilities are never written out;
/// each block of rows goes through softmax, steps and the dot products while in the cache.
///
/// # Safety
/// `src` valid for `rows * cols` floats, `w` for `m * cols`, `y` for `m * pixels`;
/// `order` maps rows `r0..r0 + rows` below `pixels`; `steps` as for [`softmax_then`](crate::softmax::softmax_then).
#[allow(clippy::too_many_arguments)]
pub unsafe fn softmax_then_conv1x1(
    src: *const f32,
    rows: usize,
    cols: usize,
    steps: &[Step],
    w: *const f32,
    m: usize,
    y: *mut f32,
    pixels: usize,
    order: &RowOrder,
    r0: usize,
) {
    if rows == 0 || cols == 0 || m == 0 {
        return;
    }
    let mut rows_at = Rows::new(order, r0);
    #[allow(unused_mut)]
    let mut r = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if cols % 4 == 0 && cols <= CONV_T_COLS {
        use core::arch::wasm32::*;
        let k = simd::ExpK::new();
        let mut buf = [f32x4_splat(0.0); 2 * CONV_T_COLS];
        let groups = rows / 4;
        let b = buf.as_mut_ptr();
        // one call of the kernel per formulation (`m` a literal 1 where it is: the
        // probabilities are then not stored back, no later output channel reads them)
        macro_rules! run {
            ($f:expr, $g:expr, $m:expr) => {
                run!($f, $g, $m, false)
            };
            ($f:expr, $g:expr, $m:expr, $apart:expr) => {
                v::groups_conv::<$apart>(
                    src,
                    groups,
                    cols,
                    $f,
                    $g,
                    &k,
                    w,
                    $m,
                    y,
                    pixels,
                    &mut rows_at,
                    b,
                )
            };
        }
        match steps {
            [Step::Qdq(q)] => {
                let f = |v| chain::simd::qdq4(v, *q);
                if probs_unclamped(q) {
                    let s = f32x4_splat(q.scale);
                    let g = |v| f32x4_mul(f32x4_nearest(f32x4_div(v, s)), s);
                    if m == 1 {
                        if SUMS_APART.load(core::sync::atomic::Ordering::Relaxed) {
                            run!(f, g, 1, true)
                        } else {
                            run!(f, g, 1, false)
                        }
                    } else {
                        run!(f, g, m)
                    }
                } else {
                    run!(f, f, m)
                }
            }
            _ => {
                let f = |v| chain::simd::scalar_steps4(v, steps, &k);
                run!(f, f, m)
            }
        }
        r = groups * 4;
    }
    if r == rows {
        return;
    }
    let (src, rows) = (src.add(r * cols), rows - r);
    let table = Table::new(steps, 1, rows * cols);
    let block = ((chain::STRIP / cols) & !3).max(4).min(rows);
    let mut buf = vec![0f32; block * cols];
    let p = buf.as_mut_ptr();
    let mut r = 0usize;
    while r < rows {
        let n = block.min(rows - r);
        softmax_rows(src.add(r * cols), p, n, cols);
        if !steps.is_empty() {
            chain::plane(steps, table.as_ref(), p, n * cols, 0);
        }
        for i in 0..n {
            let q = rows_at.next();
            let row = p.add(i * cols);
            for o in 0..m {
                let wo = w.add(o * cols);
                let mut s = 0f32;
                for c in 0..cols {
                    s += *wo.add(c) * *row.add(c);
                }
                *y.add(o * pixels + q) = s;
            }
        }
        r += n;
    }
}

/// Whether the quantize-dequantize `q` of every probability `p` in `[+0, 1]` is
/// `rne(p / scale) * scale`, the same bits as [`chain::qdq_one`]: with a positive finite
/// scale, `p / scale` is +0 or positive (no -0 for its `+ 0`, no NaN for its select) and at
/// most `1 / scale` (division rounds monotonically), so when `lo <= 0` and `1 / scale <= hi`
/// neither clamp changes the level. A softmax line without NaN has every `p` there: each
/// `e` is in `[+0, 1]` and at most the sum (a sum of non-negative values), which is positive.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn probs_unclamped(q: &chain::Qdq) -> bool {
    q.scale > 0.0 && q.scale.is_finite() && q.lo <= 0.0 && 1.0 / q.scale <= q.hi
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod v {
    use crate::numeric::simd::{exp4_below_hi, ExpK};
    use crate::softmax::v::{exp_sum, load4, tr4};
    use core::arch::wasm32::*;

    /// `groups` groups of four rows of `cols` floats (a multiple of 4, at most
    /// [`super::CONV_T_COLS`]) from `s` through [`super::softmax_then_conv1x1`]: softmax,
    /// the steps `f` (or `g`, which gives the same bits for every probability of a line
    /// whose sum is positive, that is without NaN: used for the groups whose four sums are),
    /// then for each output channel `o` the dot product with `w[o * cols..]`,
    /// stored at `y[o * pixels + rows.next()]` row after row. The values of a group are
    /// transposed as they are loaded, so that each vector holds one channel of the four rows:
    /// the maxima, the sums, the divisions, the steps and the dot products (from +0, one
    /// multiply then one add per channel in order) are vertical. Software-pipelined: the
    /// exponentials of the next group are computed in the loop that divides the current one,
    /// so that the divider and the other units work at the same time. The probabilities are
    /// stored back for the output channels after the first only when `m > 1` (with a literal
    /// 1 the stores and their branch compile away: 3-5% faster in both engines). `buf` holds
    /// `2 * CONV_T_COLS` vectors.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub unsafe fn groups_conv<const SUMS_APART: bool>(
        s: *const f32,
        groups: usize,
        cols: usize,
        f: impl Fn(v128) -> v128,
        g: impl Fn(v128) -> v128,
        k: &ExpK,
        w: *const f32,
        m: usize,
        y: *mut f32,
        pixels: usize,
        rows: &mut super::Rows,
        buf: *mut v128,
    ) {
        if groups == 0 || m == 0 {
            return;
        }
        let (mut cur, mut nxt) = (buf, buf.add(super::CONV_T_COLS));
        let mx = load4(s, cols, cur);
        let mut sum = exp_sum(cur, cols, mx, k);
        let zero = f32x4_splat(0.0);
        // a group's rows differ only in the last axis' index: no odometer step per row
        let fours = rows.by_fours();
        // one output channel and rows in blocks (`Rows::blocks4`): the complete blocks of
        // four groups store their results transposed, one vector per index of the last axis
        // (four consecutive outputs), with one odometer step per block; the groups after the
        // last complete block go as the others
        let full = if m == 1 && rows.blocks4() {
            groups & !3
        } else {
            0
        };
        let st = rows.order.out_st[rows.order.rank - 1];
        let mut pend = [zero; 4];
        let mut base = 0usize;
        for i in 0..groups {
            let more = i + 1 < groups;
            let mut d = zero;
            let mut acc = [zero; 4];
            // the next group's exponentials and sums, with the current group's divisions,
            // steps `h` and first dot product
            macro_rules! body {
                ($h:expr) => {
                    if more {
                        let mxn = load4(s.add((i + 1) * 4 * cols), cols, nxt);
                        let mut c = 0usize;
                        while c < cols {
                            for (j, a) in acc.iter_mut().enumerate() {
                                let e = exp4_below_hi(f32x4_sub(*nxt.add(c + j), mxn), k);
                                *nxt.add(c + j) = e;
                                if !SUMS_APART {
                                    *a = f32x4_add(*a, e);
                                }
                                let p = $h(f32x4_div(*cur.add(c + j), sum));
                                if m > 1 {
                                    *cur.add(c + j) = p;
                                }
                                d = f32x4_add(
                                    d,
                                    f32x4_mul(p, v128_load32_splat(w.add(c + j) as *const u32)),
                                );
                            }
                            c += 4;
                        }
                        if SUMS_APART {
                            // the same additions in the same order, in a pass of their own
                            let mut c = 0usize;
                            while c < cols {
                                for (j, a) in acc.iter_mut().enumerate() {
                                    *a = f32x4_add(*a, *nxt.add(c + j));
                                }
                                c += 4;
                            }
                        }
                    } else {
                        for c in 0..cols {
                            let p = $h(f32x4_div(*cur.add(c), sum));
                            if m > 1 {
                                *cur.add(c) = p;
                            }
                            d = f32x4_add(
                                d,
                                f32x4_mul(p, v128_load32_splat(w.add(c) as *const u32)),
                            );
                        }
                    }
                };
            }
            if i32x4_all_true(f32x4_gt(sum, zero)) {
                body!(g)
            } else {
                body!(f)
            }
            if i < full {
                let g = i & 3;
                if g == 0 {
                    base = rows.next16();
                }
                pend[g] = d;
                if g == 3 {
                    let t = tr4(pend[0], pend[1], pend[2], pend[3]);
                    for (j, tj) in t.iter().enumerate() {
                        v128_store(y.add(base + j * st) as *mut v128, *tj);
                    }
                }
            } else {
                let at = if fours {
                    rows.next4()
                } else {
                    [rows.next(), rows.next(), rows.next(), rows.next()]
                };
                for o in 0..m {
                    if o > 0 {
                        let wo = w.add(o * cols);
                        d = f32x4_splat(0.0);
                        for c in 0..cols {
                            d = f32x4_add(
                                d,
                                f32x4_mul(*cur.add(c), v128_load32_splat(wo.add(c) as *const u32)),
                            );
                        }
                    }
                    let yo = y.add(o * pixels);
                    *yo.add(at[0]) = f32x4_extract_lane::<0>(d);
                    *yo.add(at[1]) = f32x4_extract_lane::<1>(d);
                    *yo.add(at[2]) = f32x4_extract_lane::<2>(d);
                    *yo.add(at[3]) = f32x4_extract_lane::<3>(d);
                }
            }
            if more {
                sum = f32x4_add(f32x4_add(acc[0], acc[1]), f32x4_add(acc[2], acc[3]));
                core::mem::swap(&mut cur, &mut nxt);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Qdq;
    use crate::softmax::softmax_then;

    #[test]
    fn softmax_then_conv1x1_is_softmax_then_the_dot_products() {
        // [1, 5, 3, cols] -> pixels (3, 5) in the output's order: row r = (a, b) goes to b * 3 + a
        for cols in [4usize, 6, 16] {
            let rows = 15;
            let x: Vec<f32> = (0..rows * cols)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.13)
                .collect();
            let w: Vec<f32> = (0..2 * cols).map(|i| (i as f32 * 0.7).cos()).collect();
            let steps = [Step::Qdq(Qdq::new(1.0 / 255.0, 0, 1).unwrap())];
            let mut p = vec![0f32; rows * cols];
            unsafe { softmax_then(x.as_ptr(), p.as_mut_ptr(), rows, cols, &steps) };
            let order = RowOrder {
                rank: 2,
                sizes: [5, 3, 1, 1, 1, 1],
                out_st: [1, 5, 0, 0, 0, 0],
            };
            let mut y = vec![0f32; 2 * rows];
            // two calls (rows 0..6, 6..15), as a chunked source runs
            unsafe {
                softmax_then_conv1x1(
                    x.as_ptr(),
                    6,
                    cols,
                    &steps,
                    w.as_ptr(),
                    2,
                    y.as_mut_ptr(),
                    rows,
                    &order,
                    0,
                );
                let x6 = x.as_ptr().add(6 * cols);
                softmax_then_conv1x1(
                    x6,
                    9,
                    cols,
                    &steps,
                    w.as_ptr(),
                    2,
                    y.as_mut_ptr(),
                    rows,
                    &order,
                    6,
                );
            }
            for r in 0..rows {
                let q = (r % 3) * 5 + r / 3;
                for o in 0..2 {
                    let mut s = 0f32;
                    for c in 0..cols {
                        s += w[o * cols + c] * p[r * cols + c];
                    }
                    assert_eq!(
                        y[o * rows + q].to_bits(),
                        s.to_bits(),
                        "cols {cols} row {r} out {o}"
                    );
                }
            }
        }
    }
}
