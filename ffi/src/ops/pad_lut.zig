//! Pad and ChannelLut: two byte-moving ops for Keras/TF-converted graphs.
//! - Pad: constant, edge or reflect padding of the H and W axes of an NHWC tensor (the
//!   quantization unchanged; a constant pad writes one byte, the quantized value).
//! - ChannelLut: a byte -> byte table per channel (the innermost NHWC axis), for
//!   per-channel element-wise ops such as a batch norm's `Mul`/`Add` by a constant of a
//!   QDQ model: `y = table[c][x]`, built on load like Lut's.

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests).
const kernel_safety = @import("builtin").mode == .Debug;

/// How a Pad fills the border.
pub const PadMode = enum(u8) { constant, edge, reflect };

/// What Pad needs at run time.
pub const PadParams = struct {
    mode: PadMode,
    /// top, left, bottom, right
    pads: [4]u32,
    /// The byte written by a constant pad.
    value: u8,
};

/// Source position along an axis of length `n` for the padded position `o` (relative to
/// the first real element), or null where a constant pad writes its value. The loader
/// guarantees pads < n for reflect and n >= 1 for edge.
inline fn source(mode: PadMode, o: i64, n: i64) ?usize {
    if (o >= 0 and o < n) return @intCast(o);
    return switch (mode) {
        .constant => null,
        .edge => @intCast(if (o < 0) 0 else n - 1),
        .reflect => @intCast(if (o < 0) -o else 2 * (n - 1) - o),
    };
}

/// Pad: y[N, H+t+b, W+l+r, C] from x[N, H, W, C].
pub fn pad(p: *const PadParams, x: []const u8, xs: [4]u32, y: []u8, ys: [4]u32) void {
    @setRuntimeSafety(kernel_safety);
    const C: usize = xs[3];
    const H: i64 = xs[1];
    const W: i64 = xs[2];
    var o: usize = 0;
    for (0..ys[0]) |n| for (0..ys[1]) |oh| {
        const sh = source(p.mode, @as(i64, @intCast(oh)) - p.pads[0], H);
        for (0..ys[2]) |ow| {
            const sw = source(p.mode, @as(i64, @intCast(ow)) - p.pads[1], W);
            const out = y[o..][0..C];
            if (sh != null and sw != null) {
                const i = ((n * xs[1] + sh.?) * xs[2] + sw.?) * C;
                @memcpy(out, x[i..][0..C]);
            } else @memset(out, p.value);
            o += C;
        }
    };
}

/// The per-channel tables in the byte domain: t[c][x_byte] = table[c * 256 + x + 128]
/// (int8 x) or table[c * 256 + x] (uint8 x).
pub fn channelTables(t: [][256]u8, table: []const u8, x_u8: bool) void {
    for (t, 0..) |*row, c| {
        for (0..256) |i| row[i] = table[c * 256 + (if (x_u8) i else (i ^ 0x80))];
    }
}

/// ChannelLut: y[i] = t[i % C][x[i]] with C = t.len (the innermost axis).
pub fn channelLut(t: []const [256]u8, x: []const u8, y: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const C = t.len;
    var i: usize = 0;
    while (i < x.len) : (i += C) {
        for (t, x[i..][0..C], y[i..][0..C]) |*row, s, *d| d.* = row[s];
    }
}

test "pad modes" {
    // x: 1x2x3x1 = [[1,2,3],[4,5,6]]
    const x = [_]u8{ 1, 2, 3, 4, 5, 6 };
    var y: [4 * 5]u8 = undefined;
    const ys = [4]u32{ 1, 4, 5, 1 };
    pad(&.{ .mode = .constant, .pads = .{ 1, 1, 1, 1 }, .value = 9 }, &x, .{ 1, 2, 3, 1 }, &y, ys);
    try std.testing.expectEqualSlices(u8, &.{ 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9, 9, 9, 9, 9 }, &y);
    pad(&.{ .mode = .edge, .pads = .{ 1, 1, 1, 1 }, .value = 0 }, &x, .{ 1, 2, 3, 1 }, &y, ys);
    try std.testing.expectEqualSlices(u8, &.{ 1, 1, 2, 3, 3, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6 }, &y);
    pad(&.{ .mode = .reflect, .pads = .{ 1, 1, 1, 1 }, .value = 0 }, &x, .{ 1, 2, 3, 1 }, &y, ys);
    try std.testing.expectEqualSlices(u8, &.{ 5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2 }, &y);
}

test "channel tables" {
    var table: [2 * 256]u8 = undefined;
    for (0..256) |i| {
        table[i] = @intCast(i); // channel 0: identity on the index
        table[256 + i] = @intCast(255 - i);
    }
    var t: [2][256]u8 = undefined;
    channelTables(&t, &table, false);
    var y: [4]u8 = undefined;
    // int8 x = 0 (byte 0) -> index 128; x = -128 (byte 0x80) -> index 0
    channelLut(&t, &.{ 0, 0, 0x80, 0x80 }, &y);
    try std.testing.expectEqualSlices(u8, &.{ 128, 127, 0, 255 }, &y);
}
