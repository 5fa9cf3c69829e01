//! Depthwise Conv (group == Cin == Cout) on the VNNI levels: `vpdpbusd` over 4 horizontal
//! taps of one channel per int32 lane.
//!
//! Layout: the channels run in blocks of 16, each block over the whole image before the
//! next, in column strips of the output (each strip over all rows), so that a block's
//! quads stay in the L1 cache while the kernel rows reuse them (`ring_target`). When the
//! input and output are larger than an L2 cache holds (`streams`), the image goes in
//! bands of output rows instead, each band block by block, and the first pass over a
//! band prefetches the input and output rows 2 output rows ahead. For
//! each padded input row the kernel reads, a block's "quad row" holds, per output column
//! `ow` and per group `g` of 4 taps of a kernel row, the 4 unsigned bytes
//! `x[ow*sw + (4g + k)*dw][c]` of its 16 channels, k = 0..3 (int8 XOR 0x80; padding holds
//! the unsigned zero point `zpu`): 64 bytes. The weights are packed the same way
//! ([kh][groups][cpad][4] int8, taps past kw are 0), so one `vpdpbusd` adds 4 taps of 16
//! channels; `bias - zpu * sum(w)` is the accumulators' start value, as in the tiled path
//! of conv.zig. The quad rows live in a ring of (kh-1)*dh+1 rows built on demand while
//! output rows are computed top to bottom, so each input row is interleaved once per block
//! and strip (not once per kernel row), from the block's 16 bytes of each padded pixel of
//! the strip ("block row"). Whole blocks of the common kernels (3x3, 5x5) are unrolled,
//! and narrowed 4 pixels at a time (`Requant16.bytes4`).

const std = @import("std");
const builtin = @import("builtin");
const conv = @import("conv.zig");
const rq = @import("requant.zig");
const kernel_safety = builtin.mode == .Debug;

extern fn @"llvm.x86.avx512.vpdpbusd.512"(acc: @Vector(16, i32), a: @Vector(16, i32), b: @Vector(16, i32)) @Vector(16, i32);
const has_vbmi = builtin.cpu.arch == .x86_64 and std.Target.x86.featureSetHas(builtin.cpu.features, .avx512vbmi);

const VI = @Vector(16, i32);

fn roundUp(v: u32, m: u32) u32 {
    return (v + m - 1) / m * m;
}

/// Output columns of the conv for input width `w`.
fn outWidth(p: *const conv.ConvParams, w: u32) u32 {
    return (w + p.pads[1] + p.pads[3] - (p.kw - 1) * p.dw - 1) / p.sw + 1;
}

/// Quad rows in the ring.
fn ringRows(p: *const conv.ConvParams) usize {
    return (@as(usize, p.kh) - 1) * p.dh + 1;
}

/// Output columns of a strip (`p.qrow` holds one strip's quads).
fn stripCols(p: *const conv.ConvParams) usize {
    return p.qrow / (@as(usize, p.ng) * 64);
}

/// Padded columns a strip of `n` output columns reads (from its first one's `ow * sw`).
fn stripSpan(p: *const conv.ConvParams, n: usize) usize {
    return (n - 1) * p.sw + 4 * @as(usize, p.ng) * p.dw;
}

/// Bytes of a block row (16 bytes per padded column of a strip).
fn rowBytes(p: *const conv.ConvParams) usize {
    return stripSpan(p, stripCols(p)) * 16;
}

/// Bytes of a strip's ring: its quad rows should stay in the L1 cache with the block row
/// and the output (width 320 x 3 rows x 64 bytes did not).
const ring_target = 26 * 1024;

/// Scratch bytes `run` needs (the ring and one padded row).
pub fn scratchBytes(p: *const conv.ConvParams) usize {
    return ringRows(p) * p.qrow + rowBytes(p) + 64;
}

