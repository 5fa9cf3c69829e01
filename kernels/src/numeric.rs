//! Float32 numeric kernels for the ONNX graph runner: element-wise add / sub / mul / div
//! with broadcasting (exact IEEE float32, as onnxruntime computes them), exp, sigmoid, and
//! softmax (kernels/src/softmax.rs).
//!
//! `exp` is Cephes' `expf` algorithm (range reduction by ln 2 split in two constants, a
//! degree-5 polynomial, scaling by 2^n built from exponent bits): within 2 ulp of the
//! correctly rounded result for inputs in [-87.3, 88.37]; inputs above 88.3762626647949 give
//! exp(88.3762626647949) (about 2.4e38, not infinity), inputs below -88.3762626647949 give
//! 0 or a value below 1e-38; NaN gives NaN. `sigmoid(x) = 1 / (1 + exp(-x))` (one float32
//! division); `softmax` = `exp(x - max) / sum(exp(x - max))` per row (float32 division).

/// Maximum rank of a broadcast binary operation.
pub const MAX_RANK: usize = 6;

// Cephes' decimal literals, kept as published: each rounds to the f32 the algorithm uses
// (clippy's excessive_precision would shorten the digits, not change the values).
#[allow(clippy::excessive_precision)]
const EXP_HI: f32 = 88.376_262_664_794_9;
#[allow(clippy::excessive_precision)]
const EXP_LO: f32 = -88.376_262_664_794_9;
const LOG2E: f32 = core::f32::consts::LOG2_E;
#[allow(clippy::excessive_precision)]
const C1: f32 = 0.693_359_375;
#[allow(clippy::excessive_precision)]
const C2: f32 = -2.121_944_4e-4;
#[allow(clippy::excessive_precision)]
const P0: f32 = 1.987_569_150_0e-4;
#[allow(clippy::excessive_precision)]
const P1: f32 = 1.398_199_950_7e-3;
#[allow(clippy::excessive_precision)]
const P2: f32 = 8.333_451_907_3e-3;
#[allow(clippy::excessive_precision)]
const P3: f32 = 4.166_579_589_4e-2;
#[allow(clippy::excessive_precision)]
const P4: f32 = 1.666_666_545_9e-1;
#[allow(clippy::excessive_precision)]
const P5: f32 = 5.000_000_120_1e-1;

