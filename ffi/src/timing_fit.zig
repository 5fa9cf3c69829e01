//! The fit of the timing model's constants (docs/timing-model.md), run by
//! `deno task timing --fit`:
//!
//!   zig build timing-fit -- NAME:PROGRAM.AXP:PCIE_FPS:M2_FPS:FIT ...
//!
//! For each network (FIT 1: fitted on, 0: validation only) it evaluates the model of
//! timing.zig (one core per frame, 4 cores per card, the card's host transfer added) and
//! fits the constants by coordinate descent over fixed grids of values, starting at
//! `timing.params`, minimising the sum over the fit networks of ln(modelled / published
//! PCIe FPS)^2; then the M.2 link on the fit networks' M.2 figures. Not fitted: the
//! PCIe link (PCIe Gen3 x4), the L1 and L2 sizes and the DDR bandwidth (documented
//! figures of the chip and card, docs/timing-model.md). Deterministic: the same programs
//! give the same constants. Prints the fitted `Params` and the table.

const std = @import("std");
const timing = @import("timing.zig");
const program = @import("program.zig");

const Net = struct {
    name: []const u8,
    prog: program.Program,
    act: []u64,
    /// L2 bytes a core has for spills (timing.l2Free at the fixed L2 size).
    l2_free: u64,
    io_bytes: u64,
    pcie: f64,
    m2: f64,
    fit: bool,
};

const cores_per_card = 4;

fn coreNs(n: *const Net, prm: timing.Params) f64 {
    var cyc: u64 = prm.run_overhead_cycles;
    for (n.prog.ops, n.act) |o, a| cyc += timing.cycles(timing.work(&o, n.prog.batch, n.prog.batch, a, n.l2_free, prm), 100, prm);
    return @floatFromInt(timing.toNs(cyc, timing.default_clock_mhz));
}

fn cardFps(n: *const Net, prm: timing.Params, link: timing.Link) f64 {
    const t = coreNs(n, prm) / cores_per_card + @as(f64, @floatFromInt(link.frame_ns + n.io_bytes * link.ps_per_byte / 1000));
    return 1e9 / t;
}

fn loss(nets: []const Net, prm: timing.Params, link: timing.Link, m2: bool) f64 {
    var s: f64 = 0;
    for (nets) |*n| if (n.fit) {
        const r = @log(cardFps(n, prm, link) / (if (m2) n.m2 else n.pcie));
        s += r * r;
    };
    return s;
}

const grids = struct {
    const mac = [_]u64{ 1024, 1448, 2048, 2896, 4096, 5793, 8192, 11585, 16384, 23170, 33440 };
    // the array is at least 32 x 32 (a 1,024-MAC pass; the chip has one MVM per core)
    const rows = [_]u64{ 32, 64, 128, 256, 512 };
    const cols = [_]u64{ 32, 64, 128, 256 };
    const l2 = [_]u64{ 16, 32, 64, 128, 256, 512 };
    const bpc = [_]u64{ 8, 16, 32, 64, 128, 256, 512 };
    const op = [_]u64{ 0, 64, 128, 256, 512, 1024, 2048, 3072, 4096, 6144, 8192, 12288, 16384 };
    // at most 40 us at 800 MHz: a start, DMA setup and completion, not a second model
    const run = [_]u64{ 0, 2000, 8000, 16000, 32000 };
    const ps = [_]u64{ 0, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800 };
};

