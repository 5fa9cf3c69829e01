//! WASM SIMD kernels of @axelera/runtime (wasm32 + simd128, exported with wasm-bindgen).
//!
//! Every kernel takes raw byte addresses into the module's linear memory (plain numbers
//! through the wasm-bindgen glue, so nothing is copied), runs a SIMD body with a tail and
//! allocates nothing. The TypeScript side (`kernels/mod.ts`) validates sizes before calling;
//! the kernels trust their arguments. Shapes and padding travel as a pointer to 12 u32
//! (see [`layout::Geom::read`]). Rounding semantics: see [`quant`].

pub mod chain;
pub mod convt;
pub mod fused;
pub mod layout;
pub mod matmul;
pub mod numeric;
pub mod patches;
pub mod permute;
pub mod qdq_table;
pub mod quant;
pub mod softmax;
pub mod softmax_conv;
pub mod transpose;

use layout::Geom;
use quant::QType;
use wasm_bindgen::prelude::*;

#[inline(always)]
fn qt(uint8: bool) -> QType {
    if uint8 {
        QType::U8
    } else {
        QType::I8
    }
}

/// Allocates `size` bytes aligned to 16 in linear memory; 0 when out of memory or size is 0.
#[wasm_bindgen]
pub fn alloc(size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    match std::alloc::Layout::from_size_align(size, 16) {
        Ok(l) => unsafe { std::alloc::alloc(l) as usize },
        Err(_) => 0,
    }
}

/// Frees a block returned by [`alloc`] with the same `size`.
#[wasm_bindgen]
pub fn dealloc(ptr: usize, size: usize) {
    if ptr == 0 || size == 0 {
        return;
    }
    if let Ok(l) = std::alloc::Layout::from_size_align(size, 16) {
        unsafe { std::alloc::dealloc(ptr as *mut u8, l) }
    }
}

/// `dst[i] = sat(rne(src[i] / scale) + zp)` for `len` f32 -> int8 (uint8 if `uint8`).
#[wasm_bindgen]
pub fn quantize(src: usize, dst: usize, len: usize, scale: f32, zp: i32, uint8: bool) {
    unsafe { quant::quantize_run(src as *const f32, dst as *mut u8, len, scale, zp, qt(uint8)) }
}

/// `dst[i] = f32(src[i] - zp) * scale` for `len` int8 (uint8 if `uint8`) -> f32.
#[wasm_bindgen]
pub fn dequantize(src: usize, dst: usize, len: usize, scale: f32, zp: i32, uint8: bool) {
    unsafe { quant::dequantize_run(src as *const u8, dst as *mut f32, len, scale, zp, qt(uint8)) }
}

/// Pads 1-byte NHWC elements (`geom`: 12 u32, see [`Geom::read`]) with `fill`.
#[wasm_bindgen]
pub fn pad_u8(src: usize, dst: usize, geom: usize, fill: u8) {
    unsafe {
        layout::pad_u8(
            src as *const u8,
            dst as *mut u8,
            &Geom::read(geom as *const u32),
            fill,
        )
    }
}

/// Pads f32 NHWC elements with `fill`.
#[wasm_bindgen]
pub fn pad_f32(src: usize, dst: usize, geom: usize, fill: f32) {
    unsafe {
        layout::pad_f32(
            src as *const f32,
            dst as *mut f32,
            &Geom::read(geom as *const u32),
            fill,
        )
    }
}

/// Depads 1-byte NHWC elements.
#[wasm_bindgen]
pub fn depad_u8(src: usize, dst: usize, geom: usize) {
    unsafe {
        layout::depad_u8(
            src as *const u8,
            dst as *mut u8,
            &Geom::read(geom as *const u32),
        )
    }
}

/// Depads f32 NHWC elements.
#[wasm_bindgen]
pub fn depad_f32(src: usize, dst: usize, geom: usize) {
    unsafe {
        layout::depad_f32(
            src as *const f32,
            dst as *mut f32,
            &Geom::read(geom as *const u32),
        )
    }
}

/// Fused quantize + pad (padding = zero point), NHWC, one pass.
#[wasm_bindgen]
pub fn quantize_pad(src: usize, dst: usize, geom: usize, scale: f32, zp: i32, uint8: bool) {
    unsafe {
        layout::quantize_pad(
            src as *const f32,
            dst as *mut u8,
            &Geom::read(geom as *const u32),
            scale,
            zp,
            qt(uint8),
        )
    }
}

