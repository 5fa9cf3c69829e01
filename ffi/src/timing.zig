//! The timing model of the emulated Metis device (docs/timing-model.md): the one
//! definition of the modelled device time and of the host transfer time of a card.
//!
//! Each op runs on one unit of an AIPU core:
//!   mvm   Conv and Gemm: the in-memory matrix-vector unit; its MACs are rounded up to
//!         whole passes of the array (`mvm_rows` input depth x `mvm_cols` output
//!         channels) and run at `mac_per_cycle` (sustained) x utilisation. A grouped
//!         (depthwise) Conv packs as many groups block-diagonally into one pass as fit
//!         (depth rows and Cout/group columns each), so a depthwise 3x3 uses 9 rows and
//!         one column per channel: the array is poorly used, and the utilisation follows
//!         from the channel count and the kernel size;
//!   dwpu  pools: the depthwise/pooling unit, over their bytes;
//!   dpu   element-wise ops (Add, Mul, Lut, ChannelLut, Relu, Clip, Requantize): bytes;
//!   dma   data movement (Concat, Slice, Split, Pad, Transpose, Reshape, Resize): bytes.
//! Per op: `cycles = op_overhead + constants / weight_bytes_per_cycle (loading the array)
//! + max(compute, activations / bytes_per_cycle) + spill`, where the spill is the part of
//! the op's input + output activations beyond the core's L1: first into its share of the
//! L2 left by the program's constants (`l2_bytes_per_cycle`), the rest into DDR
//! (`ddr_bytes_per_cycle`). Per run and core: `run_overhead + sum of ops`; time = cycles *
//! 1000 / clock_mhz ns. A batch split over cores takes the slowest core. A card adds the
//! transfer of inputs and outputs over its host link (`transferNs`). An op kind this
//! model does not know is timed as a `dpu` op over its bytes (and named by `unknownOp`,
//! so the library warns).

const std = @import("std");
const abi = @import("abi.zig");
const program = @import("program.zig");

/// The constants of the model. `params` holds the values (docs/timing-model.md); the fit
/// tool (ffi/src/timing_fit.zig) evaluates other candidates for the fitted ones.
pub const Params = struct {
    /// Sustained int8 MACs per cycle of the MVM array at 100% utilisation, on whole passes.
    mac_per_cycle: u64,
    /// The MVM array's pass: input depth (kh*kw*Cin/group) and output channels.
    mvm_rows: u64,
    mvm_cols: u64,
    /// Activation bytes per cycle between L1 and the units (inputs + outputs of an op).
    bytes_per_cycle: u64,
    /// Constant bytes per cycle (weights, biases, scales, tables) from L2/DDR into the
    /// units; an op's constants are loaded before it computes.
    weight_bytes_per_cycle: u64,
    /// Fixed cost of one op: descriptor fetch by the core's RISC-V, unit setup, pipeline fill.
    op_overhead_cycles: u64,
    /// Fixed cost of one run on a core: RISC-V start, DMA setup of inputs/outputs, completion.
    run_overhead_cycles: u64,
    /// On-chip memory: a core's L1, the L2 all cores share (documented sizes).
    l1_bytes: u64,
    l2_bytes: u64,
    /// Cores sharing the L2 and the DDR (each gets an equal share).
    cores: u64,
    /// Spilled activation bytes per cycle and core into the L2, and into the card's DDR.
    l2_bytes_per_cycle: u64,
    ddr_bytes_per_cycle: u64,
};

/// The model's constants (docs/timing-model.md, "Constants" and "Fit and validation").
pub const params = Params{
    .mac_per_cycle = 11585,
    .mvm_rows = 64,
    .mvm_cols = 64,
    .bytes_per_cycle = 512,
    .weight_bytes_per_cycle = 64,
    .op_overhead_cycles = 8192,
    .run_overhead_cycles = 32000,
    .l1_bytes = 4 << 20,
    .l2_bytes = 32 << 20,
    .cores = 4,
    .l2_bytes_per_cycle = 512,
    .ddr_bytes_per_cycle = 8,
};

/// Fixed cost of one run on a core (the first op of a profile starts here).
pub const run_overhead_cycles: u64 = params.run_overhead_cycles;
/// Clock limits of the profile (MHz).
pub const min_clock_mhz: u32 = 1;
pub const default_clock_mhz: u32 = 800;

/// The core unit an op runs on.
pub const Unit = enum { mvm, dwpu, dpu, dma };

