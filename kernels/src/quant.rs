//! Element-wise quantize (f32 -> int8/uint8) and dequantize (int8/uint8 -> f32) over
//! contiguous runs, with a WebAssembly SIMD body and a scalar tail.
//!
//! # Rounding semantics (exact)
//!
//! Quantize: `q = sat(rne(x / scale) + zero_point)` where
//! - `x / scale` is one IEEE float32 division (never a multiplication by a reciprocal, so
//!   results match numpy's `x / scale` in float32 bit for bit);
//! - `rne` rounds to the nearest integer, ties to even (numpy's `np.round`);
//! - `sat` clamps to `[-128, 127]` (int8) or `[0, 255]` (uint8);
//! - NaN gives `zero_point`; `+inf` gives the maximum, `-inf` the minimum.
//!
//! This is ONNX `QuantizeLinear` (round, then add the zero point), which the emulated
//! device and onnxruntime follow. Axelera's Python recipe is `np.round(x / scale + zp)`,
//! which rounds *after* a float32 addition of the zero point. The two agree except:
//! (a) on exact ties `v = k + 0.5` when `zp` is ODD: numpy rounds the tie of `v + zp` to
//!     even, we round the tie of `v` to even, so the results differ by one (for example
//!     `v = 0.5, zp = -7`: numpy `rne(-6.5) = -6`, we `rne(0.5) - 7 = -7`). With an even
//!     zero point (the usual `-128` or `0` for int8, `128` or `0` for uint8) ties agree;
//! (b) where the float32 addition `v + zp` itself rounds: a `v` within a fraction of an ulp
//!     of `k + 0.5` (for example `v = 0.49999997, zp = 1`: numpy `round(1.5) = 2`, we `1`,
//!     the correctly rounded answer), or `|v| >= 2^23 - |zp|`, where both saturate.
//! We choose `rne(x / scale) + zp` (the tests check equality with numpy's formula on every
//! `.5` boundary for even zero points, and the differences above for odd ones).
//!
//! Dequantize: `y = float32(q - zero_point) * scale` (one float32 multiplication, as in
//! numpy's `(q.astype(np.float32) - zp) * scale`; `q - zp` is exact).

/// Float32 magic number `1.5 * 2^23`: for `|v| <= 2^22`, `v + MAGIC` rounds `v` to the
/// nearest integer, ties to even (the IEEE default rounding), and the integer sits in the
/// low mantissa bits of the sum.
#[allow(dead_code)]
const MAGIC: f32 = 12_582_912.0;
#[allow(dead_code)]
const MAGIC_BITS: i32 = 0x4B40_0000;
/// `-2^22`: the SIMD body clamps `x / scale` from below to this, where rounding is still
/// exact and every value saturates to the minimum anyway.
#[allow(dead_code)]
const FLOOR: f32 = -4_194_304.0;

/// The saturation range of a quantized type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QType {
    /// Signed 8-bit, `[-128, 127]`.
    I8,
    /// Unsigned 8-bit, `[0, 255]`.
    U8,
}

impl QType {
    /// Smallest representable value.
    #[inline(always)]
    pub fn min(self) -> i32 {
        match self {
            QType::I8 => -128,
            QType::U8 => 0,
        }
    }
    /// Largest representable value.
    #[inline(always)]
    pub fn max(self) -> i32 {
        match self {
            QType::I8 => 127,
            QType::U8 => 255,
        }
    }
}

/// Quantizes one value: `sat(rne(x / scale) + zp)`, NaN -> `zp`.
///
/// ```
/// use axr_kernels::quant::{quantize_one, QType};
/// assert_eq!(quantize_one(0.5, 1.0, 0, QType::I8), 0); // tie to even
/// assert_eq!(quantize_one(1.5, 1.0, 0, QType::I8), 2);
/// assert_eq!(quantize_one(f32::NAN, 1.0, -128, QType::I8), -128);
/// assert_eq!(quantize_one(f32::INFINITY, 1.0, 3, QType::U8), 255);
/// ```
#[inline(always)]
pub fn quantize_one(x: f32, scale: f32, zp: i32, t: QType) -> i32 {
    let v = x / scale;
    if v.is_nan() {
        return zp;
    }
    // The bounds are integers, so clamping before rounding equals clamping after.
    let lo = (t.min() - zp) as f32;
    let hi = (t.max() - zp) as f32;
    let c = if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    };
    c.round_ties_even() as i32 + zp
}