/// Fused depad + dequantize, NHWC -> NHWC, one pass.
#[wasm_bindgen]
pub fn depad_dequantize(src: usize, dst: usize, geom: usize, scale: f32, zp: i32, uint8: bool) {
    unsafe {
        layout::depad_dequantize(
            src as *const u8,
            dst as *mut f32,
            &Geom::read(geom as *const u32),
            scale,
            zp,
            qt(uint8),
        )
    }
}

/// Fused depad + dequantize + NHWC -> NCHW, one pass.
#[wasm_bindgen]
pub fn depad_dequantize_nchw(
    src: usize,
    dst: usize,
    geom: usize,
    scale: f32,
    zp: i32,
    uint8: bool,
) {
    unsafe {
        layout::depad_dequantize_nchw(
            src as *const u8,
            dst as *mut f32,
            &Geom::read(geom as *const u32),
            scale,
            zp,
            qt(uint8),
        )
    }
}

/// NHWC -> NCHW for 1-byte elements.
#[wasm_bindgen]
pub fn nhwc_to_nchw_u8(src: usize, dst: usize, n: usize, h: usize, w: usize, c: usize) {
    unsafe { transpose::nhwc_to_nchw(src as *const u8, dst as *mut u8, n, h, w, c) }
}

/// NCHW -> NHWC for 1-byte elements.
#[wasm_bindgen]
pub fn nchw_to_nhwc_u8(src: usize, dst: usize, n: usize, h: usize, w: usize, c: usize) {
    unsafe { transpose::nchw_to_nhwc(src as *const u8, dst as *mut u8, n, h, w, c) }
}

/// NHWC -> NCHW for f32 elements.
#[wasm_bindgen]
pub fn nhwc_to_nchw_f32(src: usize, dst: usize, n: usize, h: usize, w: usize, c: usize) {
    unsafe { transpose::nhwc_to_nchw(src as *const f32, dst as *mut f32, n, h, w, c) }
}

/// NCHW -> NHWC for f32 elements.
#[wasm_bindgen]
pub fn nchw_to_nhwc_f32(src: usize, dst: usize, n: usize, h: usize, w: usize, c: usize) {
    unsafe { transpose::nchw_to_nhwc(src as *const f32, dst as *mut f32, n, h, w, c) }
}

/// Broadcast binary op (`op`: 0 add, 1 sub, 2 mul, 3 div) on f32. `params` points to u32
/// `[rank, shape[6], strides_a[6], strides_b[6]]` (element strides, 0 on broadcast axes).
#[wasm_bindgen]
pub fn binary_f32(op: u32, a: usize, b: usize, out: usize, params: usize) {
    let Some(op) = numeric::BinOp::from_code(op) else {
        return;
    };
    unsafe {
        let p = params as *const u32;
        let rank = (*p as usize).min(numeric::MAX_RANK);
        let mut shape = [0usize; numeric::MAX_RANK];
        let mut sa = [0usize; numeric::MAX_RANK];
        let mut sb = [0usize; numeric::MAX_RANK];
        for i in 0..rank {
            shape[i] = *p.add(1 + i) as usize;
            sa[i] = *p.add(7 + i) as usize;
            sb[i] = *p.add(13 + i) as usize;
        }
        numeric::binary(
            op,
            a as *const f32,
            b as *const f32,
            out as *mut f32,
            &shape[..rank],
            &sa[..rank],
            &sb[..rank],
        )
    }
}

/// `dst = exp(src)` for `len` f32 (Cephes expf, within 2 ulp; see [`numeric`]).
#[wasm_bindgen]
pub fn exp_f32(src: usize, dst: usize, len: usize) {
    unsafe { numeric::exp(src as *const f32, dst as *mut f32, len) }
}

/// `dst = 1 / (1 + exp(-src))` for `len` f32.
#[wasm_bindgen]
pub fn sigmoid_f32(src: usize, dst: usize, len: usize) {
    unsafe { numeric::sigmoid(src as *const f32, dst as *mut f32, len) }
}

/// Softmax along the last axis of `rows` x `cols` f32.
#[wasm_bindgen]
pub fn softmax_f32(src: usize, dst: usize, rows: usize, cols: usize) {
    unsafe { numeric::softmax(src as *const f32, dst as *mut f32, rows, cols) }
}

