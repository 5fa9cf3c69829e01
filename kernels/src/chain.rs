//! Element-wise chains for the ONNX graph runner: a run of float32 steps (binary ops with
//! a scalar, per-channel or tensor operand, the activations of [`crate::fused::Act`], and
//! quantize-dequantize pairs) applied in one pass over memory.
//!
//! Exactness: every step is the float32 operation of the op it stands for, in the same
//! order, so a chain gives the same bits as its ops run one by one (see [`crate::fused`]
//! for the activations):
//! - add / sub / mul / div: one IEEE float32 operation (round to nearest even);
//! - qdq (a QuantizeLinear whose only consumer is a DequantizeLinear with the same scale
//!   and zero point): `q = sat(rne(x / scale) + zp)` with one float32 division, a NaN
//!   giving `q = 0` (the integer the graph runner stores for NaN, as onnxruntime), then
//!   `float32(q - zp) * scale`; see [`qdq_one`].

use crate::fused::{clip_one, Act};
use crate::qdq_table::Table;

/// Operand of a binary step of a chain.
#[derive(Clone, Copy, Debug)]
pub enum Operand {
    /// One value for every element.
    Scalar(f32),
    /// One value per block of `inner` elements, block `o` using value `o % count`.
    Channel(*const f32),
    /// A tensor of the chain's shape.
    Tensor(*const f32),
}

/// A quantize-dequantize pair of a chain: `float32(sat(rne(x / scale) + zp) - zp) * scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Qdq {
    /// The scale (shared by both ops).
    pub scale: f32,
    /// `min - zp`: the lowest `q - zp` (an integer, exact in float32).
    pub lo: f32,
    /// `max - zp`.
    pub hi: f32,
    /// `0 - zp`: `q - zp` for a NaN input (`q = 0`), +0 for a zero point of 0.
    pub nan: f32,
}

impl Qdq {
    /// The pair for a zero point and a type code: 0 int8, 1 uint8, 2 int16, 3 uint16;
    /// None for another code or a zero point out of the type's range.
    pub fn new(scale: f32, zp: i32, t: u32) -> Option<Qdq> {
        let (min, max) = match t {
            0 => (-128, 127),
            1 => (0, 255),
            2 => (-32768, 32767),
            3 => (0, 65535),
            _ => return None,
        };
        if zp < min || zp > max {
            return None;
        }
        Some(Qdq {
            scale,
            lo: (min - zp) as f32,
            hi: (max - zp) as f32,
            nan: (0 - zp) as f32,
        })
    }
}

/// One quantize-dequantize: the integer `q - zp` is `clamp(rne(x / scale), lo, hi)`
/// (clamping before adding the zero point is the same: the bounds are integers), `+ 0.0`
/// turns the -0 of a small negative `x / scale` into the +0 that `q - zp` is.
///
/// ```
/// use axr_kernels::chain::{qdq_one, Qdq};
/// let k = Qdq::new(0.5, -128, 0).unwrap();
/// assert_eq!(qdq_one(0.25, k), 0.0); // 0.5 ties to 0
/// assert_eq!(qdq_one(1000.0, k), 127.5); // (127 + 128) * 0.5
/// assert_eq!(qdq_one(f32::NAN, k), 64.0); // q = 0
/// ```
#[inline(always)]
pub fn qdq_one(x: f32, k: Qdq) -> f32 {
    (qdq_level(x, k) + 0.0) * k.scale
}

/// The index of `qdq_one(x, k)` among the 256 values of an 8-bit pair: `q - zp - lo`.
#[inline(always)]
pub fn qdq_index(x: f32, k: Qdq) -> usize {
    (qdq_level(x, k) - k.lo) as usize
}

/// `q - zp` of one quantize: `clamp(rne(x / scale), lo, hi)`, and `k.nan` for NaN.
#[inline(always)]
fn qdq_level(x: f32, k: Qdq) -> f32 {
    let v = x / k.scale;
    if v.is_nan() {
        k.nan
    } else {
        clip_one(v.round_ties_even(), k.lo, k.hi)
    }
}