/// Dequantizes one value: `float32(q - zp) * scale`.
///
/// ```
/// assert_eq!(axr_kernels::quant::dequantize_one(-118, 0.5, -128), 5.0);
/// ```
#[inline(always)]
pub fn dequantize_one(q: i32, scale: f32, zp: i32) -> f32 {
    (q - zp) as f32 * scale
}

use core::sync::atomic::AtomicBool;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use core::arch::wasm32::*;

    /// Constants of one quantize call, splatted once.
    #[derive(Clone, Copy)]
    pub struct QConsts {
        scale: v128,
        floor: v128,
        magic: v128,
        magic_bits: v128,
        zp: v128,
    }

    #[inline(always)]
    pub fn qconsts(scale: f32, zp: i32, t: QType) -> QConsts {
        debug_assert!(scale > 0.0 && scale.is_finite());
        debug_assert!(zp >= t.min() && zp <= t.max());
        QConsts {
            scale: f32x4_splat(scale),
            floor: f32x4_splat(FLOOR),
            magic: f32x4_splat(MAGIC),
            magic_bits: i32x4_splat(MAGIC_BITS),
            zp: i16x8_splat(zp as i16),
        }
    }

    /// 4 floats -> 4 i32 lanes `r` with `sat(r + zp) = sat(rne(x / scale) + zp)` for every
    /// later saturation to 8 bits: `r = rne(x / scale)` when `|x / scale| <= 2^22`; beyond,
    /// some integer of the same sign with `|r| >= 2^22`. NaN gives 0.
    #[inline(always)]
    unsafe fn r4(p: *const f32, k: &QConsts) -> v128 {
        let x = v128_load(p as *const v128);
        // NaN -> +0.0 (x / scale is NaN only for a NaN x: scale is finite and positive).
        let x = v128_and(x, f32x4_eq(x, x));
        // One-sided clamp: keeps v + MAGIC positive, so its bits order like its value
        // (+inf stays, and gives a large positive r).
        let v = f32x4_pmax(f32x4_div(x, k.scale), k.floor);
        // bits(v + MAGIC) = MAGIC_BITS + rne(v) for |v| <= 2^22, and is monotonic in v.
        i32x4_sub(f32x4_add(v, k.magic), k.magic_bits)
    }

    /// 16 floats at `p` -> 16 quantized bytes. The two saturating narrows do the clamping:
    /// i32 -> i16 (saturating), + zp (i16, saturating), i16 -> i8 or u8 (saturating).
    /// Adding the zero point in 16 bits also keeps LLVM from merging the two narrows into
    /// an i32 clamp and a shuffle (which V8 and JSC lower to several instructions).
    #[inline(always)]
    pub unsafe fn q16(p: *const f32, k: &QConsts, t: QType) -> v128 {
        let ab = i16x8_add_sat(i16x8_narrow_i32x4(r4(p, k), r4(p.add(4), k)), k.zp);
        let cd = i16x8_add_sat(i16x8_narrow_i32x4(r4(p.add(8), k), r4(p.add(12), k)), k.zp);
        match t {
            QType::I8 => i8x16_narrow_i16x8(ab, cd),
            QType::U8 => u8x16_narrow_i16x8(ab, cd),
        }
    }

    /// [`dq16`] without `extend_high`: four 4-byte loads, each widened with `extend_low`
    /// twice. JavaScriptCore compiles `i16x8.extend_high` / `i32x4.extend_high` to
    /// `unpckhpd`, which reads its destination and chains every iteration to the previous
    /// one; this form avoids them (V8 runs the other form faster). Same results.
    #[inline(always)]
    pub unsafe fn dq16_narrow_loads(p: *const u8, d: *mut f32, scale: v128, zp: v128, t: QType) {
        let d = d as *mut v128;
        for i in 0..4 {
            let q = v128_load32_zero(p.add(4 * i) as *const u32);
            let w = match t {
                QType::I8 => i32x4_extend_low_i16x8(i16x8_extend_low_i8x16(q)),
                QType::U8 => i32x4_extend_low_u16x8(u16x8_extend_low_u8x16(q)),
            };
            let f = f32x4_mul(f32x4_convert_i32x4(i32x4_sub(w, zp)), scale);
            v128_store(d.add(i), f);
        }
    }

    /// 16 bytes at `p` -> 16 floats at `d`.
    #[inline(always)]
    pub unsafe fn dq16(p: *const u8, d: *mut f32, scale: v128, zp: v128, t: QType) {
        let q = v128_load(p as *const v128);
        let (lo, hi) = match t {
            QType::I8 => (i16x8_extend_low_i8x16(q), i16x8_extend_high_i8x16(q)),
            QType::U8 => (u16x8_extend_low_u8x16(q), u16x8_extend_high_u8x16(q)),
        };
        // After the first widening both cases are signed 16-bit values.
        let parts = [
            i32x4_extend_low_i16x8(lo),
            i32x4_extend_high_i16x8(lo),
            i32x4_extend_low_i16x8(hi),
            i32x4_extend_high_i16x8(hi),
        ];
        let d = d as *mut v128;
        for (i, w) in parts.iter().enumerate() {
            let f = f32x4_mul(f32x4_convert_i32x4(i32x4_sub(*w, zp)), scale);
            v128_store(d.add(i), f);
        }
    }
}