/// Softmax along the last axis of `rows` x `cols` f32, then `nsteps` chain steps at `prog`
/// (as [`chain_f32`]; per-channel and tensor operands refused) on each block of rows
/// ([`softmax::softmax_then`]).
#[wasm_bindgen]
pub fn softmax_chain_f32(
    src: usize,
    dst: usize,
    rows: usize,
    cols: usize,
    prog: usize,
    nsteps: usize,
) {
    let Some(steps) = chain::Step::read_all(prog, nsteps, false) else {
        return;
    };
    if steps[..nsteps]
        .iter()
        .any(|s| matches!(s, chain::Step::Binary(_, chain::Operand::Channel(_))))
    {
        return;
    }
    unsafe {
        softmax::softmax_then(
            src as *const f32,
            dst as *mut f32,
            rows,
            cols,
            &steps[..nsteps],
        )
    }
}

/// Softmax along the last axis of `rows` x `cols` f32, `nsteps` chain steps at `prog` (as
/// [`softmax_chain_f32`]), then a 1x1 convolution of each row as a pixel's channels
/// ([`softmax_conv::softmax_then_conv1x1`]): `params` points to u32 `[m, pixels, r0, rank,
/// sizes[0..rank], out_st[0..rank]]` (the rows `r0..r0 + rows` of `pixels`, the axes of the
/// row index and the output stride of each).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn softmax_chain_conv1x1_f32(
    src: usize,
    rows: usize,
    cols: usize,
    prog: usize,
    nsteps: usize,
    w: usize,
    y: usize,
    params: usize,
) {
    let Some(steps) = chain::Step::read_all(prog, nsteps, false) else {
        return;
    };
    if steps[..nsteps]
        .iter()
        .any(|s| matches!(s, chain::Step::Binary(_, chain::Operand::Channel(_))))
    {
        return;
    }
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 4 + 2 * permute::MAX_RANK) };
    let (m, pixels, r0, rank) = (p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize);
    if rank == 0 || rank > permute::MAX_RANK {
        return;
    }
    let mut order = softmax_conv::RowOrder {
        rank,
        sizes: [1; permute::MAX_RANK],
        out_st: [0; permute::MAX_RANK],
    };
    for d in 0..rank {
        order.sizes[d] = (p[4 + d] as usize).max(1);
        order.out_st[d] = p[4 + rank + d] as usize;
    }
    unsafe {
        softmax_conv::softmax_then_conv1x1(
            src as *const f32,
            rows,
            cols,
            &steps[..nsteps],
            w as *const f32,
            m,
            y as *mut f32,
            pixels,
            &order,
            r0,
        )
    }
}

/// `C[m, n] (+)= A[m, k] B[k, n]` f32; the 9 parameters (ars, acs, brs, m, n, k,
/// accumulate, 0, 0) are u32 at `params`.
#[wasm_bindgen]
pub fn gemm_f32(a: usize, b: usize, c: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 7) };
    unsafe {
        numeric::gemm(
            a as *const f32,
            p[0] as usize,
            p[1] as usize,
            b as *const f32,
            p[2] as usize,
            c as *mut f32,
            p[3] as usize,
            p[4] as usize,
            p[5] as usize,
            p[6] != 0,
        )
    }
}

/// `C[m, n] (+)= A[m, k] B[k, n]` f32 with `B` packed by [`gemm_pack_b_f32`]
/// ([`numeric::gemm_packed`]); the 7 parameters (ars, acs, 0, m, n, k, accumulate) are u32
/// at `params`.
#[wasm_bindgen]
pub fn gemm_packed_f32(a: usize, bp: usize, c: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 7) };
    unsafe {
        numeric::gemm_packed(
            a as *const f32,
            p[0] as usize,
            p[1] as usize,
            bp as *const f32,
            c as *mut f32,
            p[3] as usize,
            p[4] as usize,
            p[5] as usize,
            p[6] != 0,
        )
    }
}

/// Packs `B` (`k` rows of `n`, rows `brs` floats apart) for [`gemm_packed_f32`] into `dst`
/// (`k * n` floats, [`numeric::gemm_pack_b`]); the parameters (brs, k, n) are u32 at `params`.
#[wasm_bindgen]
pub fn gemm_pack_b_f32(b: usize, dst: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 3) };
    unsafe {
        numeric::gemm_pack_b(
            b as *const f32,
            p[0] as usize,
            p[1] as usize,
            p[2] as usize,
            dst as *mut f32,
        )
    }
}

