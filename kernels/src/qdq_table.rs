//! The tail of an element-wise chain from an 8-bit quantize-dequantize on, as a table:
//! after `qdq` a value is one of 256 floats, so the steps after it (scalar and per-channel
//! operands, activations, more qdq) give one of 256 results per channel. The chain then
//! computes the qdq's integer (one float32 division, ties to even, saturation, NaN as
//! `q = 0`) and reads the result: the same bits as running the steps, which built the
//! table with the same float32 operations on each of the 256 values. The last few tables
//! are kept, keyed by everything they are built from (the pair, the steps after it and
//! their per-channel values), so a chain that runs again with the same constants (every
//! run of a graph) does not build its table again.

use crate::chain::{one, qdq_index, Operand, Qdq, Step};
use crate::fused::Act;
use std::cell::RefCell;
use std::rc::Rc;

/// Per-channel results of the steps after a qdq, 256 per channel.
pub struct Table {
    /// Index of the qdq step in the chain.
    pub at: usize,
    q: Qdq,
    data: Rc<Vec<f32>>,
}

/// Tables kept ([`Table::new`]).
const KEPT: usize = 8;

/// A kept table: its key ([`key`]) and its entries.
type Kept = (Vec<u32>, Rc<Vec<f32>>);

thread_local! {
    /// The next slot to replace, and the kept tables.
    static KEPT_TABLES: RefCell<(usize, Vec<Kept>)> = const { RefCell::new((0, Vec::new())) };
}

/// Everything a table is built from, as words: the channels, the qdq, and each step after
/// it with its operand (a per-channel operand by its `channels` values, not its address).
///
/// # Safety
/// Per-channel operands valid for `channels` floats.
unsafe fn key(q: Qdq, rest: &[Step], channels: usize) -> Vec<u32> {
    let mut k = vec![
        channels as u32,
        q.scale.to_bits(),
        q.lo.to_bits(),
        q.hi.to_bits(),
        q.nan.to_bits(),
    ];
    for s in rest {
        match *s {
            Step::Binary(code, Operand::Scalar(c)) => k.extend([code, 0, c.to_bits()]),
            Step::Binary(code, Operand::Channel(p)) => {
                k.extend([code, 1]);
                k.extend((0..channels).map(|c| (*p.add(c)).to_bits()));
            }
            Step::Binary(code, Operand::Tensor(_)) => k.extend([code, 2]),
            Step::Act(Act::None) => k.push(16),
            Step::Act(Act::Relu) => k.push(17),
            Step::Act(Act::Sigmoid) => k.push(18),
            Step::Act(Act::Clip(lo, hi)) => k.extend([19, lo.to_bits(), hi.to_bits()]),
            Step::Qdq(q) => k.extend([
                20,
                q.scale.to_bits(),
                q.lo.to_bits(),
                q.hi.to_bits(),
                q.nan.to_bits(),
            ]),
        }
    }
    k
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
        let k = key(q, rest, channels);
        let kept = KEPT_TABLES.with(|t| {
            let t = t.borrow();
            t.1.iter().find(|e| e.0 == k).map(|e| e.1.clone())
        });
        if let Some(data) = kept {
            return Some(Table { at, q, data });
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
        let data = Rc::new(data);
        KEPT_TABLES.with(|t| {
            let (next, kept) = &mut *t.borrow_mut();
            if kept.len() < KEPT {
                kept.push((k, data.clone()));
            } else {
                kept[*next] = (k, data.clone());
                *next = (*next + 1) % KEPT;
            }
        });
        Some(Table { at, q, data })
    }

    /// `to[i] = table(from[i])` for `n` elements of channel `ch` (may be in place).
    ///
    /// # Safety
    /// `from`, `to` valid for `n` floats; `ch` below the table's channels.
    #[inline(always)]
    pub unsafe fn apply(&self, from: *const f32, to: *mut f32, n: usize, ch: usize) {
        let t = self.data.as_ptr().add(ch * 256);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let mut i = if self.q.nan == self.q.lo {
            simd::apply::<false>(from, to, n, t, self.q)
        } else {
            simd::apply::<true>(from, to, n, t, self.q)
        };
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let mut i = 0usize;
        while i < n {
            *to.add(i) = *t.add(qdq_index(*from.add(i), self.q));
            i += 1;
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use crate::chain::Qdq;
    use core::arch::wasm32::*;

    /// The 4-lane body of [`super::Table::apply`] over the first `n / 4 * 4` elements
    /// (returns that count), `t` the channel's 256 entries. The index `c - lo` of the
    /// clamped level `c` (an integer in [0, 255]) is in the float bits of
    /// `c + (2^23 - lo)`, an integer below 2^24 and so exact: lane `l` reads byte address
    /// `4 * bits - 4 * 0x4B00_0000 + t` (wrapping), computed in the vector (V8 compiled the
    /// saturating `i32x4.trunc_sat_f32x4` into six instructions, and each lane's address
    /// into one more). `NAN`: a NaN goes to `q.nan`, which differs from `q.lo` (int8);
    /// otherwise (uint8, where `nan` = `lo`) `pmax(lo, x)` already takes a NaN to `lo`
    /// (and `-0` against `+0` does not change the index). The indices are those of
    /// [`crate::chain::qdq_index`], so the results are the same.
    #[inline(always)]
    pub unsafe fn apply<const NAN: bool>(
        from: *const f32,
        to: *mut f32,
        n: usize,
        t: *const f32,
        q: Qdq,
    ) -> usize {
        let (s, lo, hi, nan) = (
            f32x4_splat(q.scale),
            f32x4_splat(q.lo),
            f32x4_splat(q.hi),
            f32x4_splat(q.nan),
        );
        let magic = f32x4_splat(8_388_608.0 - q.lo);
        let base = i32x4_splat((t as u32).wrapping_sub(0x2C00_0000) as i32);
        let mut i = 0;
        while i + 4 <= n {
            let v = f32x4_div(v128_load(from.add(i) as *const v128), s);
            let c = if NAN {
                let c = f32x4_pmin(f32x4_pmax(f32x4_nearest(v), lo), hi);
                v128_bitselect(c, nan, f32x4_eq(v, v))
            } else {
                f32x4_pmin(f32x4_pmax(lo, f32x4_nearest(v)), hi)
            };
            let a = i32x4_add(i32x4_shl(f32x4_add(c, magic), 2), base);
            let at = |a: i32| *(a as u32 as usize as *const f32);
            let r = f32x4(
                at(i32x4_extract_lane::<0>(a)),
                at(i32x4_extract_lane::<1>(a)),
                at(i32x4_extract_lane::<2>(a)),
                at(i32x4_extract_lane::<3>(a)),
            );
            v128_store(to.add(i) as *mut v128, r);
            i += 4;
        }
        i
    }
}
