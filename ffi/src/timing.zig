//! The timing model of the emulated Metis device (docs/timing-model.md): the one
//! definition of the modelled device time and of the host transfer time of a card.
//!
//! Each op runs on one unit of an AIPU core:
//!   mvm   Conv (not depthwise) and Gemm: the in-memory matrix-vector unit; its MACs are
//!         rounded up to whole tiles of the array (`mvm_rows` input depth x `mvm_cols`
//!         output channels) and run at `mac_per_cycle` (sustained) x utilisation;
//!   dwpu  depthwise Conv and pools: the depthwise/pooling unit, `dw_mac_per_cycle`;
//!   dpu   element-wise ops (Add, Mul, Lut, ChannelLut, Relu, Clip, Requantize): bytes;
//!   dma   data movement (Concat, Slice, Split, Pad, Transpose, Reshape, Resize): bytes.
//! Per op: `cycles = op_overhead + max(compute, activations / bytes_per_cycle,
//! constants / weight_bytes_per_cycle)`. Per run and core: `run_overhead + sum of ops`;
//! time = cycles * 1000 / clock_mhz ns. A batch split over cores takes the slowest core.
//! A card adds the transfer of inputs and outputs over its host link (`transferNs`).
//! An op kind this model does not know is timed as a `dpu` op over its bytes (and named
//! by `unknownOp`, so the library warns).

const std = @import("std");
const abi = @import("abi.zig");
const program = @import("program.zig");

/// The constants of the model. `params` holds the fitted values (docs/timing-model.md);
/// the fit tool (ffi/src/timing_fit.zig) evaluates other candidates.
pub const Params = struct {
    /// Sustained int8 MACs per cycle of the MVM array at 100% utilisation, on whole tiles.
    mac_per_cycle: u64,
    /// The MVM array's tile: input depth (kh*kw*Cin/group) and output channels per pass.
    mvm_rows: u64,
    mvm_cols: u64,
    /// MACs per cycle of the depthwise unit (depthwise convolutions).
    dw_mac_per_cycle: u64,
    /// Activation bytes per cycle between L1 and the units (inputs + outputs of an op).
    bytes_per_cycle: u64,
    /// Constant bytes per cycle (weights, biases, scales, tables) from L2/DDR into the units.
    weight_bytes_per_cycle: u64,
    /// Fixed cost of one op: descriptor fetch by the core's RISC-V, unit setup, pipeline fill.
    op_overhead_cycles: u64,
    /// Fixed cost of one run on a core: RISC-V start, DMA setup of inputs/outputs, completion.
    run_overhead_cycles: u64,
};

