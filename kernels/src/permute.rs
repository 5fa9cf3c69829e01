//! Any permutation of the axes of a tensor of 4-byte elements (the ONNX runner's float32
//! Transpose): the output, row-major with `shape`, takes at index `(i0, .., ik)` the input
//! element at `i0 * st[0] + .. + ik * st[k]`. Elements are copied as bits (no arithmetic,
//! so every value, NaN payloads included, comes out unchanged).
//!
//! Three forms, after the caller has dropped axes of size 1 and merged axes that stay
//! adjacent (rank at most [`MAX_RANK`]):
//! - the last output axis is contiguous in the input (`st[k] == 1`): row copies;
//! - another output axis `j` is contiguous in the input: tiles of [`TILE`] x [`TILE`] over
//!   axes `j` and `k`, each in 4x4 blocks (four vector loads along `j`, a transpose by
//!   shuffles, four vector stores along `k`, as XNNPACK's wasmsimd transposes) with scalar
//!   edges, so that the strided side stays within a few cache lines;
//! - no axis contiguous: one element at a time.
//!
//! [`conv1x1_permuted`] is a 1x1 convolution that reads its input through a permutation
//! (YOLOv8's distribution head: Transpose then a 1x1 Conv) instead of after one.

/// Most axes of a permutation.
pub const MAX_RANK: usize = 6;
/// Side of a tile (elements).
pub const TILE: usize = 32;

/// Permutes `src` into `dst` (see the module): `shape[..rank]` is the output's shape,
/// `st[..rank]` the input's element stride of each output axis.
///
/// # Safety
/// `src` holds every element addressed, `dst` the product of `shape`; no overlap;
/// `0 < rank <= MAX_RANK`.
pub unsafe fn permute4(src: *const u32, dst: *mut u32, rank: usize, shape: &[usize], st: &[usize]) {
    let k = rank - 1;
    if shape[..rank].contains(&0) {
        return;
    }
    let j = (0..k).find(|&d| st[d] == 1 && shape[d] > 1);
    // the axes walked outside the inner loops, innermost last
    let mut outer = [0usize; MAX_RANK];
    let mut n_outer = 0;
    for d in 0..k {
        if Some(d) != j {
            outer[n_outer] = d;
            n_outer += 1;
        }
    }
    let mut ostr = [0usize; MAX_RANK];
    let mut s = 1;
    for d in (0..rank).rev() {
        ostr[d] = s;
        s *= shape[d];
    }
    let mut idx = [0usize; MAX_RANK];
    let (mut xb, mut ob) = (0usize, 0usize);
    loop {
        match j {
            Some(j) => tiles(src.add(xb), dst.add(ob), shape[j], shape[k], st[k], ostr[j]),
            None if st[k] == 1 => {
                core::ptr::copy_nonoverlapping(src.add(xb), dst.add(ob), shape[k])
            }
            None => {
                for b in 0..shape[k] {
                    *dst.add(ob + b) = *src.add(xb + b * st[k]);
                }
            }
        }
        // next index of the outer axes
        let mut q = n_outer;
        loop {
            if q == 0 {
                return;
            }
            q -= 1;
            let d = outer[q];
            idx[d] += 1;
            xb += st[d];
            ob += ostr[d];
            if idx[d] < shape[d] {
                break;
            }
            xb -= st[d] * shape[d];
            ob -= ostr[d] * shape[d];
            idx[d] = 0;
        }
    }
}

/// `o[a * oa + b] = x[a + b * xb]` for `a < na`, `b < nb`, in tiles.
#[inline(always)]
unsafe fn tiles(x: *const u32, o: *mut u32, na: usize, nb: usize, xb: usize, oa: usize) {
    let mut a0 = 0;
    while a0 < na {
        let a1 = (a0 + TILE).min(na);
        let mut b0 = 0;
        while b0 < nb {
            let b1 = (b0 + TILE).min(nb);
            tile(x, o, a0, a1, b0, b1, xb, oa);
            b0 = b1;
        }
        a0 = a1;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile(
    x: *const u32,
    o: *mut u32,
    a0: usize,
    a1: usize,
    b0: usize,
    b1: usize,
    xb: usize,
    oa: usize,
) {
    #[allow(unused_mut)]
    let mut a = a0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        while a + 4 <= a1 {
            let mut b = b0;
            while b + 4 <= b1 {
                let r0 = v128_load(x.add(a + b * xb) as *const v128);
                let r1 = v128_load(x.add(a + (b + 1) * xb) as *const v128);
                let r2 = v128_load(x.add(a + (b + 2) * xb) as *const v128);
                let r3 = v128_load(x.add(a + (b + 3) * xb) as *const v128);
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
                let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
                let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
                let p = o.add(a * oa + b);
                v128_store(p as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t0, t2));
                v128_store(p.add(oa) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t0, t2));
                v128_store(
                    p.add(2 * oa) as *mut v128,
                    i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
                );
                v128_store(
                    p.add(3 * oa) as *mut v128,
                    i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
                );
                b += 4;
            }
            while b < b1 {
                for i in 0..4 {
                    *o.add((a + i) * oa + b) = *x.add(a + i + b * xb);
                }
                b += 1;
            }
            a += 4;
        }
    }
    while a < a1 {
        for b in b0..b1 {
            *o.add(a * oa + b) = *x.add(a + b * xb);
        }
        a += 1;
    }
}

