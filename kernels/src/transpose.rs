//! NHWC <-> NCHW transposes for 1-byte (int8/uint8) and 4-byte (f32) elements.
//!
//! Both are a batch of 2-D transposes: NHWC -> NCHW transposes each `[h*w, c]` matrix to
//! `[c, h*w]`, NCHW -> NHWC the reverse. Tiles of 16x16 keep reads and writes in cache;
//! small channel counts (c <= 4, images) use a direct loop with contiguous reads.

const T: usize = 16;

/// Transposes `batch` row-major matrices `[rows, cols]` at `src` into `[cols, rows]` at `dst`.
///
/// # Safety
/// `src` and `dst` hold `batch * rows * cols` elements each; no overlap.
#[inline(always)]
pub unsafe fn transpose2d<E: Copy>(src: *const E, dst: *mut E, batch: usize, rows: usize, cols: usize) {
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

/// NHWC `[n, h, w, c]` -> NCHW `[n, c, h, w]`.
///
/// # Safety
/// See [`transpose2d`].
pub unsafe fn nhwc_to_nchw<E: Copy>(src: *const E, dst: *mut E, n: usize, h: usize, w: usize, c: usize) {
    transpose2d(src, dst, n, h * w, c);
}

/// NCHW `[n, c, h, w]` -> NHWC `[n, h, w, c]`.
///
/// # Safety
/// See [`transpose2d`].
pub unsafe fn nchw_to_nhwc<E: Copy>(src: *const E, dst: *mut E, n: usize, h: usize, w: usize, c: usize) {
    transpose2d(src, dst, n, c, h * w);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reference() {
        for &(n, h, w, c) in &[(1, 1, 1, 1), (2, 3, 5, 3), (1, 7, 9, 17), (1, 4, 4, 64), (3, 1, 33, 2)] {
            let len = n * h * w * c;
            let src: Vec<u32> = (0..len as u32).collect();
            let mut nchw = vec![0u32; len];
            unsafe { nhwc_to_nchw(src.as_ptr(), nchw.as_mut_ptr(), n, h, w, c) };
            for y in 0..n {
                for r in 0..h {
                    for x in 0..w {
                        for i in 0..c {
                            assert_eq!(nchw[((y * c + i) * h + r) * w + x], src[((y * h + r) * w + x) * c + i]);
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
