//! Lut, Relu, Clip (and Requantize, whose table eltwise.zig builds): every elementwise
//! int8/uint8 -> int8/uint8 op is a 256-entry byte -> byte table, built on load.

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests): the
/// loader has validated every shape and index, and ReleaseSafe checks cost 3-5x here.
const kernel_safety = @import("builtin").mode == .Debug;
const rq = @import("requant.zig");

/// The Lut table in the byte domain: y_byte = table[x + 128] (int8 x) or table[x] (uint8 x).
pub fn lutTable(t: *[256]u8, table: []const u8, x_u8: bool) void {
    for (0..256) |i| {
        const idx = if (x_u8) i else (i ^ 0x80);
        t[i] = table[idx];
    }
}

/// Relu: max(x, x_zp); Clip: min(max(x, lo), hi) (values in x's dtype).
pub fn clipTable(t: *[256]u8, lo: i32, hi: i32, x_u8: bool) void {
    for (0..256) |i| {
        const v = rq.fromByte(@intCast(i), x_u8);
        t[i] = rq.toByte(@min(@max(v, lo), hi));
    }
}

/// Applies a byte table: y[i] = t[x[i]].
pub fn apply(t: *const [256]u8, x: []const u8, y: []u8) void {
    @setRuntimeSafety(kernel_safety);
    for (y, x) |*d, s| d.* = t[s];
}

test "tables" {
    var t: [256]u8 = undefined;
    clipTable(&t, 3, 127, false); // Relu with zp 3
    try std.testing.expectEqual(@as(u8, 3), t[0xfb]); // -5 -> 3
    try std.testing.expectEqual(@as(u8, 10), t[10]);
    clipTable(&t, -50, 45, false);
    try std.testing.expectEqual(@as(u8, 45), t[100]);
    try std.testing.expectEqual(rq.toByte(-50), t[0x80]);
    var tab: [256]u8 = undefined;
    for (&tab, 0..) |*e, i| e.* = @intCast(255 - i);
    lutTable(&t, &tab, false);
    try std.testing.expectEqual(@as(u8, 255), t[0x80]); // x = -128 -> table[0]
    try std.testing.expectEqual(@as(u8, 127), t[0]); // x = 0 -> table[128] = 127
    lutTable(&t, &tab, true);
    try std.testing.expectEqual(@as(u8, 255), t[0]);
    var y: [3]u8 = undefined;
    apply(&t, &.{ 0, 1, 255 }, &y);
    try std.testing.expectEqualSlices(u8, &.{ 255, 254, 0 }, &y);
}
