//! The rounding and quantization rules of docs/model-format.md ("Arithmetic"), shared by
//! every op: `rne` (round half to even), `sat` (clamp to the dtype's range), the int32
//! accumulator requantization of Conv/Gemm, and dq/q of the DQ -> float -> Q ops.
//!
//! All float arithmetic is IEEE float32 in the order the format states. Zig's `@round`
//! rounds half away from zero, so it is never used here: `rneF` uses the 1.5 * 2^23
//! magic number after clamping to |v| <= 2^22 (exact for every float32 in that range,
//! and the clamp does not change any result after saturation to 8 bits).

const std = @import("std");
const kernel_safety = @import("builtin").mode == .Debug;

/// Values with |v| >= this are clamped before rounding (far outside any 8-bit range).
pub const round_limit: f32 = 4194304.0; // 2^22
const magic: f32 = 12582912.0; // 1.5 * 2^23

/// Rounds a float32 to the nearest integer, ties to even, as a float32 (clamped to
/// +-2^22; NaN maps to a clamp bound, never to undefined behaviour).
pub inline fn rneF(v: f32) f32 {
    const c = @min(@max(v, -round_limit), round_limit);
    // Strict float mode: (c + magic) - magic is not folded; c + magic rounds to an
    // integer with ties to even because the ulp at 1.5*2^23 is 1.
    const t = c + magic;
    return t - magic;
}

/// `rne(v)` as an i32 (see `rneF`).
pub inline fn rne(v: f32) i32 {
    @setRuntimeSafety(kernel_safety);
    return @intFromFloat(rneF(v));
}

/// Vector form of `rneF`.
pub inline fn rneV(comptime n: usize, v: @Vector(n, f32)) @Vector(n, f32) {
    @setRuntimeSafety(kernel_safety);
    const lim: @Vector(n, f32) = @splat(round_limit);
    const mg: @Vector(n, f32) = @splat(magic);
    const c = @min(@max(v, -lim), lim);
    return (c + mg) - mg;
}

/// The range of a tensor's values: [-128, 127] for int8, [0, 255] for uint8.
pub const Range = struct {
    lo: i32,
    hi: i32,
    pub fn of(is_uint8: bool) Range {
        return if (is_uint8) .{ .lo = 0, .hi = 255 } else .{ .lo = -128, .hi = 127 };
    }
};

/// `sat(v)`: clamp to [lo, hi].
pub inline fn sat(v: i32, r: Range) i32 {
    return @min(@max(v, r.lo), r.hi);
}

/// The byte that stores value `v` (already within the dtype's range).
pub inline fn toByte(v: i32) u8 {
    return @truncate(@as(u32, @bitCast(v)));
}

/// The value a stored byte holds, for int8 (`is_uint8 == false`) or uint8.
pub inline fn fromByte(b: u8, is_uint8: bool) i32 {
    return if (is_uint8) @as(i32, b) else @as(i32, @as(i8, @bitCast(b)));
}

/// Conv/Gemm requantization: `sat(rne(float32(acc) * m) + zp)`, then limited to [lo, hi]
/// (the dtype range intersected with the op's optional clamp).
pub inline fn requantAcc(acc: i32, m: f32, zp: i32, lo: i32, hi: i32) i32 {
    @setRuntimeSafety(kernel_safety);
    const v = rne(@as(f32, @floatFromInt(acc)) * m) + zp;
    return @min(@max(v, lo), hi);
}

const builtin = @import("builtin");
const has_avx512f = builtin.cpu.arch == .x86_64 and std.Target.x86.featureSetHas(builtin.cpu.features, .avx512f);
extern fn @"llvm.x86.avx512.mask.cvtps2dq.512"(a: @Vector(16, f32), src: @Vector(16, i32), mask: u16, rounding: i32) @Vector(16, i32);
extern fn @"llvm.x86.avx512.min.ps.512"(a: @Vector(16, f32), b: @Vector(16, f32), sae: i32) @Vector(16, f32);
extern fn @"llvm.x86.avx512.max.ps.512"(a: @Vector(16, f32), b: @Vector(16, f32), sae: i32) @Vector(16, f32);
const has_avx512bw = has_avx512f and std.Target.x86.featureSetHas(builtin.cpu.features, .avx512bw);
extern fn @"llvm.x86.avx512.packssdw.512"(a: @Vector(16, i32), b: @Vector(16, i32)) @Vector(32, i16);
extern fn @"llvm.x86.avx512.packsswb.512"(a: @Vector(32, i16), b: @Vector(32, i16)) @Vector(64, i8);
extern fn @"llvm.x86.avx512.packuswb.512"(a: @Vector(32, i16), b: @Vector(32, i16)) @Vector(64, i8);