/// One step on one value of channel `ch`; `t` is the element's tensor operand value's
/// address for a tensor step (unused otherwise).
///
/// # Safety
/// Per-channel operands valid at `ch`; `t` valid for a tensor step.
#[inline(always)]
pub unsafe fn one(s: Step, v: f32, ch: usize, t: *const f32) -> f32 {
    match s {
        Step::Act(a) => a.one(v),
        Step::Qdq(q) => qdq_one(v, q),
        Step::Binary(code, op) => {
            let b = match op {
                Operand::Scalar(c) => c,
                Operand::Channel(p) => *p.add(ch),
                Operand::Tensor(_) => *t,
            };
            bin_one(code, v, b)
        }
    }
}

/// One step of an element-wise chain.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// `x + b`, `x - b`, `x * b`, `x / b` (code 0..3); `b - x`, `b / x` (4, 5).
    Binary(u32, Operand),
    /// An activation.
    Act(Act),
    /// A quantize-dequantize pair.
    Qdq(Qdq),
}

/// Maximum number of steps of one chain.
pub const MAX_STEPS: usize = 16;

impl Step {
    /// Decodes `n` steps of 4 u32 at address `prog` (see [`Step::read`]); None for more
    /// than [`MAX_STEPS`], an unknown code, or (unless `tensors`) a tensor operand.
    pub fn read_all(prog: usize, n: usize, tensors: bool) -> Option<[Step; MAX_STEPS]> {
        if n > MAX_STEPS {
            return None;
        }
        let mut steps = [Step::Act(Act::None); MAX_STEPS];
        if n == 0 {
            return Some(steps);
        }
        let p = unsafe { core::slice::from_raw_parts(prog as *const u32, 4 * n) };
        for (i, s) in steps.iter_mut().take(n).enumerate() {
            *s = Step::read(&p[4 * i..4 * i + 4])?;
            if let Step::Binary(_, Operand::Tensor(_)) = s {
                if !tensors {
                    return None;
                }
            }
        }
        Some(steps)
    }

    /// Decodes 4 u32 `[code, kind, a, b]`: code 0..5 binary (kind 0 scalar with `a` its
    /// bits, 1 per-channel, 2 tensor, with `a` the address), 6 relu, 7 sigmoid, 8 clip
    /// (`a`, `b` the bits of lo, hi), 9 qdq (`kind` the bits of the scale, `a` the zero
    /// point as i32, `b` the type code of [`Qdq::new`]).
    pub fn read(p: &[u32]) -> Option<Step> {
        match p[0] {
            0..=5 => {
                let o = match p[1] {
                    0 => Operand::Scalar(f32::from_bits(p[2])),
                    1 => Operand::Channel(p[2] as usize as *const f32),
                    2 => Operand::Tensor(p[2] as usize as *const f32),
                    _ => return None,
                };
                Some(Step::Binary(p[0], o))
            }
            6 => Some(Step::Act(Act::Relu)),
            7 => Some(Step::Act(Act::Sigmoid)),
            8 => Some(Step::Act(Act::Clip(
                f32::from_bits(p[2]),
                f32::from_bits(p[3]),
            ))),
            9 => Qdq::new(f32::from_bits(p[1]), p[2] as i32, p[3]).map(Step::Qdq),
            _ => None,
        }
    }
}

#[inline(always)]
fn bin_one(code: u32, x: f32, b: f32) -> f32 {
    match code {
        0 => x + b,
        1 => x - b,
        2 => x * b,
        3 => x / b,
        4 => b - x,
        _ => b / x,
    }
}