/// Scalar exp with the same algorithm (and results) as the SIMD body.
///
/// ```
/// let e = axr_kernels::numeric::exp_one(1.0);
/// assert!((e - std::f32::consts::E).abs() <= 2.0 * f32::EPSILON * 3.0);
/// ```
#[inline(always)]
pub fn exp_one(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(EXP_LO, EXP_HI);
    let fx = (x * LOG2E + 0.5).floor();
    let r = x - fx * C1;
    let r = r - fx * C2;
    let mut y = P0;
    y = y * r + P1;
    y = y * r + P2;
    y = y * r + P3;
    y = y * r + P4;
    y = y * r + P5;
    y = y * (r * r) + r + 1.0;
    let n = fx as i32 + 127;
    y * f32::from_bits((n as u32) << 23)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use super::*;
    use core::arch::wasm32::*;

    /// The constants of [`exp4`] and [`sigmoid4`] as values the compiler cannot fold back
    /// into `v128.const`: made once before a loop, they stay in locals (registers or the
    /// engine's stack). A `v128.const` at each use costs V8 three instructions (a 64-bit
    /// immediate, a move and an unpack), about 45 of them per sigmoid vector. The values,
    /// and so the results, are the same.
    #[derive(Clone, Copy)]
    pub struct ExpK {
        lo: v128,
        hi: v128,
        log2e: v128,
        half: v128,
        c1: v128,
        c2: v128,
        p: [v128; 6],
        one: v128,
        magic: v128,
        neg_hi: v128,
        floor: v128,
    }

    impl ExpK {
        /// The constants, opaque to the optimizer. Build outside the hot loop.
        #[inline(always)]
        pub fn new() -> ExpK {
            let o = |v: f32| core::hint::black_box(f32x4_splat(v));
            ExpK {
                lo: o(EXP_LO),
                hi: o(EXP_HI),
                log2e: o(LOG2E),
                half: o(0.5),
                c1: o(C1),
                c2: o(C2),
                p: [o(P0), o(P1), o(P2), o(P3), o(P4), o(P5)],
                one: o(1.0),
                // 1.5 * 2^23 + 127: see exp4_clamped
                magic: o(12_583_039.0),
                neg_hi: o(-EXP_HI),
                floor: o(sigmoid_floor()),
            }
        }
    }

    /// 4-lane exp, lane for lane identical to [`exp_one`] (same operations, same order).
    #[inline(always)]
    pub fn exp4(x: v128, k: &ExpK) -> v128 {
        exp4_clamped(f32x4_pmin(f32x4_pmax(x, k.lo), k.hi), k)
    }

    /// [`exp4`] of lanes that are at most `EXP_HI` or NaN (a softmax's `x - max`): the
    /// clamp to `EXP_HI` (`pmin`, which keeps a NaN) would leave every such lane as it is.
    #[inline(always)]
    pub fn exp4_below_hi(x: v128, k: &ExpK) -> v128 {
        exp4_clamped(f32x4_pmax(x, k.lo), k)
    }

    /// The body of [`exp4`] after the clamp of `x` to `[EXP_LO, EXP_HI]`.
    #[inline(always)]
    fn exp4_clamped(x: v128, k: &ExpK) -> v128 {
        let fx = f32x4_floor(f32x4_add(f32x4_mul(x, k.log2e), k.half));
        let r = f32x4_sub(x, f32x4_mul(fx, k.c1));
        let r = f32x4_sub(r, f32x4_mul(fx, k.c2));
        let mut y = k.p[0];
        y = f32x4_add(f32x4_mul(y, r), k.p[1]);
        y = f32x4_add(f32x4_mul(y, r), k.p[2]);
        y = f32x4_add(f32x4_mul(y, r), k.p[3]);
        y = f32x4_add(f32x4_mul(y, r), k.p[4]);
        y = f32x4_add(f32x4_mul(y, r), k.p[5]);
        y = f32x4_add(f32x4_add(f32x4_mul(y, f32x4_mul(r, r)), r), k.one);
        // 2^fx from exponent bits, as `exp_one`'s `(fx + 127) << 23`: fx is a small integer
        // (|fx| <= 128 after the clamp), so `fx + (1.5 * 2^23 + 127)` is exact and its bits are `0x4B40_0000 +
        // fx + 127`; shifted left by 23 only the low 9 bits remain, and those of 0x4B40_0000
        // are 0: the bits of `(fx + 127) << 23`, with one integer operation fewer.
        // NaN lanes stay NaN: pmin/pmax keep NaN and NaN * anything is NaN.
        f32x4_mul(y, i32x4_shl(f32x4_add(fx, k.magic), 23))
    }

    /// 4-lane sigmoid, lane for lane identical to `1 / (1 + exp_one(-x))`. Where `exp(-x)`
    /// saturates (`x <= -EXP_HI`) the result is the constant `SIGMOID_FLOOR` (about
    /// 4.2e-39, a subnormal): those lanes divide 1 by 1 and select the constant, because a
    /// division with a subnormal result costs about a hundred cycles on x86 (the demo's
    /// detector has half its outputs there).
    #[inline(always)]
    pub fn sigmoid4(x: v128, k: &ExpK) -> v128 {
        // exp4 without its clamp to EXP_HI: a lane with -x above EXP_HI has x below -EXP_HI,
        // whose result is the selected constant, whatever `d` is (`pmin` kept a NaN as NaN,
        // and so does the unclamped polynomial)
        let d = f32x4_add(k.one, exp4_below_hi(f32x4_neg(x), k));
        let sat = f32x4_le(x, k.neg_hi);
        let q = f32x4_div(k.one, v128_bitselect(k.one, d, sat));
        v128_bitselect(k.floor, q, sat)
    }
}

