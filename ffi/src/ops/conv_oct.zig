//! The tiled path of conv.zig in "octets", for group-1 convs whose Cout is 8 more than a
//! multiple of 16 (8, 24, 40, ..., 360), on the AVX-512 VNNI levels.
//!
//! The tiled path proper runs such a Cout with a half block (two pixels per vector,
//! blended: a vector uop per two `vpdpbusd`). Here every vector holds 8 output channels
//! x 2 quads instead: lane 2k + h adds quad 2j + h of channel k, so one 8-byte broadcast
//! of a pixel's quads 2j and 2j + 1 (`vpbroadcastq`, a load) feeds all the octets of a
//! tile and no lane idles. A tile is up to 3 octets (24 channels) x 8 pixels (24
//! accumulators). At the end the lane pairs are added (`fold`: two permutes and an add
//! per 16 outputs), and the sums go through `Requant16.bytes4` as in conv.zig: two
//! octets of one pixel, or one octet of two pixels, per vector.
//!
//! Weights `wo`: [octet][ntaps][nq2][8 channels][2 quads][4 bytes], quads past the
//! segment are 0 (so reading up to 7 bytes past a segment adds nothing); the
//! accumulators start at `compo` ([octet][16]: lane 2k holds `comp` of channel k, lane
//! 2k + 1 holds 0), so the folded sum starts at `comp` as in conv.zig.

const std = @import("std");
const builtin = @import("builtin");
const conv = @import("conv.zig");
const rq = @import("requant.zig");
const dot = @import("dot.zig");
const kernel_safety = builtin.mode == .Debug;

const VI = @Vector(16, i32);
const VF = @Vector(16, f32);

/// Whether a tiled conv whose segments hold `seglen` bytes runs in octets (`p.inplace`
/// set): VNNI quads, Cout % 16 == 8, and in place only when 8-byte reads cannot pass the
/// input's end.
pub fn wanted(p: *const conv.ConvParams, seglen: u32, qf: conv.Quads) bool {
    return qf == .u8s8 and p.cout % 16 == 8 and (!p.inplace or seglen % 8 == 0);
}

/// Packs `wo` and `compo` from the weights and `p.comp` (packTiles of conv.zig has set
/// `nq`, `ntaps` and `comp`); allocates in `arena`.
pub fn pack(arena: std.mem.Allocator, p: *conv.ConvParams, seglen: u32) !void {
    std.debug.assert(p.cout % 16 == 8 and p.comp.len >= p.cout);
    const nt: usize = p.ntaps;
    const no: usize = p.cout / 8;
    p.nq2 = (p.nq + 1) / 2;
    const nq2: usize = p.nq2;
    std.debug.assert(nq2 * 8 >= seglen);
    const wo = try arena.alloc(u8, no * nt * nq2 * 64);
    @memset(wo, 0);
    const start = try arena.alloc(i32, no * 16);
    @memset(start, 0);
    for (0..p.cout) |co| {
        const o = co / 8;
        const k = co % 8;
        for (0..nt) |t| {
            const src = p.weights[(co * nt + t) * seglen ..][0..seglen];
            for (src, 0..) |wv, e| {
                const q = e / 4;
                wo[((o * nt + t) * nq2 + q / 2) * 64 + (2 * k + q % 2) * 4 + e % 4] = @bitCast(wv);
            }
        }
        start[o * 16 + 2 * k] = p.comp[co];
    }
    p.oct = true;
    p.wo = wo;
    p.compo = start;
}

/// Output pixels per tile.
const P = 8;

/// Runs a conv packed in octets on the quads `xq` (the padded input as conv.zig's
/// `widenQ` writes it, or the unpadded input in place when it needs no flip), output rows
/// [row0, row1) of the n images.
pub fn run(p: *const conv.ConvParams, n: u32, xq: []const u8, y: []u8, oh_n: u32, ow_n: u32, row0: u32, row1: u32) void {
    @setRuntimeSafety(kernel_safety);
    if (comptime !dot.has_vnni) unreachable;
    std.debug.assert(p.oct and p.cout % 16 == 8);
    const c: usize = p.cin;
    for (0..n) |ni| {
        for (row0..row1) |oh| {
            const rbase = ((ni * p.hp + oh * p.sh) * p.wp) * c;
            const yrow = ((ni * oh_n + oh) * ow_n) * p.cout;
            var ow: usize = 0;
            while (ow + P <= ow_n) : (ow += P) block(P, p, xq, rbase + ow * p.sw * c, y, yrow + ow * p.cout);
            switch (ow_n - ow) {
                inline 1...P - 1 => |r| block(r, p, xq, rbase + ow * p.sw * c, y, yrow + ow * p.cout),
                else => {},
            }
        }
    }
}