/// Quantizes `len` floats at `src` into `len` bytes at `dst`.
///
/// # Safety
/// `src` must be valid for `len` f32 reads, `dst` for `len` byte writes; the ranges may not
/// overlap.
#[inline]
pub unsafe fn quantize_run(
    src: *const f32,
    dst: *mut u8,
    len: usize,
    scale: f32,
    zp: i32,
    t: QType,
) {
    // One loop per type (see layout::quantize_pad).
    match t {
        QType::I8 => quantize_run_t::<false>(src, dst, len, scale, zp),
        QType::U8 => quantize_run_t::<true>(src, dst, len, scale, zp),
    }
}

#[inline(always)]
unsafe fn quantize_run_t<const U8: bool>(
    src: *const f32,
    dst: *mut u8,
    len: usize,
    scale: f32,
    zp: i32,
) {
    let t = if U8 { QType::U8 } else { QType::I8 };
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::v128_store;
        let k = simd::qconsts(scale, zp, t);
        while i + 16 <= len {
            v128_store(dst.add(i) as *mut _, simd::q16(src.add(i), &k, t));
            i += 16;
        }
        if i < len && len >= 16 {
            // Overlapping last block: recomputes a few identical values, no scalar tail.
            let j = len - 16;
            v128_store(dst.add(j) as *mut _, simd::q16(src.add(j), &k, t));
            return;
        }
    }
    while i < len {
        *dst.add(i) = quantize_one(*src.add(i), scale, zp, t) as u8;
        i += 1;
    }
}

/// Which SIMD formulation the dequantize loops use: `false` (default) widens 16 bytes with
/// `extend_low` / `extend_high`, `true` widens four 4-byte loads with `extend_low` only. The
/// results are identical; the speed depends on the engine's compiler (V8: the first,
/// JavaScriptCore: the second), so the TypeScript side picks one at load
/// ([`crate::set_dequantize_narrow_loads`]).
pub static DEQUANTIZE_NARROW_LOADS: AtomicBool = AtomicBool::new(false);

/// Dequantizes `len` bytes at `src` (int8 or uint8 per `t`) into `len` floats at `dst`.
///
/// # Safety
/// `src` must be valid for `len` byte reads, `dst` for `len` f32 writes; no overlap.
#[inline]
pub unsafe fn dequantize_run(
    src: *const u8,
    dst: *mut f32,
    len: usize,
    scale: f32,
    zp: i32,
    t: QType,
) {
    let mut i = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let s = f32x4_splat(scale);
        let z = i32x4_splat(zp);
        // one loop per formulation (see DequantizeForm), chosen once per call
        if DEQUANTIZE_NARROW_LOADS.load(core::sync::atomic::Ordering::Relaxed) {
            while i + 16 <= len {
                simd::dq16_narrow_loads(src.add(i), dst.add(i), s, z, t);
                i += 16;
            }
            if i < len && len >= 16 {
                let j = len - 16;
                simd::dq16_narrow_loads(src.add(j), dst.add(j), s, z, t);
                return;
            }
        } else {
            while i + 16 <= len {
                simd::dq16(src.add(i), dst.add(i), s, z, t);
                i += 16;
            }
            if i < len && len >= 16 {
                let j = len - 16;
                simd::dq16(src.add(j), dst.add(j), s, z, t);
                return;
            }
        }
    }
    while i < len {
        let b = *src.add(i);
        let q = match t {
            QType::I8 => b as i8 as i32,
            QType::U8 => b as i32,
        };
        *dst.add(i) = dequantize_one(q, scale, zp);
        i += 1;
    }
}