/// The fitted constants (docs/timing-model.md, "Fit and validation").
pub const params = Params{
    .mac_per_cycle = 8192,
    .mvm_rows = 128,
    .mvm_cols = 32,
    .dw_mac_per_cycle = 32,
    .bytes_per_cycle = 128,
    .weight_bytes_per_cycle = 32,
    .op_overhead_cycles = 2048,
    .run_overhead_cycles = 32000,
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

/// The work of one op on one core.
pub const Work = struct {
    unit: Unit,
    /// MACs (Conv, Gemm; 0 otherwise).
    macs: u64 = 0,
    /// MVM: MACs rounded up to whole tiles (depth rows x output columns).
    tile_macs: u64 = 0,
    /// Activation bytes in and out.
    act_bytes: u64 = 0,
    /// Constant bytes (weights, biases, scales, tables).
    const_bytes: u64 = 0,
};

fn ceilDiv(a: u64, b: u64) u64 {
    return if (a == 0) 0 else (a - 1) / b + 1;
}

/// The work of op `o` on a core running `units_of_batch` of the program's `batch` images,
/// with `act_per_unit` activation bytes per image, under `prm`'s MVM tile.
pub fn work(o: *const program.Op, batch: u32, units_of_batch: u64, act_per_unit: u64, prm: Params) Work {
    const unit = unitOf(@tagName(o.kind)) orelse default_unit;
    const macs = o.macs / @max(batch, 1) * units_of_batch;
    var w = Work{ .unit = unit, .macs = macs, .act_bytes = act_per_unit * units_of_batch, .const_bytes = o.const_bytes };
    switch (o.attrs) {
        .conv => |c| {
            const g: u64 = @max(c.group, 1);
            const cin_g: u64 = c.cin / g;
            const cout_g: u64 = c.cout / g;
            const depth: u64 = @as(u64, c.kh) * c.kw * cin_g;
            if (cin_g == 1 and g > 1) {
                w.unit = .dwpu;
            } else if (depth > 0 and cout_g > 0) {
                // per output pixel and group: ceil(depth/rows) x ceil(cout_g/cols) tiles
                const pixels = macs / (depth * cout_g * g);
                w.tile_macs = pixels * g * ceilDiv(depth, prm.mvm_rows) * prm.mvm_rows * ceilDiv(cout_g, prm.mvm_cols) * prm.mvm_cols;
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
        .dwpu => ceilDiv(w.macs, prm.dw_mac_per_cycle),
        .dpu, .dma => 0,
    };
    const moves = @max(ceilDiv(w.act_bytes, prm.bytes_per_cycle), ceilDiv(w.const_bytes, prm.weight_bytes_per_cycle));
    return prm.op_overhead_cycles + @max(compute, moves);
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
    return l.frame_ns + bytes *| l.ps_per_byte / 1000;
}

const testing = std.testing;

fn convOp(kind: program.OpKind, kh: u32, cin: u32, cout: u32, group: u32, pixels: u64) program.Op {
    const macs = pixels * kh * kh * (cin / group) * cout;
    return .{ .kind = kind, .name = "c", .inputs = &.{}, .outputs = &.{}, .attrs = .{ .conv = .{ .kh = kh, .kw = kh, .cin = cin, .cout = cout, .group = group } }, .macs = macs, .const_bytes = 0 };
}

test "tile rounding of the MVM, depthwise on the DWPU, unit table" {
    const prm = Params{ .mac_per_cycle = 1000, .mvm_rows = 64, .mvm_cols = 32, .dw_mac_per_cycle = 10, .bytes_per_cycle = 100, .weight_bytes_per_cycle = 50, .op_overhead_cycles = 7, .run_overhead_cycles = 0 };
    // 3x3x16 -> 16: depth 144 -> 3 row tiles of 64 (192), 16 -> 1 column tile of 32
    const o = convOp(.Conv, 3, 16, 16, 1, 100);
    const w = work(&o, 1, 1, 0, prm);
    try testing.expectEqual(Unit.mvm, w.unit);
    try testing.expectEqual(@as(u64, 100 * 144 * 16), w.macs);
    try testing.expectEqual(@as(u64, 100 * 192 * 32), w.tile_macs);
    try testing.expectEqual(@as(u64, 7 + 615), cycles(w, 100, prm)); // ceil(614400 / 1000)
    try testing.expectEqual(@as(u64, 7 + 1229), cycles(w, 50, prm));
    try testing.expectEqual(cycles(w, 1, prm), cycles(w, 0, prm));
    // batch of 4, this core runs 1 image
    const o4 = convOp(.Conv, 3, 16, 16, 1, 400);
    try testing.expectEqual(w.tile_macs, work(&o4, 4, 1, 0, prm).tile_macs);
    // depthwise 3x3 over 32 channels
    const d = work(&convOp(.Conv, 3, 32, 32, 32, 100), 1, 1, 0, prm);
    try testing.expectEqual(Unit.dwpu, d.unit);
    try testing.expectEqual(@as(u64, 7 + 2880), cycles(d, 100, prm));
    // memory-bound: activations or constants
    try testing.expectEqual(@as(u64, 7 + 10), cycles(.{ .unit = .dpu, .act_bytes = 1000 }, 100, prm));
    try testing.expectEqual(@as(u64, 7 + 20), cycles(.{ .unit = .dpu, .act_bytes = 1000, .const_bytes = 1000 }, 100, prm));
    try testing.expectEqual(@as(u64, 7), cycles(.{ .unit = .dma }, 100, prm));
    try testing.expectEqual(Unit.dma, unitOf("Concat").?);
    try testing.expectEqual(@as(?Unit, null), unitOf("FancyNewOp"));
    // every op kind of the format has a unit
    inline for (std.meta.fields(program.OpKind)) |f| try testing.expect(unitOf(f.name) != null);
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