pub fn main() !void {
    var gpa_state = std.heap.GeneralPurposeAllocator(.{}){};
    const gpa = gpa_state.allocator();
    const args = try std.process.argsAlloc(gpa);
    defer std.process.argsFree(gpa, args);
    var nets = std.ArrayList(Net).init(gpa);
    for (args[1..]) |a| {
        var it = std.mem.splitScalar(u8, a, ':');
        const name = it.next().?;
        const path = it.next().?;
        const pcie = try std.fmt.parseFloat(f64, it.next().?);
        const m2 = try std.fmt.parseFloat(f64, it.next().?);
        const fit = std.mem.eql(u8, it.next().?, "1");
        const bytes = try std.fs.cwd().readFileAlloc(gpa, path, 1 << 31);
        var diag = program.Diagnostic{};
        const prog = program.Program.parse(gpa, bytes, &diag) catch |e| {
            std.debug.print("{s}: {s}: {s}\n", .{ name, @errorName(e), diag.message() });
            return e;
        };
        const act = try gpa.alloc(u64, prog.ops.len);
        for (prog.ops, act) |o, *x| {
            var b: u64 = 0;
            for (o.inputs) |t| b += prog.tensors[t].logicalSize();
            for (o.outputs) |t| b += prog.tensors[t].logicalSize();
            x.* = b / prog.batch;
        }
        var io: u64 = 0;
        for (prog.input_descs) |d| io += d.byteSize();
        for (prog.output_descs) |d| io += d.byteSize();
        try nets.append(.{ .name = name, .prog = prog, .act = act, .l2_free = timing.l2Free(&prog, timing.params), .io_bytes = io, .pcie = pcie, .m2 = m2, .fit = fit });
    }
    const ns = nets.items;

    var prm = timing.params;
    // the PCIe link is the card's PCIe Gen3 x4 (timing.link), not fitted
    const pl = timing.link(.pcie);
    var best = loss(ns, prm, pl, false);
    var pass: u32 = 0;
    while (pass < 20) : (pass += 1) {
        const before = best;
        inline for (.{
            .{ "mac_per_cycle", &grids.mac },     .{ "mvm_rows", &grids.rows },              .{ "mvm_cols", &grids.cols },
            .{ "bytes_per_cycle", &grids.bpc },   .{ "weight_bytes_per_cycle", &grids.bpc }, .{ "l2_bytes_per_cycle", &grids.l2 },
            .{ "op_overhead_cycles", &grids.op }, .{ "run_overhead_cycles", &grids.run },
        }) |f| {
            for (f[1]) |v| {
                var c = prm;
                @field(c, f[0]) = v;
                const l = loss(ns, c, pl, false);
                if (l < best - 1e-12) {
                    best = l;
                    prm = c;
                }
            }
        }
        if (best >= before) break;
    }
    // the M.2 link, the device constants fixed
    var ml = pl;
    var mbest = loss(ns, prm, ml, true);
    for (grids.ps) |v| {
        var c = ml;
        c.ps_per_byte = v;
        const l = loss(ns, prm, c, true);
        if (l < mbest - 1e-12) {
            mbest = l;
            ml = c;
        }
    }

    const out = std.io.getStdOut().writer();
    try out.print("fitted after {d} passes, loss {d:.4} (PCIe), {d:.4} (M.2)\n{any}\npcie {any}\nm2 {any}\n\n", .{ pass, best, mbest, prm, pl, ml });
    try out.print("{s:<18} {s:>4} {s:>10} {s:>9} {s:>9} {s:>8} {s:>6} {s:>9} {s:>8} {s:>6}\n", .{ "network", "set", "core_us", "dev_fps", "card_fps", "pcie", "ratio", "m2_card", "m2", "ratio" });
    for (ns) |*n| {
        const core = coreNs(n, prm) / 1000;
        const c = cardFps(n, prm, pl);
        const m = cardFps(n, prm, ml);
        try out.print("{s:<18} {s:>4} {d:>10.1} {d:>9.0} {d:>9.0} {d:>8.0} {d:>6.2} {d:>9.0} {d:>8.0} {d:>6.2}\n", .{ n.name, if (n.fit) "fit" else "val", core, 4e6 / core, c, n.pcie, c / n.pcie, m, n.m2, m / n.m2 });
    }
    // per-unit breakdown (cycles) of each network at the fitted constants
    // (spill: the L2 and DDR terms; mvm..dma: the rest of each unit's ops but the setup)
    try out.print("\n{s:<18} {s:>10} {s:>10} {s:>10} {s:>10} {s:>10} {s:>10} {s:>10} {s:>6} {s:>10}\n", .{ "network", "mvm", "dwpu", "dpu", "dma", "weights", "spill", "overhead", "ops", "io_bytes" });
    for (ns) |*n| {
        var by = [_]u64{0} ** 4;
        var ov: u64 = prm.run_overhead_cycles;
        var load: u64 = 0;
        var spill: u64 = 0;
        for (n.prog.ops, n.act) |o, a| {
            const w = timing.work(&o, n.prog.batch, n.prog.batch, a, n.l2_free, prm);
            const l = timing.cycles(.{ .unit = .dma, .const_bytes = w.const_bytes }, 100, prm) - prm.op_overhead_cycles;
            const s = timing.cycles(.{ .unit = .dma, .spill_l2 = w.spill_l2, .spill_ddr = w.spill_ddr }, 100, prm) - prm.op_overhead_cycles;
            by[@intFromEnum(w.unit)] += timing.cycles(w, 100, prm) - prm.op_overhead_cycles - l - s;
            load += l;
            spill += s;
            ov += prm.op_overhead_cycles;
        }
        try out.print("{s:<18} {d:>10} {d:>10} {d:>10} {d:>10} {d:>10} {d:>10} {d:>10} {d:>6} {d:>10}\n", .{ n.name, by[0], by[1], by[2], by[3], load, spill, ov, n.prog.ops.len, n.io_bytes });
    }
}