/// Quantizes 16 RGB pixels (48 floats) into 16 RGBX pixels (64 bytes, X = `fill`).
/// Returns false when SIMD is not compiled in (the caller then uses the general path).
///
/// # Safety
/// `src` valid for 48 f32 reads, `dst` for 64 byte writes.
#[inline(always)]
#[allow(unused_variables)]
pub unsafe fn quantize_rgb_to_rgbx16(src: *const f32, dst: *mut u8, k: &Consts, t: QType) -> bool {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let a = simd::q16(src, &k.0, t);
        let b = simd::q16(src.add(16), &k.0, t);
        let c = simd::q16(src.add(32), &k.0, t);
        spread_rgbx16(a, b, c, dst, k.1);
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// Spreads 48 bytes (16 RGB pixels in a, b, c) into 64 bytes of RGBX at `dst`; `fx` holds
/// the fill byte in every X lane (bytes 3, 7, 11, 15) and 0 elsewhere.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn spread_rgbx16(
    a: core::arch::wasm32::v128,
    b: core::arch::wasm32::v128,
    c: core::arch::wasm32::v128,
    dst: *mut u8,
    fx: core::arch::wasm32::v128,
) {
    use core::arch::wasm32::*;
    // Swizzle lanes with an index >= 16 become 0, so the X lanes are 0 before the or
    // with `fx`. (LLVM turns these into shuffles with a zero vector; with one-operand
    // shuffles and a bitselect for the fill instead, V8 ran this kernel 5% slower.)
    const Z: u8 = 0x80;
    let m = |v: [u8; 16]| {
        u8x16(
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
            v[14], v[15],
        )
    };
    let v0 = i8x16_swizzle(a, m([0, 1, 2, Z, 3, 4, 5, Z, 6, 7, 8, Z, 9, 10, 11, Z]));
    let v1 = v128_or(
        i8x16_swizzle(a, m([12, 13, 14, Z, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z])),
        i8x16_swizzle(b, m([Z, Z, Z, Z, Z, 0, 1, Z, 2, 3, 4, Z, 5, 6, 7, Z])),
    );
    let v2 = v128_or(
        i8x16_swizzle(b, m([8, 9, 10, Z, 11, 12, 13, Z, 14, 15, Z, Z, Z, Z, Z, Z])),
        i8x16_swizzle(c, m([Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 0, Z, 1, 2, 3, Z])),
    );
    let v3 = i8x16_swizzle(c, m([4, 5, 6, Z, 7, 8, 9, Z, 10, 11, 12, Z, 13, 14, 15, Z]));
    let d = dst as *mut v128;
    v128_store(d, v128_or(v0, fx));
    v128_store(d.add(1), v128_or(v1, fx));
    v128_store(d.add(2), v128_or(v2, fx));
    v128_store(d.add(3), v128_or(v3, fx));
}

/// Copies 16 RGB pixels (48 bytes) into 16 RGBX pixels (64 bytes, X = `fill`). Returns
/// false when SIMD is not compiled in (the caller then uses the general path).
///
/// # Safety
/// `src` valid for 48 byte reads, `dst` for 64 byte writes.
#[inline(always)]
#[allow(unused_variables)]
pub unsafe fn rgb_to_rgbx16(src: *const u8, dst: *mut u8, fill: u8) -> bool {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        let s = src as *const v128;
        spread_rgbx16(
            v128_load(s),
            v128_load(s.add(1)),
            v128_load(s.add(2)),
            dst,
            fill_x(fill),
        );
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// Splatted constants for [`quantize_rgb_to_rgbx16`] (opaque on hosts without SIMD).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub struct Consts(simd::QConsts, core::arch::wasm32::v128);

/// `fill` in the X lanes of 4 RGBX pixels (bytes 3, 7, 11, 15), 0 elsewhere.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn fill_x(fill: u8) -> core::arch::wasm32::v128 {
    core::arch::wasm32::u32x4_splat((fill as u32) << 24)
}
/// Splatted constants for [`quantize_rgb_to_rgbx16`] (opaque on hosts without SIMD).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub struct Consts;

/// Builds the constants of [`quantize_rgb_to_rgbx16`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn rgbx_consts(scale: f32, zp: i32, t: QType, fill: u8) -> Consts {
    Consts(simd::qconsts(scale, zp, t), fill_x(fill))
}

