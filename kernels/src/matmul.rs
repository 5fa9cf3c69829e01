//! Batched float32 matrix products with the graph runner's small-product semantics: every
//! product `a * b` is taken in f64 (exact for two f32), added in f64 to the f32 element of
//! `C`, and the sum rounded to f32 before the next product (`c[j] += a * b[j]` in
//! JavaScript over `Float32Array`s), products in order of `p`, and a `p` whose `a` is zero
//! skipped. The TypeScript runner uses this for products below the size of
//! [`crate::numeric::gemm`] (f32 multiply, then f32 add), so that moving them onto the
//! kernels changes no bit; and its Gemm with `transB` ([`gemm_dot`]: f64 sums, one rounding).

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

/// `C[m, n] (+)= A[m, k] B[k, n]` with the runner's dot-product semantics (its Gemm with
/// `transB`): each element's sum `s` is taken in f64 (every product `a * b` exact for two
/// f32, added in f64 in order of `p`, no zero skipped), then `C = f32(C + s)` (`accumulate`)
/// or `C = f32(s)`, as `s += a * b` over `Float32Array`s in JavaScript then `c += s`
/// (`c` zeroed first when not accumulating; `s` is never -0). `A` at `i * ars + p * acs`;
/// `B` by columns: element `(p, j)` at `j * bcs + p` (the rows of `B` transposed are
/// contiguous). `C` row-major and contiguous.
///
/// # Safety
/// `a`, `b`, `c` valid for the elements addressed; `c` must not overlap `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_dot(
    a: *const f32,
    ars: usize,
    acs: usize,
    b: *const f32,
    bcs: usize,
    c: *mut f32,
    m: usize,
    n: usize,
    k: usize,
    accumulate: bool,
) {
    let store = |cj: *mut f32, v: f64| {
        *cj = if accumulate {
            (*cj as f64 + v) as f32
        } else {
            v as f32
        };
    };
    // blocks of columns outside, rows inside: a block of B (8 columns of k) stays in cache
    // while every row of A goes through it
    #[allow(unused_mut)]
    let mut j = 0usize;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    while j + 8 <= n {
        for i in 0..m {
            let s = simd::dot8(a.add(i * ars), acs, b.add(j * bcs), bcs, k);
            for (q, v) in s.into_iter().enumerate() {
                store(c.add(i * n + j + q), v);
            }
        }
        j += 8;
    }
    while j < n {
        let bcol = b.add(j * bcs);
        for i in 0..m {
            let arow = a.add(i * ars);
            let mut s = 0f64;
            for p in 0..k {
                s += *arow.add(p * acs) as f64 * *bcol.add(p) as f64;
            }
            store(c.add(i * n + j), s);
        }
        j += 1;
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Eight columns' f64 sums of [`super::gemm_dot`] (columns `bcs` floats apart, each
    /// contiguous in `p`): four `p` at a time, each 4x4 block transposed in registers, each
    /// lane adding its products in order of `p` (four independent chains of f64 adds).
    #[inline(always)]
    pub unsafe fn dot8(a: *const f32, acs: usize, b: *const f32, bcs: usize, k: usize) -> [f64; 8] {
        let mut acc = [f64x2_splat(0.0); 4]; // columns (0, 1), (2, 3), (4, 5), (6, 7)
        let col: [*const f32; 8] = core::array::from_fn(|q| b.add(q * bcs));
        let mut p = 0usize;
        while p + 4 <= k {
            // per pair of columns (2g, 2g+1): [c_2g c_2g+1] at p, p+1 (u) and p+2, p+3 (w)
            let mut u = [f64x2_splat(0.0); 4];
            let mut w = [f64x2_splat(0.0); 4];
            for g in 0..4 {
                let r0 = v128_load(col[2 * g].add(p) as *const v128);
                let r1 = v128_load(col[2 * g + 1].add(p) as *const v128);
                u[g] = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
                w[g] = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
            }
            for q in 0..4 {
                let av = f64x2_splat(*a.add((p + q) * acs) as f64);
                for g in 0..4 {
                    let x = match q {
                        0 => u[g],
                        1 => i32x4_shuffle::<2, 3, 2, 3>(u[g], u[g]),
                        2 => w[g],
                        _ => i32x4_shuffle::<2, 3, 2, 3>(w[g], w[g]),
                    };
                    acc[g] = f64x2_add(acc[g], f64x2_mul(av, f64x2_promote_low_f32x4(x)));
                }
            }
            p += 4;
        }
        while p < k {
            let av = f64x2_splat(*a.add(p * acs) as f64);
            for g in 0..4 {
                let x = f64x2(*col[2 * g].add(p) as f64, *col[2 * g + 1].add(p) as f64);
                acc[g] = f64x2_add(acc[g], f64x2_mul(av, x));
            }
            p += 1;
        }
        core::array::from_fn(|q| {
            let v = acc[q / 2];
            if q % 2 == 0 {
                f64x2_extract_lane::<0>(v)
            } else {
                f64x2_extract_lane::<1>(v)
            }
        })
    }

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
    fn dot_sums_in_f64_in_order_of_p() {
        // sizes that leave tails in both j (n % 4) and p (k % 4); zeros, signed zeros and
        // values whose f32 sums would round differently
        for &(m, n, k) in &[(2usize, 11usize, 7usize), (1, 4, 4), (3, 9, 13), (1, 1, 1)] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| match i % 6 {
                    2 => 0.0,
                    4 => -0.0,
                    _ => (i as f32 * 0.731).sin() * 3.1e3,
                })
                .collect();
            let bcs = k + 3;
            let b: Vec<f32> = (0..n * bcs)
                .map(|i| (i as f32 * 1.37).cos() * 0.37)
                .collect();
            for accumulate in [false, true] {
                let mut c: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.1 - 0.3).collect();
                let mut want = c.clone();
                for i in 0..m {
                    for j in 0..n {
                        let mut s = 0f64;
                        for p in 0..k {
                            s += a[i * k + p] as f64 * b[j * bcs + p] as f64;
                        }
                        let w = &mut want[i * n + j];
                        *w = if accumulate {
                            (*w as f64 + s) as f32
                        } else {
                            (0.0 + s) as f32
                        };
                    }
                }
                unsafe {
                    gemm_dot(
                        a.as_ptr(),
                        k,
                        1,
                        b.as_ptr(),
                        bcs,
                        c.as_mut_ptr(),
                        m,
                        n,
                        k,
                        accumulate,
                    )
                };
                for (x, y) in c.iter().zip(&want) {
                    assert_eq!(x.to_bits(), y.to_bits());
                }
            }
        }
    }

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
