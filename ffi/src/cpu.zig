//! The host CPU's instruction-set level, chosen once per process, and the kernel table of
//! each level (docs/emulator.md, "CPU levels").
//!
//! The library is built for the architecture's baseline (x86-64-v2; aarch64 with NEON);
//! the hot kernels (ops/kernels.zig) are also compiled once per level into objects of
//! their own (build.zig, `cpu_variants`) and linked into the same library. The level is
//! the highest one the CPU has (cpuid and XCR0 on x86-64, getauxval(AT_HWCAP) on
//! aarch64), or the one `AXR_CPU` names, which may only be lower.

const std = @import("std");
const builtin = @import("builtin");
const kernels = @import("ops/kernels.zig");
const build_options = @import("cpu_options");

const arch = builtin.cpu.arch;

/// The instruction-set levels, lowest first. x86-64: baseline (x86-64-v2: SSE4.2, POPCNT),
/// avx2 (x86-64-v3), avx512 (x86-64-v4: F, BW, DQ, CD, VL), vnni (+ AVX512-VNNI),
/// vbmi (+ AVX512-VBMI). aarch64: baseline (NEON), dotprod (+ SDOT/UDOT).
pub const Level = enum(u8) {
    baseline,
    avx2,
    avx512,
    vnni,
    vbmi,
    dotprod,

    pub fn name(self: Level) []const u8 {
        return @tagName(self);
    }
};

/// The levels of this library's architecture, lowest first.
pub const levels: []const Level = switch (arch) {
    .x86_64 => &.{ .baseline, .avx2, .avx512, .vnni, .vbmi },
    .aarch64 => &.{ .baseline, .dotprod },
    else => &.{.baseline},
};

/// True when this build links the per-level kernel objects (build.zig `-Dcpu-variants`).
const have_variants = build_options.variants;

// The kernel tables of the variant objects (ops/variant.zig, one per level above baseline).
const ext = struct {
    extern const axr_kernels_avx2: kernels.Table;
    extern const axr_kernels_avx512: kernels.Table;
    extern const axr_kernels_vnni: kernels.Table;
    extern const axr_kernels_vbmi: kernels.Table;
    extern const axr_kernels_dotprod: kernels.Table;
};

/// The baseline table: this compilation's own kernels.
const baseline_table = kernels.make();

/// The kernel table of `level` (a level of this architecture).
pub fn table(level: Level) *const kernels.Table {
    if (!have_variants) return &baseline_table;
    if (level == .baseline) return &baseline_table;
    return switch (arch) {
        .x86_64 => switch (level) {
            .avx2 => &ext.axr_kernels_avx2,
            .avx512 => &ext.axr_kernels_avx512,
            .vnni => &ext.axr_kernels_vnni,
            .vbmi => &ext.axr_kernels_vbmi,
            else => &baseline_table,
        },
        .aarch64 => if (level == .dotprod) &ext.axr_kernels_dotprod else &baseline_table,
        else => &baseline_table,
    };
}

/// The highest level this CPU (and OS) supports.
pub fn detect() Level {
    if (!have_variants) return .baseline;
    switch (arch) {
        .x86_64 => return detectX86(),
        .aarch64 => {
            const hwcap = std.c.getauxval(std.elf.AT_HWCAP);
            const asimddp: c_ulong = 1 << 20;
            return if (hwcap & asimddp != 0) .dotprod else .baseline;
        },
        else => return .baseline,
    }
}

const Cpuid = struct { a: u32, b: u32, c: u32, d: u32 };

fn cpuid(leaf: u32, sub: u32) Cpuid {
    var a: u32 = undefined;
    var b: u32 = undefined;
    var c: u32 = undefined;
    var d: u32 = undefined;
    asm volatile ("cpuid"
        : [a] "={eax}" (a),
          [b] "={ebx}" (b),
          [c] "={ecx}" (c),
          [d] "={edx}" (d),
        : [leaf] "{eax}" (leaf),
          [sub] "{ecx}" (sub),
    );
    return .{ .a = a, .b = b, .c = c, .d = d };
}

fn xgetbv0() u32 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("xgetbv"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
        : [c] "{ecx}" (@as(u32, 0)),
    );
    return lo;
}

inline fn bit(v: u32, comptime n: u5) bool {
    return (v >> n) & 1 != 0;
}

