//! MaxPool, AveragePool and GlobalAveragePool over NHWC (docs/model-format.md).
//!
//! MaxPool compares stored bytes in an order-preserving form (int8 bytes XOR 0x80), so one
//! code path serves int8 and uint8 and the output byte is the input byte. AveragePool sums
//! `dq(x)` (from a 256-entry table) in float32 in onnxruntime's (MLAS) order: column sums
//! first (each window column summed over its rows, then the column sums left to right)
//! when `colFirst` (stride_w <= 2, kernel <= 32, padded width <= 2045, not a whole-input
//! window), else window order (kh outer, kw inner; GlobalAveragePool too), and divides by
//! float32(count): count is the number of input elements in the window, or with
//! `count_include_pad` the number of window positions inside the padded extent
//! (onnxruntime's rule; positions past the bottom/right pad of a ceil_mode window do not
//! count).

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests): the
/// loader has validated every shape and index, and ReleaseSafe checks cost 3-5x here.
const kernel_safety = @import("builtin").mode == .Debug;
const rq = @import("requant.zig");

pub const Kind = enum { max, avg, global_avg };

/// What a pool needs at run time (computed by the program parser).
pub const PoolParams = struct {
    kind: Kind,
    kh: u32 = 1,
    kw: u32 = 1,
    sh: u32 = 1,
    sw: u32 = 1,
    dh: u32 = 1,
    dw: u32 = 1,
    /// top, left, bottom, right
    pads: [4]u32 = .{ 0, 0, 0, 0 },
    ceil_mode: bool = false,
    count_include_pad: bool = false,
    /// byte -> dq(x) (average pools)
    dq: *const [256]f32 = &zero_table,
    x_is_uint8: bool = false,
    y_scale: f32 = 1,
    y_zp: i32 = 0,
    y_range: rq.Range = rq.Range.of(false),
};

const zero_table = [_]f32{0} ** 256;

/// Runs the pool on `x` ([n][h][w][c] bytes), writing y ([n][oh][ow][c]).
pub fn run(p: *const PoolParams, x: []const u8, xs: [4]u32, y: []u8, oh_n: u32, ow_n: u32, row0: u32, row1: u32) void {
    @setRuntimeSafety(kernel_safety);
    const n = xs[0];
    const h = xs[1];
    const w = xs[2];
    const c = xs[3];
    const kh: u32 = if (p.kind == .global_avg) h else p.kh;
    const kw: u32 = if (p.kind == .global_avg) w else p.kw;
    const pt: i64 = p.pads[0];
    const pl: i64 = p.pads[1];
    const flip: u8 = if (p.x_is_uint8) 0 else 0x80;
    for (0..n) |ni| {
        for (row0..row1) |oh| {
            for (0..ow_n) |ow| {
                const out = y[((ni * oh_n + oh) * ow_n + ow) * c ..][0..c];
                const h0: i64 = @as(i64, @intCast(oh * p.sh)) - pt;
                const w0: i64 = @as(i64, @intCast(ow * p.sw)) - pl;
                switch (p.kind) {
                    .max => {
                        @memset(out, 0); // below every flipped byte that a (never empty) window holds
                        for (0..kh) |i| {
                            const ih = h0 + @as(i64, @intCast(i * p.dh));
                            if (ih < 0 or ih >= h) continue;
                            for (0..kw) |j| {
                                const iw = w0 + @as(i64, @intCast(j * p.dw));
                                if (iw < 0 or iw >= w) continue;
                                const src = x[((ni * h + @as(usize, @intCast(ih))) * w + @as(usize, @intCast(iw))) * c ..][0..c];
                                for (out, src) |*o, s| o.* = @max(o.*, s ^ flip);
                            }
                        }
                        for (out) |*o| o.* ^= flip;
                    },
                    .avg, .global_avg => avgPixel(p, x, ni, h, w, c, h0, w0, kh, kw, out),
                }
            }
        }
    }
}