/// Batched `C = A B` f32 with the runner's stepwise f64 sums ([`matmul::gemm_stepwise`]);
/// the parameters (ars, acs, brs, m, n, k, batches) then 2 offsets per batch (A, B in
/// floats) are u32 at `params`.
#[wasm_bindgen]
pub fn gemm_stepwise_f32(a: usize, b: usize, c: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 7) };
    unsafe {
        matmul::gemm_stepwise_batched(
            a as *const f32,
            p[0] as usize,
            p[1] as usize,
            b as *const f32,
            p[2] as usize,
            c as *mut f32,
            p[3] as usize,
            p[4] as usize,
            p[5] as usize,
            (params as *const u32).add(7),
            p[6] as usize,
        )
    }
}

/// `C (+)= A B` f32 with the runner's f64 dot products, `B` by columns
/// ([`matmul::gemm_dot`]); the parameters (ars, acs, bcs, m, n, k, accumulate) are u32 at
/// `params`.
#[wasm_bindgen]
pub fn gemm_dot_f32(a: usize, b: usize, c: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 7) };
    unsafe {
        matmul::gemm_dot(
            a as *const f32,
            p[0] as usize,
            p[1] as usize,
            b as *const f32,
            p[2] as usize,
            c as *mut f32,
            p[3] as usize,
            p[4] as usize,
            p[5] as usize,
            p[6] != 0,
        )
    }
}

/// Patches of a convolution ([`patches::im2col`]); the parameters (in_size, cg, k_size,
/// o0, wd) are u32 at `params`, `offs` holds i32.
#[wasm_bindgen]
pub fn im2col_f32(x: usize, offs: usize, col: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 5) };
    unsafe {
        patches::im2col(
            x as *const f32,
            p[0] as usize,
            p[1] as usize,
            offs as *const i32,
            p[2] as usize,
            p[3] as usize,
            p[4] as usize,
            col as *mut f32,
        )
    }
}

/// Permutes 4-byte elements ([`permute::permute4`]): `params` points to u32 `[rank,
/// shape[0..rank], st[0..rank]]` (the output's shape, the input's stride per output axis).
#[wasm_bindgen]
pub fn permute_x32(src: usize, dst: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 1 + 2 * permute::MAX_RANK) };
    let rank = p[0] as usize;
    if rank == 0 || rank > permute::MAX_RANK {
        return;
    }
    let mut shape = [0usize; permute::MAX_RANK];
    let mut st = [0usize; permute::MAX_RANK];
    for d in 0..rank {
        shape[d] = p[1 + d] as usize;
        st[d] = p[1 + rank + d] as usize;
    }
    unsafe { permute::permute4(src as *const u32, dst as *mut u32, rank, &shape, &st) }
}

/// A 1x1 convolution of a permuted input ([`permute::conv1x1_permuted`]): `params` points
/// to u32 `[m, c, rank, shape[0..rank], st[0..rank]]` (the pixel axes and their strides in
/// `src`; a pixel's `c` channels are contiguous).
#[wasm_bindgen]
pub fn conv1x1_permuted_f32(src: usize, w: usize, y: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 3 + 2 * permute::MAX_RANK) };
    let (m, c, rank) = (p[0] as usize, p[1] as usize, p[2] as usize);
    if rank == 0 || rank > permute::MAX_RANK {
        return;
    }
    let mut shape = [0usize; permute::MAX_RANK];
    let mut st = [0usize; permute::MAX_RANK];
    for d in 0..rank {
        shape[d] = p[3 + d] as usize;
        st[d] = p[3 + rank + d] as usize;
    }
    unsafe {
        permute::conv1x1_permuted(
            src as *const f32,
            w as *const f32,
            y as *mut f32,
            m,
            c,
            rank,
            &shape,
            &st,
        )
    }
}

/// Softmax over the middle axis of `outer` x `axis` x `inner` f32 (lanes over `inner`).
#[wasm_bindgen]
pub fn softmax_axis_f32(src: usize, dst: usize, outer: usize, axis: usize, inner: usize) {
    unsafe { numeric::softmax_strided(src as *const f32, dst as *mut f32, outer, axis, inner) }
}

/// ConvTranspose 2-D f32 with bias (`bias` 0 for none) and activation. `params` points to
/// u32 `[n c m group ih iw oh ow kh kw sh sw dh dw pt pl act lo_bits hi_bits]` (act: 0 none,
/// 1 relu, 2 sigmoid, 3 clip); `col` is scratch of [`fused::ConvT::scratch_len`] floats.
#[wasm_bindgen]
pub fn conv_transpose_f32(x: usize, w: usize, bias: usize, y: usize, col: usize, params: usize) {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 19) };
    let Some(act) = fused::Act::from_code(p[16], p[17], p[18]) else {
        return;
    };
    let g = fused::ConvT::read(p);
    unsafe {
        fused::conv_transpose(
            x as *const f32,
            w as *const f32,
            bias as *const f32,
            y as *mut f32,
            col as *mut f32,
            &g,
            act,
        )
    }
}