/// `requantAcc` of 16 accumulators at once, as the bytes of the results.
///
/// With AVX-512 it clamps `float32(acc) * m` to [lo - zp, hi - zp] in float and converts
/// with `vcvtps2dq {rn-sae}` (round half to even whatever MXCSR says): the same values,
/// because rne is monotonic and leaves the integer bounds unchanged, so
/// `clamp(rne(v), a, b) == rne(clamp(v, a, b))` (and `v` is never NaN: `acc` and `m` are
/// finite). Elsewhere it is `requantAcc` lane by lane.
pub inline fn requant16(acc: @Vector(16, i32), m: @Vector(16, f32), zp: i32, lo: i32, hi: i32) @Vector(16, u8) {
    return Requant16.init(zp, lo, hi).bytes(acc, m);
}

/// `requant16` with its per-op constants splatted once (kernels build it before their
/// loops, so the splats stay in registers).
pub const Requant16 = struct {
    zv: @Vector(16, i32),
    lo: @Vector(16, i32),
    hi: @Vector(16, i32),
    /// lo - zp and hi - zp as float32 (the AVX-512 form clamps before converting)
    a: @Vector(16, f32),
    b: @Vector(16, f32),
    /// `bytes4`: zp as int16, lo as a byte, and whether the range is uint8's above 127
    zw: @Vector(32, i16),
    lob: @Vector(64, u8),
    wide: bool,

    pub inline fn init(zp: i32, lo: i32, hi: i32) Requant16 {
        return .{
            .zv = @splat(zp),
            .lo = @splat(lo),
            .hi = @splat(hi),
            .a = @splat(@floatFromInt(lo - zp)),
            .b = @splat(@floatFromInt(hi - zp)),
            .zw = @splat(@intCast(zp)),
            .lob = @splat(@truncate(@as(u32, @bitCast(lo)))),
            .wide = hi > 127,
        };
    }

    /// The bytes of `sat(rne(float32(acc) * m) + zp)` limited to [lo, hi], lane by lane.
    pub inline fn bytes(self: Requant16, acc: @Vector(16, i32), m: @Vector(16, f32)) @Vector(16, u8) {
        @setRuntimeSafety(kernel_safety);
        const f: @Vector(16, f32) = @as(@Vector(16, f32), @floatFromInt(acc)) * m;
        if (comptime has_avx512f) {
            const c = @"llvm.x86.avx512.min.ps.512"(@"llvm.x86.avx512.max.ps.512"(f, self.a, 4), self.b, 4);
            const r = @"llvm.x86.avx512.mask.cvtps2dq.512"(c, @splat(0), 0xffff, 8) + self.zv;
            return @truncate(@as(@Vector(16, u32), @bitCast(r)));
        }
        const r: @Vector(16, i32) = @intFromFloat(rneV(16, f));
        const v = @min(@max(r + self.zv, self.lo), self.hi);
        return @truncate(@as(@Vector(16, u32), @bitCast(v)));
    }

    /// `bytes` of 4 accumulator vectors, in order (64 bytes). With AVX-512BW the 4
    /// vectors share the narrowing: only `hi` is applied in float (so huge values do not
    /// wrap); `vcvtps2dq {rn-sae}` gives `rne`, or 0x80000000 below -2^31; the saturating
    /// packs to int16 (+ zp, saturating) and to 8 bits (signed, or unsigned when `hi` >
    /// 127) and a byte max with `lo` give the same bytes as `bytes` (rne is monotonic,
    /// and every saturation only moves values that end below `lo`).
    pub inline fn bytes4(self: Requant16, acc: [4]@Vector(16, i32), m: [4]@Vector(16, f32)) @Vector(64, u8) {
        return self.bytes4Packs(false, acc, m);
    }

    /// `bytes4`; with PACKS (only when `packsSuffice` holds for the op) without the float
    /// clamp and the byte max: the saturating packs give [lo, hi] by themselves.
    ///
    /// Why that is exact: every multiplier is below 1 and `acc` is an int32, so
    /// `float32(acc) <= 2^31` and `float32(acc) * m` rounds to at most `2^31 - 128`: if
    /// `float32(acc) < 2^31` it is at most `2^31 - 128` (the float32 below 2^31) and the
    /// product, smaller than it, cannot round above it; if it is `2^31`, the product
    /// `2^31 * m <= 2^31 * (1 - 2^-24) = 2^31 - 128` is exact. So `vcvtps2dq` never
    /// overflows to 0x80000000 from above and returns `rne(f)`; below -2^31 it returns
    /// 0x80000000, as `bytes4` already relies on. Then `packssdw` saturates to
    /// [-32768, 32767], the saturating `+ zp` (|zp| <= 255) keeps every value beyond the
    /// 8-bit range beyond it, and the 8-bit pack saturates at exactly lo and hi, because
    /// [lo, hi] is the pack's own range ([-128, 127] signed, [0, 255] unsigned).
    pub inline fn bytes4Packs(self: Requant16, comptime PACKS: bool, acc: [4]@Vector(16, i32), m: [4]@Vector(16, f32)) @Vector(64, u8) {
        @setRuntimeSafety(kernel_safety);
        if (comptime !has_avx512bw) {
            var out: [4][16]u8 = undefined;
            inline for (0..4) |k| out[k] = self.bytes(acc[k], m[k]);
            return @bitCast(out);
        }
        var r: [4]@Vector(16, i32) = undefined;
        inline for (0..4) |k| {
            const f: @Vector(16, f32) = @as(@Vector(16, f32), @floatFromInt(acc[k])) * m[k];
            const c = if (PACKS) f else @"llvm.x86.avx512.min.ps.512"(f, self.b, 4);
            r[k] = @"llvm.x86.avx512.mask.cvtps2dq.512"(c, @splat(0), 0xffff, 8);
        }
        const w01 = @"llvm.x86.avx512.packssdw.512"(r[0], r[1]) +| self.zw;
        const w23 = @"llvm.x86.avx512.packssdw.512"(r[2], r[3]) +| self.zw;
        // per 128-bit lane l: 4 bytes of each of r0..r3; dword 4l+j -> 4j+l
        const perm: @Vector(16, i32) = .{ 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15 };
        if (self.wide) {
            const b: @Vector(16, i32) = @bitCast(@"llvm.x86.avx512.packuswb.512"(w01, w23));
            const ub: @Vector(64, u8) = @bitCast(@shuffle(i32, b, undefined, perm));
            return if (PACKS) ub else @max(ub, self.lob);
        }
        const b: @Vector(16, i32) = @bitCast(@"llvm.x86.avx512.packsswb.512"(w01, w23));
        const sb: @Vector(64, i8) = @bitCast(@shuffle(i32, b, undefined, perm));
        return if (PACKS) @bitCast(sb) else @bitCast(@max(sb, @as(@Vector(64, i8), @bitCast(self.lob))));
    }
};