/// Applies `steps` to `len` floats of `src` into `dst` (may be in place) in one pass:
/// blocks of `inner` elements, block `o` taking per-channel values at `o % count`. The
/// SIMD body runs 4 lanes at a time within a block, the scalar tail finishes the block.
///
/// # Safety
/// `src`, `dst` and tensor operands valid for `len` floats, per-channel operands for
/// `count`; `inner > 0`, `count > 0`, `len` a multiple of `inner`.
pub unsafe fn chain(
    src: *const f32,
    dst: *mut f32,
    len: usize,
    inner: usize,
    count: usize,
    steps: &[Step],
) {
    if inner == 1 && count > 1 && len > count {
        return periods(src, dst, len, count, steps);
    }
    // strips: several steps, or a lone qdq (1.3-1.5x faster than the one-pass loop in V8
    // and JSC; a lone activation is faster in one pass)
    if steps.len() > 1 || matches!(steps.first(), Some(Step::Qdq(_))) {
        let table = Table::new(steps, count, len);
        return chain_strips(src, dst, len, inner, count, steps, table.as_ref());
    }
    let blocks = len / inner;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let k = fsimd::ExpK::new();
    for o in 0..blocks {
        let ch = o % count;
        let base = o * inner;
        #[allow(unused_mut)]
        let mut i = 0usize;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            while i + 4 <= inner {
                let at = base + i;
                let mut v = v128_load(src.add(at) as *const v128);
                for s in steps {
                    v = match *s {
                        Step::Act(a) => fsimd::act4(a, v, &k),
                        Step::Qdq(q) => simd::qdq4(v, q),
                        Step::Binary(code, op) => {
                            let b = match op {
                                Operand::Scalar(c) => f32x4_splat(c),
                                Operand::Channel(p) => f32x4_splat(*p.add(ch)),
                                Operand::Tensor(p) => v128_load(p.add(at) as *const v128),
                            };
                            match code {
                                0 => f32x4_add(v, b),
                                1 => f32x4_sub(v, b),
                                2 => f32x4_mul(v, b),
                                3 => f32x4_div(v, b),
                                4 => f32x4_sub(b, v),
                                _ => f32x4_div(b, v),
                            }
                        }
                    };
                }
                v128_store(dst.add(at) as *mut v128, v);
                i += 4;
            }
        }
        while i < inner {
            let at = base + i;
            let mut v = *src.add(at);
            for s in steps {
                let t = match *s {
                    Step::Binary(_, Operand::Tensor(p)) => p.add(at),
                    _ => core::ptr::null(),
                };
                v = one(*s, v, ch, t);
            }
            *dst.add(at) = v;
            i += 1;
        }
    }
}

/// [`chain`] with per-channel operands along the last axis (blocks of one element): each
/// period of `count` elements runs as one block whose per-channel operands are tensors
/// (the same values at the same elements), instead of `count` blocks of one element.
unsafe fn periods(src: *const f32, dst: *mut f32, len: usize, count: usize, steps: &[Step]) {
    let mut s2 = [Step::Act(Act::None); MAX_STEPS];
    let mut base = 0usize;
    while base < len {
        let n = count.min(len - base);
        for (k, s) in steps.iter().enumerate() {
            s2[k] = match *s {
                Step::Binary(c, Operand::Channel(p)) => Step::Binary(c, Operand::Tensor(p)),
                Step::Binary(c, Operand::Tensor(p)) => {
                    Step::Binary(c, Operand::Tensor(p.add(base)))
                }
                s => s,
            };
        }
        chain(src.add(base), dst.add(base), n, n, 1, &s2[..steps.len()]);
        base += n;
    }
}

/// Elements of one strip of [`chain`]'s multi-step form: small enough to stay in L1
/// between the steps.
pub const STRIP: usize = 1024;

/// [`chain`] for several steps: each strip of up to [`STRIP`] elements of a block goes
/// through one step at a time (a tight loop per step, its constants splatted once) while
/// it stays in the L1 cache, the steps from `table.at` on as one lookup. Same operations
/// per element as the one-pass loop.
unsafe fn chain_strips(
    src: *const f32,
    dst: *mut f32,
    len: usize,
    inner: usize,
    count: usize,
    steps: &[Step],
    table: Option<&Table>,
) {
    for o in 0..len / inner {
        let ch = o % count;
        let mut i = 0usize;
        while i < inner {
            let at = o * inner + i;
            strip(
                src.add(at),
                dst.add(at),
                STRIP.min(inner - i),
                ch,
                at,
                steps,
                table,
            );
            i += STRIP.min(inner - i);
        }
    }
}

