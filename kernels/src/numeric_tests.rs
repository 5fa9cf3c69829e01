//! Unit tests of `numeric.rs` (the scalar paths; the SIMD paths are checked by the
//! TypeScript tests against the same float semantics).

use super::*;

fn ulps(a: f32, b: f32) -> i64 {
    (a.to_bits() as i64 - b.to_bits() as i64).abs()
}

#[test]
fn exp_within_2_ulp() {
    let mut x = -87.0f32;
    while x < 88.3 {
        let want = (x as f64).exp() as f32;
        assert!(
            ulps(exp_one(x), want) <= 2,
            "exp({x}) = {} want {want}",
            exp_one(x)
        );
        x += 0.0137;
    }
    assert!(exp_one(f32::NAN).is_nan());
    assert_eq!(exp_one(0.0), 1.0);
    assert_eq!(exp_one(f32::NEG_INFINITY), exp_one(EXP_LO));
}

#[test]
fn broadcast_binary() {
    // [2, 3] + [3] and [2, 1] * [1, 3]
    let a = [1f32, 2., 3., 4., 5., 6.];
    let b = [10f32, 20., 30.];
    let mut out = [0f32; 6];
    unsafe {
        binary(
            BinOp::Add,
            a.as_ptr(),
            b.as_ptr(),
            out.as_mut_ptr(),
            &[2, 3],
            &[3, 1],
            &[0, 1],
        )
    };
    assert_eq!(out, [11., 22., 33., 14., 25., 36.]);
    let c = [2f32, 3.];
    unsafe {
        binary(
            BinOp::Mul,
            c.as_ptr(),
            b.as_ptr(),
            out.as_mut_ptr(),
            &[2, 3],
            &[1, 0],
            &[0, 1],
        )
    };
    assert_eq!(out, [20., 40., 60., 30., 60., 90.]);
    unsafe {
        binary(
            BinOp::Div,
            b.as_ptr(),
            c.as_ptr(),
            out.as_mut_ptr(),
            &[2, 3],
            &[0, 1],
            &[1, 0],
        )
    };
    assert_eq!(out, [5., 10., 15., 10. / 3., 20. / 3., 10.]);
}

#[test]
fn softmax_rows_sum_to_one() {
    let x: Vec<f32> = (0..30).map(|i| (i as f32 * 0.7).sin() * 5.0).collect();
    let mut y = vec![0f32; 30];
    unsafe { softmax(x.as_ptr(), y.as_mut_ptr(), 3, 10) };
    for r in 0..3 {
        let s: f32 = y[r * 10..r * 10 + 10].iter().sum();
        assert!((s - 1.0).abs() < 1e-6);
    }
    let mut z = vec![0f32; 4];
    unsafe { sigmoid([0f32, 100., -100., 1.].as_ptr(), z.as_mut_ptr(), 4) };
    assert_eq!(z[0], 0.5);
    assert_eq!(z[1], 1.0);
    assert!(z[2] < 1e-38);
}

#[test]
fn softmax_strided_matches_last_axis() {
    // [2, 3, 5] over the middle axis vs the transposed [2, 5, 3] over the last axis
    let (outer, axis, inner) = (2usize, 3usize, 5usize);
    let x: Vec<f32> = (0..outer * axis * inner)
        .map(|i| ((i * 7 % 11) as f32) * 0.7 - 3.0)
        .collect();
    let mut y = vec![0f32; x.len()];
    unsafe { softmax_strided(x.as_ptr(), y.as_mut_ptr(), outer, axis, inner) };
    let mut t = vec![0f32; x.len()];
    for p in 0..outer {
        for k in 0..axis {
            for q in 0..inner {
                t[(p * inner + q) * axis + k] = x[(p * axis + k) * inner + q];
            }
        }
    }
    let mut u = vec![0f32; x.len()];
    unsafe { softmax(t.as_ptr(), u.as_mut_ptr(), outer * inner, axis) };
    for p in 0..outer {
        for k in 0..axis {
            for q in 0..inner {
                assert_eq!(y[(p * axis + k) * inner + q], u[(p * inner + q) * axis + k]);
            }
        }
    }
}

#[test]
fn gemm_matches_naive() {
    let (m, n, k) = (6usize, 11usize, 5usize);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 5 % 7) as f32) - 3.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 3 % 13) as f32) * 0.5).collect();
    let mut c = vec![1f32; m * n];
    // A read transposed: element (i, p) at p * m + i
    let at: Vec<f32> = (0..m * k).map(|q| a[(q % m) * k + q / m]).collect();
    unsafe {
        gemm(
            at.as_ptr(),
            1,
            m,
            b.as_ptr(),
            n,
            c.as_mut_ptr(),
            m,
            n,
            k,
            true,
        )
    };
    for i in 0..m {
        for j in 0..n {
            let mut s = 1f32;
            for p in 0..k {
                s += a[i * k + p] * b[p * n + j];
            }
            assert_eq!(c[i * n + j], s);
        }
    }
}

#[test]
fn gemm_packed_gives_the_bits_of_gemm() {
    for &(m, n, k) in &[
        (1usize, 8usize, 3usize),
        (5, 19, 7),
        (9, 35, 1),
        (3, 5, 4),
        (4, 16, 0),
    ] {
        let brs = n + 3;
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i as f32) * 0.731).sin() * 3.1)
            .collect();
        let b: Vec<f32> = (0..k * brs)
            .map(|i| ((i as f32) * 1.37).cos() * 0.37)
            .collect();
        let mut packed = vec![0f32; k * n];
        unsafe { gemm_pack_b(b.as_ptr(), brs, k, n, packed.as_mut_ptr()) };
        for accumulate in [false, true] {
            let mut want = vec![0.25f32; m * n];
            let mut got = want.clone();
            unsafe {
                gemm(
                    a.as_ptr(),
                    k,
                    1,
                    b.as_ptr(),
                    brs,
                    want.as_mut_ptr(),
                    m,
                    n,
                    k,
                    accumulate,
                );
                gemm_packed(
                    a.as_ptr(),
                    k,
                    1,
                    packed.as_ptr(),
                    got.as_mut_ptr(),
                    m,
                    n,
                    k,
                    accumulate,
                );
            }
            for (x, y) in got.iter().zip(&want) {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "m {m} n {n} k {k} accumulate {accumulate}"
                );
            }
        }
    }
}
