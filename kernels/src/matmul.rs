//! Batched float32 matrix products with the graph runner's small-product semantics: every
//! product `a * b` is taken in f64 (exact for two f32), added in f64 to the f32 element of
//! `C`, and the sum rounded to f32 before the next product (`c[j] += a * b[j]` in
//! JavaScript over `Float32Array`s), products in order of `p`, and a `p` whose `a` is zero
//! skipped. The TypeScript runner uses this for products below the size of
//! [`crate::numeric::gemm`] (f32 multiply, then f32 add), so that moving them onto the
//! kernels changes no bit.

/// One batch of `C[m, n] = A[m, k] B[k, n]` (`C` row-major and contiguous, overwritten;
/// `A` at `i * ars + p * acs`; `B` rows `brs` floats apart).
///
/// # Safety
/// `a`, `b`, `c` valid for the elements addressed; `c` must not overlap `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_stepwise(
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    brs: usize,
    c: *mut f32,
    m: usize,
    n: usize,
    k: usize,
) {
    for i in 0..m {
        let crow = c.add(i * n);
        #[allow(unused_mut)]
        let mut j = 0usize;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            while j + 8 <= n {
                simd::block8(a.add(i * ars), acs, b.add(j), brs, crow.add(j), k);
                j += 8;
            }
            // the last n % 8 columns as the 8 ending at n: every element is computed on its
            // own, so the columns done twice get the same bits twice
            if j < n && n >= 8 {
                simd::block8(a.add(i * ars), acs, b.add(n - 8), brs, crow.add(n - 8), k);
                j = n;
            }
        }
        while j < n {
            let mut s = 0f32;
            for p in 0..k {
                let av = *a.add(i * ars + p * acs);
                if av == 0.0 {
                    continue;
                }
                s = (s as f64 + av as f64 * *b.add(p * brs + j) as f64) as f32;
            }
            *crow.add(j) = s;
            j += 1;
        }
    }
}

/// `batches` products [`gemm_stepwise`]: batch `q` reads `A` from float offset
/// `offsets[2q]` and `B` from `offsets[2q + 1]`, and writes `C` at `q * m * n`.
///
/// # Safety
/// As [`gemm_stepwise`] for every batch; `offsets` valid for `2 * batches` u32.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_stepwise_batched(
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    brs: usize,
    c: *mut f32,
    m: usize,
    n: usize,
    k: usize,
    offsets: *const u32,
    batches: usize,
) {
    for q in 0..batches {
        let ao = *offsets.add(2 * q) as usize;
        let bo = *offsets.add(2 * q + 1) as usize;
        gemm_stepwise(
            a.add(ao),
            ars,
            acs,
            b.add(bo),
            brs,
            c.add(q * m * n),
            m,
            n,
            k,
        );
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// `f32(x)` back in f64 lanes: the rounding of every step.
    #[inline(always)]
    fn round_f32(x: v128) -> v128 {
        f64x2_promote_low_f32x4(f32x4_demote_f64x2_zero(x))
    }

    /// Eight columns of one row of C, kept in f64 lanes (each value an f32) over all `p`.
    #[inline(always)]
    pub unsafe fn block8(
        a: *const f32,
        acs: usize,
        b: *const f32,
        brs: usize,
        c: *mut f32,
        k: usize,
    ) {
        let mut acc = [f64x2_splat(0.0); 4];
        for p in 0..k {
            let av = *a.add(p * acs);
            if av == 0.0 {
                continue;
            }
            let avd = f64x2_splat(av as f64);
            let bp = b.add(p * brs);
            let b0 = v128_load(bp as *const v128);
            let b1 = v128_load(bp.add(4) as *const v128);
            let bs = [
                f64x2_promote_low_f32x4(b0),
                f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(b0, b0)),
                f64x2_promote_low_f32x4(b1),
                f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(b1, b1)),
            ];
            for (s, bv) in acc.iter_mut().zip(bs) {
                *s = round_f32(f64x2_add(*s, f64x2_mul(avd, bv)));
            }
        }
        let lo = i32x4_shuffle::<0, 1, 4, 5>(
            f32x4_demote_f64x2_zero(acc[0]),
            f32x4_demote_f64x2_zero(acc[1]),
        );
        let hi = i32x4_shuffle::<0, 1, 4, 5>(
            f32x4_demote_f64x2_zero(acc[2]),
            f32x4_demote_f64x2_zero(acc[3]),
        );
        v128_store(c as *mut v128, lo);
        v128_store(c.add(4) as *mut v128, hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepwise_rounds_every_sum_and_skips_zeros() {
        let (m, n, k) = (3usize, 11usize, 7usize);
        let a: Vec<f32> = (0..m * k)
            .map(|i| {
                if i % 5 == 2 {
                    0.0
                } else {
                    (i as f32 * 0.731).sin() * 3.1
                }
            })
            .collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 1.37).cos() * 0.37).collect();
        let mut c = vec![9f32; 2 * m * n];
        let offsets = [0u32, 0, 0, 0];
        unsafe {
            gemm_stepwise_batched(
                a.as_ptr(),
                k,
                1,
                b.as_ptr(),
                n,
                c.as_mut_ptr(),
                m,
                n,
                k,
                offsets.as_ptr(),
                2,
            )
        };
        for i in 0..m {
            for j in 0..n {
                let mut s = 0f32;
                for p in 0..k {
                    if a[i * k + p] != 0.0 {
                        s = (s as f64 + a[i * k + p] as f64 * b[p * n + j] as f64) as f32;
                    }
                }
                assert_eq!(c[i * n + j].to_bits(), s.to_bits());
                assert_eq!(c[m * n + i * n + j].to_bits(), s.to_bits());
            }
        }
    }
}
