//! Conv and Gemm: int32 accumulation over NHWC int8/uint8 inputs with OHWI int8 weights,
//! then the float32 requantization of docs/model-format.md. Gemm is a 1x1 Conv over
//! [N,H,W,K].
//!
//! How it runs (direct loops, no im2col): the input is first copied into a scratch buffer
//! with the spatial padding materialised, so the inner loops have no bounds checks. With
//! group 1 and no horizontal dilation a kernel row is one contiguous run of kw*Cin values
//! in both that buffer and the OHWI weights (a "segment"); otherwise a segment is one tap
//! of Cin/group values. Weights are repacked on load.
//!
//! - group 1 (most convs, every Gemm): the tiled path. Output tiles of up to 6 pixels of
//!   a row x 64 channels (AVX-512; 12 pixels x 16 when Cout <= 16) live in registers; each step broadcasts 4 input bytes per pixel
//!   and multiplies them with 64 bytes of weights (16 channels x 4). With AVX-512 VNNI
//!   (`vpdpbusd`) the input is stored unsigned (int8 XOR 0x80, padding = the unsigned
//!   zero point) and `bias - zpu * sum(w)` is folded into the accumulators' start value
//!   (exact in wrapping int32 arithmetic because the true result fits, see the loader's
//!   accumulator bound). With the aarch64 dot product (`sdot`, s8 x s8) the same, with
//!   the input stored signed (uint8 XOR 0x80) and `bias - zps * sum(w)` folded (`Quads`).
//!   Otherwise the input is int16 `x - zp` and a step is two int16 products per lane
//!   (`pmaddwd`).
//!   Without padding (and with segments of whole quads) the VNNI path reads the input in
//!   place, flipping int8 to unsigned on the fly when a pixel's quads are broadcast by
//!   one tile only (the flip costs a vector uop per broadcast); otherwise it copies the
//!   input flipped once. The 16 accumulators of each tile are narrowed 4 at a time
//!   (`Requant16.bytes4`). The steps are in dot.zig. With VNNI a Cout of 16k + 8 runs
//!   in octets (8 channels x 2 quads per vector, conv_oct.zig), elsewhere its last block
//!   runs two pixels per vector (`half`).
//! - depthwise (group == Cin == Cout): with VNNI `vpdpbusd` over 4 taps per lane
//!   (conv_dw.zig); otherwise int16 `x - zp`, vectorised over channels.
//! - other groups: per output channel, a dot product over int16 segments (`pmaddwd`).
//! Reading a few elements past a segment is harmless: the packed weights there are 0.

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests): the
/// loader has validated every shape and index, and ReleaseSafe checks cost 3-5x here.
const kernel_safety = @import("builtin").mode == .Debug;
const rq = @import("requant.zig");
const dw = @import("conv_dw.zig");
const oct = @import("conv_oct.zig");
const dot = @import("dot.zig");
const is_arm = dot.is_arm;
const has_avx512bw = dot.has_avx512bw;
pub const has_vnni = dot.has_vnni;
pub const has_dotprod = dot.has_dotprod;
const step = dot.step;

/// Lanes of int16 in one dot-product step: the same at every CPU level (ops/kernels.zig),
/// so the packed weights do not depend on it; narrower CPUs split a step.
pub const vl: u32 = 32;
const V16 = @Vector(vl, i16);
const V32 = @Vector(vl, i32);
const VH = @Vector(vl / 2, i32);