const units = std.StaticStringMap(Unit).initComptime(.{
    .{ "Conv", .mvm },               .{ "Gemm", .mvm },
    .{ "Add", .dpu },                .{ "Mul", .dpu },
    .{ "Requantize", .dpu },         .{ "Relu", .dpu },
    .{ "Clip", .dpu },               .{ "Lut", .dpu },
    .{ "MaxPool", .dwpu },           .{ "AveragePool", .dwpu },
    .{ "GlobalAveragePool", .dwpu }, .{ "Concat", .dma },
    .{ "Resize", .dma },             .{ "Reshape", .dma },
    .{ "Transpose", .dma },          .{ "Slice", .dma },
    .{ "Split", .dma },              .{ "Pad", .dma },
    .{ "ChannelLut", .dpu },
});

/// The unit of an op kind named `name`; null for an op kind the model does not know.
pub fn unitOf(name: []const u8) ?Unit {
    return units.get(name);
}

/// What unknown op kinds are timed as: an element-wise op over their bytes.
pub const default_unit: Unit = .dpu;

/// The first op kind of `p` the timing model does not know (timed with `default_unit`).
pub fn unknownOp(p: *const program.Program) ?[]const u8 {
    for (p.ops) |o| if (unitOf(@tagName(o.kind)) == null) return @tagName(o.kind);
    return null;
}

/// The L2 bytes one core has for spilled activations while `p` runs on every core: the
/// L2 less the program's constants (held once, shared), split over the cores.
pub fn l2Free(p: *const program.Program, prm: Params) u64 {
    var c: u64 = 0;
    for (p.ops) |o| c +|= o.const_bytes;
    return l2FreeOf(c, prm);
}

/// `l2Free` for a program with `const_bytes` of constants.
pub fn l2FreeOf(const_bytes: u64, prm: Params) u64 {
    return (prm.l2_bytes -| const_bytes) / @max(prm.cores, 1);
}

/// The work of one op on one core.
pub const Work = struct {
    unit: Unit,
    /// MACs (Conv, Gemm; 0 otherwise).
    macs: u64 = 0,
    /// MVM: MACs rounded up to whole passes of the array (depth rows x output columns).
    tile_macs: u64 = 0,
    /// Activation bytes in and out.
    act_bytes: u64 = 0,
    /// Constant bytes (weights, biases, scales, tables).
    const_bytes: u64 = 0,
    /// Activation bytes beyond L1 held in the L2, and beyond that in DDR.
    spill_l2: u64 = 0,
    spill_ddr: u64 = 0,
};

fn ceilDiv(a: u64, b: u64) u64 {
    return if (a == 0) 0 else (a - 1) / @max(b, 1) + 1;
}

/// MACs of `pixels` output pixels of a Conv with `groups` groups of `depth` inputs
/// (kh*kw*Cin/group) and `cout_g` outputs, as whole passes of the `rows` x `cols` array:
/// `per_pass` groups fit side by side (block-diagonal) when a group is smaller than the
/// array, otherwise each group takes ceil(depth/rows) x ceil(cout_g/cols) passes.
pub fn tileMacs(pixels: u64, groups: u64, depth: u64, cout_g: u64, rows: u64, cols: u64) u64 {
    const r = @max(rows, 1);
    const c = @max(cols, 1);
    const per_pass = if (depth <= r and cout_g <= c) @max(1, @min(r / @max(depth, 1), c / @max(cout_g, 1), groups)) else 1;
    const passes = ceilDiv(groups, per_pass) *| ceilDiv(depth, r) *| ceilDiv(cout_g, c);
    return pixels *| passes *| r *| c;
}

/// The work of op `o` on a core running `units_of_batch` of the program's `batch` images,
/// with `act_per_unit` activation bytes per image and `l2_free` L2 bytes for spills
/// (`l2Free`), under `prm`'s array and memory sizes.
pub fn work(o: *const program.Op, batch: u32, units_of_batch: u64, act_per_unit: u64, l2_free: u64, prm: Params) Work {
    const unit = unitOf(@tagName(o.kind)) orelse default_unit;
    const macs = o.macs / @max(batch, 1) *| units_of_batch;
    const act = act_per_unit *| units_of_batch;
    const over = act -| prm.l1_bytes;
    const ddr = over -| l2_free;
    var w = Work{ .unit = unit, .macs = macs, .act_bytes = act, .const_bytes = o.const_bytes, .spill_l2 = over - ddr, .spill_ddr = ddr };
    switch (o.attrs) {
        .conv => |c| {
            const g: u64 = @max(c.group, 1);
            const depth: u64 = @as(u64, c.kh) * c.kw * (c.cin / g);
            const cout_g: u64 = c.cout / g;
            if (depth > 0 and cout_g > 0) {
                const pixels = macs / (depth * cout_g * g);
                w.tile_macs = tileMacs(pixels, g, depth, cout_g, prm.mvm_rows, prm.mvm_cols);
            }
        },
        else => {},
    }
    return w;
}