/// Packs a depthwise conv for `run` (`p.hp`, `p.wp` set; `w` is the input width).
pub fn pack(arena: std.mem.Allocator, p: *conv.ConvParams, w: u32, x_zp: i32, x_u8: bool) !void {
    p.depthwise = true;
    p.dwq = true;
    p.cpad = roundUp(p.cin, 16);
    p.ng = (p.kw + 3) / 4;
    p.ntaps = p.kh * p.kw;
    p.zpu = @intCast(if (x_u8) x_zp else x_zp + 128);
    const cp = p.cpad;
    // strips of at most `most` columns, as even as whole steps of P pixels make them
    const pix = @as(u32, p.ng) * 64;
    const ow = outWidth(p, w);
    const most = @max(P, ring_target / (@as(u32, @intCast(ringRows(p))) * pix));
    const strips = (ow + most - 1) / most;
    p.qrow = @min(ow, roundUp((ow + strips - 1) / strips, P)) * pix;
    const wq = try arena.alloc(u8, @as(usize, p.kh) * p.ng * cp * 4);
    @memset(wq, 0);
    const comp = try arena.alloc(i32, cp);
    @memset(comp, 0);
    const m16 = try arena.alloc(f32, cp);
    @memset(m16, 0);
    for (0..p.cin) |c| {
        var wsum: i32 = 0;
        for (0..p.kh) |i| for (0..p.kw) |j| {
            const wv = p.weights[c * p.ntaps + i * p.kw + j];
            wsum += wv;
            wq[((i * p.ng + j / 4) * cp + c) * 4 + j % 4] = @bitCast(wv);
        };
        comp[c] = p.bias[c] -% @as(i32, p.zpu) *% wsum;
        m16[c] = p.mult[c];
    }
    p.wq = wq;
    p.comp = comp;
    p.mult16 = m16;
}

const interleave: [64]i32 = blk: {
    var m: [64]i32 = undefined;
    for (0..16) |l| for (0..4) |k| {
        m[4 * l + k] = @intCast(16 * k + l);
    };
    break :blk m;
};
const cat32: [32]i32 = blk: {
    var m: [32]i32 = undefined;
    for (0..16) |i| {
        m[i] = @intCast(i);
        m[16 + i] = ~@as(i32, @intCast(i));
    }
    break :blk m;
};
const cat64: [64]i32 = blk: {
    var m: [64]i32 = undefined;
    for (0..32) |i| {
        m[i] = @intCast(i);
        m[32 + i] = ~@as(i32, @intCast(i));
    }
    break :blk m;
};

