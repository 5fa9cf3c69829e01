//! Patches (im2col) of a convolution for the ONNX graph runner's GEMM path: the input
//! values that every kernel tap of every output position reads, copied as they are, and
//! +0 where a tap falls in the padding.

/// `col[(ic * k_size + kk) * wd + j] = x[ic * in_size + off]` with
/// `off = offs[(o0 + j) * k_size + kk]` when `off >= 0`, else +0, for `ic < cg`,
/// `kk < k_size`, `j < wd`: the `cg * k_size` rows of `wd` columns that the gemm reads.
///
/// ```
/// use axr_kernels::patches::im2col;
/// // one channel of 3 values, a kernel of 2 taps, padding 1 on the left: 3 outputs
/// let x = [1f32, 2., 3.];
/// let offs = [-1i32, 0, 0, 1, 1, 2];
/// let mut col = [9f32; 6];
/// unsafe { im2col(x.as_ptr(), 3, 1, offs.as_ptr(), 2, 0, 3, col.as_mut_ptr()) };
/// assert_eq!(col, [0., 1., 2., 1., 2., 3.]);
/// ```
///
/// # Safety
/// `x` holds `cg * in_size` floats and every `off` is below `in_size`; `offs` holds
/// `(o0 + wd) * k_size` values; `col` holds `cg * k_size * wd` floats and overlaps neither.
#[allow(clippy::too_many_arguments)]
pub unsafe fn im2col(
    x: *const f32,
    in_size: usize,
    cg: usize,
    offs: *const i32,
    k_size: usize,
    o0: usize,
    wd: usize,
    col: *mut f32,
) {
    for ic in 0..cg {
        let xb = x.add(ic * in_size);
        for kk in 0..k_size {
            let row = col.add((ic * k_size + kk) * wd);
            let tap = offs.add(o0 * k_size + kk);
            for j in 0..wd {
                let off = *tap.add(j * k_size);
                *row.add(j) = if off >= 0 { *xb.add(off as usize) } else { 0.0 };
            }
        }
    }
}
