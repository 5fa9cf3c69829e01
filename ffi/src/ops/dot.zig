//! The dot-product steps of the conv kernels at each CPU level: int16 pairs (`pmaddwd`
//! over one zmm, two ymm, four xmm or generic vectors) and byte quads (AVX-512 VNNI
//! `vpdpbusd` u8 x s8, aarch64 `sdot` s8 x s8), each into 16 int32 lanes.

const std = @import("std");
const builtin = @import("builtin");

pub const is_x86 = builtin.cpu.arch == .x86_64;
pub const is_arm = builtin.cpu.arch == .aarch64;
pub const has_avx512bw = is_x86 and std.Target.x86.featureSetHas(builtin.cpu.features, .avx512bw);
const has_avx2 = is_x86 and std.Target.x86.featureSetHas(builtin.cpu.features, .avx2);
pub const has_vnni = has_avx512bw and std.Target.x86.featureSetHas(builtin.cpu.features, .avx512vnni);
pub const has_dotprod = is_arm and std.Target.aarch64.featureSetHas(builtin.cpu.features, .dotprod);
extern fn @"llvm.x86.avx512.pmaddw.d.512"(a: @Vector(32, i16), b: @Vector(32, i16)) @Vector(16, i32);
extern fn @"llvm.x86.avx2.pmadd.wd"(a: @Vector(16, i16), b: @Vector(16, i16)) @Vector(8, i32);
extern fn @"llvm.x86.sse2.pmadd.wd"(a: @Vector(8, i16), b: @Vector(8, i16)) @Vector(4, i32);
extern fn @"llvm.aarch64.neon.sdot.v4i32.v16i8"(acc: @Vector(4, i32), a: @Vector(16, i8), b: @Vector(16, i8)) @Vector(4, i32);
extern fn @"llvm.x86.avx512.vpdpbusd.512"(acc: @Vector(16, i32), a: @Vector(16, i32), b: @Vector(16, i32)) @Vector(16, i32);

const VI = @Vector(16, i32);

fn iota(comptime n: usize, comptime mul: i32, comptime add: i32) [n]i32 {
    var m: [n]i32 = undefined;
    for (&m, 0..) |*e, i| e.* = @as(i32, @intCast(i)) * mul + add;
    return m;
}
const idx_lo16 = iota(16, 1, 0);
const idx_hi16 = iota(16, 1, 16);
const idx_cat = [16]i32{ 0, 1, 2, 3, 4, 5, 6, 7, -1, -2, -3, -4, -5, -6, -7, -8 };
const idx_even16 = iota(16, 2, 0);
const idx_odd16 = iota(16, 2, 1);

/// pmaddwd over 32 int16 lanes (one zmm, two ymm, four xmm, or the generic form).
pub inline fn madd2(a: @Vector(32, i16), b: @Vector(32, i16)) VI {
    if (comptime has_avx512bw) return @"llvm.x86.avx512.pmaddw.d.512"(a, b);
    if (comptime has_avx2) {
        const r0 = @"llvm.x86.avx2.pmadd.wd"(@shuffle(i16, a, undefined, idx_lo16), @shuffle(i16, b, undefined, idx_lo16));
        const r1 = @"llvm.x86.avx2.pmadd.wd"(@shuffle(i16, a, undefined, idx_hi16), @shuffle(i16, b, undefined, idx_hi16));
        return @shuffle(i32, r0, r1, idx_cat);
    }
    if (comptime is_x86) { // SSE2: four xmm pmaddwd
        var r: [4]@Vector(4, i32) = undefined;
        inline for (0..4) |k| {
            const ak: @Vector(8, i16) = @as([32]i16, a)[k * 8 ..][0..8].*;
            const bk: @Vector(8, i16) = @as([32]i16, b)[k * 8 ..][0..8].*;
            r[k] = @"llvm.x86.sse2.pmadd.wd"(ak, bk);
        }
        return @bitCast(r);
    }
    const ae: VI = @shuffle(i16, a, undefined, idx_even16);
    const ao: VI = @shuffle(i16, a, undefined, idx_odd16);
    const be: VI = @shuffle(i16, b, undefined, idx_even16);
    const bo: VI = @shuffle(i16, b, undefined, idx_odd16);
    return ae * be +% ao * bo;
}

/// One reduction step of the tiled path: 4 byte products per lane (VNNI u8 x s8, sdot
/// s8 x s8) or 2 int16 products per lane (pmaddwd), added to the int32 accumulators of
/// 16 channels.
pub inline fn step(acc: VI, xv: VI, wv: VI) VI {
    if (comptime has_vnni) return @"llvm.x86.avx512.vpdpbusd.512"(acc, xv, wv);
    if (comptime has_dotprod) { // four 128-bit sdot
        const a: [4]@Vector(4, i32) = @bitCast(acc);
        const xs: [4]@Vector(16, i8) = @bitCast(xv);
        const ws: [4]@Vector(16, i8) = @bitCast(wv);
        var r: [4]@Vector(4, i32) = undefined;
        inline for (0..4) |k| r[k] = @"llvm.aarch64.neon.sdot.v4i32.v16i8"(a[k], xs[k], ws[k]);
        return @bitCast(r);
    }
    return acc +% madd2(@bitCast(xv), @bitCast(wv));
}