/// Whether `Requant16.bytes4Packs(true, ..)` is exact for an op: every multiplier is below
/// 1 and [lo, hi] is the whole int8 or uint8 range (no clamp).
pub fn packsSuffice(mult: []const f32, lo: i32, hi: i32) bool {
    if (!((lo == -128 and hi == 127) or (lo == 0 and hi == 255))) return false;
    for (mult) |m| if (!(m < 1)) return false;
    return true;
}

/// `dq(q) = float32(q - zp) * scale`.
pub inline fn dq(v: i32, zp: i32, scale: f32) f32 {
    @setRuntimeSafety(kernel_safety);
    return @as(f32, @floatFromInt(v - zp)) * scale;
}

/// `q(v) = sat(rne(v / scale) + zp)` (a division, never a multiplication by 1/scale).
pub inline fn q(v: f32, scale: f32, zp: i32, r: Range) i32 {
    @setRuntimeSafety(kernel_safety);
    return sat(rne(v / scale) + zp, r);
}

/// The 256-entry table `byte -> dq(value(byte))` of a tensor.
pub fn dqTable(out: *[256]f32, zp: i32, scale: f32, is_uint8: bool) void {
    for (0..256) |i| out[i] = dq(fromByte(@intCast(i), is_uint8), zp, scale);
}

