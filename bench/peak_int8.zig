//! The int8 multiply-accumulate peak of one core, for the `emulator_conv` bench row
//! (bench/emulator_conv.ts builds this file with `-mcpu=native` and runs it): a loop of
//! independent dot-product instructions of the best kind the conv kernels of this CPU use
//! (ffi/src/ops/conv.zig): AVX-512 VNNI `vpdpbusd` (64 MACs), else `vpmaddwd` + `vpaddd`
//! at the widest width (AVX-512BW, AVX2, SSE2: 2 int16 MACs per int32 lane), else a
//! generic int32 vector multiply-add. Prints one JSON line
//! `{"gops":..,"loop":"vpdpbusd zmm"}` (int8 ops = 2 x MACs, per second, best of 30 short loops).
//!
//!   zig run -OReleaseFast -mcpu=native bench/peak_int8.zig

const std = @import("std");
const builtin = @import("builtin");

const is_x86 = builtin.cpu.arch == .x86_64;
fn has(comptime f: std.Target.x86.Feature) bool {
    return is_x86 and std.Target.x86.featureSetHas(builtin.cpu.features, f);
}
const vnni = has(.avx512vnni) and has(.avx512bw);
const bw = has(.avx512bw);
const avx2 = has(.avx2);

extern fn @"llvm.x86.avx512.vpdpbusd.512"(acc: @Vector(16, i32), a: @Vector(16, i32), b: @Vector(16, i32)) @Vector(16, i32);
extern fn @"llvm.x86.avx512.pmaddw.d.512"(a: @Vector(32, i16), b: @Vector(32, i16)) @Vector(16, i32);
extern fn @"llvm.x86.avx2.pmadd.wd"(a: @Vector(16, i16), b: @Vector(16, i16)) @Vector(8, i32);
extern fn @"llvm.x86.sse2.pmadd.wd"(a: @Vector(8, i16), b: @Vector(8, i16)) @Vector(4, i32);

/// int32 lanes of one instruction and MACs per lane.
const lanes: usize = if (vnni or bw) 16 else if (avx2) 8 else 4;
const macs_per_lane: usize = if (vnni) 4 else 2;
const name = if (vnni) "vpdpbusd zmm" else if (bw) "vpmaddwd+vpaddd zmm" else if (avx2) "vpmaddwd+vpaddd ymm" else if (is_x86) "pmaddwd+paddd xmm" else "generic int32x4 multiply-add";
const V = @Vector(lanes, i32);
const H = @Vector(lanes * 2, i16);

inline fn step(acc: V, a: V, b: V) V {
    if (comptime vnni) return @"llvm.x86.avx512.vpdpbusd.512"(acc, a, b);
    if (comptime bw) return acc +% @"llvm.x86.avx512.pmaddw.d.512"(@bitCast(a), @bitCast(b));
    if (comptime avx2) return acc +% @"llvm.x86.avx2.pmadd.wd"(@bitCast(a), @bitCast(b));
    if (comptime is_x86) return acc +% @"llvm.x86.sse2.pmadd.wd"(@bitCast(a), @bitCast(b));
    const ah: H = @bitCast(a);
    const bh: H = @bitCast(b);
    const p: @Vector(lanes * 2, i32) = @as(@Vector(lanes * 2, i32), ah) * @as(@Vector(lanes * 2, i32), bh);
    return acc +% @reduce(.Add, p) + a; // keeps a dependency; counted as 2 MACs per lane
}

/// 16 independent accumulators (more than latency x throughput of every core here).
fn loop(iters: usize, seed: i32) i32 {
    const K = 16;
    var acc: [K]V = undefined;
    inline for (0..K) |k| acc[k] = @splat(seed +% @as(i32, k));
    const a: V = @splat(seed *% 0x01010101);
    const b: V = @splat(seed *% 0x02030405);
    for (0..iters) |_| {
        inline for (0..K) |k| acc[k] = step(acc[k], a, b);
    }
    var s: V = @splat(0);
    inline for (0..K) |k| s +%= acc[k];
    return @reduce(.Add, s);
}

pub fn main() !void {
    const iters: usize = 500_000;
    var best: f64 = 0;
    var sink: i32 = 0;
    for (0..30) |r| {
        var t = try std.time.Timer.start();
        sink +%= loop(iters, @intCast(r + 3 + @as(usize, @intCast(std.time.timestamp() & 1))));
        const ns: f64 = @floatFromInt(t.read());
        const ops: f64 = @floatFromInt(iters * 16 * lanes * macs_per_lane * 2);
        best = @max(best, ops / ns);
    }
    const out = std.io.getStdOut().writer();
    try out.print("{{\"gops\":{d:.1},\"loop\":\"{s}\",\"sink\":{d}}}\n", .{ best, name, sink });
}