/// Everything a Conv or Gemm needs at run time (computed once by the program parser).
pub const ConvParams = struct {
    kh: u32 = 1,
    kw: u32 = 1,
    sh: u32 = 1,
    sw: u32 = 1,
    dh: u32 = 1,
    dw: u32 = 1,
    /// top, left, bottom, right
    pads: [4]u32 = .{ 0, 0, 0, 0 },
    group: u32 = 1,
    cin: u32 = 0,
    cout: u32 = 0,
    /// OHWI int8 weights as stored in the program.
    weights: []const i8 = &.{},
    /// int32[Cout] (zeros when the program has none).
    bias: []const i32 = &.{},
    /// The float32 multipliers m[c] = (x_scale * w_scale[c]) / y_scale.
    mult: []const f32 = &.{},
    /// Output limits: the dtype's range intersected with the optional clamp.
    lo: i32 = -128,
    hi: i32 = 127,
    /// Output zero point.
    y_zp: i32 = 0,
    // ---- packed for execution (see `pack`) ----
    depthwise: bool = false,
    hp: u32 = 0,
    wp: u32 = 0,
    ntaps: u32 = 0,
    /// Segment length in int16 elements (a multiple of `vl`).
    seg: u32 = 0,
    /// Offset of each segment from the window origin, in elements of the padded input.
    tap_off: []const u32 = &.{},
    /// General path: [Cout][ntaps][seg]; depthwise: [kh*kw][cpad].
    wpack: []const i16 = &.{},
    cpad: u32 = 0,
    // ---- the tiled path (group 1) ----
    /// group 1: the tiled path (16 output channels x up to 6 pixels per tile)
    tiled: bool = false,
    /// how its steps multiply (the packing of `wq`, `comp` and the input scratch)
    quads: Quads = .pairs,
    /// 4-byte quads per segment
    nq: u32 = 0,
    /// output channel blocks of 16
    cob: u32 = 0,
    /// [cob][ntaps][nq][16 channels][4 bytes]
    wq: []const u8 = &.{},
    /// u8s8: bias[c] - zpu * sum_k w[c][k], s8s8: bias[c] - zps * sum_k w[c][k] (wrapping
    /// int32), pairs: the bias; padded to cob*16; depthwise: the bias padded to cpad
    comp: []const i32 = &.{},
    /// mult padded to cob*16
    mult16: []const f32 = &.{},
    /// the input's zero point as the quads' input scratch stores it (the padding byte):
    /// u8s8 and conv_dw: unsigned zpu (x_zp + 128 for int8, x_zp for uint8); s8s8: signed
    /// zps, as a byte (x_zp for int8, x_zp - 128 for uint8)
    zpu: u8 = 0,
    /// quads tiled path without padding: the kernels read the input in place
    inplace: bool = false,
    /// tiled path whose last block has at most 8 channels (Cout % 16 in 1..8): that block
    /// runs two pixels per vector, lanes 0..7 for one and 8..15 for the next; `wh` is its
    /// weights twice per 64 bytes ([ntaps][nq][2][8 channels][4 bytes]); `comph`, `multh`
    /// its start values and multipliers, twice
    half: bool = false,
    wh: []const u8 = &.{},
    comph: []const i32 = &.{},
    multh: []const f32 = &.{},
    /// `rq.packsSuffice` (every multiplier below 1, no clamp): the kernels narrow with
    /// `Requant16.bytes4Packs(true, ..)`
    packs: bool = false,
    /// depthwise on the VNNI levels (conv_dw.zig): groups of 4 taps per kernel row, bytes
    /// of one quad row
    dwq: bool = false,
    ng: u32 = 0,
    qrow: u32 = 0,
    /// tiled path in octets (conv_oct.zig, Cout % 16 == 8 on VNNI; then `half` is false):
    /// pairs of quads per segment, weights [cout/8][ntaps][nq2][64], start values
    /// [cout/8][16]
    oct: bool = false,
    nq2: u32 = 0,
    wo: []const u8 = &.{},
    compo: []const i32 = &.{},

    /// int16 elements of the padded input scratch for `n` images (with the read-past slack).
    pub fn scratchElems(self: *const ConvParams, n: u32) usize {
        if (self.dwq) return dw.scratchBytes(self) / 2 + 2 * vl;
        return @as(usize, n) * self.hp * self.wp * self.cin + self.seg + self.cpad + 2 * vl;
    }
    /// int32 elements of the accumulator row.
    pub fn accElems(self: *const ConvParams) usize {
        return self.cout + self.cpad + 2 * vl;
    }
};

fn roundUp(v: u32, m: u32) u32 {
    return (v + m - 1) / m * m;
}