/// A 1x1 convolution of a permuted tensor, read through the permutation (no transposed
/// copy): `y[o, q] = sum over c of w[o * c_n + c] * x(q, c)` for `o < m` and every pixel
/// `q` of `shape[..rank]` (row-major, the output's pixel order), where the channels of a
/// pixel are contiguous: `x(q, c) = src[i0 * st[0] + .. + ik * st[k] + c]`.
///
/// The sum of every output is the gemm kernel's ([`crate::numeric::gemm`]): from +0, one
/// float32 multiply then one float32 add per channel, in order of `c`, so the bits are those
/// of the permutation followed by the 1x1 convolution. Four pixels of the last axis go
/// together: four vector loads of their channels and a 4x4 transpose give one vector per
/// channel; other pixels, and channel counts that are not a multiple of 4, go one by one.
///
/// # Safety
/// `src` holds every element addressed, `w` `m * c_n` floats, `y` `m` times the product of
/// `shape[..rank]`; `y` overlaps neither; `0 < rank <= MAX_RANK`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn conv1x1_permuted(
    src: *const f32,
    w: *const f32,
    y: *mut f32,
    m: usize,
    c_n: usize,
    rank: usize,
    shape: &[usize],
    st: &[usize],
) {
    let pixels: usize = shape[..rank].iter().product();
    if pixels == 0 {
        return;
    }
    let (nl, sl) = (shape[rank - 1], st[rank - 1]);
    let mut idx = [0usize; MAX_RANK];
    let (mut base, mut q0) = (0usize, 0usize);
    loop {
        for o in 0..m {
            let wo = w.add(o * c_n);
            let yo = y.add(o * pixels + q0);
            #[allow(unused_mut)]
            let mut j = 0usize;
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            if c_n % 4 == 0 {
                use core::arch::wasm32::*;
                while j + 4 <= nl {
                    let p = src.add(base + j * sl);
                    let mut acc = f32x4_splat(0.0);
                    let mut k = 0usize;
                    while k < c_n {
                        let r0 = v128_load(p.add(k) as *const v128);
                        let r1 = v128_load(p.add(sl + k) as *const v128);
                        let r2 = v128_load(p.add(2 * sl + k) as *const v128);
                        let r3 = v128_load(p.add(3 * sl + k) as *const v128);
                        let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
                        let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
                        let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
                        let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
                        let ch = [
                            i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
                            i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
                            i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
                            i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
                        ];
                        for (i, v) in ch.iter().enumerate() {
                            acc = f32x4_add(acc, f32x4_mul(*v, f32x4_splat(*wo.add(k + i))));
                        }
                        k += 4;
                    }
                    v128_store(yo.add(j) as *mut v128, acc);
                    j += 4;
                }
            }
            while j < nl {
                let p = src.add(base + j * sl);
                let mut s = 0f32;
                for k in 0..c_n {
                    s += *wo.add(k) * *p.add(k);
                }
                *yo.add(j) = s;
                j += 1;
            }
        }
        q0 += nl;
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            base += st[d];
            if idx[d] < shape[d] {
                break;
            }
            base -= st[d] * shape[d];
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutes_like_the_index_formula() {
        // [2, 3, 5, 7] with perm [0, 3, 2, 1] -> out [2, 7, 5, 3]
        let ins = [2usize, 3, 5, 7];
        let x: Vec<u32> = (0..210).collect();
        let shape = [2usize, 7, 5, 3];
        let st = [105usize, 1, 7, 35];
        let mut y = vec![0u32; 210];
        unsafe { permute4(x.as_ptr(), y.as_mut_ptr(), 4, &shape, &st) };
        let mut i = 0;
        for n in 0..2 {
            for w in 0..7 {
                for h in 0..5 {
                    for c in 0..3 {
                        assert_eq!(y[i], x[((n * ins[1] + c) * ins[2] + h) * ins[3] + w]);
                        i += 1;
                    }
                }
            }
        }
    }
}