/// `1 / (1 + exp(-x))` for `x <= -88.3762626647949` (where exp saturates): a subnormal
/// constant, computed with the same float32 operations as every other lane.
#[inline(always)]
pub fn sigmoid_floor() -> f32 {
    1.0 / (1.0 + exp_one(EXP_HI))
}

/// Binary operation codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// a + b
    Add,
    /// a - b
    Sub,
    /// a * b
    Mul,
    /// a / b
    Div,
}

impl BinOp {
    /// From the code used across the wasm boundary (0 add, 1 sub, 2 mul, 3 div).
    pub fn from_code(c: u32) -> Option<BinOp> {
        match c {
            0 => Some(BinOp::Add),
            1 => Some(BinOp::Sub),
            2 => Some(BinOp::Mul),
            3 => Some(BinOp::Div),
            _ => None,
        }
    }
    #[inline(always)]
    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
        }
    }
}

/// The inner run of a binary op: `n` outputs from `a` and `b` with element strides `sa`,
/// `sb` (each 0 or 1).
#[inline(always)]
unsafe fn binary_run(
    op: BinOp,
    a: *const f32,
    sa: usize,
    b: *const f32,
    sb: usize,
    out: *mut f32,
    n: usize,
) {
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        macro_rules! body {
            ($f:ident) => {{
                let av = if sa == 0 {
                    f32x4_splat(*a)
                } else {
                    f32x4_splat(0.0)
                };
                let bv = if sb == 0 {
                    f32x4_splat(*b)
                } else {
                    f32x4_splat(0.0)
                };
                while i + 4 <= n {
                    let x = if sa == 0 {
                        av
                    } else {
                        v128_load(a.add(i) as *const v128)
                    };
                    let y = if sb == 0 {
                        bv
                    } else {
                        v128_load(b.add(i) as *const v128)
                    };
                    v128_store(out.add(i) as *mut v128, $f(x, y));
                    i += 4;
                }
            }};
        }
        if sa <= 1 && sb <= 1 {
            match op {
                BinOp::Add => body!(f32x4_add),
                BinOp::Sub => body!(f32x4_sub),
                BinOp::Mul => body!(f32x4_mul),
                BinOp::Div => body!(f32x4_div),
            }
        }
    }
    while i < n {
        *out.add(i) = op.apply(*a.add(i * sa), *b.add(i * sb));
        i += 1;
    }
}

/// Broadcast binary op. `shape` is the output shape (rank <= [`MAX_RANK`]); `sa`, `sb` are
/// the element strides of `a` and `b` per output axis (0 on broadcast axes).
///
/// # Safety
/// The pointers must be valid for the elements the shape and strides address; `out` holds
/// `prod(shape)` floats and may alias `a` or `b` only when that operand is not broadcast.
pub unsafe fn binary(
    op: BinOp,
    a: *const f32,
    b: *const f32,
    out: *mut f32,
    shape: &[usize],
    sa: &[usize],
    sb: &[usize],
) {
    let rank = shape.len();
    if rank == 0 {
        *out = op.apply(*a, *b);
        return;
    }
    if shape.contains(&0) {
        return;
    }
    let inner = shape[rank - 1];
    let (ia, ib) = (sa[rank - 1], sb[rank - 1]);
    let mut idx = [0usize; MAX_RANK];
    let outer: usize = shape[..rank - 1].iter().product();
    let (mut pa, mut pb) = (0usize, 0usize);
    for o in 0..outer {
        binary_run(op, a.add(pa), ia, b.add(pb), ib, out.add(o * inner), inner);
        // Odometer over the outer axes.
        let mut ax = rank - 1;
        while ax > 0 {
            ax -= 1;
            idx[ax] += 1;
            pa += sa[ax];
            pb += sb[ax];
            if idx[ax] < shape[ax] {
                break;
            }
            pa -= sa[ax] * shape[ax];
            pb -= sb[ax] * shape[ax];
            idx[ax] = 0;
        }
    }
}