/// NP consecutive output pixels of one row, all octets: tiles of 3 octets, then 1 or 2.
inline fn block(comptime NP: usize, p: *const conv.ConvParams, xq: []const u8, origin: usize, y: []u8, yoff: usize) void {
    const pstride = @as(usize, p.sw) * p.cin;
    const no: usize = p.cout / 8;
    var o: usize = 0;
    while (o + 3 <= no) : (o += 3) tile(NP, 3, p, xq, origin, pstride, o, y, yoff);
    switch (no - o) {
        inline 1, 2 => |g| tile(NP, g, p, xq, origin, pstride, o, y, yoff),
        else => {},
    }
}

/// 8 input bytes at `i` (quads 2j and 2j + 1 of a pixel) in every pair of lanes.
inline fn bcast8(xq: []const u8, i: usize) VI {
    @setRuntimeSafety(kernel_safety);
    const v = std.mem.readInt(u64, xq[i..][0..8], .little);
    return @bitCast(@as(@Vector(8, u64), @splat(v)));
}

const even_odd = blk: {
    var m: [2][16]i32 = undefined;
    for (0..2) |h| for (0..8) |k| {
        m[h][k] = @intCast(2 * k + h);
        m[h][8 + k] = ~@as(i32, @intCast(2 * k + h));
    };
    break :blk m;
};

/// Lanes 0..7: the 8 lane pairs of `a` added; lanes 8..15: those of `b`.
inline fn fold(a: VI, b: VI) VI {
    return @shuffle(i32, a, b, even_odd[0]) +% @shuffle(i32, a, b, even_odd[1]);
}

const dup8: [16]i32 = .{ 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7 };

/// Octets o0 .. o0+G-1 of NP pixels.
fn tile(comptime NP: usize, comptime G: usize, p: *const conv.ConvParams, xq: []const u8, origin: usize, pstride: usize, o0: usize, y: []u8, yoff: usize) void {
    @setRuntimeSafety(kernel_safety);
    var acc: [G][NP]VI = undefined;
    inline for (0..G) |g| {
        const cv: VI = p.compo[(o0 + g) * 16 ..][0..16].*;
        inline for (0..NP) |i| acc[g][i] = cv;
    }
    const nt: usize = p.ntaps;
    const nq2: usize = p.nq2;
    const blk = nt * nq2 * 64;
    for (0..nt) |t| {
        const xo = origin + p.tap_off[t];
        const wb = o0 * blk + t * nq2 * 64;
        for (0..nq2) |q| {
            var wv: [G]VI = undefined;
            inline for (0..G) |g| wv[g] = @bitCast(p.wo[wb + g * blk + q * 64 ..][0..64].*);
            inline for (0..NP) |i| {
                const xv = bcast8(xq, xo + i * pstride + q * 8);
                inline for (0..G) |g| acc[g][i] = dot.step(acc[g][i], xv, wv[g]);
            }
        }
    }
    // the vectors to narrow: two octets of one pixel (G >= 2), then the odd octet of two
    // pixels (G odd)
    const NA = if (G >= 2) NP else 0;
    const NB = if (G % 2 == 1) (NP + 1) / 2 else 0;
    const NV = NA + NB;
    var vs: [NV]VI = undefined;
    var ms: [NV]VF = undefined;
    const cout: usize = p.cout;
    if (NA > 0) {
        const m: VF = p.mult16[8 * o0 ..][0..16].*;
        inline for (0..NP) |i| {
            vs[i] = fold(acc[0][i], acc[1][i]);
            ms[i] = m;
        }
    }
    if (NB > 0) {
        const m8: VF = p.mult16[8 * (o0 + G - 1) ..][0..16].*;
        const m = @shuffle(f32, m8, undefined, dup8);
        inline for (0..NB) |j| {
            vs[NA + j] = fold(acc[G - 1][2 * j], acc[G - 1][@min(2 * j + 1, NP - 1)]);
            ms[NA + j] = m;
        }
    }
    const rqc = rq.Requant16.init(p.y_zp, p.lo, p.hi);
    comptime var v0: usize = 0;
    inline while (v0 < NV) : (v0 += 4) {
        const nv = @min(4, NV - v0);
        var a4: [4]VI = undefined;
        var m4: [4]VF = undefined;
        inline for (0..4) |j| {
            a4[j] = vs[@min(v0 + j, NV - 1)];
            m4[j] = ms[@min(v0 + j, NV - 1)];
        }
        const bytes: [4][16]u8 = @bitCast(rqc.bytes4(a4, m4));
        inline for (0..nv) |j| {
            const v = v0 + j;
            const b = bytes[j];
            if (v < NA) {
                y[yoff + v * cout + 8 * o0 ..][0..16].* = b;
            } else {
                const i = 2 * (v - NA);
                const c0 = 8 * (o0 + G - 1);
                y[yoff + i * cout + c0 ..][0..8].* = b[0..8].*;
                if (i + 1 < NP) y[yoff + (i + 1) * cout + c0 ..][0..8].* = b[8..16].*;
            }
        }
    }
}