/// Builds block `cb`'s quad row of padded input row `r` of image `ni` into `dst`, for
/// the `ow_n` output columns of a strip from padded column `c0`; `row` is scratch for the
/// block row (from `c0`). Not inlined: inlined into `run`'s loops, LLVM has recomputed
/// the ring slot (a division) in the quad loop.
noinline fn buildRow(p: *const conv.ConvParams, x: conv.In, ni: usize, r: usize, cb: usize, c0: usize, ow_n: usize, dst: []u8, row: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const h = x.shape[1];
    const w: usize = x.shape[2];
    const c: usize = p.cin;
    const pt = p.pads[0];
    const zpu = p.zpu;
    if (r < pt or r >= pt + h) {
        @memset(dst, zpu);
        return;
    }
    const pl: usize = p.pads[1];
    // padded columns [c0, c1) of which [s0, s1) are the input's (s0 >= s1: none)
    const c1 = c0 + stripSpan(p, ow_n);
    std.debug.assert(c1 * 16 - c0 * 16 <= row.len);
    const s0 = @min(@max(c0, pl), c1);
    const s1 = @max(@min(c1, pl + w), s0);
    @memset(row[0 .. (s0 - c0) * 16], zpu);
    @memset(row[(s1 - c0) * 16 .. (c1 - c0) * 16], zpu);
    const src = if (s1 == s0) x.data[0..0] else x.data[((ni * h + (r - pt)) * w + (s0 - pl)) * c ..][0 .. (s1 - s0) * c];
    const out = row[(s0 - c0) * 16 ..][0 .. (s1 - s0) * 16];
    const flip: @Vector(16, u8) = @splat(if (x.is_uint8) 0 else 0x80);
    const lanes = @min(16, c - cb);
    if (c == 16) { // the block row is the row: 64 bytes at a time
        const f64v: @Vector(64, u8) = @splat(if (x.is_uint8) 0 else 0x80);
        var e: usize = 0;
        while (e + 64 <= out.len) : (e += 64) out[e..][0..64].* = @as(@Vector(64, u8), src[e..][0..64].*) ^ f64v;
        while (e < out.len) : (e += 16) out[e..][0..16].* = @as(@Vector(16, u8), src[e..][0..16].*) ^ flip;
    } else if (lanes == 16) {
        for (0..s1 - s0) |j| out[j * 16 ..][0..16].* = @as(@Vector(16, u8), src[j * c + cb ..][0..16].*) ^ flip;
    } else { // the last block of a Cin that is not a multiple of 16: no read past the row
        var v: [16]u8 = @splat(0);
        for (0..s1 - s0) |j| {
            @memcpy(v[0..lanes], src[j * c + cb ..][0..lanes]);
            out[j * 16 ..][0..16].* = @as(@Vector(16, u8), v) ^ flip;
        }
    }
    const ng: usize = p.ng;
    const sw: usize = p.sw;
    const tap = @as(usize, p.dw) * 16;
    const rp = row.ptr;
    var o = dst.ptr;
    if (tap == 16) { // no dilation: a quad's 4 taps are 64 contiguous bytes
        const step = sw * 16;
        if (ng == 1) {
            for (0..ow_n) |ow| o[ow * 64 ..][0..64].* = quad(rp[ow * step ..][0..64].*);
            return;
        }
        if (ng == 2) {
            for (0..ow_n) |ow| {
                o[ow * 128 ..][0..64].* = quad(rp[ow * step ..][0..64].*);
                o[ow * 128 + 64 ..][0..64].* = quad(rp[ow * step + 64 ..][0..64].*);
            }
            return;
        }
        for (0..ow_n) |ow| {
            var s = rp + ow * sw * 16;
            for (0..ng) |_| {
                o[0..64].* = quad(s[0..64].*);
                o += 64;
                s += 64;
            }
        }
        return;
    }
    for (0..ow_n) |ow| {
        var s = rp + ow * sw * 16;
        for (0..ng) |_| {
            const a: @Vector(16, u8) = s[0..16].*;
            const b: @Vector(16, u8) = s[tap..][0..16].*;
            const d: @Vector(16, u8) = s[2 * tap ..][0..16].*;
            const e: @Vector(16, u8) = s[3 * tap ..][0..16].*;
            const ab = @shuffle(u8, a, b, cat32);
            const de = @shuffle(u8, d, e, cat32);
            o[0..64].* = quad(@shuffle(u8, ab, de, cat64));
            o += 64;
            s += 4 * tap;
        }
    }
}

/// `interleave` as the vpermb index.
const interleave_idx: @Vector(64, u8) = blk: {
    var m: [64]u8 = undefined;
    for (&m, interleave) |*e, v| e.* = @intCast(v);
    break :blk m;
};

/// Taps t0..t3 of 16 channels (16 bytes each, in order) as 16 lanes of 4 taps. With VBMI
/// one vpermb in inline assembly: LLVM turns the intrinsic with a constant index back into
/// a generic shuffle and lowers it as 11 unpack/insert shuffles (several times slower).
inline fn quad(all: @Vector(64, u8)) [64]u8 {
    if (comptime has_vbmi) return asm ("vpermb %[t], %[i], %[r]"
        : [r] "=v" (-> @Vector(64, u8)),
        : [t] "v" (all),
          [i] "v" (interleave_idx),
    );
    return @shuffle(u8, all, undefined, interleave);
}