test "rne rounds half to even" {
    const cases = [_][2]f32{
        .{ 0.5, 0 },             .{ 1.5, 2 },                 .{ 2.5, 2 },        .{ -0.5, 0 },           .{ -1.5, -2 },
        .{ -2.5, -2 },           .{ 3.5, 4 },                 .{ 0.49999997, 0 }, .{ 1.0000001, 1 },      .{ -0.50000006, -1 },
        .{ 126.5, 126 },         .{ 127.5, 128 },             .{ -128.5, -128 },  .{ 1e30, round_limit }, .{ -1e30, -round_limit },
        .{ 4194303.5, 4194304 }, .{ 8388607.5, round_limit },
    };
    for (cases) |c| try std.testing.expectEqual(c[1], rneF(c[0]));
    try std.testing.expectEqual(@as(i32, 2), rne(2.5));
    try std.testing.expectEqual(@as(i32, -2), rne(-2.5));
    // NaN and infinities do not trap.
    _ = rne(std.math.nan(f32));
    try std.testing.expectEqual(@as(i32, 4194304), rne(std.math.inf(f32)));
    const v = rneV(4, .{ 0.5, 1.5, -2.5, 2.5000002 });
    try std.testing.expectEqual(@Vector(4, f32){ 0, 2, -2, 3 }, v);
}

test "rne agrees with a float64 reference on many values" {
    var prng = std.Random.DefaultPrng.init(7);
    const rnd = prng.random();
    for (0..100000) |i| {
        const base: f32 = @floatFromInt(rnd.intRangeAtMost(i32, -300000, 300000));
        const v: f32 = if (i % 3 == 0) base + 0.5 else base + rnd.float(f32) * 2 - 1;
        const d: f64 = v;
        const fl = @floor(d);
        const frac = d - fl;
        var want: f64 = if (frac < 0.5) fl else if (frac > 0.5) fl + 1 else if (@mod(fl, 2) == 0) fl else fl + 1;
        want = @min(@max(want, -4194304), 4194304);
        try std.testing.expectEqual(@as(f32, @floatCast(want)), rneF(v));
    }
}

test "requantization, dq and q" {
    // 5 * 0.5 = 2.5 -> 2 (tie to even), + zp 3 = 5
    try std.testing.expectEqual(@as(i32, 5), requantAcc(5, 0.5, 3, -128, 127));
    try std.testing.expectEqual(@as(i32, 127), requantAcc(1000, 1.0, 0, -128, 127));
    try std.testing.expectEqual(@as(i32, -100), requantAcc(-1000, 1.0, 0, -100, 100));
    try std.testing.expectEqual(@as(f32, 0.75), dq(5, 2, 0.25));
    // 0.75 / 0.5 = 1.5 -> 2, + 1 = 3
    try std.testing.expectEqual(@as(i32, 3), q(0.75, 0.5, 1, Range.of(false)));
    try std.testing.expectEqual(@as(i32, 0), q(-3.0, 0.5, 1, Range.of(true)));
    try std.testing.expectEqual(@as(u8, 0xfb), toByte(-5));
    try std.testing.expectEqual(@as(i32, -5), fromByte(0xfb, false));
    try std.testing.expectEqual(@as(i32, 251), fromByte(0xfb, true));
    var t: [256]f32 = undefined;
    dqTable(&t, -1, 0.5, false);
    try std.testing.expectEqual(@as(f32, 0.5), t[0]); // value 0 -> (0 - -1) * 0.5
    try std.testing.expectEqual(@as(f32, -63.5), t[0x80]); // value -128
}
