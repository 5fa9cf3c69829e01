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

const builtin = @import("builtin");
const arch = builtin.cpu.arch;
const has_vbmi = arch == .x86_64 and std.Target.x86.featureSetHasAll(builtin.cpu.features, .{ .avx512vbmi, .avx512bw });
const has_avx2 = arch == .x86_64 and std.Target.x86.featureSetHas(builtin.cpu.features, .avx2);
const has_neon = arch == .aarch64 and std.Target.aarch64.featureSetHas(builtin.cpu.features, .neon);
extern fn @"llvm.x86.avx512.vpermi2var.qi.512"(a: @Vector(64, u8), idx: @Vector(64, u8), b: @Vector(64, u8)) @Vector(64, u8);
extern fn @"llvm.x86.avx2.pshuf.b"(a: @Vector(32, u8), idx: @Vector(32, u8)) @Vector(32, u8);
extern fn @"llvm.aarch64.neon.tbl4.v16i8"(a: @Vector(16, u8), b: @Vector(16, u8), c: @Vector(16, u8), d: @Vector(16, u8), idx: @Vector(16, u8)) @Vector(16, u8);

/// Which form `apply` takes at this compilation's CPU level.
pub const form: []const u8 = if (has_vbmi) "vbmi" else if (has_avx2) "avx2" else if (has_neon) "neon" else "scalar";

/// Applies a byte table: y[i] = t[x[i]]. VBMI: two `vpermi2b` (128-byte halves) and a
/// blend on bit 7, 64 bytes a step; AVX2: 16 `vpshufb` over the 16-byte rows of the table,
/// each kept where the high nibble matches; NEON: four `tbl` over 64-byte quarters
/// (out-of-range indices give 0), OR-ed; otherwise one load per byte.
pub fn apply(t: *const [256]u8, x: []const u8, y: []u8) void {
    @setRuntimeSafety(kernel_safety);
    var i: usize = 0;
    if (comptime has_vbmi) {
        const V = @Vector(64, u8);
        const t0: V = t[0..64].*;
        const t1: V = t[64..128].*;
        const t2: V = t[128..192].*;
        const t3: V = t[192..256].*;
        const top: V = @splat(0x80);
        while (i + 64 <= x.len) : (i += 64) {
            const v: V = x[i..][0..64].*;
            const lo = @"llvm.x86.avx512.vpermi2var.qi.512"(t0, v, t1);
            const hi = @"llvm.x86.avx512.vpermi2var.qi.512"(t2, v, t3);
            y[i..][0..64].* = @select(u8, (v & top) != @as(V, @splat(0)), hi, lo);
        }
    } else if (comptime has_avx2) {
        const V = @Vector(32, u8);
        var rows: [16]V = undefined;
        for (&rows, 0..) |*r, h| {
            const row: @Vector(16, u8) = t[h * 16 ..][0..16].*;
            r.* = std.simd.join(row, row);
        }
        const nib: V = @splat(0x0f);
        while (i + 32 <= x.len) : (i += 32) {
            const v: V = x[i..][0..32].*;
            const lo = v & nib;
            const hi = v >> @splat(4);
            var acc: V = @splat(0);
            inline for (0..16) |h| {
                const r = @"llvm.x86.avx2.pshuf.b"(rows[h], lo);
                acc = @select(u8, hi == @as(V, @splat(h)), r, acc);
            }
            y[i..][0..32].* = acc;
        }
    } else if (comptime has_neon) {
        const V = @Vector(16, u8);
        var q: [16]V = undefined;
        for (&q, 0..) |*r, k| r.* = t[k * 16 ..][0..16].*;
        while (i + 16 <= x.len) : (i += 16) {
            const v: V = x[i..][0..16].*;
            const r0 = @"llvm.aarch64.neon.tbl4.v16i8"(q[0], q[1], q[2], q[3], v);
            const r1 = @"llvm.aarch64.neon.tbl4.v16i8"(q[4], q[5], q[6], q[7], v -% @as(V, @splat(64)));
            const r2 = @"llvm.aarch64.neon.tbl4.v16i8"(q[8], q[9], q[10], q[11], v -% @as(V, @splat(128)));
            const r3 = @"llvm.aarch64.neon.tbl4.v16i8"(q[12], q[13], q[14], q[15], v -% @as(V, @splat(192)));
            y[i..][0..16].* = (r0 | r1) | (r2 | r3);
        }
    }
    while (i < x.len) : (i += 1) y[i] = t[x[i]];
}

/// The table of `second` after `first`: t[i] = second[first[i]] (merging a chain of
/// single-use tables into one pass).
pub fn compose(out: *[256]u8, first: *const [256]u8, second: *const [256]u8) void {
    for (out, first) |*o, f| o.* = second[f];
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

test "apply: the vector forms give the scalar bytes at every length and alignment" {
    var prng = std.Random.DefaultPrng.init(11);
    const rnd = prng.random();
    var t: [256]u8 = undefined;
    rnd.bytes(&t);
    var x: [1000]u8 = undefined;
    rnd.bytes(&x);
    for (&x, 0..) |*e, i| if (i % 7 == 0) {
        e.* = @intCast(i % 256); // every byte value, edges included
    };
    var y: [1000]u8 = undefined;
    for ([_]usize{ 0, 1, 15, 16, 31, 32, 63, 64, 65, 200, 999 }) |n| for ([_]usize{ 0, 1 }) |off| {
        @memset(&y, 0);
        apply(&t, x[off..][0..n], y[0..n]);
        for (0..n) |i| try std.testing.expectEqual(t[x[off + i]], y[i]);
    };
    var c: [256]u8 = undefined;
    var inv: [256]u8 = undefined;
    for (&inv, 0..) |*e, i| e.* = @intCast(255 - i);
    compose(&c, &t, &inv);
    for (0..256) |i| try std.testing.expectEqual(255 - t[i], c[i]);
}