/// Runs a depthwise conv packed by `pack` on `x`, output rows [row0, row1) of every image;
/// `scratch` holds at least `scratchBytes(p)` bytes. VNNI levels only.
pub fn run(p: *const conv.ConvParams, x: conv.In, y: []u8, oh_n: u32, ow_n: u32, row0: u32, row1: u32, scratch: []u8) void {
    @setRuntimeSafety(kernel_safety);
    if (comptime !conv.has_vnni) unreachable;
    const nr = ringRows(p);
    const qrow = p.qrow;
    const ring = scratch[0 .. nr * qrow];
    const row = scratch[nr * qrow ..][0..rowBytes(p)];
    const span = (@as(usize, p.kh) - 1) * p.dh;
    const cols = stripCols(p);
    std.debug.assert(cols > 0 and scratch.len >= scratchBytes(p));
    const big = streams(p, x, oh_n, ow_n);
    const band = if (big) bandRows(p, x.shape[2]) else std.math.maxInt(u32);
    for (0..x.shape[0]) |ni| {
        // bands of output rows, each block by block (the input rows of a band stay in
        // the L2 cache while its blocks read them)
        var band0: usize = row0;
        while (band0 < row1) : (band0 += band) {
            const band1 = @min(band0 + band, row1);
            var cb: usize = 0;
            while (cb < p.cpad) : (cb += 16) {
                // column strips of the output, each over the band's rows
                var ow0: usize = 0;
                while (ow0 < ow_n) : (ow0 += cols) {
                    const n = @min(cols, ow_n - ow0);
                    const c0 = ow0 * p.sw;
                    var built: ?usize = null; // the last padded row built into the ring
                    for (band0..band1) |oh| {
                        const a = oh * p.sh;
                        const b = a + span;
                        var next = a;
                        if (built) |hi| {
                            if (hi + 1 >= a) next = hi + 1;
                        }
                        while (next <= b) : (next += 1) buildRow(p, x, ni, next, cb, c0, n, ring[(next % nr) * qrow ..][0..qrow], row);
                        built = b;
                        const yrow = y[((ni * oh_n + oh) * ow_n + ow0) * p.cin ..][0 .. n * p.cin];
                        // the first pass over a band (block 0, strip 0) asks for whole
                        // rows ahead: the input rows of output row oh + ahead and that
                        // output row (the other blocks and strips then find them in L2)
                        if (big and cb == 0 and ow0 == 0 and oh + ahead < band1) prefetchRows(p, x, ni, oh + ahead, y[((ni * oh_n + oh + ahead) * ow_n) * p.cin ..][0 .. ow_n * p.cin]);
                        outRow(p, ring, nr, a, cb, @intCast(n), yrow);
                    }
                }
            }
        }
    }
}

/// Input and output bytes above which `run` goes in bands and prefetches (they cannot
/// all stay in an L2 cache of 2 MB; below it both only cost time in measurements). The
/// tests lower it (and `band_target`) so that their small shapes take both paths and
/// several bands.
const stream_bytes = if (builtin.is_test) 32 * 1024 else 3 << 20;

/// Whether `run` on `x` goes in bands and prefetches (`stream_bytes`).
fn streams(p: *const conv.ConvParams, x: conv.In, oh_n: u32, ow_n: u32) bool {
    const out = @as(usize, x.shape[0]) * oh_n * ow_n * p.cin;
    return x.data.len + out >= stream_bytes;
}

/// Output rows ahead of the one being computed that `run`'s first pass over a band
/// prefetches.
const ahead = 2;

/// Prefetches into the L2 cache the input rows output row `oh` of image `ni` reads
/// first (the `p.sh` rows below its predecessor's window; all of its window for
/// `oh < 1`) and, for writing, that output row `yrow`. Only a hint: no value changes.
fn prefetchRows(p: *const conv.ConvParams, x: conv.In, ni: usize, oh: usize, yrow: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const h: usize = x.shape[1];
    const row_bytes = @as(usize, x.shape[2]) * p.cin;
    const pt: usize = p.pads[0];
    const last = oh * p.sh + (@as(usize, p.kh) - 1) * p.dh; // padded rows [first, last]
    const first = if (oh == 0) 0 else last + 1 - @min(last + 1, p.sh);
    for (first..last + 1) |r| {
        if (r < pt or r >= pt + h) continue;
        const src = x.data[(ni * h + r - pt) * row_bytes ..][0..row_bytes];
        var e: usize = 0;
        while (e < src.len) : (e += 64) @prefetch(src.ptr + e, .{ .locality = 2 });
    }
    var e: usize = 0;
    while (e < yrow.len) : (e += 64) @prefetch(yrow.ptr + e, .{ .rw = .write, .locality = 2 });
}