/// The steps (the tail from `table.at` as a lookup) over `n` elements at `from` into `to`.
#[inline(always)]
unsafe fn strip(
    from: *const f32,
    to: *mut f32,
    n: usize,
    ch: usize,
    at: usize,
    steps: &[Step],
    table: Option<&Table>,
) {
    let end = table.map_or(steps.len(), |t| t.at);
    for (k, s) in steps[..end].iter().enumerate() {
        step(*s, if k == 0 { from } else { to }, to, n, ch, at);
    }
    if let Some(t) = table {
        t.apply(if end == 0 { from } else { to }, to, n, ch);
    }
}

/// Applies `steps` in place to the `n` contiguous elements at `p`, all of channel `ch`
/// (a row band of one output plane of [`crate::convt::pair`]), in strips of [`STRIP`], the
/// tail from `table.at` as a lookup (see [`Table::new`]).
/// Tensor operands have no meaning here: the caller refuses them ([`Step::read_all`]).
///
/// # Safety
/// `p` valid for `n` floats; per-channel operands valid at `ch`.
pub unsafe fn plane(steps: &[Step], table: Option<&Table>, p: *mut f32, n: usize, ch: usize) {
    let mut i = 0usize;
    while i < n {
        let m = STRIP.min(n - i);
        strip(p.add(i), p.add(i), m, ch, 0, steps, table);
        i += m;
    }
}

/// One step over `n` elements at `from` into `to` (may be equal); `at` is the elements'
/// index in the chain (for tensor operands), `ch` their channel.
#[inline(always)]
unsafe fn step(s: Step, from: *const f32, to: *mut f32, n: usize, ch: usize, at: usize) {
    match s {
        Step::Act(a) => match a {
            Act::None => map(from, to, n, |v, _| v, |v, _| v),
            Act::Relu => map(
                from,
                to,
                n,
                |v, _| simd::act(Act::Relu, v),
                |v, _| Act::Relu.one(v),
            ),
            Act::Sigmoid => map(
                from,
                to,
                n,
                |v, _| simd::act(Act::Sigmoid, v),
                |v, _| Act::Sigmoid.one(v),
            ),
            Act::Clip(lo, hi) => {
                let a = Act::Clip(lo, hi);
                map(from, to, n, |v, _| simd::act(a, v), |v, _| a.one(v))
            }
        },
        Step::Qdq(q) => map(from, to, n, |v, _| simd::qdq4(v, q), |v, _| qdq_one(v, q)),
        Step::Binary(code, Operand::Tensor(p)) => {
            let p = p.add(at);
            let t = |i: usize| *p.add(i);
            match code {
                0 => map(
                    from,
                    to,
                    n,
                    |v, i| simd::bin_t(0, v, p.add(i)),
                    |v, i| v + t(i),
                ),
                1 => map(
                    from,
                    to,
                    n,
                    |v, i| simd::bin_t(1, v, p.add(i)),
                    |v, i| v - t(i),
                ),
                2 => map(
                    from,
                    to,
                    n,
                    |v, i| simd::bin_t(2, v, p.add(i)),
                    |v, i| v * t(i),
                ),
                3 => map(
                    from,
                    to,
                    n,
                    |v, i| simd::bin_t(3, v, p.add(i)),
                    |v, i| v / t(i),
                ),
                4 => map(
                    from,
                    to,
                    n,
                    |v, i| simd::bin_t(4, v, p.add(i)),
                    |v, i| t(i) - v,
                ),
                _ => map(
                    from,
                    to,
                    n,
                    |v, i| simd::bin_t(5, v, p.add(i)),
                    |v, i| t(i) / v,
                ),
            }
        }
        Step::Binary(code, op) => {
            let b = match op {
                Operand::Channel(p) => *p.add(ch),
                Operand::Scalar(b) => b,
                Operand::Tensor(_) => 0.0,
            };
            match code {
                0 => map(from, to, n, |v, _| simd::bin(0, v, b), |v, _| v + b),
                1 => map(from, to, n, |v, _| simd::bin(1, v, b), |v, _| v - b),
                2 => map(from, to, n, |v, _| simd::bin(2, v, b), |v, _| v * b),
                3 => map(from, to, n, |v, _| simd::bin(3, v, b), |v, _| v / b),
                4 => map(from, to, n, |v, _| simd::bin(4, v, b), |v, _| b - v),
                _ => map(from, to, n, |v, _| simd::bin(5, v, b), |v, _| b / v),
            }
        }
    }
}