/// Floats of scratch `conv_transpose_f32` needs for the 16 u32 of geometry at `params`.
#[wasm_bindgen]
pub fn conv_transpose_scratch_f32(params: usize) -> usize {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 16) };
    fused::ConvT::read(p).scratch_len()
}

/// Two ConvTransposes back to back, streamed by rows ([`convt::pair`]): `params` holds the
/// 19 u32 of the first (as [`conv_transpose_f32`]) then the 19 of the second, then the
/// element-wise chain applied after each (address and number of steps, see
/// [`chain_f32`]; no tensor operands); `scratch` is [`conv_transpose_pair_scratch_f32`]
/// floats. Returns 0, or 1 (nothing written) when the two do not form a pair
/// ([`convt::pairs`]), an activation code is unknown or a chain is refused.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose_pair_f32(
    x: usize,
    w1: usize,
    b1: usize,
    w2: usize,
    b2: usize,
    y: usize,
    scratch: usize,
    params: usize,
) -> u32 {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 42) };
    let (Some(a1), Some(a2)) = (
        fused::Act::from_code(p[16], p[17], p[18]),
        fused::Act::from_code(p[35], p[36], p[37]),
    ) else {
        return 1;
    };
    let (n1, n2) = (p[39] as usize, p[41] as usize);
    let (Some(c1), Some(c2)) = (
        chain::Step::read_all(p[38] as usize, n1, false),
        chain::Step::read_all(p[40] as usize, n2, false),
    ) else {
        return 1;
    };
    let (g1, g2) = (fused::ConvT::read(p), fused::ConvT::read(&p[19..]));
    if !convt::pairs(&g1, &g2) {
        return 1;
    }
    unsafe {
        convt::pair(
            x as *const f32,
            w1 as *const f32,
            b1 as *const f32,
            a1,
            &c1[..n1],
            &g1,
            w2 as *const f32,
            b2 as *const f32,
            a2,
            &c2[..n2],
            &g2,
            y as *mut f32,
            scratch as *mut f32,
        )
    }
    0
}

/// Floats of scratch `conv_transpose_pair_f32` needs for the 38 u32 at `params`; 0 when
/// the two do not form a pair.
#[wasm_bindgen]
pub fn conv_transpose_pair_scratch_f32(params: usize) -> usize {
    let p = unsafe { core::slice::from_raw_parts(params as *const u32, 38) };
    let (g1, g2) = (fused::ConvT::read(p), fused::ConvT::read(&p[19..]));
    if convt::pairs(&g1, &g2) {
        convt::pair_scratch_len(&g1, &g2)
    } else {
        0
    }
}

/// An element-wise chain over `len` f32 in one pass (may be in place): `nsteps` steps of
/// 4 u32 at `prog` (see [`chain::Step::read`]), per-channel operands indexed by
/// `(i / inner) % count`.
#[wasm_bindgen]
pub fn chain_f32(
    src: usize,
    dst: usize,
    len: usize,
    inner: usize,
    count: usize,
    prog: usize,
    nsteps: usize,
) {
    if inner == 0 || count == 0 {
        return;
    }
    let Some(steps) = chain::Step::read_all(prog, nsteps, true) else {
        return;
    };
    unsafe {
        chain::chain(
            src as *const f32,
            dst as *mut f32,
            len,
            inner,
            count,
            &steps[..nsteps],
        )
    }
}

/// Picks where softmax_then_conv1x1 adds up its exponentials (see
/// [`softmax_conv::SUMS_APART`]): the TypeScript side sets `true` under JavaScriptCore (Bun).
/// Results do not change.
#[wasm_bindgen]
pub fn set_softmax_sums_apart(on: bool) {
    softmax_conv::SUMS_APART.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// Picks the dequantize loops' formulation (see [`quant::DEQUANTIZE_NARROW_LOADS`]): the
/// TypeScript side sets `true` under JavaScriptCore (Bun). Results do not change.
#[wasm_bindgen]
pub fn set_dequantize_narrow_loads(on: bool) {
    quant::DEQUANTIZE_NARROW_LOADS.store(on, core::sync::atomic::Ordering::Relaxed);
}
