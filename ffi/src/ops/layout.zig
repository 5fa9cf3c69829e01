//! Resize (nearest, integer scales), Reshape, Transpose, Slice and Split: pure data
//! movement over NHWC bytes; quantization is unchanged (checked on load).

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests): the
/// loader has validated every shape and index, and ReleaseSafe checks cost 3-5x here.
const kernel_safety = @import("builtin").mode == .Debug;

/// Resize: y[n,h,w,c] = x[n, h/sh, w/sw, c].
pub fn resize(sh: u32, sw: u32, x: []const u8, xs: [4]u32, y: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const c = xs[3];
    const yh = xs[1] * sh;
    const yw = xs[2] * sw;
    var o: usize = 0;
    for (0..xs[0]) |n| for (0..yh) |h| for (0..yw) |w| {
        const src = x[((n * xs[1] + h / sh) * xs[2] + w / sw) * c ..][0..c];
        @memcpy(y[o..][0..c], src);
        o += c;
    };
}

/// Reshape: memory order unchanged.
pub fn reshape(x: []const u8, y: []u8) void {
    @setRuntimeSafety(kernel_safety);
    @memcpy(y, x[0..y.len]);
}

fn strides(s: [4]u32) [4]usize {
    return .{ @as(usize, s[1]) * s[2] * s[3], @as(usize, s[2]) * s[3], s[3], 1 };
}

/// Transpose: y.shape[i] = x.shape[perm[i]].
pub fn transpose(perm: [4]u32, x: []const u8, xs: [4]u32, y: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const xst = strides(xs);
    var ys: [4]u32 = undefined;
    var st: [4]usize = undefined; // x stride along each y axis
    for (0..4) |i| {
        ys[i] = xs[perm[i]];
        st[i] = xst[perm[i]];
    }
    var o: usize = 0;
    for (0..ys[0]) |a| for (0..ys[1]) |b| for (0..ys[2]) |c| {
        const base = a * st[0] + b * st[1] + c * st[2];
        for (0..ys[3]) |d| {
            y[o] = x[base + d * st[3]];
            o += 1;
        }
    };
}

/// Slice with normalised (clamped, non-negative) starts and positive steps; ys is y's shape.
pub fn slice(starts: [4]u32, steps: [4]u32, x: []const u8, xs: [4]u32, y: []u8, ys: [4]u32) void {
    @setRuntimeSafety(kernel_safety);
    const xst = strides(xs);
    var o: usize = 0;
    for (0..ys[0]) |n| for (0..ys[1]) |h| for (0..ys[2]) |w| {
        const base = (starts[0] + n * steps[0]) * xst[0] + (starts[1] + h * steps[1]) * xst[1] + (starts[2] + w * steps[2]) * xst[2] + starts[3];
        if (steps[3] == 1) {
            @memcpy(y[o..][0..ys[3]], x[base..][0..ys[3]]);
            o += ys[3];
        } else for (0..ys[3]) |c| {
            y[o] = x[base + c * steps[3]];
            o += 1;
        }
    };
}

/// Split along `axis` into `ys` (their shapes `yshapes`).
pub fn split(axis: u32, x: []const u8, xs: [4]u32, ys: []const []u8, yshapes: []const [4]u32) void {
    @setRuntimeSafety(kernel_safety);
    var outer: usize = 1;
    for (0..axis) |a| outer *= xs[a];
    var inner: usize = 1;
    for (axis + 1..4) |a| inner *= xs[a];
    var off: usize = 0;
    for (ys, yshapes) |y, s| {
        const len = @as(usize, s[axis]) * inner;
        for (0..outer) |o| @memcpy(y[o * len ..][0..len], x[o * xs[axis] * inner + off ..][0..len]);
        off += len;
    }
}

test "transpose and slice" {
    // x [1,2,3,1] = 0..5, perm [0,2,1,3] -> [1,3,2,1]
    const x = [_]u8{ 0, 1, 2, 3, 4, 5 };
    var y: [6]u8 = undefined;
    transpose(.{ 0, 2, 1, 3 }, &x, .{ 1, 2, 3, 1 }, &y);
    try std.testing.expectEqualSlices(u8, &.{ 0, 3, 1, 4, 2, 5 }, &y);
    var z: [2]u8 = undefined;
    slice(.{ 0, 1, 0, 0 }, .{ 1, 1, 2, 1 }, &x, .{ 1, 2, 3, 1 }, &z, .{ 1, 1, 2, 1 });
    try std.testing.expectEqualSlices(u8, &.{ 3, 5 }, &z);
}