/// Input bytes a band of output rows should read at most (`bandRows`).
const band_target = if (builtin.is_test) 4 * 1024 else 192 * 1024;

/// Output rows per band of `run` for input width `w`: with one block, all of them (no
/// block reads the input again); otherwise as many as read at most `band_target` bytes of
/// the input (`p.sh` rows each), at least 4 (each band builds the `(kh - 1) * dh` rows
/// before its first output row's window again).
fn bandRows(p: *const conv.ConvParams, w: u32) usize {
    if (p.cpad <= 16) return std.math.maxInt(u32);
    const row_bytes = @as(usize, p.sh) * w * p.cin;
    return @max(4, band_target / row_bytes);
}

/// Kernel rows at most (taller kernels take the int16 path).
pub const max_kh = 16;

/// What the row loops read, as locals: the output stores cannot change them.
const Loop = struct {
    cin: usize,
    cp: usize,
    ng: usize,
    kh: usize,
    /// bytes per output column in a quad row
    pix: usize,
    wq: [*]const u8,
    comp: [*]const i32,
    mult: [*]const f32,
    rq: rq.Requant16,
};

/// Output pixels per step (accumulators in registers).
const P = 8;

/// Block `cb` of one output row from the quad rows of padded rows a, a + dh, ...
fn outRow(p: *const conv.ConvParams, ring: []const u8, nr: usize, a: usize, cb: usize, ow_n: u32, yrow: []u8) void {
    @setRuntimeSafety(kernel_safety);
    var rows: [max_kh][*]const u8 = undefined;
    for (0..p.kh) |i| rows[i] = ring[((a + i * p.dh) % nr) * p.qrow ..].ptr;
    const l = Loop{
        .cin = p.cin,
        .cp = p.cpad,
        .ng = p.ng,
        .kh = p.kh,
        .pix = @as(usize, p.ng) * 64,
        .wq = p.wq.ptr,
        .comp = p.comp.ptr,
        .mult = p.mult16.ptr,
        .rq = rq.Requant16.init(p.y_zp, p.lo, p.hi),
    };
    // the common kernels with their taps unrolled, for whole blocks of 16 channels;
    // others with loops
    // (and narrowed without the float clamp when the packs suffice: `p.packs`)
    if (cb + 16 <= l.cin) {
        if (l.kh == 3 and l.ng == 1 and l.cin == 16) return if (p.packs) rowOf(3, 1, true, true, true, l, &rows, cb, ow_n, yrow.ptr) else rowOf(3, 1, true, false, true, l, &rows, cb, ow_n, yrow.ptr);
        if (l.kh == 3 and l.ng == 1) return if (p.packs) rowOf(3, 1, true, true, false, l, &rows, cb, ow_n, yrow.ptr) else rowOf(3, 1, true, false, false, l, &rows, cb, ow_n, yrow.ptr);
        if (l.kh == 5 and l.ng == 2) return if (p.packs) rowOf(5, 2, true, true, false, l, &rows, cb, ow_n, yrow.ptr) else rowOf(5, 2, true, false, false, l, &rows, cb, ow_n, yrow.ptr);
    }
    rowOf(0, 0, false, false, false, l, &rows, cb, ow_n, yrow.ptr);
}