/// Repacks the weights for the execution loops; `h`, `w` are the input's logical height
/// and width. Allocates in `arena` (freed with the program).
/// `qf`: how the level's tiled kernels multiply (its `Table.quads`).
pub fn pack(arena: std.mem.Allocator, p: *ConvParams, h: u32, w: u32, x_zp: i32, x_u8: bool, qf: Quads) !void {
    p.hp = h + p.pads[0] + p.pads[2];
    p.wp = w + p.pads[1] + p.pads[3];
    p.packs = rq.packsSuffice(p.mult, p.lo, p.hi);
    const cin_g = p.cin / p.group;
    const cout_g = p.cout / p.group;
    const taps = p.kh * p.kw;
    if (p.group == p.cin and p.group == p.cout and p.group > 1) {
        if (qf == .u8s8 and p.kh <= dw.max_kh) return dw.pack(arena, p, w, x_zp, x_u8);
        p.depthwise = true;
        p.cpad = roundUp(p.cin, vl);
        p.ntaps = taps;
        p.seg = 0;
        const off = try arena.alloc(u32, taps);
        const wp = try arena.alloc(i16, @as(usize, taps) * p.cpad);
        @memset(wp, 0);
        for (0..p.kh) |i| for (0..p.kw) |j| {
            const t = i * p.kw + j;
            off[t] = @intCast((i * p.dh * p.wp + j * p.dw) * p.cin);
            for (0..p.cin) |c| wp[t * p.cpad + c] = p.weights[c * taps + t];
        };
        p.tap_off = off;
        p.wpack = wp;
        const bp = try arena.alloc(i32, p.cpad);
        @memset(bp, 0);
        @memcpy(bp[0..p.cout], p.bias);
        p.comp = bp;
        return;
    }
    _ = cout_g;
    const merged = p.group == 1 and p.dw == 1;
    const seglen: u32 = if (merged) p.kw * p.cin else cin_g;
    p.ntaps = if (merged) p.kh else taps;
    p.seg = roundUp(seglen, vl);
    const off = try arena.alloc(u32, p.ntaps);
    const wp = try arena.alloc(i16, @as(usize, p.cout) * p.ntaps * p.seg);
    @memset(wp, 0);
    for (0..p.cout) |co| {
        for (0..p.ntaps) |t| {
            const src_base = (co * p.ntaps + t) * seglen; // OHWI: taps then Cin/group
            const dst = wp[(co * p.ntaps + t) * p.seg ..][0..seglen];
            for (dst, 0..) |*d, e| d.* = p.weights[src_base + e];
        }
    }
    for (0..p.ntaps) |t| {
        if (merged) {
            off[t] = @intCast(t * p.dh * p.wp * p.cin);
        } else {
            const i = t / p.kw;
            const j = t % p.kw;
            off[t] = @intCast((i * p.dh * p.wp + j * p.dw) * p.cin);
        }
    }
    p.tap_off = off;
    p.wpack = wp;
    if (p.group == 1) try packTiles(arena, p, seglen, x_zp, x_u8, qf);
}

/// Packs the weights of the tiled path (group 1): per block of 16 output channels and per
/// step of the reduction, 64 bytes = 16 channels x (4 int8 weights (quads) or 2 int16).
fn packTiles(arena: std.mem.Allocator, p: *ConvParams, seglen: u32, x_zp: i32, x_u8: bool, qf: Quads) !void {
    p.tiled = true;
    p.quads = qf;
    const four = qf != .pairs;
    const kstep: u32 = if (four) 4 else 2;
    p.nq = (seglen + kstep - 1) / kstep;
    p.cob = (p.cout + 15) / 16;
    // the zero point in the domain the steps multiply (the padding's value there)
    const zq: i32 = switch (qf) {
        .pairs => 0,
        .u8s8 => if (x_u8) x_zp else x_zp + 128,
        .s8s8 => if (x_u8) x_zp - 128 else x_zp,
    };
    p.zpu = @truncate(@as(u32, @bitCast(zq)));
    p.inplace = four and std.mem.allEqual(u32, &p.pads, 0) and seglen % 4 == 0;
    const nt = p.ntaps;
    const wq = try arena.alloc(u8, @as(usize, p.cob) * nt * p.nq * 64);
    @memset(wq, 0);
    const comp = try arena.alloc(i32, @as(usize, p.cob) * 16);
    @memset(comp, 0);
    const m16 = try arena.alloc(f32, @as(usize, p.cob) * 16);
    @memset(m16, 0);
    for (0..p.cout) |co| {
        var wsum: i32 = 0;
        const cb = co / 16;
        const lane = co % 16;
        for (0..nt) |t| {
            const src = p.weights[(co * nt + t) * seglen ..][0..seglen];
            for (src, 0..) |wv, e| {
                wsum += wv;
                const q = e / kstep;
                const at = ((cb * nt + t) * p.nq + q) * 64 + lane * 4;
                if (four) {
                    wq[at + e % 4] = @bitCast(wv);
                } else {
                    std.mem.writeInt(i16, wq[at + 2 * (e % 2) ..][0..2], wv, .little);
                }
            }
        }
        // the quads multiply x as stored (unsigned or signed), so they subtract
        // zq * sum(w); the int16 path multiplies x - zp directly.
        comp[co] = p.bias[co] -% zq *% wsum;
        m16[co] = p.mult[co];
    }
    p.wq = wq;
    p.comp = comp;
    p.mult16 = m16;
    if (oct.wanted(p, seglen, qf)) return oct.pack(arena, p, seglen);
    const rem = p.cout % 16;
    if (rem == 0 or rem > 8) return;
    p.half = true;
    const last = (p.cob - 1) * nt * p.nq * 64;
    const wh = try arena.alloc(u8, @as(usize, nt) * p.nq * 64);
    for (0..@as(usize, nt) * p.nq) |s| {
        const src = wq[last + s * 64 ..][0..32];
        @memcpy(wh[s * 64 ..][0..32], src);
        @memcpy(wh[s * 64 + 32 ..][0..32], src);
    }
    const ch = try arena.alloc(i32, 16);
    const mh = try arena.alloc(f32, 16);
    for (0..16) |l| {
        ch[l] = comp[(p.cob - 1) * 16 + l % 8];
        mh[l] = m16[(p.cob - 1) * 16 + l % 8];
    }
    p.wh = wh;
    p.comph = ch;
    p.multh = mh;
}