/// Cycles of one op's `w` at MVM utilisation `util` percent (clamped to 1..100).
pub fn cycles(w: Work, util: u32, prm: Params) u64 {
    const u: u64 = @min(@max(util, 1), 100);
    const compute: u64 = switch (w.unit) {
        // ceil(tile MACs / (mac_per_cycle * u / 100)), exact in integers
        .mvm => ceilDiv(w.tile_macs *| 100, prm.mac_per_cycle * u),
        .dwpu, .dpu, .dma => 0,
    };
    const load = ceilDiv(w.const_bytes, prm.weight_bytes_per_cycle);
    const spill = ceilDiv(w.spill_l2, prm.l2_bytes_per_cycle) +| ceilDiv(w.spill_ddr, prm.ddr_bytes_per_cycle);
    return prm.op_overhead_cycles +| load +| @max(compute, ceilDiv(w.act_bytes, prm.bytes_per_cycle)) +| spill;
}

/// Nanoseconds of `c` cycles at `clock_mhz` (clamped to >= 1 MHz).
pub fn toNs(c: u64, clock_mhz: u32) u64 {
    const mhz: u64 = @max(clock_mhz, min_clock_mhz);
    return c *| 1000 / mhz;
}

/// The host link of a board: a fixed cost per frame and picoseconds per byte moved.
pub const Link = struct { frame_ns: u64, ps_per_byte: u64 };

/// The link of `board`: PCIe cards, M.2 cards (and others: as PCIe).
pub fn link(board: abi.BoardType) Link {
    return switch (board) {
        // fitted on the fit networks' published M.2 figures (docs/timing-model.md)
        .m2, .alpha_m2 => .{ .frame_ns = 0, .ps_per_byte = 400 },
        // PCIe Gen3 x4: about 4 GB/s
        else => .{ .frame_ns = 0, .ps_per_byte = 250 },
    };
}

/// Host transfer time of one frame over `board`'s link: `bytes` of inputs and outputs.
pub fn transferNs(bytes: u64, board: abi.BoardType) u64 {
    const l = link(board);
    return l.frame_ns +| bytes *| l.ps_per_byte / 1000;
}

const testing = std.testing;

fn convOp(kind: program.OpKind, kh: u32, cin: u32, cout: u32, group: u32, pixels: u64) program.Op {
    const macs = pixels * kh * kh * (cin / group) * cout;
    return .{ .kind = kind, .name = "c", .inputs = &.{}, .outputs = &.{}, .attrs = .{ .conv = .{ .kh = kh, .kw = kh, .cin = cin, .cout = cout, .group = group } }, .macs = macs, .const_bytes = 0 };
}

const test_prm = Params{ .mac_per_cycle = 1000, .mvm_rows = 64, .mvm_cols = 32, .bytes_per_cycle = 100, .weight_bytes_per_cycle = 50, .op_overhead_cycles = 7, .run_overhead_cycles = 0, .l1_bytes = 1000, .l2_bytes = 4000, .cores = 4, .l2_bytes_per_cycle = 10, .ddr_bytes_per_cycle = 2 };