fn detectX86() Level {
    if (arch != .x86_64) unreachable;
    const max = cpuid(0, 0).a;
    if (max < 7) return .baseline;
    const l1 = cpuid(1, 0);
    const l7 = cpuid(7, 0);
    const ext1 = cpuid(0x80000001, 0);
    // the OS saves the registers: XMM|YMM (bits 1, 2); opmask, ZMM_Hi256, Hi16_ZMM (5-7)
    if (!bit(l1.c, 27)) return .baseline; // OSXSAVE
    const xcr0 = xgetbv0();
    const os_avx = xcr0 & 0x6 == 0x6;
    const os_avx512 = os_avx and xcr0 & 0xe0 == 0xe0;
    // x86-64-v3: AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE, XSAVE
    const v3 = os_avx and bit(l1.c, 28) and bit(l7.b, 5) and bit(l7.b, 3) and bit(l7.b, 8) and
        bit(l1.c, 29) and bit(l1.c, 12) and bit(ext1.c, 5) and bit(l1.c, 22) and bit(l1.c, 26);
    if (!v3) return .baseline;
    // x86-64-v4: AVX512 F, DQ, CD, BW, VL
    const v4 = os_avx512 and bit(l7.b, 16) and bit(l7.b, 17) and bit(l7.b, 28) and bit(l7.b, 30) and bit(l7.b, 31);
    if (!v4) return .avx2;
    if (!bit(l7.c, 11)) return .avx512; // AVX512-VNNI
    if (!bit(l7.c, 1)) return .vnni; // AVX512-VBMI
    return .vbmi;
}

/// The level from a name (`AXR_CPU`), or null.
pub fn parse(s: []const u8) ?Level {
    for (levels) |l| if (std.mem.eql(u8, s, l.name())) return l;
    if (arch == .aarch64 and std.mem.eql(u8, s, "neon")) return .baseline;
    return null;
}

/// The outcome of choosing the level: the level, or why `AXR_CPU` was refused.
pub const Choice = struct {
    level: Level,
    /// the highest level of this CPU
    native: Level,
    /// non-empty when AXR_CPU was refused (then `level` is unusable)
    err_buf: [192]u8 = undefined,
    err_len: usize = 0,

    pub fn err(self: *const Choice) ?[]const u8 {
        return if (self.err_len == 0) null else self.err_buf[0..self.err_len];
    }
};

/// Chooses the level from the CPU and `request` (the value of AXR_CPU, null or "" for
/// the highest).
pub fn choose(native: Level, request: ?[]const u8) Choice {
    var c = Choice{ .level = native, .native = native };
    const r = request orelse return c;
    if (r.len == 0) return c;
    const want = parse(r) orelse {
        var fbs = std.io.fixedBufferStream(&c.err_buf);
        fbs.writer().print("AXR_CPU={s}: unknown level (this library knows ", .{r[0..@min(r.len, 32)]}) catch {};
        for (levels, 0..) |l, i| fbs.writer().print("{s}{s}", .{ if (i > 0) ", " else "", l.name() }) catch {};
        fbs.writer().writeAll(")") catch {};
        c.err_len = fbs.pos;
        return c;
    };
    if (@intFromEnum(want) > @intFromEnum(native)) {
        const s = std.fmt.bufPrint(&c.err_buf, "AXR_CPU={s}: this CPU supports only up to '{s}' (it lacks the instructions of '{s}')", .{ r, native.name(), want.name() }) catch "AXR_CPU: level above this CPU";
        c.err_len = s.len;
        return c;
    }
    c.level = want;
    return c;
}

var once = std.once(init);
var chosen: Choice = undefined;

fn init() void {
    chosen = choose(detect(), std.posix.getenv("AXR_CPU"));
}

/// The process's choice (made on the first call).
pub fn current() *const Choice {
    once.call();
    return &chosen;
}

test "every level's table kernel gives the scalar bytes" {
    var prng = std.Random.DefaultPrng.init(5);
    const rnd = prng.random();
    var t: [256]u8 = undefined;
    rnd.bytes(&t);
    var x: [777]u8 = undefined;
    rnd.bytes(&x);
    var y: [777]u8 = undefined;
    const top = detect();
    for (levels) |l| if (@intFromEnum(l) <= @intFromEnum(top)) {
        for ([_]usize{ 0, 5, 64, 100, 777 }) |n| {
            @memset(&y, 0);
            table(l).table(&.{ .t = &t, .x = x[0..n], .y = y[0..n] });
            for (0..n) |i| try std.testing.expectEqual(t[x[i]], y[i]);
        }
    };
}

test "levels: parse, choose and refuse" {
    try std.testing.expectEqual(Level.baseline, parse("baseline").?);
    try std.testing.expect(parse("sse9") == null);
    const top = levels[levels.len - 1];
    const c = choose(top, "baseline");
    try std.testing.expect(c.err() == null);
    try std.testing.expectEqual(Level.baseline, c.level);
    try std.testing.expectEqual(top, choose(top, null).level);
    try std.testing.expectEqual(top, choose(top, "").level);
    const bad = choose(.baseline, top.name());
    if (top != .baseline) {
        try std.testing.expect(std.mem.indexOf(u8, bad.err().?, "this CPU supports only up to 'baseline'") != null);
    }
    try std.testing.expect(std.mem.indexOf(u8, choose(top, "sse9").err().?, "unknown level") != null);
    // the detected level never exceeds what the kernels' objects were built for
    const d = detect();
    try std.testing.expect(std.mem.indexOfScalar(Level, levels, d) != null);
    // every table's layout signature matches this compilation's
    for (levels) |l| if (@intFromEnum(l) <= @intFromEnum(d)) {
        try std.testing.expectEqual(kernels.signature, table(l).sig);
    };
}