/// A tensor as an op sees it at run time: raw bytes (logical NHWC) and how to read them.
pub const In = struct {
    data: []const u8,
    shape: [4]u32,
    zp: i32,
    is_uint8: bool,
};

const Rows = struct { lo: usize, hi: usize };

/// The padded input rows output rows [row0, row1) read.
fn inputRows(p: *const ConvParams, row0: u32, row1: u32) Rows {
    if (row0 >= row1) return .{ .lo = 0, .hi = 0 };
    const lo = @as(usize, row0) * p.sh;
    const hi = (@as(usize, row1) - 1) * p.sh + (@as(usize, p.kh) - 1) * p.dh + 1;
    return .{ .lo = lo, .hi = @min(hi, p.hp) };
}

/// Widens `x` into the zero-padded int16 scratch `xp` ([n][hp][wp][C] of x - zp), padded
/// rows [r.lo, r.hi) of every image (the rows the output rows being computed read).
fn widen(p: *const ConvParams, x: In, xp: []i16, r: Rows) void {
    @setRuntimeSafety(kernel_safety);
    const n = x.shape[0];
    const h = x.shape[1];
    const w = x.shape[2];
    const c = x.shape[3];
    const flip: u8 = if (x.is_uint8) 0 else 0x80;
    const zpu: i16 = @intCast(if (x.is_uint8) x.zp else x.zp + 128);
    const pt = p.pads[0];
    const pl = p.pads[1];
    const row_elems = @as(usize, p.wp) * c;
    for (0..n) |ni| {
        for (r.lo..r.hi) |hi| {
            const dst_row = xp[((ni * p.hp + hi) * p.wp) * c ..][0..row_elems];
            if (hi < pt or hi >= pt + h) {
                @memset(dst_row, 0);
                continue;
            }
            @memset(dst_row[0 .. pl * c], 0);
            @memset(dst_row[(pl + w) * c ..], 0);
            const src = x.data[((ni * h + (hi - pt)) * w) * c ..][0 .. w * c];
            const dst = dst_row[pl * c ..][0 .. w * c];
            var e: usize = 0;
            const W = 32;
            while (e + W <= src.len) : (e += W) {
                const b: @Vector(W, u8) = src[e..][0..W].*;
                const f: @Vector(W, u8) = @splat(flip);
                const z: @Vector(W, i16) = @splat(zpu);
                dst[e..][0..W].* = @as(@Vector(W, i16), b ^ f) - z;
            }
            while (e < src.len) : (e += 1) dst[e] = @as(i16, src[e] ^ flip) - zpu;
        }
    }
    // the read-past slack stays finite: zero it
    const used = @as(usize, n) * p.hp * p.wp * c;
    @memset(xp[used..][0..@min(xp.len - used, p.seg + p.cpad + 2 * vl)], 0);
}