/// `to[i] = f(from[i], i)` for `i < n`, 4 lanes at a time (`f4`) then one (`f1`).
#[inline(always)]
unsafe fn map(
    from: *const f32,
    to: *mut f32,
    n: usize,
    #[allow(unused_variables)] f4: impl Fn(simd::V, usize) -> simd::V,
    f1: impl Fn(f32, usize) -> f32,
) {
    #[allow(unused_mut)]
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        while i + 4 <= n {
            let v = v128_load(from.add(i) as *const v128);
            v128_store(to.add(i) as *mut v128, f4(v, i));
            i += 4;
        }
    }
    while i < n {
        *to.add(i) = f1(*from.add(i), i);
        i += 1;
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::fused::simd as fsimd;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd {
    use super::{Act, Qdq};
    use crate::fused::simd::{act4, ExpK};
    use core::arch::wasm32::*;

    /// The lanes type of [`super::map`].
    pub type V = v128;

    /// An activation on 4 lanes ([`crate::fused::simd::act4`]).
    #[inline(always)]
    pub fn act(a: Act, v: v128) -> v128 {
        act4(a, v, &ExpK::new())
    }

    /// `v op b` (codes of [`super::Step::read`]).
    #[inline(always)]
    pub fn bin(code: u32, v: v128, b: f32) -> v128 {
        op(code, v, f32x4_splat(b))
    }

    /// `v op t[0..4]`.
    #[inline(always)]
    pub unsafe fn bin_t(code: u32, v: v128, t: *const f32) -> v128 {
        op(code, v, v128_load(t as *const v128))
    }

    #[inline(always)]
    fn op(code: u32, v: v128, b: v128) -> v128 {
        match code {
            0 => f32x4_add(v, b),
            1 => f32x4_sub(v, b),
            2 => f32x4_mul(v, b),
            3 => f32x4_div(v, b),
            4 => f32x4_sub(b, v),
            _ => f32x4_div(b, v),
        }
    }

    /// Chain steps with scalar operands (activations, qdq, binary with a scalar) on 4
    /// lanes: lane for lane [`super::one`] of each step in order (a tensor or per-channel
    /// operand leaves the value as it is: callers pass scalar steps only).
    #[inline(always)]
    pub fn scalar_steps4(mut v: v128, steps: &[super::Step], k: &ExpK) -> v128 {
        for s in steps {
            v = match *s {
                super::Step::Act(a) => act4(a, v, k),
                super::Step::Qdq(q) => qdq4(v, q),
                super::Step::Binary(code, super::Operand::Scalar(c)) => bin(code, v, c),
                super::Step::Binary(..) => v,
            };
        }
        v
    }

    /// [`super::qdq_one`] on 4 lanes: `nearest` rounds ties to even, `pmax`/`pmin` keep a
    /// NaN, which the select then replaces.
    #[inline(always)]
    pub fn qdq4(x: v128, k: Qdq) -> v128 {
        let s = f32x4_splat(k.scale);
        let v = f32x4_div(x, s);
        let c = f32x4_pmin(
            f32x4_pmax(f32x4_nearest(v), f32x4_splat(k.lo)),
            f32x4_splat(k.hi),
        );
        let c = v128_bitselect(c, f32x4_splat(k.nan), f32x4_eq(v, v));
        f32x4_mul(f32x4_add(c, f32x4_splat(0.0)), s)
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd {
    /// No lanes off wasm32: [`super::map`] runs its scalar loop only.
    pub type V = ();
    #[inline(always)]
    pub fn act(_: super::Act, _: V) -> V {}
    #[inline(always)]
    pub fn bin(_: u32, _: V, _: f32) -> V {}
    #[inline(always)]
    pub unsafe fn bin_t(_: u32, _: V, _: *const f32) -> V {}
    #[inline(always)]
    pub fn qdq4(_: V, _: super::Qdq) -> V {}
}
