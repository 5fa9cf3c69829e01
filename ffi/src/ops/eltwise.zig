//! Add, Mul (numpy broadcasting over the 4 NHWC axes), Concat and Requantize: the
//! DQ -> float32 op -> Q ops of docs/model-format.md, in exactly that order:
//! `q_y(dq_a(a) + dq_b(b))`, `q_y(dq_a(a) * dq_b(b))`, `q_y(dq_x(x))`. dq is a 256-entry
//! table per input (the same float32 values as the formula), q divides by y's scale.

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests): the
/// loader has validated every shape and index, and ReleaseSafe checks cost 3-5x here.
const kernel_safety = @import("builtin").mode == .Debug;
const rq = @import("requant.zig");

/// What Add and Mul need at run time.
pub const BinaryParams = struct {
    mul: bool,
    dqa: *const [256]f32,
    dqb: *const [256]f32,
    y_scale: f32,
    y_zp: i32,
    y_range: rq.Range,
};

/// What Concat needs at run time: per input, null (copy unchanged) or a byte -> byte table.
pub const ConcatParams = struct {
    axis: u32,
    tables: []const ?*const [256]u8,
};

/// Fills `t` with the Requantize table `byte -> q_y(dq_x(value(byte)))`.
pub fn requantTable(t: *[256]u8, x_scale: f32, x_zp: i32, x_u8: bool, y_scale: f32, y_zp: i32, y_u8: bool) void {
    const r = rq.Range.of(y_u8);
    for (0..256) |i| {
        const v = rq.dq(rq.fromByte(@intCast(i), x_u8), x_zp, x_scale);
        t[i] = rq.toByte(rq.q(v, y_scale, y_zp, r));
    }
}

inline fn bstride(shape: [4]u32, axis: usize, full: usize) usize {
    return if (shape[axis] == 1) 0 else full;
}

/// Add or Mul: y[shape ys] from a[as_], b[bs] with broadcasting (a dimension of 1 repeats),
/// rows [row0, row1) of axis 1 of every image (all: 0, ys[1]).
pub fn binary(p: *const BinaryParams, a: []const u8, as_: [4]u32, b: []const u8, bs: [4]u32, y: []u8, ys: [4]u32, row0: u32, row1: u32) void {
    @setRuntimeSafety(kernel_safety);
    // element strides of a and b (0 on broadcast axes)
    const a_st = [4]usize{
        bstride(as_, 0, @as(usize, as_[1]) * as_[2] * as_[3]),
        bstride(as_, 1, @as(usize, as_[2]) * as_[3]),
        bstride(as_, 2, as_[3]),
        bstride(as_, 3, 1),
    };
    const b_st = [4]usize{
        bstride(bs, 0, @as(usize, bs[1]) * bs[2] * bs[3]),
        bstride(bs, 1, @as(usize, bs[2]) * bs[3]),
        bstride(bs, 2, bs[3]),
        bstride(bs, 3, 1),
    };
    const c = ys[3];
    for (0..ys[0]) |n| for (row0..row1) |h| for (0..ys[2]) |w| {
        const o = ((n * ys[1] + h) * ys[2] + w) * c;
        const ab = n * a_st[0] + h * a_st[1] + w * a_st[2];
        const bb = n * b_st[0] + h * b_st[1] + w * b_st[2];
        const out = y[o..][0..c];
        if (a_st[3] == 1 and b_st[3] == 1) {
            rowSame(p, a[ab..][0..c], b[bb..][0..c], out);
        } else {
            for (out, 0..) |*e, ci| {
                const va = p.dqa[a[ab + ci * a_st[3]]];
                const vb = p.dqb[b[bb + ci * b_st[3]]];
                e.* = finish(p, va, vb);
            }
        }
    };
}

inline fn finish(p: *const BinaryParams, va: f32, vb: f32) u8 {
    const v = if (p.mul) va * vb else va + vb;
    return rq.toByte(rq.q(v, p.y_scale, p.y_zp, p.y_range));
}

fn rowSame(p: *const BinaryParams, a: []const u8, b: []const u8, out: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const L = 8;
    var i: usize = 0;
    const sc: @Vector(L, f32) = @splat(p.y_scale);
    const zp: @Vector(L, i32) = @splat(p.y_zp);
    const lo: @Vector(L, i32) = @splat(p.y_range.lo);
    const hi: @Vector(L, i32) = @splat(p.y_range.hi);
    while (i + L <= out.len) : (i += L) {
        var va: [L]f32 = undefined;
        var vb: [L]f32 = undefined;
        inline for (0..L) |l| {
            va[l] = p.dqa[a[i + l]];
            vb[l] = p.dqb[b[i + l]];
        }
        const av: @Vector(L, f32) = va;
        const bv: @Vector(L, f32) = vb;
        const v = if (p.mul) av * bv else av + bv;
        const r: @Vector(L, i32) = @intFromFloat(rq.rneV(L, v / sc));
        const s = @min(@max(r + zp, lo), hi);
        inline for (0..L) |l| out[i + l] = rq.toByte(s[l]);
    }
    while (i < out.len) : (i += 1) out[i] = finish(p, p.dqa[a[i]], p.dqb[b[i]]);
}

/// Concat along `axis` of inputs `xs` (shapes `shapes`) into y (shape ys).
pub fn concat(p: *const ConcatParams, xs: []const []const u8, shapes: []const [4]u32, y: []u8, ys: [4]u32) void {
    @setRuntimeSafety(kernel_safety);
    const axis = p.axis;
    var outer: usize = 1;
    for (0..axis) |a| outer *= ys[a];
    var inner: usize = 1;
    for (axis + 1..4) |a| inner *= ys[a];
    var off: usize = 0;
    for (xs, shapes, p.tables) |x, s, t| {
        const len = @as(usize, s[axis]) * inner;
        for (0..outer) |o| {
            const src = x[o * len ..][0..len];
            const dst = y[o * ys[axis] * inner + off ..][0..len];
            if (t) |tab| {
                for (dst, src) |*d, v| d.* = tab[v];
            } else @memcpy(dst, src);
        }
        off += len;
    }
}