test "tile rounding of the MVM, unit table" {
    const prm = test_prm;
    // 3x3x16 -> 16: depth 144 -> 3 row tiles of 64 (192), 16 -> 1 column tile of 32
    const o = convOp(.Conv, 3, 16, 16, 1, 100);
    const w = work(&o, 1, 1, 0, 0, prm);
    try testing.expectEqual(Unit.mvm, w.unit);
    try testing.expectEqual(@as(u64, 100 * 144 * 16), w.macs);
    try testing.expectEqual(@as(u64, 100 * 192 * 32), w.tile_macs);
    try testing.expectEqual(@as(u64, 7 + 615), cycles(w, 100, prm)); // ceil(614400 / 1000)
    try testing.expectEqual(@as(u64, 7 + 1229), cycles(w, 50, prm));
    try testing.expectEqual(cycles(w, 1, prm), cycles(w, 0, prm));
    // batch of 4, this core runs 1 image
    const o4 = convOp(.Conv, 3, 16, 16, 1, 400);
    try testing.expectEqual(w.tile_macs, work(&o4, 4, 1, 0, 0, prm).tile_macs);
    // memory-bound on activations; constants are loaded before the op computes
    try testing.expectEqual(@as(u64, 7 + 10), cycles(.{ .unit = .dpu, .act_bytes = 1000 }, 100, prm));
    try testing.expectEqual(@as(u64, 7 + 20 + 10), cycles(.{ .unit = .dpu, .act_bytes = 1000, .const_bytes = 1000 }, 100, prm));
    try testing.expectEqual(@as(u64, 7), cycles(.{ .unit = .dma }, 100, prm));
    try testing.expectEqual(Unit.dma, unitOf("Concat").?);
    // every op kind of the format has a unit
    inline for (std.meta.fields(program.OpKind)) |f| try testing.expect(unitOf(f.name) != null);
}

test "depthwise convs use the MVM by channel count and kernel size" {
    const prm = test_prm;
    // depthwise 3x3 over 32 channels: 9 rows and 1 column per channel, 64/9 = 7 channels
    // a pass -> ceil(32/7) = 5 passes of 64 x 32 per pixel
    const d = work(&convOp(.Conv, 3, 32, 32, 32, 100), 1, 1, 0, 0, prm);
    try testing.expectEqual(Unit.mvm, d.unit);
    try testing.expectEqual(@as(u64, 100 * 32 * 9), d.macs);
    try testing.expectEqual(@as(u64, 100 * 5 * 64 * 32), d.tile_macs);
    try testing.expectEqual(@as(u64, 7 + 1024), cycles(d, 100, prm));
    // 5x5: 64/25 = 2 channels a pass -> 16 passes: 2.8x the MACs, 3.2x the cycles
    const d5 = work(&convOp(.Conv, 5, 32, 32, 32, 100), 1, 1, 0, 0, prm);
    try testing.expectEqual(@as(u64, 100 * 16 * 64 * 32), d5.tile_macs);
    // few channels: the pass is not filled, one pass whatever the channel count below 7
    try testing.expectEqual(
        work(&convOp(.Conv, 3, 2, 2, 2, 100), 1, 1, 0, 0, prm).tile_macs,
        work(&convOp(.Conv, 3, 7, 7, 7, 100), 1, 1, 0, 0, prm).tile_macs,
    );
    // utilisation = MACs / tile MACs grows with channels up to a full pass, and never
    // reaches a dense conv's
    const dense = work(&convOp(.Conv, 3, 7, 32, 1, 100), 1, 1, 0, 0, prm);
    const dw7 = work(&convOp(.Conv, 3, 7, 7, 7, 100), 1, 1, 0, 0, prm);
    try testing.expect(dw7.macs * dense.tile_macs < dense.macs * dw7.tile_macs);
    // a kernel deeper than the array: whole row tiles per channel (11x11 = 121 -> 2 x 64)
    try testing.expectEqual(@as(u64, 100 * 3 * 2 * 64 * 32), work(&convOp(.Conv, 11, 3, 3, 3, 100), 1, 1, 0, 0, prm).tile_macs);
    // grouped, not depthwise: 4 groups of 3x3x8 -> 8 (72 rows: one group a pass)
    try testing.expectEqual(@as(u64, 100 * 4 * 2 * 64 * 32), work(&convOp(.Conv, 3, 32, 32, 4, 100), 1, 1, 0, 0, prm).tile_macs);
    // tileMacs edge cases: zero pixels, zero depth
    try testing.expectEqual(@as(u64, 0), tileMacs(0, 32, 9, 1, 64, 32));
    try testing.expectEqual(@as(u64, 0), work(&convOp(.Conv, 3, 0, 0, 1, 100), 1, 1, 0, 0, prm).tile_macs);
}

