//! NHWC <-> NCHW transposes for 1-byte (int8/uint8) and 4-byte (f32) elements.
//!
//! Both are a batch of 2-D transposes: NHWC -> NCHW transposes each `[h*w, c]` matrix to
//! `[c, h*w]`, NCHW -> NHWC the reverse. Tiles of 16x16 keep reads and writes in cache.
//!
//! Small channel counts (images: c = 2, 3, 4) have SIMD fast paths on wasm32 + simd128, in
//! the style of XNNPACK's wasmsimd zip/unzip kernels: NCHW -> NHWC ("zip") reads one vector
//! from each of the `c` channel planes and interleaves them with shuffles into `c` vector
//! stores of consecutive pixels; NHWC -> NCHW ("unzip") is the inverse. A vector holds 4
//! pixels of f32 or 16 pixels of bytes; the remaining pixels of a plane (fewer than a
//! vector) take a scalar tail. c = 1 (and h*w = 1) is a plain copy. Larger c keeps the tiles.
//! The shuffles are chosen so that V8 lowers each to one SSE instruction where possible
//! (`unpcklps`/`unpckhps`/`shufps` for the 4-byte ones: two lanes from each operand).

const T: usize = 16;

/// Transposes `batch` row-major matrices `[rows, cols]` at `src` into `[cols, rows]` at `dst`.
///
/// # Safety
/// `src` and `dst` hold `batch * rows * cols` elements each; no overlap.
#[inline(always)]
pub unsafe fn transpose2d<E: Copy>(
    src: *const E,
    dst: *mut E,
    batch: usize,
    rows: usize,
    cols: usize,
) {
    let m = rows * cols;
    for b in 0..batch {
        let s = src.add(b * m);
        let d = dst.add(b * m);
        if cols <= 4 {
            for r in 0..rows {
                for c in 0..cols {
                    *d.add(c * rows + r) = *s.add(r * cols + c);
                }
            }
            continue;
        }
        let mut r0 = 0;
        while r0 < rows {
            let r1 = (r0 + T).min(rows);
            let mut c0 = 0;
            while c0 < cols {
                let c1 = (c0 + T).min(cols);
                for c in c0..c1 {
                    for r in r0..r1 {
                        *d.add(c * rows + r) = *s.add(r * cols + c);
                    }
                }
                c0 = c1;
            }
            r0 = r1;
        }
    }
}