/// How the tiled path's steps multiply (`ConvParams.quads`, `Table.quads`): the packing
/// of the weights and of the input scratch depends on it.
pub const Quads = enum(u8) {
    /// int16 x - zp times int16 weights, 2 per int32 lane (pmaddwd)
    pairs,
    /// unsigned x (int8 XOR 0x80) times int8 weights, 4 per lane (x86 VNNI vpdpbusd)
    u8s8,
    /// signed x (uint8 XOR 0x80) times int8 weights, 4 per lane (aarch64 sdot)
    s8s8,
};
/// This compilation's form.
pub const quads: Quads = if (has_vnni) .u8s8 else if (has_dotprod) .s8s8 else .pairs;
const quad_level = quads != .pairs;
/// The XOR that turns an input byte into what the quads multiply (0x80 or 0).
fn quadFlip(is_uint8: bool) u8 {
    return if (is_uint8 == (quads == .u8s8)) 0 else 0x80;
}
/// Pairwise multiply-add of int16 lanes into int32 (pmaddwd; exact: |x - zp| <= 255 and
/// |w| <= 128, so a pair sums to at most 65280).
inline fn madd(a: V16, b: V16) VH {
    return dot.madd2(a, b);
}

inline fn ld(s: []const i16, i: usize) V16 {
    return s[i..][0..vl].*;
}

/// Runs a Conv (or Gemm) on `x` (n images), writing output rows [row0, row1) of every
/// image of `y` ([n][OH][OW][Cout] bytes). `xp` and `acc` are scratch of at least
/// `scratchElems(n)` / `accElems()` elements. `p` must be packed for this compilation's
/// level (`pack(.., quads)`).
pub fn run(p: *const ConvParams, x: In, y: []u8, oh_n: u32, ow_n: u32, row0: u32, row1: u32, xp: []i16, acc: []i32) void {
    @setRuntimeSafety(kernel_safety);
    if (p.dwq) return dw.run(p, x, y, oh_n, ow_n, row0, row1, std.mem.sliceAsBytes(xp));
    if (p.tiled) {
        std.debug.assert(p.quads == quads);
        // flipping a broadcast costs a vector uop on a port the dot products use (x86:
        // vpbroadcastd from a register): with more than one tile per pixel (each
        // broadcasting the pixel's quads again, or octets: conv_oct.zig) the input is
        // copied flipped once (widenQ)
        if (p.inplace) {
            if (quadFlip(x.is_uint8) == 0) return runTiled(p, x.shape[0], x.data, 0, y, oh_n, ow_n, row0, row1);
            if (p.cob <= tile_cb and !p.oct) return runTiled(p, x.shape[0], x.data, 0x80808080, y, oh_n, ow_n, row0, row1);
        }
        const xq = std.mem.sliceAsBytes(xp);
        const r = inputRows(p, row0, row1);
        if (quad_level) widenQ(p, x, xq, r) else widen(p, x, xp, r);
        runTiled(p, x.shape[0], xq, 0, y, oh_n, ow_n, row0, row1);
        return;
    }
    widen(p, x, xp, inputRows(p, row0, row1));
    const n = x.shape[0];
    const c = p.cin;
    const cout = p.cout;
    for (0..n) |ni| {
        for (row0..row1) |oh| {
            for (0..ow_n) |ow| {
                const origin = ((ni * p.hp + oh * p.sh) * p.wp + ow * p.sw) * c;
                if (p.depthwise) dwPixel(p, xp, origin, acc) else pixel(p, xp, origin, acc);
                const out = y[((ni * oh_n + oh) * ow_n + ow) * cout ..][0..cout];
                requantRow(p, acc[0..cout], out);
            }
        }
    }
}

fn requantRow(p: *const ConvParams, acc: []const i32, out: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const L = 16;
    var co: usize = 0;
    while (co + L <= out.len) : (co += L) {
        out[co..][0..L].* = rq.requant16(acc[co..][0..L].*, p.mult[co..][0..L].*, p.y_zp, p.lo, p.hi);
    }
    while (co < out.len) : (co += 1) {
        out[co] = rq.toByte(rq.requantAcc(acc[co], p.mult[co], p.y_zp, p.lo, p.hi));
    }
}

fn pixel(p: *const ConvParams, xp: []const i16, origin: usize, acc: []i32) void {
    @setRuntimeSafety(kernel_safety);
    const cout = p.cout;
    const seg = p.seg;
    const nt = p.ntaps;
    const w = p.wpack;
    const cin_g = p.cin / p.group;
    const cout_g = cout / p.group;
    var co: usize = 0;
    while (co < cout) : (co += 1) {
        const base = origin + (co / cout_g) * cin_g;
        var a: VH = @splat(0);
        for (0..nt) |t| {
            const xb = base + p.tap_off[t];
            const wb = (co * nt + t) * seg;
            var e: usize = 0;
            while (e < seg) : (e += vl) a += madd(ld(xp, xb + e), ld(w, wb + e));
        }
        acc[co] = p.bias[co] + @reduce(.Add, a);
    }
}