/// Builds the constants of [`quantize_rgb_to_rgbx16`].
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
pub fn rgbx_consts(_scale: f32, _zp: i32, _t: QType, _fill: u8) -> Consts {
    Consts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy's recipe in float32: round(x / scale + zp), clipped; NaN -> zp (our choice).
    fn numpy_recipe(x: f32, scale: f32, zp: i32, t: QType) -> i32 {
        let v = x / scale + zp as f32;
        if v.is_nan() {
            return zp;
        }
        (v.round_ties_even().max(t.min() as f32).min(t.max() as f32)) as i32
    }

    #[test]
    fn ties_round_to_even() {
        for k in -300..300 {
            let x = k as f32 + 0.5;
            let want = (if k % 2 == 0 { k } else { k + 1 }).clamp(-128, 127);
            assert_eq!(quantize_one(x, 1.0, 0, QType::I8), want, "x={x}");
        }
    }

    #[test]
    fn matches_numpy_recipe_on_half_boundaries() {
        for &zp in &[-128, -8, 0, 4, 126] {
            for k in -400..400 {
                for &d in &[0.5f32, -0.5, 0.0, 0.25, 0.75] {
                    let x = (k as f32 + d) * 0.25;
                    assert_eq!(
                        quantize_one(x, 0.25, zp, QType::I8),
                        numpy_recipe(x, 0.25, zp, QType::I8)
                    );
                }
            }
        }
        // Odd zero points: identical off ties, one apart on ties (parity of the tie).
        for &zp in &[-127, -7, 3, 127] {
            for k in -200..200 {
                let x = k as f32 + 0.25;
                assert_eq!(
                    quantize_one(x, 1.0, zp, QType::I8),
                    numpy_recipe(x, 1.0, zp, QType::I8)
                );
                let t = k as f32 + 0.5;
                let (a, b) = (
                    quantize_one(t, 1.0, zp, QType::I8),
                    numpy_recipe(t, 1.0, zp, QType::I8),
                );
                assert!((a - b).abs() <= 1, "{t} {zp}");
                if (-120..120).contains(&(k + zp)) {
                    assert_eq!((a - b).abs(), 1, "tie {t} zp {zp}");
                }
            }
        }
        for &zp in &[0, 2, 128, 254] {
            for k in -400..400 {
                let x = k as f32 + 0.5;
                assert_eq!(
                    quantize_one(x, 1.0, zp, QType::U8),
                    numpy_recipe(x, 1.0, zp, QType::U8)
                );
            }
        }
    }

    #[test]
    fn documented_difference_with_numpy() {
        // numpy: round(0.49999997 + 1) = round(1.5) = 2; correctly rounded: 0 + 1.
        let v = 0.49999997f32;
        assert_eq!(quantize_one(v, 1.0, 1, QType::I8), 1);
        assert_eq!(numpy_recipe(v, 1.0, 1, QType::I8), 2);
    }

    #[test]
    fn special_values() {
        assert_eq!(quantize_one(f32::NAN, 0.1, 5, QType::I8), 5);
        assert_eq!(quantize_one(f32::INFINITY, 0.1, 5, QType::I8), 127);
        assert_eq!(quantize_one(f32::NEG_INFINITY, 0.1, 5, QType::I8), -128);
        assert_eq!(quantize_one(f32::INFINITY, 0.1, 5, QType::U8), 255);
        assert_eq!(quantize_one(f32::NEG_INFINITY, 0.1, 5, QType::U8), 0);
        assert_eq!(quantize_one(1e30, 1e-30, 0, QType::I8), 127);
        assert_eq!(quantize_one(-0.0, 1.0, 0, QType::I8), 0);
    }

    #[test]
    fn divides_rather_than_multiplies() {
        // x / s with s = 0.1 is exactly the tie 2.5 in float32 -> 2 (ties to even).
        let s = 0.1f32;
        let x = 0.25f32;
        assert_eq!(x / s, 2.5);
        assert_eq!(quantize_one(x, s, 0, QType::I8), 2);
    }

    #[test]
    fn runs_match_scalar() {
        let mut seed = 12345u32;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for len in [0usize, 1, 3, 15, 16, 17, 31, 33, 100] {
            let src: Vec<f32> = (0..len)
                .map(|_| (rnd() % 2000) as f32 / 4.0 - 250.0)
                .collect();
            let mut q = vec![0u8; len];
            unsafe { quantize_run(src.as_ptr(), q.as_mut_ptr(), len, 0.5, -3, QType::I8) };
            for i in 0..len {
                assert_eq!(q[i] as i8 as i32, quantize_one(src[i], 0.5, -3, QType::I8));
            }
            let mut f = vec![0f32; len];
            unsafe { dequantize_run(q.as_ptr(), f.as_mut_ptr(), len, 0.5, -3, QType::U8) };
            for i in 0..len {
                assert_eq!(f[i], (q[i] as i32 + 3) as f32 * 0.5);
            }
        }
    }
}
