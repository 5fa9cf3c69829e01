//! Depthwise Conv (group == Cin == Cout) on the VNNI levels: `vpdpbusd` over 4 horizontal
//! taps of one channel per int32 lane.
//!
//! Layout: for each padded input row the kernel reads, a "quad row" holds, per output
//! column `ow`, per group `g` of 4 taps of a kernel row and per channel `c`, the 4
//! unsigned bytes `x[ow*sw + (4g + k)*dw][c]`, k = 0..3 (int8 XOR 0x80; padding holds the
//! unsigned zero point `zpu`), 64 bytes per 16 channels. The weights are packed the same
//! way ([kh][groups][cpad][4] int8, taps past kw are 0), so one `vpdpbusd` adds 4 taps of
//! 16 channels; `bias - zpu * sum(w)` is the accumulators' start value, as in the tiled
//! path of conv.zig. The quad rows live in a ring of (kh-1)*dh+1 rows built on demand
//! while output rows are computed top to bottom, so each input row is interleaved once per
//! call (not once per kernel row).

const std = @import("std");
const builtin = @import("builtin");
const conv = @import("conv.zig");
const rq = @import("requant.zig");
const kernel_safety = builtin.mode == .Debug;

extern fn @"llvm.x86.avx512.vpdpbusd.512"(acc: @Vector(16, i32), a: @Vector(16, i32), b: @Vector(16, i32)) @Vector(16, i32);
extern fn @"llvm.x86.avx512.permvar.qi.512"(a: @Vector(64, i8), idx: @Vector(64, i8)) @Vector(64, i8);
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

/// Bytes of the padded unsigned input row the quads are built from (with read-past slack).
fn rowBytes(p: *const conv.ConvParams) usize {
    return (@as(usize, p.wp) + 3 * @as(usize, p.dw)) * p.cin + p.cpad + 64;
}

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
    p.qrow = outWidth(p, w) * p.ng * cp * 4;
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

/// Builds the quad row of padded input row `r` of image `ni` into `dst`.
fn buildRow(p: *const conv.ConvParams, x: conv.In, ni: usize, r: usize, ow_n: usize, dst: []u8, row: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const h = x.shape[1];
    const w = x.shape[2];
    const c = p.cin;
    const pt = p.pads[0];
    if (r < pt or r >= pt + h) {
        @memset(dst, p.zpu);
        return;
    }
    const pl = p.pads[1];
    @memset(row[0 .. pl * c], p.zpu);
    @memset(row[(pl + w) * c ..], p.zpu);
    const src = x.data[((ni * h + (r - pt)) * w) * c ..][0 .. w * c];
    const out = row[pl * c ..][0 .. w * c];
    if (x.is_uint8) {
        @memcpy(out, src);
    } else {
        const W = 64;
        const f: @Vector(W, u8) = @splat(0x80);
        var e: usize = 0;
        while (e + W <= src.len) : (e += W) out[e..][0..W].* = @as(@Vector(W, u8), src[e..][0..W].*) ^ f;
        while (e < src.len) : (e += 1) out[e] = src[e] ^ 0x80;
    }
    const cp = p.cpad;
    const tap = @as(usize, p.dw) * c;
    var o: usize = 0;
    for (0..ow_n) |ow| {
        for (0..p.ng) |g| {
            const col = ow * p.sw + 4 * g * p.dw;
            var cb: usize = 0;
            while (cb < cp) : (cb += 16) {
                const s = row[col * c + cb ..];
                const a: @Vector(16, u8) = s[0..16].*;
                const b: @Vector(16, u8) = s[tap..][0..16].*;
                const d: @Vector(16, u8) = s[2 * tap ..][0..16].*;
                const e: @Vector(16, u8) = s[3 * tap ..][0..16].*;
                const ab = @shuffle(u8, a, b, cat32);
                const de = @shuffle(u8, d, e, cat32);
                const all = @shuffle(u8, ab, de, cat64);
                if (comptime has_vbmi) { // one vpermb (LLVM would pick 11 unpack/insert shuffles)
                    const idx: @Vector(64, i8) = comptime blk: {
                        var m: [64]i8 = undefined;
                        for (&m, interleave) |*e2, v| e2.* = @intCast(v);
                        break :blk m;
                    };
                    dst[o..][0..64].* = @bitCast(@"llvm.x86.avx512.permvar.qi.512"(@bitCast(all), idx));
                } else dst[o..][0..64].* = @shuffle(u8, all, undefined, interleave);
                o += 64;
            }
        }
    }
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
    for (0..x.shape[0]) |ni| {
        var built: ?usize = null; // the last padded row built into the ring
        for (row0..row1) |oh| {
            const a = oh * p.sh;
            const b = a + span;
            var next = a;
            if (built) |hi| {
                if (hi + 1 >= a) next = hi + 1;
            }
            while (next <= b) : (next += 1) buildRow(p, x, ni, next, ow_n, ring[(next % nr) * qrow ..][0..qrow], row);
            built = b;
            const yrow = y[((ni * oh_n + oh) * ow_n) * p.cin ..][0 .. @as(usize, ow_n) * p.cin];
            outRow(p, ring, nr, a, ow_n, yrow);
        }
    }
}

/// Kernel rows at most (taller kernels take the int16 path).
pub const max_kh = 16;

/// One output row from the quad rows of padded rows a, a + dh, ...
fn outRow(p: *const conv.ConvParams, ring: []const u8, nr: usize, a: usize, ow_n: u32, yrow: []u8) void {
    @setRuntimeSafety(kernel_safety);
    var rows: [max_kh][]const u8 = undefined;
    for (0..p.kh) |i| rows[i] = ring[((a + i * p.dh) % nr) * p.qrow ..][0..p.qrow];
    const P = 8;
    var ow: usize = 0;
    while (ow + P <= ow_n) : (ow += P) pixels(P, p, &rows, ow, yrow);
    switch (ow_n - ow) {
        inline 1...P - 1 => |k| pixels(k, p, &rows, ow, yrow),
        else => {},
    }
}

/// P output pixels from column `ow0`, every channel.
inline fn pixels(comptime P: usize, p: *const conv.ConvParams, rows: *const [max_kh][]const u8, ow0: usize, yrow: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const cp = p.cpad;
    const ng = p.ng;
    const pix = @as(usize, ng) * cp * 4; // bytes per output column in a quad row
    var cb: usize = 0;
    while (cb < cp) : (cb += 16) {
        var acc: [P]VI = undefined;
        const cv: VI = p.comp[cb..][0..16].*;
        inline for (0..P) |i| acc[i] = cv;
        for (0..p.kh) |i| {
            const q = rows[i];
            for (0..ng) |g| {
                const wv: VI = @bitCast(p.wq[((i * ng + g) * cp + cb) * 4 ..][0..64].*);
                const base = (ow0 * ng + g) * cp * 4 + cb * 4;
                inline for (0..P) |k| {
                    const xv: VI = @bitCast(q[base + k * pix ..][0..64].*);
                    acc[k] = @"llvm.x86.avx512.vpdpbusd.512"(acc[k], xv, wv);
                }
            }
        }
        const m: @Vector(16, f32) = p.mult16[cb..][0..16].*;
        const lanes = @min(16, p.cin - cb);
        inline for (0..P) |k| {
            const bytes: [16]u8 = rq.requant16(acc[k], m, p.y_zp, p.lo, p.hi);
            const dst = yrow[(ow0 + k) * p.cin + cb ..];
            if (lanes == 16) dst[0..16].* = bytes else conv.storePartial(dst, bytes, lanes);
        }
    }
}