fn dwPixel(p: *const ConvParams, xp: []const i16, origin: usize, acc: []i32) void {
    @setRuntimeSafety(kernel_safety);
    const cp = p.cpad;
    var c: usize = 0;
    while (c < cp) : (c += vl) {
        var a: V32 = p.comp[c..][0..vl].*; // the bias, padded to cpad
        for (0..p.ntaps) |t| {
            const prod = ld(xp, origin + p.tap_off[t] + c) * ld(p.wpack, t * cp + c); // |x-zp|*|w| <= 255*128 fits int16
            a += @as(V32, prod);
        }
        acc[c..][0..vl].* = a;
    }
}

// ---------------------------------------------------------------- VNNI path

/// Writes `x` as the quads multiply it into the padded scratch `xq`: unsigned bytes
/// (int8 XOR 0x80) for u8s8, signed (uint8 XOR 0x80) for s8s8; padding holds the zero
/// point in the same form, so it contributes (zq - zq) * w = 0 (`packTiles`).
fn widenQ(p: *const ConvParams, x: In, xq: []u8, r: Rows) void {
    @setRuntimeSafety(kernel_safety);
    const n = x.shape[0];
    const h = x.shape[1];
    const w = x.shape[2];
    const c = x.shape[3];
    const flip: u8 = quadFlip(x.is_uint8);
    const pt = p.pads[0];
    const pl = p.pads[1];
    const row = @as(usize, p.wp) * c;
    for (0..n) |ni| {
        for (r.lo..r.hi) |hi| {
            const dst_row = xq[((ni * p.hp + hi) * p.wp) * c ..][0..row];
            if (hi < pt or hi >= pt + h) {
                @memset(dst_row, p.zpu);
                continue;
            }
            @memset(dst_row[0 .. pl * c], p.zpu);
            @memset(dst_row[(pl + w) * c ..], p.zpu);
            const src = x.data[((ni * h + (hi - pt)) * w) * c ..][0 .. w * c];
            const dst = dst_row[pl * c ..][0 .. w * c];
            if (flip == 0) {
                @memcpy(dst, src);
            } else {
                var e: usize = 0;
                const W = 64;
                const f: @Vector(W, u8) = @splat(0x80);
                while (e + W <= src.len) : (e += W) {
                    const b: @Vector(W, u8) = src[e..][0..W].*;
                    dst[e..][0..W].* = b ^ f;
                }
                while (e < src.len) : (e += 1) dst[e] = src[e] ^ 0x80;
            }
        }
    }
    const used = @as(usize, n) * p.hp * p.wp * c;
    const tail = @min(xq.len - used, 256);
    @memset(xq[used..][0..tail], p.zpu);
}

const VI = @Vector(16, i32);
/// Bytes per element of the tiled path's padded input: a byte (quads) or int16 (x - zp).
const ebytes: usize = if (quad_level) 1 else 2;

/// A tile: 6 pixels of a row x `tile_cb` blocks of 16 channels, whose accumulators stay
/// in registers (AVX-512: 24 of 32 zmm, so a block's 6 dependency chains of `vpdpbusd`
/// are not one tile's limit; aarch64: 24 of 32 q registers; AVX2 and SSE: 2 blocks).
const tile_px: usize = 6;
const tile_cb: usize = if (is_arm) 1 else if (has_avx512bw) 4 else 2;
/// Full blocks in a tile with the half block (its 3 more accumulators).
const half_cb: usize = if (is_arm) 1 else 2;

/// 4 input bytes at `i` in every lane, XOR `flip` (int8 read in place: 0x80808080;
/// comptime, so that without it the broadcast stays a single load).
inline fn bcast(xq: []const u8, i: usize, comptime flip: u32) VI {
    @setRuntimeSafety(kernel_safety);
    const u = std.mem.readInt(u32, xq[i..][0..4], .little);
    const v: i32 = @bitCast(if (flip == 0) u else u ^ flip);
    return @splat(v);
}

