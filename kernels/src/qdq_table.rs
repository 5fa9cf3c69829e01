//! The tail of an element-wise chain from an 8-bit quantize-dequantize on, as a table:
//! after `qdq` a value is one of 256 floats, so the steps after it (scalar and per-channel
//! operands, activations, more qdq) give one of 256 results per channel. The chain then
//! computes the qdq's integer (one float32 division, ties to even, saturation, NaN as
//! `q = 0`) and reads the result: the same bits as running the steps, which built the
//! table with the same float32 operations on each of the 256 values.

use crate::chain::{one, qdq_index, Operand, Qdq, Step};

/// Per-channel results of the steps after a qdq, 256 per channel.
pub struct Table {
    /// Index of the qdq step in the chain.
    pub at: usize,
    q: Qdq,
    data: Vec<f32>,
}

/// Most entries a table may have: a table larger than this costs more to build than it
/// saves (and the chain's elements must number at least 4 entries each).
const MAX_ENTRIES: usize = 1 << 16;

impl Table {
    /// The table of `steps` over `channels` channels for a chain of `len` elements: when a
    /// step is an 8-bit qdq, at least one step follows it, none of those has a tensor
    /// operand, and the table is small against `len`; else None.
    ///
    /// # Safety
    /// Per-channel operands valid for `channels` floats.
    pub unsafe fn new(steps: &[Step], channels: usize, len: usize) -> Option<Table> {
        let at = steps.iter().position(|s| matches!(s, Step::Qdq(_)))?;
        let Step::Qdq(q) = steps[at] else {
            return None;
        };
        let rest = &steps[at + 1..];
        let entries = channels * 256;
        if q.hi - q.lo != 255.0 || rest.is_empty() || entries > MAX_ENTRIES || 4 * entries > len {
            return None;
        }
        if rest
            .iter()
            .any(|s| matches!(s, Step::Binary(_, Operand::Tensor(_))))
        {
            return None;
        }
        let mut data = Vec::with_capacity(entries);
        for ch in 0..channels {
            for i in 0..256 {
                let mut v = (q.lo + i as f32 + 0.0) * q.scale;
                for s in rest {
                    v = one(*s, v, ch, core::ptr::null());
                }
                data.push(v);
            }
        }
        Some(Table { at, q, data })
    }

    /// `to[i] = table(from[i])` for `n` elements of channel `ch` (may be in place).
    ///
    /// # Safety
    /// `from`, `to` valid for `n` floats; `ch` below the table's channels.
    #[inline(always)]
    pub unsafe fn apply(&self, from: *const f32, to: *mut f32, n: usize, ch: usize) {
        let t = self.data.as_ptr().add(ch * 256);
        #[allow(unused_mut)]
        let mut i = 0usize;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            let (s, lo, hi, nan) = (
                f32x4_splat(self.q.scale),
                f32x4_splat(self.q.lo),
                f32x4_splat(self.q.hi),
                f32x4_splat(self.q.nan),
            );
            while i + 4 <= n {
                let v = f32x4_div(v128_load(from.add(i) as *const v128), s);
                let c = f32x4_pmin(f32x4_pmax(f32x4_nearest(v), lo), hi);
                let c = v128_bitselect(c, nan, f32x4_eq(v, v));
                let k = i32x4_trunc_sat_f32x4(f32x4_sub(c, lo));
                let r = f32x4(
                    *t.add(i32x4_extract_lane::<0>(k) as usize),
                    *t.add(i32x4_extract_lane::<1>(k) as usize),
                    *t.add(i32x4_extract_lane::<2>(k) as usize),
                    *t.add(i32x4_extract_lane::<3>(k) as usize),
                );
                v128_store(to.add(i) as *mut v128, r);
                i += 4;
            }
        }
        while i < n {
            *to.add(i) = *t.add(qdq_index(*from.add(i), self.q));
            i += 1;
        }
    }
}