test "activations beyond L1 spill into the L2 share, then DDR" {
    const prm = test_prm;
    // L2 4000 less 2000 of constants, over 4 cores: 500 a core
    try testing.expectEqual(@as(u64, 500), l2FreeOf(2000, prm));
    try testing.expectEqual(@as(u64, 0), l2FreeOf(1 << 40, prm));
    const op = program.Op{ .kind = .Add, .name = "a", .inputs = &.{}, .outputs = &.{}, .attrs = .reshape };
    // fits L1: no spill
    const fit = work(&op, 1, 1, 1000, 500, prm);
    try testing.expectEqual(@as(u64, 0), fit.spill_l2 + fit.spill_ddr);
    try testing.expectEqual(@as(u64, 7 + 10), cycles(fit, 100, prm));
    // 1300: 300 beyond L1, in the L2 (300 / 10 cycles)
    const l2 = work(&op, 1, 1, 1300, 500, prm);
    try testing.expectEqual(@as(u64, 300), l2.spill_l2);
    try testing.expectEqual(@as(u64, 0), l2.spill_ddr);
    try testing.expectEqual(@as(u64, 7 + 13 + 30), cycles(l2, 100, prm));
    // 2000: 500 in the L2, 500 in DDR (500 / 2 cycles)
    const ddr = work(&op, 1, 1, 2000, 500, prm);
    try testing.expectEqual(@as(u64, 500), ddr.spill_l2);
    try testing.expectEqual(@as(u64, 500), ddr.spill_ddr);
    try testing.expectEqual(@as(u64, 7 + 20 + 50 + 250), cycles(ddr, 100, prm));
    // per core of a batch: 4 images of 500 bytes, this core runs 3 -> 1500
    try testing.expectEqual(@as(u64, 500), work(&op, 4, 3, 500, 0, prm).spill_ddr);
    // zero-size tensors: only the per-op setup
    try testing.expectEqual(@as(u64, 7), cycles(work(&op, 1, 1, 0, 0, prm), 100, prm));
    try testing.expectEqual(@as(u64, 7), cycles(work(&convOp(.Conv, 3, 16, 16, 1, 0), 1, 1, 0, 0, prm), 100, prm));
    // huge tensors and constants saturate instead of wrapping
    const huge = work(&op, 1, std.math.maxInt(u64), std.math.maxInt(u64), 0, prm);
    try testing.expectEqual(std.math.maxInt(u64) - prm.l1_bytes, huge.spill_ddr);
    try testing.expect(cycles(huge, 100, prm) > std.math.maxInt(u64) / 4);
    try testing.expect(cycles(.{ .unit = .mvm, .tile_macs = std.math.maxInt(u64), .const_bytes = std.math.maxInt(u64) }, 1, prm) > std.math.maxInt(u64) / 100);
    try testing.expectEqual(std.math.maxInt(u64), tileMacs(std.math.maxInt(u64), 4, 9, 1, 64, 32));
}

test "an unknown op kind is timed as an element-wise op over its bytes, never free" {
    const prm = test_prm;
    try testing.expectEqual(@as(?Unit, null), unitOf("FancyNewOp"));
    const w = Work{ .unit = unitOf("FancyNewOp") orelse default_unit, .act_bytes = 1000 };
    try testing.expectEqual(Unit.dpu, w.unit);
    try testing.expectEqual(cycles(.{ .unit = .dpu, .act_bytes = 1000 }, 100, prm), cycles(w, 100, prm));
    try testing.expect(cycles(.{ .unit = default_unit }, 100, params) >= params.op_overhead_cycles);
    try testing.expect(params.op_overhead_cycles > 0);
}

test "the constants are plausible for the chip" {
    // sustained MVM rate at most the peak (53.5 TOPS at 800 MHz = 33,440 MACs a cycle)
    try testing.expect(params.mac_per_cycle <= 33440);
    // documented memories: 4 MiB of L1 per core, 32 MiB of L2 for the 4 cores
    try testing.expectEqual(@as(u64, 4 << 20), params.l1_bytes);
    try testing.expectEqual(@as(u64, 32 << 20), params.l2_bytes);
    // DDR is the slowest level, L2 slower than L1
    try testing.expect(params.ddr_bytes_per_cycle < params.l2_bytes_per_cycle);
    try testing.expect(params.l2_bytes_per_cycle <= params.bytes_per_cycle);
}

test "clock, host link" {
    try testing.expectEqual(@as(u64, 2500), toNs(2000, 800));
    try testing.expectEqual(@as(u64, 20000), toNs(2000, 100));
    try testing.expectEqual(toNs(2000, 1), toNs(2000, 0));
    // M.2 moves bytes slower than PCIe; both cost something per frame of bytes
    try testing.expect(transferNs(1 << 20, .m2) > transferNs(1 << 20, .pcie));
    try testing.expect(transferNs(150528, .pcie) > 0);
    try testing.expectEqual(transferNs(1000, .pcie), transferNs(1000, .sbc));
}