/// `dst[i] = exp(src[i])` for `len` floats (may be in place).
///
/// # Safety
/// Valid for `len` floats each.
pub unsafe fn exp(src: *const f32, dst: *mut f32, len: usize) {
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let k = simd::ExpK::new();
        while i + 4 <= len {
            v128_store(
                dst.add(i) as *mut v128,
                simd::exp4(v128_load(src.add(i) as *const v128), &k),
            );
            i += 4;
        }
    }
    while i < len {
        *dst.add(i) = exp_one(*src.add(i));
        i += 1;
    }
}

/// `dst[i] = 1 / (1 + exp(-src[i]))` for `len` floats (may be in place).
///
/// # Safety
/// Valid for `len` floats each.
pub unsafe fn sigmoid(src: *const f32, dst: *mut f32, len: usize) {
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let k = simd::ExpK::new();
        while i + 4 <= len {
            let v = v128_load(src.add(i) as *const v128);
            v128_store(dst.add(i) as *mut v128, simd::sigmoid4(v, &k));
            i += 4;
        }
    }
    while i < len {
        *dst.add(i) = 1.0 / (1.0 + exp_one(-*src.add(i)));
        i += 1;
    }
}

pub use crate::softmax::{softmax, softmax_strided};

/// `C[m, n] (+)= A[m, k] B[k, n]` in float32. `C` is row-major and contiguous; `B` has
/// contiguous rows `brs` floats apart; `A` is read at `i * ars + p * acs` (so a transposed
/// `A` needs no copy). `accumulate` false overwrites `C`. Per element the products are
/// added in order of `p` (float32 multiply, then add), 4 rows x 8 columns at a time.
/// Columns go in panels of [`gemm_panel`] (the panel's `k` rows of `B` stay in L1 while
/// every row block of `A` passes over them), then the columns past the last multiple of 8
/// row by row; the order of the additions per element is the same in every path.
///
/// # Safety
/// `a`, `b`, `c` valid for the elements addressed; `c` must not overlap `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm(
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    brs: usize,
    c: *mut f32,
    m: usize,
    n: usize,
    k: usize,
    accumulate: bool,
) {
    gemm_from(a, ars, acs, BSource::Rows(b, brs), c, m, n, k, accumulate)
}

/// [`gemm`] with `B` as [`gemm_pack_b`] laid it out (a constant packed once): the same
/// products and sums in the same order, so the same bits; no panel is copied per call.
///
/// # Safety
/// As [`gemm`]; `bp` holds `k * n` floats from [`gemm_pack_b`] for these `k` and `n`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_packed(
    a: *const f32,
    ars: usize,
    acs: usize,
    bp: *const f32,
    c: *mut f32,
    m: usize,
    n: usize,
    k: usize,
    accumulate: bool,
) {
    gemm_from(a, ars, acs, BSource::Packed(bp), c, m, n, k, accumulate)
}

/// Lays out `B` (`k` rows of `n` columns, rows `brs` floats apart) for [`gemm_packed`] in
/// `dst` (`k * n` floats): the strips of 8 columns one after the other, each `k` x 8
/// row-major (what [`gemm`] copies per panel), then the last `n % 8` columns as one
/// `k` x `(n % 8)` row-major block.
///
/// ```
/// use axr_kernels::numeric::gemm_pack_b;
/// let b: Vec<f32> = (0..2 * 9).map(|v| v as f32).collect(); // 2 x 9
/// let mut p = vec![0f32; 18];
/// unsafe { gemm_pack_b(b.as_ptr(), 9, 2, 9, p.as_mut_ptr()) };
/// assert_eq!(&p[..10], &[0., 1., 2., 3., 4., 5., 6., 7., 9., 10.]);
/// assert_eq!(&p[16..], &[8., 17.]);
/// ```
///
/// # Safety
/// `b` valid for the elements addressed, `dst` for `k * n` floats, not overlapping.
pub unsafe fn gemm_pack_b(b: *const f32, brs: usize, k: usize, n: usize, dst: *mut f32) {
    let n8 = n & !7;
    let mut d = dst;
    let mut j = 0usize;
    while j < n8 {
        for p in 0..k {
            core::ptr::copy_nonoverlapping(b.add(p * brs + j), d, 8);
            d = d.add(8);
        }
        j += 8;
    }
    let t = n - n8;
    for p in 0..k {
        core::ptr::copy_nonoverlapping(b.add(p * brs + n8), d.add(p * t), t);
    }
}