/// Stores the first `lanes` (< 16) bytes of `b` at `dst` (no byte past them is written:
/// another thread may own the next pixel).
pub inline fn storePartial(dst: []u8, b: [16]u8, lanes: usize) void {
    @setRuntimeSafety(kernel_safety);
    var o: usize = 0;
    if (lanes & 8 != 0) {
        dst[0..8].* = b[0..8].*;
        o = 8;
    }
    if (lanes & 4 != 0) {
        dst[o..][0..4].* = b[o..][0..4].*;
        o += 4;
    }
    if (lanes & 2 != 0) {
        dst[o..][0..2].* = b[o..][0..2].*;
        o += 2;
    }
    if (lanes & 1 != 0) dst[o] = b[o];
}

fn runTiled(p: *const ConvParams, n: u32, xq: []const u8, comptime flip: u32, y: []u8, oh_n: u32, ow_n: u32, row0: u32, row1: u32) void {
    // octets broadcast 8 bytes, never flipped (int8 in place is copied flipped instead)
    if (p.oct) {
        std.debug.assert(flip == 0);
        if (comptime flip == 0 and has_vnni) return oct.run(p, n, xq, y, oh_n, ow_n, row0, row1);
        unreachable;
    }
    // one block of 16 channels: twice the pixels per tile, so that the tile still has
    // 12 independent accumulators (AVX-512)
    if (comptime tile_cb == 4) {
        if (p.cob == 1 and !p.half) return runTiledP(2 * tile_px, p, n, xq, flip, y, oh_n, ow_n, row0, row1);
    }
    runTiledP(tile_px, p, n, xq, flip, y, oh_n, ow_n, row0, row1);
}

fn runTiledP(comptime P: usize, p: *const ConvParams, n: u32, xq: []const u8, comptime flip: u32, y: []u8, oh_n: u32, ow_n: u32, row0: u32, row1: u32) void {
    @setRuntimeSafety(kernel_safety);
    const c = p.cin;
    for (0..n) |ni| {
        for (row0..row1) |oh| {
            const rbase = ((ni * p.hp + oh * p.sh) * p.wp) * c * ebytes;
            const yrow = ((ni * oh_n + oh) * ow_n) * p.cout;
            var ow: usize = 0;
            while (ow + P <= ow_n) : (ow += P) block(P, p, xq, flip, rbase + ow * p.sw * c * ebytes, y, yrow + ow * p.cout);
            switch (ow_n - ow) {
                inline 1...P - 1 => |r| block(r, p, xq, flip, rbase + ow * p.sw * c * ebytes, y, yrow + ow * p.cout),
                else => {},
            }
        }
    }
}

/// P consecutive output pixels of one row, all output channels.
inline fn block(comptime P: usize, p: *const ConvParams, xq: []const u8, comptime flip: u32, origin: usize, y: []u8, yoff: usize) void {
    @setRuntimeSafety(kernel_safety);
    const pstride = @as(usize, p.sw) * p.cin * ebytes;
    var cb: usize = 0;
    if (!p.half) {
        while (cb + tile_cb <= p.cob) : (cb += tile_cb) tile(P, tile_cb, false, p, xq, flip, origin, pstride, cb, y, yoff);
        if (comptime tile_cb > 1) switch (p.cob - cb) {
            inline 1...tile_cb - 1 => |r| tile(P, r, false, p, xq, flip, origin, pstride, cb, y, yoff),
            else => {},
        };
        return;
    }
    // the last block is half (at most 8 channels): the full blocks before it in tiles of
    // half_cb, and the 0..half_cb full blocks left with the half one
    const full = p.cob - 1;
    while (full - cb > half_cb) : (cb += half_cb) tile(P, half_cb, false, p, xq, flip, origin, pstride, cb, y, yoff);
    switch (full - cb) {
        inline 0...half_cb => |r| tile(P, r, true, p, xq, flip, origin, pstride, cb, y, yoff),
        else => unreachable,
    }
}

/// Lanes 0..7 from `a`, 8..15 from `b`.
const lo8: @Vector(16, bool) = .{ true, true, true, true, true, true, true, true, false, false, false, false, false, false, false, false };