/// The fast paths of both directions: a copy when `c == 1` or `hw == 1`, else (SIMD
/// builds, `c <= 4`) `x32` or `x8` on each of the `n` images by element size. False when
/// none applies (the caller then uses the tiles of [`transpose2d`]).
#[inline(always)]
#[allow(unused_variables)]
unsafe fn fast<E: Copy>(
    src: *const E,
    dst: *mut E,
    n: usize,
    hw: usize,
    c: usize,
    x32: unsafe fn(*const u32, *mut u32, usize, usize),
    x8: unsafe fn(*const u8, *mut u8, usize, usize),
) -> bool {
    if c == 1 || hw == 1 {
        core::ptr::copy_nonoverlapping(src, dst, n * hw * c);
        return true;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if c <= 4 {
        // One arm per element size, resolved at compile time (E is f32, u8 or i8).
        let m = hw * c;
        match core::mem::size_of::<E>() {
            4 => {
                for b in 0..n {
                    x32(
                        src.add(b * m) as *const u32,
                        dst.add(b * m) as *mut u32,
                        hw,
                        c,
                    );
                }
                return true;
            }
            1 => {
                for b in 0..n {
                    x8(
                        src.add(b * m) as *const u8,
                        dst.add(b * m) as *mut u8,
                        hw,
                        c,
                    );
                }
                return true;
            }
            _ => {}
        }
    }
    false
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::{unzip_x32, unzip_x8, zip_x32, zip_x8};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
unsafe fn no_simd<T>(_: *const T, _: *mut T, _: usize, _: usize) {}
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use {no_simd as unzip_x32, no_simd as unzip_x8, no_simd as zip_x32, no_simd as zip_x8};

/// NHWC `[n, h, w, c]` -> NCHW `[n, c, h, w]`.
///
/// # Safety
/// See [`transpose2d`].
pub unsafe fn nhwc_to_nchw<E: Copy>(
    src: *const E,
    dst: *mut E,
    n: usize,
    h: usize,
    w: usize,
    c: usize,
) {
    if !fast(src, dst, n, h * w, c, unzip_x32, unzip_x8) {
        transpose2d(src, dst, n, h * w, c);
    }
}

/// NCHW `[n, c, h, w]` -> NHWC `[n, h, w, c]`.
///
/// # Safety
/// See [`transpose2d`].
pub unsafe fn nchw_to_nhwc<E: Copy>(
    src: *const E,
    dst: *mut E,
    n: usize,
    h: usize,
    w: usize,
    c: usize,
) {
    if !fast(src, dst, n, h * w, c, zip_x32, zip_x8) {
        transpose2d(src, dst, n, c, h * w);
    }
}

/// Scalar tail of one image: NCHW -> NHWC of pixels `i0..hw` (`c` planes of `hw`).
#[allow(dead_code)]
#[inline(always)]
unsafe fn zip_tail<E: Copy>(s: *const E, d: *mut E, hw: usize, c: usize, i0: usize) {
    for i in i0..hw {
        for ch in 0..c {
            *d.add(i * c + ch) = *s.add(ch * hw + i);
        }
    }
}

/// Scalar tail of one image: NHWC -> NCHW of pixels `i0..hw`.
#[allow(dead_code)]
#[inline(always)]
unsafe fn unzip_tail<E: Copy>(s: *const E, d: *mut E, hw: usize, c: usize, i0: usize) {
    for i in i0..hw {
        for ch in 0..c {
            *d.add(ch * hw + i) = *s.add(i * c + ch);
        }
    }
}

/// The SIMD bodies of one image (`hw` pixels, 2 <= c <= 4). Loads and stores are unaligned
/// (`v128_load`/`v128_store` are 1-aligned), so planes may start anywhere.
///
/// Notation: `x`, `y`, `z`, `w` are channels 0..3; in the lane diagrams the lowest lane
/// (lowest address) is on the LEFT, `[x0 y0 z0 x1]` = x0 at byte 0.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{unzip_tail, zip_tail};
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn ld<T>(p: *const T) -> v128 {
        v128_load(p as *const v128)
    }

    #[inline(always)]
    unsafe fn st<T>(p: *mut T, v: v128) {
        v128_store(p as *mut v128, v)
    }

    /// NCHW -> NHWC, 4-byte elements: planes `s + ch * hw` -> pixels `d[i * c + ch]`.
    /// 4 pixels per step: `c` loads (one per plane), `c` stores of 16 bytes.
    #[inline(never)]
    pub unsafe fn zip_x32(s: *const u32, d: *mut u32, hw: usize, c: usize) {
        let n4 = hw & !3;
        let mut i = 0;
        match c {
            2 => {
                let (px, py) = (s, s.add(hw));
                while i < n4 {
                    let vx = ld(px.add(i)); // [x0 x1 x2 x3]
                    let vy = ld(py.add(i)); // [y0 y1 y2 y3]
                    st(d.add(2 * i), u32x4_shuffle::<0, 4, 1, 5>(vx, vy)); // [x0 y0 x1 y1]
                    st(d.add(2 * i + 4), u32x4_shuffle::<2, 6, 3, 7>(vx, vy)); // [x2 y2 x3 y3]
                    i += 4;
                }
            }
            3 => {
                // XNNPACK x32-zip-x3 (wasmsimd): every shuffle takes two lanes from each operand
                // (one `shufps` on x64).
                let (px, py, pz) = (s, s.add(hw), s.add(2 * hw));
                while i < n4 {
                    let vx = ld(px.add(i)); // [x0 x1 x2 x3]
                    let vy = ld(py.add(i)); // [y0 y1 y2 y3]
                    let vz = ld(pz.add(i)); // [z0 z1 z2 z3]
                    let vxy = u32x4_shuffle::<0, 2, 4, 6>(vx, vy); // [x0 x2 y0 y2]
                    let vyz = u32x4_shuffle::<1, 3, 5, 7>(vy, vz); // [y1 y3 z1 z3]
                    let vzx = u32x4_shuffle::<0, 2, 5, 7>(vz, vx); // [z0 z2 x1 x3]
                    st(d.add(3 * i), u32x4_shuffle::<0, 2, 4, 6>(vxy, vzx)); // [x0 y0 z0 x1]
                    st(d.add(3 * i + 4), u32x4_shuffle::<0, 2, 5, 7>(vyz, vxy)); // [y1 z1 x2 y2]
                    st(d.add(3 * i + 8), u32x4_shuffle::<1, 3, 5, 7>(vzx, vyz)); // [z2 x3 y3 z3]
                    i += 4;
                }
            }
            4 => {
                // 4x4 transpose: unpack low/high of 32-bit lanes, then of 64-bit halves.
                let (px, py, pz, pw) = (s, s.add(hw), s.add(2 * hw), s.add(3 * hw));
                while i < n4 {
                    let vx = ld(px.add(i));
                    let vy = ld(py.add(i));
                    let vz = ld(pz.add(i));
                    let vw = ld(pw.add(i));
                    let xy01 = u32x4_shuffle::<0, 4, 1, 5>(vx, vy); // [x0 y0 x1 y1]
                    let zw01 = u32x4_shuffle::<0, 4, 1, 5>(vz, vw); // [z0 w0 z1 w1]
                    let xy23 = u32x4_shuffle::<2, 6, 3, 7>(vx, vy); // [x2 y2 x3 y3]
                    let zw23 = u32x4_shuffle::<2, 6, 3, 7>(vz, vw); // [z2 w2 z3 w3]
                    st(d.add(4 * i), u64x2_shuffle::<0, 2>(xy01, zw01)); // [x0 y0 z0 w0]
                    st(d.add(4 * i + 4), u64x2_shuffle::<1, 3>(xy01, zw01)); // [x1 y1 z1 w1]
                    st(d.add(4 * i + 8), u64x2_shuffle::<0, 2>(xy23, zw23)); // [x2 y2 z2 w2]
                    st(d.add(4 * i + 12), u64x2_shuffle::<1, 3>(xy23, zw23)); // [x3 y3 z3 w3]
                    i += 4;
                }
            }
            _ => {}
        }
        zip_tail(s, d, hw, c, i);
    }

    /// NHWC -> NCHW, 4-byte elements: pixels `s[i * c + ch]` -> planes `d + ch * hw`.
    /// 4 pixels per step: `c` loads of 16 consecutive bytes, `c` stores (one per plane).
    #[inline(never)]
    pub unsafe fn unzip_x32(s: *const u32, d: *mut u32, hw: usize, c: usize) {
        let n4 = hw & !3;
        let mut i = 0;
        match c {
            2 => {
                let (px, py) = (d, d.add(hw));
                while i < n4 {
                    let va = ld(s.add(2 * i)); // [x0 y0 x1 y1]
                    let vb = ld(s.add(2 * i + 4)); // [x2 y2 x3 y3]
                    st(px.add(i), u32x4_shuffle::<0, 2, 4, 6>(va, vb)); // [x0 x1 x2 x3]
                    st(py.add(i), u32x4_shuffle::<1, 3, 5, 7>(va, vb)); // [y0 y1 y2 y3]
                    i += 4;
                }
            }
            3 => {
                // 5 shuffles, each two lanes from each operand (one `shufps` on x64).
                let (px, py, pz) = (d, d.add(hw), d.add(2 * hw));
                while i < n4 {
                    let va = ld(s.add(3 * i)); // [x0 y0 z0 x1]
                    let vb = ld(s.add(3 * i + 4)); // [y1 z1 x2 y2]
                    let vc = ld(s.add(3 * i + 8)); // [z2 x3 y3 z3]
                    let p = u32x4_shuffle::<1, 2, 4, 5>(va, vb); // [y0 z0 y1 z1]
                    let q = u32x4_shuffle::<2, 3, 5, 6>(vb, vc); // [x2 y2 x3 y3]
                    st(px.add(i), u32x4_shuffle::<0, 3, 4, 6>(va, q)); // [x0 x1 x2 x3]
                    st(py.add(i), u32x4_shuffle::<0, 2, 5, 7>(p, q)); // [y0 y1 y2 y3]
                    st(pz.add(i), u32x4_shuffle::<1, 3, 4, 7>(p, vc)); // [z0 z1 z2 z3]
                    i += 4;
                }
            }
            4 => {
                // The same 4x4 transpose as zip_x32 (a 4x4 block is its own inverse layout).
                let (px, py, pz, pw) = (d, d.add(hw), d.add(2 * hw), d.add(3 * hw));
                while i < n4 {
                    let v0 = ld(s.add(4 * i)); // [x0 y0 z0 w0]
                    let v1 = ld(s.add(4 * i + 4)); // [x1 y1 z1 w1]
                    let v2 = ld(s.add(4 * i + 8)); // [x2 y2 z2 w2]
                    let v3 = ld(s.add(4 * i + 12)); // [x3 y3 z3 w3]
                    let a01 = u32x4_shuffle::<0, 4, 1, 5>(v0, v1); // [x0 x1 y0 y1]
                    let a23 = u32x4_shuffle::<0, 4, 1, 5>(v2, v3); // [x2 x3 y2 y3]
                    let b01 = u32x4_shuffle::<2, 6, 3, 7>(v0, v1); // [z0 z1 w0 w1]
                    let b23 = u32x4_shuffle::<2, 6, 3, 7>(v2, v3); // [z2 z3 w2 w3]
                    st(px.add(i), u64x2_shuffle::<0, 2>(a01, a23)); // [x0 x1 x2 x3]
                    st(py.add(i), u64x2_shuffle::<1, 3>(a01, a23)); // [y0 y1 y2 y3]
                    st(pz.add(i), u64x2_shuffle::<0, 2>(b01, b23)); // [z0 z1 z2 z3]
                    st(pw.add(i), u64x2_shuffle::<1, 3>(b01, b23)); // [w0 w1 w2 w3]
                    i += 4;
                }
            }
            _ => {}
        }
        unzip_tail(s, d, hw, c, i);
    }

    /// NCHW -> NHWC, 1-byte elements: 16 pixels per step, `c` loads and `c` stores.
    #[inline(never)]
    pub unsafe fn zip_x8(s: *const u8, d: *mut u8, hw: usize, c: usize) {
        let n16 = hw & !15;
        let mut i = 0;
        match c {
            2 => {
                let (px, py) = (s, s.add(hw));
                while i < n16 {
                    let vx = ld(px.add(i));
                    let vy = ld(py.add(i));
                    // [x0 y0 x1 y1 .. x7 y7], [x8 y8 .. x15 y15] (punpcklbw / punpckhbw)
                    st(
                        d.add(2 * i),
                        u8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(
                            vx, vy,
                        ),
                    );
                    st(
                        d.add(2 * i + 16),
                        u8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(
                            vx, vy,
                        ),
                    );
                    i += 16;
                }
            }
            3 => {
                // Output vector k holds bytes 16k..16k+15 of [x0 y0 z0 x1 y1 z1 ..]: first the
                // x and y bytes are placed (z lanes: 0, overwritten), then the z bytes.
                let (px, py, pz) = (s, s.add(hw), s.add(2 * hw));
                while i < n16 {
                    let vx = ld(px.add(i));
                    let vy = ld(py.add(i));
                    let vz = ld(pz.add(i));
                    // [x0 y0 z0 x1 y1 z1 x2 y2 z2 x3 y3 z3 x4 y4 z4 x5]
                    let t = u8x16_shuffle::<0, 16, 0, 1, 17, 0, 2, 18, 0, 3, 19, 0, 4, 20, 0, 5>(
                        vx, vy,
                    );
                    let o0 = u8x16_shuffle::<0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15>(
                        t, vz,
                    );
                    // [y5 z5 x6 y6 z6 x7 y7 z7 x8 y8 z8 x9 y9 z9 x10 y10]
                    let t = u8x16_shuffle::<21, 0, 6, 22, 0, 7, 23, 0, 8, 24, 0, 9, 25, 0, 10, 26>(
                        vx, vy,
                    );
                    let o1 = u8x16_shuffle::<0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15>(
                        t, vz,
                    );
                    // [z10 x11 y11 z11 x12 y12 z12 x13 y13 z13 x14 y14 z14 x15 y15 z15]
                    let t = u8x16_shuffle::<0, 11, 27, 0, 12, 28, 0, 13, 29, 0, 14, 30, 0, 15, 31, 0>(
                        vx, vy,
                    );
                    let o2 =
                        u8x16_shuffle::<26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31>(
                            t, vz,
                        );
                    st(d.add(3 * i), o0);
                    st(d.add(3 * i + 16), o1);
                    st(d.add(3 * i + 32), o2);
                    i += 16;
                }
            }
            4 => {
                // Interleave bytes (x,y) and (z,w), then 16-bit pairs: [x0 y0 z0 w0 x1 ..].
                let (px, py, pz, pw) = (s, s.add(hw), s.add(2 * hw), s.add(3 * hw));
                while i < n16 {
                    let vx = ld(px.add(i));
                    let vy = ld(py.add(i));
                    let vz = ld(pz.add(i));
                    let vw = ld(pw.add(i));
                    let xy_lo =
                        u8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(
                            vx, vy,
                        );
                    let xy_hi = u8x16_shuffle::<
                        8,
                        24,
                        9,
                        25,
                        10,
                        26,
                        11,
                        27,
                        12,
                        28,
                        13,
                        29,
                        14,
                        30,
                        15,
                        31,
                    >(vx, vy);
                    let zw_lo =
                        u8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(
                            vz, vw,
                        );
                    let zw_hi = u8x16_shuffle::<
                        8,
                        24,
                        9,
                        25,
                        10,
                        26,
                        11,
                        27,
                        12,
                        28,
                        13,
                        29,
                        14,
                        30,
                        15,
                        31,
                    >(vz, vw);
                    st(
                        d.add(4 * i),
                        u16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(xy_lo, zw_lo),
                    ); // pixels 0..3
                    st(
                        d.add(4 * i + 16),
                        u16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(xy_lo, zw_lo),
                    ); // 4..7
                    st(
                        d.add(4 * i + 32),
                        u16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(xy_hi, zw_hi),
                    ); // 8..11
                    st(
                        d.add(4 * i + 48),
                        u16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(xy_hi, zw_hi),
                    ); // 12..15
                    i += 16;
                }
            }
            _ => {}
        }
        zip_tail(s, d, hw, c, i);
    }

    /// NHWC -> NCHW, 1-byte elements: 16 pixels per step, `c` loads and `c` stores.
    #[inline(never)]
    pub unsafe fn unzip_x8(s: *const u8, d: *mut u8, hw: usize, c: usize) {
        let n16 = hw & !15;
        let mut i = 0;
        match c {
            2 => {
                let (px, py) = (d, d.add(hw));
                while i < n16 {
                    let va = ld(s.add(2 * i));
                    let vb = ld(s.add(2 * i + 16));
                    st(
                        px.add(i),
                        u8x16_shuffle::<0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30>(
                            va, vb,
                        ),
                    );
                    st(
                        py.add(i),
                        u8x16_shuffle::<1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31>(
                            va, vb,
                        ),
                    );
                    i += 16;
                }
            }
            3 => {
                // Channel ch, pixel p is byte 3p + ch of the 48 loaded: the bytes in the first
                // two vectors are gathered first (other lanes: 0, overwritten), then the third's.
                let (px, py, pz) = (d, d.add(hw), d.add(2 * hw));
                while i < n16 {
                    let va = ld(s.add(3 * i));
                    let vb = ld(s.add(3 * i + 16));
                    let vc = ld(s.add(3 * i + 32));
                    let t = u8x16_shuffle::<0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0>(
                        va, vb,
                    );
                    let x = u8x16_shuffle::<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29>(
                        t, vc,
                    );
                    let t = u8x16_shuffle::<1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0>(
                        va, vb,
                    );
                    let y = u8x16_shuffle::<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30>(
                        t, vc,
                    );
                    let t = u8x16_shuffle::<2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0>(
                        va, vb,
                    );
                    let z = u8x16_shuffle::<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31>(
                        t, vc,
                    );
                    st(px.add(i), x);
                    st(py.add(i), y);
                    st(pz.add(i), z);
                    i += 16;
                }
            }
            4 => {
                // Per vector of 4 pixels, group each channel's 4 bytes into a 32-bit lane
                // ([x0..x3 y0..y3 z0..z3 w0..w3]), then a 4x4 transpose of 32-bit lanes.
                let (px, py, pz, pw) = (d, d.add(hw), d.add(2 * hw), d.add(3 * hw));
                while i < n16 {
                    let g0 = ld(s.add(4 * i));
                    let g1 = ld(s.add(4 * i + 16));
                    let g2 = ld(s.add(4 * i + 32));
                    let g3 = ld(s.add(4 * i + 48));
                    let g0 = u8x16_swizzle(g0, GROUP4);
                    let g1 = u8x16_swizzle(g1, GROUP4);
                    let g2 = u8x16_swizzle(g2, GROUP4);
                    let g3 = u8x16_swizzle(g3, GROUP4);
                    let a01 = u32x4_shuffle::<0, 4, 1, 5>(g0, g1); // [X0 X1 Y0 Y1] (X0: x of pixels 0..3)
                    let a23 = u32x4_shuffle::<0, 4, 1, 5>(g2, g3); // [X2 X3 Y2 Y3]
                    let b01 = u32x4_shuffle::<2, 6, 3, 7>(g0, g1); // [Z0 Z1 W0 W1]
                    let b23 = u32x4_shuffle::<2, 6, 3, 7>(g2, g3); // [Z2 Z3 W2 W3]
                    st(px.add(i), u64x2_shuffle::<0, 2>(a01, a23));
                    st(py.add(i), u64x2_shuffle::<1, 3>(a01, a23));
                    st(pz.add(i), u64x2_shuffle::<0, 2>(b01, b23));
                    st(pw.add(i), u64x2_shuffle::<1, 3>(b01, b23));
                    i += 16;
                }
            }
            _ => {}
        }
        unzip_tail(s, d, hw, c, i);
    }

    /// Byte indices for [`u8x16_swizzle`]: `[x0 y0 z0 w0 x1 ..]` -> `[x0 x1 x2 x3 y0 ..]`.
    const GROUP4: v128 = u8x16(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reference() {
        let mut shapes = vec![
            (1, 1, 1, 1),
            (2, 3, 5, 3),
            (1, 7, 9, 17),
            (1, 4, 4, 64),
            (3, 1, 33, 2),
        ];
        // The fast paths' channel counts, every tail length of 4- and 16-pixel vectors, batches.
        for c in 1..=5 {
            for hw in [1, 3, 4, 5, 15, 16, 17, 37] {
                shapes.push((1 + hw % 3, 1, hw, c));
            }
        }
        for (n, h, w, c) in shapes {
            let len = n * h * w * c;
            let src: Vec<u32> = (0..len as u32).collect();
            let mut nchw = vec![0u32; len];
            unsafe { nhwc_to_nchw(src.as_ptr(), nchw.as_mut_ptr(), n, h, w, c) };
            for y in 0..n {
                for r in 0..h {
                    for x in 0..w {
                        for i in 0..c {
                            assert_eq!(
                                nchw[((y * c + i) * h + r) * w + x],
                                src[((y * h + r) * w + x) * c + i]
                            );
                        }
                    }
                }
            }
            let mut back = vec![0u32; len];
            unsafe { nchw_to_nhwc(nchw.as_ptr(), back.as_mut_ptr(), n, h, w, c) };
            assert_eq!(back, src);
            let b8: Vec<u8> = src.iter().map(|&v| v as u8).collect();
            let mut t8 = vec![0u8; len];
            unsafe { nhwc_to_nchw(b8.as_ptr(), t8.as_mut_ptr(), n, h, w, c) };
            let want: Vec<u8> = nchw.iter().map(|&v| v as u8).collect();
            assert_eq!(t8, want);
        }
    }
}