/// Where [`gemm_from`] reads `B`.
#[derive(Clone, Copy)]
enum BSource {
    /// Rows `brs` floats apart.
    Rows(*const f32, usize),
    /// [`gemm_pack_b`]'s layout.
    Packed(*const f32),
}

#[allow(clippy::too_many_arguments)]
unsafe fn gemm_from(
    a: *const f32,
    ars: usize,
    acs: usize,
    src: BSource,
    c: *mut f32,
    m: usize,
    n: usize,
    k: usize,
    accumulate: bool,
) {
    // columns in strips of 8: all of them but the last n % 8 when B is packed or the
    // SIMD body runs, else none (row by row)
    let n8 = match src {
        BSource::Packed(_) => n & !7,
        BSource::Rows(..) if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) => {
            n & !7
        }
        BSource::Rows(..) => 0,
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let panel = gemm_panel(k);
        // enough rows to repay a copy of the panel: its strips of 8 columns packed one
        // after the other, so the k rows of a strip are 32 bytes apart (cache lines and
        // pages in order) instead of `brs` floats
        let pack = m >= 8 && panel * k <= gemm_simd::PACK_FLOATS;
        let mut j0 = 0usize;
        while j0 < n8 {
            let j1 = (j0 + panel).min(n8);
            let (bp, bs, packed) = match src {
                BSource::Packed(p) => (p.add(j0 * k), 8usize, true),
                BSource::Rows(b, brs) if pack => {
                    (gemm_simd::pack_panel(b, brs, j0, j1, k), 8usize, true)
                }
                BSource::Rows(b, brs) => (b.add(j0), brs, false),
            };
            let mut i = 0usize;
            while i + 4 <= m {
                gemm_simd::gemm_block::<4>(
                    a, ars, acs, bp, bs, packed, c, i, j0, j1, n, k, accumulate,
                );
                i += 4;
            }
            while i < m {
                gemm_simd::gemm_block::<1>(
                    a, ars, acs, bp, bs, packed, c, i, j0, j1, n, k, accumulate,
                );
                i += 1;
            }
            j0 = j1;
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    if let BSource::Packed(bp) = src {
        // the strips of a packed B without SIMD: element (p, j) at (j - j % 8) k + 8 p + j % 8
        for i in 0..m {
            for j in 0..n8 {
                let mut s = if accumulate { *c.add(i * n + j) } else { 0.0 };
                for p in 0..k {
                    s += *a.add(i * ars + p * acs) * *bp.add((j & !7) * k + 8 * p + (j & 7));
                }
                *c.add(i * n + j) = s;
            }
        }
    }
    if n8 < n {
        // the last columns: B's rows, or the packed tail block (row p of its n - n8 columns
        // at n8 k + p (n - n8))
        let (b, brs, col0) = match src {
            BSource::Rows(b, brs) => (b, brs, 0),
            BSource::Packed(p) => (p.add(n8 * k), n - n8, n8),
        };
        for i in 0..m {
            gemm_row_tail(a, ars, acs, b, brs, col0, c, i, n8, n, k, accumulate);
        }
    }
}

/// Columns per panel of [`gemm`]: about 32 KiB of `B` (`k` rows), a multiple of 8 in
/// 8..=256.
///
/// ```
/// assert_eq!(axr_kernels::numeric::gemm_panel(120), 64);
/// assert_eq!(axr_kernels::numeric::gemm_panel(100_000), 8);
/// ```
pub fn gemm_panel(k: usize) -> usize {
    ((8192 / k.max(1)) & !7).clamp(8, 256)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod gemm_simd {
    use core::arch::wasm32::*;

    /// Floats of the panel buffer of [`pack_panel`] (128 KiB).
    pub const PACK_FLOATS: usize = 32768;

    #[repr(align(16))]
    #[allow(dead_code)] // read and written through a raw pointer only
    struct Pack([f32; PACK_FLOATS]);
    static mut PACK: Pack = Pack([0.0; PACK_FLOATS]);

    /// Copies columns `j0..j1` (a multiple of 8 apart) of the `k` rows of `B` into the
    /// module's panel buffer, strip of 8 columns after strip (each `k` x 8, row-major);
    /// returns the buffer. The module runs one kernel at a time (no threads).
    ///
    /// # Safety
    /// `(j1 - j0) * k <= PACK_FLOATS`; `b` valid for the rows and columns read.
    pub unsafe fn pack_panel(
        b: *const f32,
        brs: usize,
        j0: usize,
        j1: usize,
        k: usize,
    ) -> *const f32 {
        let dst = core::ptr::addr_of_mut!(PACK) as *mut f32;
        let mut d = dst;
        let mut j = j0;
        while j < j1 {
            let mut s = b.add(j);
            for _ in 0..k {
                v128_store(d as *mut v128, v128_load(s as *const v128));
                v128_store(d.add(4) as *mut v128, v128_load(s.add(4) as *const v128));
                d = d.add(8);
                s = s.add(brs);
            }
            j += 8;
        }
        dst
    }

    /// Rows `i0..i0 + R`, columns `j0..j1` (a multiple of 8 apart) of C, 8 columns at a
    /// time in SIMD registers. `b` is column `j0` of B with rows `brs` floats apart, or,
    /// `packed`, the panel from [`pack_panel`] (rows 8 floats apart, strips `8 k` apart).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub unsafe fn gemm_block<const R: usize>(
        a: *const f32,
        ars: usize,
        acs: usize,
        b: *const f32,
        brs: usize,
        packed: bool,
        c: *mut f32,
        i0: usize,
        j0: usize,
        j1: usize,
        n: usize,
        k: usize,
        accumulate: bool,
    ) {
        let mut j = j0;
        while j < j1 {
            let mut lo = [f32x4_splat(0.0); R];
            let mut hi = [f32x4_splat(0.0); R];
            if accumulate {
                for r in 0..R {
                    lo[r] = v128_load(c.add((i0 + r) * n + j) as *const v128);
                    hi[r] = v128_load(c.add((i0 + r) * n + j + 4) as *const v128);
                }
            }
            let mut bp = if packed {
                b.add((j - j0) * k)
            } else {
                b.add(j - j0)
            };
            for p in 0..k {
                let b0 = v128_load(bp as *const v128);
                let b1 = v128_load(bp.add(4) as *const v128);
                for r in 0..R {
                    let av = v128_load32_splat(a.add((i0 + r) * ars + p * acs) as *const u32);
                    lo[r] = f32x4_add(lo[r], f32x4_mul(av, b0));
                    hi[r] = f32x4_add(hi[r], f32x4_mul(av, b1));
                }
                bp = bp.add(brs);
            }
            for r in 0..R {
                v128_store(c.add((i0 + r) * n + j) as *mut v128, lo[r]);
                v128_store(c.add((i0 + r) * n + j + 4) as *mut v128, hi[r]);
            }
            j += 8;
        }
    }
}

/// Scalar `C[i, j0..n]`, products added in order of `p` (the SIMD body's order); column
/// `j` of B is column `j - col0` of `b` (rows `brs` floats apart).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn gemm_row_tail(
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    brs: usize,
    col0: usize,
    c: *mut f32,
    i: usize,
    j0: usize,
    n: usize,
    k: usize,
    accumulate: bool,
) {
    for j in j0..n {
        let mut s = if accumulate { *c.add(i * n + j) } else { 0.0 };
        for p in 0..k {
            s += *a.add(i * ars + p * acs) * *b.add(p * brs + j - col0);
        }
        *c.add(i * n + j) = s;
    }
}

#[cfg(test)]
#[path = "numeric_tests.rs"]
mod tests;