/// Blocks cb0 .. cb0+CB-1 of 16 channels of P pixels, and with HALF the last (half) block.
fn tile(comptime P: usize, comptime CB: usize, comptime HALF: bool, p: *const ConvParams, xq: []const u8, comptime flip: u32, origin: usize, pstride: usize, cb0: usize, y: []u8, yoff: usize) void {
    @setRuntimeSafety(kernel_safety);
    const PH = if (HALF) (P + 1) / 2 else 0;
    var acc: [CB][P]VI = undefined;
    inline for (0..CB) |b| {
        const cv: VI = p.comp[(cb0 + b) * 16 ..][0..16].*;
        inline for (0..P) |i| acc[b][i] = cv;
    }
    var acch: [PH]VI = undefined;
    if (HALF) {
        const cv: VI = p.comph[0..16].*;
        inline for (0..PH) |j| acch[j] = cv;
    }
    const nt = p.ntaps;
    const nq = p.nq;
    const blk = @as(usize, nt) * nq * 64;
    for (0..nt) |t| {
        const xo = origin + @as(usize, p.tap_off[t]) * ebytes;
        const wb = cb0 * blk + @as(usize, t) * nq * 64;
        for (0..nq) |q| {
            var wv: [CB]VI = undefined;
            inline for (0..CB) |b| wv[b] = @bitCast(p.wq[wb + b * blk + q * 64 ..][0..64].*);
            var xv: [P]VI = undefined;
            inline for (0..P) |i| {
                xv[i] = bcast(xq, xo + i * pstride + q * 4, flip);
                inline for (0..CB) |b| acc[b][i] = step(acc[b][i], xv[i], wv[b]);
            }
            if (HALF) {
                const wvh: VI = @bitCast(p.wh[(@as(usize, t) * nq + q) * 64 ..][0..64].*);
                inline for (0..PH) |j| acch[j] = step(acch[j], @select(i32, lo8, xv[2 * j], xv[@min(2 * j + 1, P - 1)]), wvh);
            }
        }
    }
    // the P x CB vectors pixel by pixel, narrowed 4 at a time
    if (p.packs) narrowTile(P, CB, true, p, &acc, cb0, y, yoff) else narrowTile(P, CB, false, p, &acc, cb0, y, yoff);
    if (HALF) {
        const c0 = (p.cob - 1) * 16;
        const lanes = p.cout - c0;
        const m: @Vector(16, f32) = p.multh[0..16].*;
        inline for (0..PH) |j| {
            const bytes: [16]u8 = rq.requant16(acch[j], m, p.y_zp, p.lo, p.hi);
            storePartial(y[yoff + 2 * j * p.cout + c0 ..], bytes, lanes);
            if (2 * j + 1 < P) storePartial(y[yoff + (2 * j + 1) * p.cout + c0 ..], bytes[8..16].* ++ bytes[0..8].*, lanes);
        }
    }
}

/// The P x CB accumulator vectors of a tile, pixel by pixel, narrowed 4 at a time
/// (`Requant16.bytes4Packs(PACKS, ..)`).
inline fn narrowTile(comptime P: usize, comptime CB: usize, comptime PACKS: bool, p: *const ConvParams, acc: *const [CB][P]VI, cb0: usize, y: []u8, yoff: usize) void {
    @setRuntimeSafety(kernel_safety);
    const rqc = rq.Requant16.init(p.y_zp, p.lo, p.hi);
    const cout = p.cout;
    var ms: [CB]@Vector(16, f32) = undefined;
    inline for (0..CB) |b| ms[b] = p.mult16[(cb0 + b) * 16 ..][0..16].*;
    const NV = CB * P;
    comptime var v0: usize = 0;
    inline while (v0 < NV) : (v0 += 4) {
        const n = @min(4, NV - v0);
        var a4: [4]VI = undefined;
        var m4: [4]@Vector(16, f32) = undefined;
        inline for (0..4) |j| {
            const v = @min(v0 + j, NV - 1);
            a4[j] = acc[v % CB][v / CB];
            m4[j] = ms[v % CB];
        }
        const bytes: [4][16]u8 = if (n == 4) @bitCast(rqc.bytes4Packs(PACKS, a4, m4)) else undefined;
        inline for (0..n) |j| {
            const v = v0 + j;
            const c0 = (cb0 + v % CB) * 16;
            const lanes = @min(16, cout - c0);
            const bj: [16]u8 = if (n == 4) bytes[j] else rqc.bytes(a4[j], m4[j]);
            const dst = y[yoff + (v / CB) * cout + c0 ..];
            if (lanes == 16) dst[0..16].* = bj else storePartial(dst, bj, lanes);
        }
    }
}