/// Block `cb` of one output row; KH, NG: the kernel rows and tap groups (0: from `l`);
/// FULL: the block has 16 channels; PACKS: narrowed with `Requant16.bytes4Packs(true, ..)`;
/// C16: Cin is 16 (an output row's bytes are the block's, 4 pixels per 64-byte store).
fn rowOf(comptime KH: usize, comptime NG: usize, comptime FULL: bool, comptime PACKS: bool, comptime C16: bool, l: Loop, rows: *const [max_kh][*]const u8, cb: usize, ow_n: usize, yrow: [*]u8) void {
    @setRuntimeSafety(kernel_safety);
    if (ow_n < P) {
        switch (ow_n) {
            inline 1...P - 1 => |k| pixels(k, KH, NG, FULL, PACKS, C16, l, rows, 0, cb, yrow),
            else => unreachable,
        }
        return;
    }
    // steps of P pixels; the last one ends at ow_n (it may redo a few pixels: same bytes)
    var ow: usize = 0;
    while (true) {
        pixels(P, KH, NG, FULL, PACKS, C16, l, rows, ow, cb, yrow);
        if (ow + P == ow_n) break;
        ow = @min(ow + P, ow_n - P);
    }
}

/// NP output pixels from column `ow0`, channels cb .. cb+15.
inline fn pixels(comptime NP: usize, comptime KH: usize, comptime NG: usize, comptime FULL: bool, comptime PACKS: bool, comptime C16: bool, l: Loop, rows: *const [max_kh][*]const u8, ow0: usize, cb: usize, yrow: [*]u8) void {
    @setRuntimeSafety(kernel_safety);
    var acc: [NP]VI = undefined;
    const cv: VI = l.comp[cb..][0..16].*;
    inline for (0..NP) |i| acc[i] = cv;
    const base = ow0 * l.pix;
    const gstride = l.cp * 4; // bytes between the weights' tap groups
    if (KH != 0) {
        inline for (0..KH) |i| {
            inline for (0..NG) |g| {
                const wv: VI = @bitCast(l.wq[(i * NG + g) * gstride + cb * 4 ..][0..64].*);
                taps(NP, &acc, rows[i] + base + g * 64, l.pix, wv);
            }
        }
    } else {
        for (0..l.kh) |i| {
            for (0..l.ng) |g| {
                const wv: VI = @bitCast(l.wq[(i * l.ng + g) * gstride + cb * 4 ..][0..64].*);
                taps(NP, &acc, rows[i] + base + g * 64, l.pix, wv);
            }
        }
    }
    const m: @Vector(16, f32) = l.mult[cb..][0..16].*;
    const lanes = if (FULL) 16 else @min(16, l.cin - cb);
    std.debug.assert(lanes == @min(16, l.cin - cb));
    // narrowed 4 pixels at a time (Requant16.bytes4 shares the packing)
    comptime var k0: usize = 0;
    inline while (k0 < NP) : (k0 += 4) {
        const n = @min(4, NP - k0);
        var a4: [4]VI = undefined;
        inline for (0..4) |j| a4[j] = acc[@min(k0 + j, NP - 1)];
        const b4: [4][16]u8 = if (n == 4) @bitCast(l.rq.bytes4Packs(PACKS, a4, .{ m, m, m, m })) else undefined;
        // C16 (Cin 16): the 4 pixels' bytes are contiguous, one 64-byte store (instead of a
        // 16-byte store and three extracts to memory)
        if (C16 and n == 4) {
            yrow[(ow0 + k0) * 16 ..][0..64].* = @bitCast(b4);
        } else inline for (0..n) |j| {
            const bytes: [16]u8 = if (n == 4) b4[j] else l.rq.bytes(a4[j], m);
            const dst = yrow[(ow0 + k0 + j) * l.cin + cb ..];
            if (lanes == 16) dst[0..16].* = bytes else conv.storePartial(dst[0..16], bytes, lanes);
        }
    }
}

/// One tap group (4 taps x 16 channels) of NP pixels: `q` is the first pixel's quads.
inline fn taps(comptime NP: usize, acc: *[NP]VI, q: [*]const u8, pix: usize, wv: VI) void {
    @setRuntimeSafety(kernel_safety);
    inline for (0..NP) |k| {
        const xv: VI = @bitCast(q[k * pix ..][0..64].*);
        acc[k] = @"llvm.x86.avx512.vpdpbusd.512"(acc[k], xv, wv);
    }
}