/// Does onnxruntime's float AveragePool (MLAS) sum column sums first for this pool (its
/// vectorized 2-D kernel)? Else it sums in window order (kh outer, kw inner).
pub fn colFirst(p: *const PoolParams, h: u32, w: u32) bool {
    if (p.kind != .avg) return false;
    const whole = p.kh == h and p.kw == w and p.sh == 1 and p.sw == 1 and
        p.pads[0] == 0 and p.pads[1] == 0 and p.pads[2] == 0 and p.pads[3] == 0;
    return !whole and p.sw <= 2 and p.kh <= 32 and p.kw <= 32 and @as(u64, p.pads[1]) + w + p.pads[3] <= 2045;
}

fn avgPixel(p: *const PoolParams, x: []const u8, ni: usize, h: u32, w: u32, c: u32, h0: i64, w0: i64, kh: u32, kw: u32, out: []u8) void {
    @setRuntimeSafety(kernel_safety);
    // count (identical for every channel)
    var cnt: u32 = 0;
    const hend: i64 = @as(i64, h) + p.pads[2];
    const wend: i64 = @as(i64, w) + p.pads[3];
    for (0..kh) |i| {
        const ih = h0 + @as(i64, @intCast(i));
        for (0..kw) |j| {
            const iw = w0 + @as(i64, @intCast(j));
            const inside = ih >= 0 and ih < h and iw >= 0 and iw < w;
            if (p.count_include_pad) {
                if (ih < hend and iw < wend) cnt += 1;
            } else if (inside) cnt += 1;
        }
    }
    const fc: f32 = @floatFromInt(cnt);
    const cols = colFirst(p, h, w);
    // the input rows/columns inside the window (others contribute nothing to the sum)
    const hs: usize = @intCast(@max(h0, 0));
    const he: usize = @intCast(@min(h0 + kh, @as(i64, h)));
    const ws: usize = @intCast(@max(w0, 0));
    const we: usize = @intCast(@min(w0 + kw, @as(i64, w)));
    const L = 16;
    const V = @Vector(L, f32);
    const fcv: V = @splat(fc);
    const ysv: V = @splat(p.y_scale);
    const zp: @Vector(L, i32) = @splat(p.y_zp);
    const lo: @Vector(L, i32) = @splat(p.y_range.lo);
    const hi: @Vector(L, i32) = @splat(p.y_range.hi);
    var cc: usize = 0;
    while (cc + L <= c) : (cc += L) {
        var sum: V = @splat(0);
        if (cols) {
            for (ws..we) |iw| {
                var col: V = @splat(0);
                for (hs..he) |ih| {
                    const src = x[((ni * h + ih) * w + iw) * c + cc ..][0..L];
                    var v: [L]f32 = undefined;
                    inline for (0..L) |l| v[l] = p.dq[src[l]];
                    col += @as(V, v);
                }
                sum += col;
            }
        } else for (hs..he) |ih| for (ws..we) |iw| {
            const src = x[((ni * h + ih) * w + iw) * c + cc ..][0..L];
            var v: [L]f32 = undefined;
            inline for (0..L) |l| v[l] = p.dq[src[l]];
            sum += @as(V, v);
        };
        // y = q(s / float32(count)): two float32 divisions, in that order
        const r: @Vector(L, i32) = @intFromFloat(rq.rneV(L, (sum / fcv) / ysv));
        const q = @min(@max(r + zp, lo), hi);
        inline for (0..L) |l| out[cc + l] = rq.toByte(q[l]);
    }
    while (cc < c) : (cc += 1) {
        var sum: f32 = 0;
        if (cols) {
            for (ws..we) |iw| {
                var col: f32 = 0;
                for (hs..he) |ih| col += p.dq[x[((ni * h + ih) * w + iw) * c + cc]];
                sum += col;
            }
        } else for (hs..he) |ih| for (ws..we) |iw| {
            sum += p.dq[x[((ni * h + ih) * w + iw) * c + cc]];
        };
        out[cc] = rq.toByte(rq.q(sum / fc, p.y_scale, p.y_zp, p.y_range));
    }
}
