//! The timing model of the emulated Metis device (docs/timing-model.md).
//!
//! Per op: `cycles = op_overhead + max(compute, memory)` where
//!   compute = ceil(MACs / (mac_per_cycle * util / 100))   (Conv, Gemm; 0 for other ops)
//!   memory  = ceil(bytes moved / bytes_per_cycle)          (all ops: activations in and
//!             out plus the op's weights, biases, scales and tables)
//! Per run and core: `run_overhead + sum of its ops`; time = cycles * 1000 / clock_mhz ns.
//! A batch split across cores takes the slowest core's time.

const std = @import("std");

/// int8 multiply-accumulates per cycle of one core at 100% MVM utilisation:
/// 33440 * 2 ops * 800 MHz = 53.5 TOPS, Axelera's figure for one Metis AIPU core.
pub const mac_per_cycle: u64 = 33440;
/// Bytes one core moves per cycle between its L2/L1 memories and the compute units.
pub const bytes_per_cycle: u64 = 128;
/// Fixed cost of issuing one op (descriptor fetch, pipeline fill).
pub const op_overhead_cycles: u64 = 64;
/// Fixed cost of one run on a core (input/output DMA setup, completion).
pub const run_overhead_cycles: u64 = 2000;
/// Clock limits of the profile (MHz).
pub const min_clock_mhz: u32 = 1;
pub const default_clock_mhz: u32 = 800;

fn ceilDiv(a: u64, b: u64) u64 {
    return if (a == 0) 0 else (a - 1) / b + 1;
}

/// Compute cycles of `macs` multiply-accumulates at `util` percent (clamped to 1..100).
pub fn computeCycles(macs: u64, util: u32) u64 {
    const u: u64 = @min(@max(util, 1), 100);
    // ceil(MACs / (33440 * u / 100)) == ceil(MACs * 100 / (33440 * u)), exact in integers
    return ceilDiv(macs *| 100, mac_per_cycle * u);
}

/// Memory cycles of moving `bytes`.
pub fn memoryCycles(bytes: u64) u64 {
    return ceilDiv(bytes, bytes_per_cycle);
}

/// Cycles of one op.
pub fn opCycles(macs: u64, bytes: u64, util: u32) u64 {
    return op_overhead_cycles + @max(computeCycles(macs, util), memoryCycles(bytes));
}

/// Nanoseconds of `cycles` at `clock_mhz` (clamped to >= 1 MHz).
pub fn toNs(cycles: u64, clock_mhz: u32) u64 {
    const c: u64 = @max(clock_mhz, min_clock_mhz);
    return cycles *| 1000 / c;
}

test "timing model" {
    try std.testing.expectEqual(@as(u64, 0), computeCycles(0, 100));
    try std.testing.expectEqual(@as(u64, 1), computeCycles(1, 100));
    try std.testing.expectEqual(@as(u64, 1), computeCycles(33440, 100));
    try std.testing.expectEqual(@as(u64, 2), computeCycles(33441, 100));
    try std.testing.expectEqual(@as(u64, 2), computeCycles(33440, 50));
    try std.testing.expectEqual(@as(u64, 3), computeCycles(33441, 50)); // 66882/33440 -> 3
    try std.testing.expectEqual(computeCycles(1000, 1), computeCycles(1000, 0));
    try std.testing.expectEqual(computeCycles(1000, 100), computeCycles(1000, 250));
    try std.testing.expectEqual(@as(u64, 2), memoryCycles(129));
    try std.testing.expectEqual(@as(u64, 64 + 10), opCycles(33440 * 10, 128, 100));
    try std.testing.expectEqual(@as(u64, 64 + 100), opCycles(33440, 128 * 100, 100));
    try std.testing.expectEqual(@as(u64, 2500), toNs(2000, 800));
    try std.testing.expectEqual(@as(u64, 20000), toNs(2000, 100));
    // resnet-50-like: 4.1 GMAC at 800 MHz, 100% -> ~153 us of compute
    const c = computeCycles(4_100_000_000, 100);
    try std.testing.expect(toNs(c, 800) > 150_000 and toNs(c, 800) < 160_000);
}
