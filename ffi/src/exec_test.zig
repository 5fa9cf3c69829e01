//! Tests of exec.zig: every op against hand-computed results, the committed fixtures
//! against the reference's golden outputs, batches across cores, buffer reuse.

const std = @import("std");
const exec = @import("exec.zig");
const prog = @import("program.zig");
const Runner = exec.Runner;
const CoreConfig = exec.CoreConfig;
const OpSpan = exec.OpSpan;
const RunStats = exec.RunStats;
const Program = prog.Program;
const timing = @import("timing.zig");
const cpu = @import("cpu.zig");

const testing = std.testing;

const util = @import("exec_testutil.zig");
const readFixture = util.readFixture;
const cpuLevels = util.cpuLevels;
const runProgram = util.runProgram;
const runProgramAt = util.runProgramAt;
const freeOuts = util.freeOuts;
const refRne = util.refRne;
const refSat = util.refSat;
const i8s = util.i8s;
const dataWriter = util.dataWriter;

test "committed fixtures: bit-exact against the TypeScript reference's golden outputs, at every CPU level and on 1, 2, 3 host threads" {
    const gpa = testing.allocator;
    const dirs = [_][]const u8{ "tiny", "ops", "uint8", "keras" };
    var ran: usize = 0;
    var cycles: [16]u64 = undefined;
    for (cpuLevels()) |level| for (dirs) |dir| for ([_]u32{ 1, 2, 3 }) |threads| {
        const bytes = readFixture(gpa, dir, "program.axp") catch |e| switch (e) {
            error.FileNotFound => continue,
            else => return e,
        };
        var diag = prog.Diagnostic{};
        var p = Program.parseAt(gpa, bytes, &diag, level) catch |e| {
            std.debug.print("{s}: {s}\n", .{ dir, diag.message() });
            gpa.free(bytes);
            return e;
        };
        gpa.free(bytes);
        defer p.deinit(gpa);
        // every conv and table split over the threads, however small
        var r = try Runner.initThreads(gpa, &p, .{ .n = threads, .all = true });
        defer r.deinit(gpa);
        try testing.expectEqual(threads, r.host_threads);
        var case: usize = 0;
        while (true) : (case += 1) {
            var ins = std.ArrayList([]u8).init(gpa);
            defer {
                for (ins.items) |b| gpa.free(b);
                ins.deinit();
            }
            var done = false;
            for (0..p.inputs().len) |i| {
                const name = try std.fmt.allocPrint(gpa, "cases/in_{d}_{d}.bin", .{ case, i });
                defer gpa.free(name);
                const b = readFixture(gpa, dir, name) catch |e| switch (e) {
                    error.FileNotFound => {
                        done = true;
                        break;
                    },
                    else => return e,
                };
                try ins.append(b);
            }
            if (done) break;
            var outs = std.ArrayList([]u8).init(gpa);
            defer {
                for (outs.items) |b| gpa.free(b);
                outs.deinit();
            }
            for (p.outputs()) |d| {
                const b = try gpa.alloc(u8, d.byteSize());
                @memset(b, 0xAA);
                try outs.append(b);
            }
            var spans = std.ArrayList(OpSpan).init(gpa);
            defer spans.deinit();
            const consts: []const []const u8 = @ptrCast(ins.items);
            const st = try r.run(consts, outs.items, &.{.{}}, &spans);
            try testing.expect(st.device_cycles > timing.run_overhead_cycles);
            // the modelled device time does not depend on the host threads
            if (threads == 1 and case < cycles.len) cycles[case] = st.device_cycles;
            if (threads > 1 and case < cycles.len) try testing.expectEqual(cycles[case], st.device_cycles);
            try testing.expectEqual(p.ops.len, spans.items.len);
            for (p.outputs(), 0..) |_, j| {
                const name = try std.fmt.allocPrint(gpa, "cases/out_{d}_{d}.bin", .{ case, j });
                defer gpa.free(name);
                const want = try readFixture(gpa, dir, name);
                defer gpa.free(want);
                testing.expectEqualSlices(u8, want, outs.items[j]) catch |e| {
                    std.debug.print("fixture {s} case {d} output {d} differs at CPU level {s}, {d} host thread(s)\n", .{ dir, case, j, level.name(), threads });
                    return e;
                };
            }
            ran += 1;
        }
    };
    if (ran == 0) return error.SkipZigTest;
}

/// Test harness: encodes a program, parses it, runs it on `inputs` and returns the
/// outputs (caller frees with `freeOuts`). Runs it at every CPU level this machine has
/// and fails unless every level gives the same bytes.
/// Parameters of a randomised Conv for the differential test.
const ConvCase = struct {
    n: u32 = 1,
    h: u32,
    w: u32,
    cin: u32,
    cout: u32,
    kh: u32,
    kw: u32,
    sh: u32 = 1,
    sw: u32 = 1,
    dh: u32 = 1,
    dw: u32 = 1,
    pads: [4]u32 = .{ 0, 0, 0, 0 },
    group: u32 = 1,
    x_u8: bool = false,
    y_u8: bool = false,
    clamp: ?[2]i32 = null,
    gemm: bool = false,
    /// multiplies the output scale (small: many results saturate)
    y_scale_mul: f32 = 1,
    /// biases at the loader's accumulator bound and multipliers just below 1 (the float
    /// products near +-2^31 that `Requant16.bytes4Packs` relies on not overflowing)
    edge: bool = false,
};

fn convCase(gpa: std.mem.Allocator, c: ConvCase, seed: u64) !void {
    var prng = std.Random.DefaultPrng.init(seed);
    const rnd = prng.random();
    const cin_g = c.cin / c.group;
    const oh = (c.h + c.pads[0] + c.pads[2] - c.dh * (c.kh - 1) - 1) / c.sh + 1;
    const ow = (c.w + c.pads[1] + c.pads[3] - c.dw * (c.kw - 1) - 1) / c.sw + 1;
    const wlen = c.cout * c.kh * c.kw * cin_g;
    const boff = std.mem.alignForward(usize, wlen, 16);
    const soff = boff + 4 * c.cout;
    const data = try gpa.alloc(u8, soff + 4 * c.cout);
    defer gpa.free(data);
    for (data[0..wlen]) |*b| b.* = @bitCast(rnd.intRangeAtMost(i8, -128, 127));
    const bias = try gpa.alloc(i32, c.cout);
    defer gpa.free(bias);
    const ws = try gpa.alloc(f32, c.cout);
    defer gpa.free(ws);
    for (bias, ws) |*b, *s| {
        b.* = rnd.intRangeAtMost(i32, -5000, 5000);
        s.* = 0.001 + rnd.float(f32) * 0.01;
    }
    const x_zp: i32 = if (c.x_u8) 128 + rnd.intRangeAtMost(i32, -20, 20) else rnd.intRangeAtMost(i32, -20, 20);
    const y_zp: i32 = if (c.y_u8) 120 else -3;
    const x_scale: f32 = 0.05;
    const y_scale: f32 = 0.02 * @as(f32, @floatFromInt(c.kh * c.kw * cin_g)) * c.y_scale_mul;
    if (c.edge) for (bias, ws, 0..) |*b, *s, co| {
        // |bias| + max|x - x_zp| * sum|w| = 2^31 - 1 (the loader's bound, exactly)
        const maxdx: i64 = if (c.x_u8) @max(x_zp, 255 - x_zp) else @max(x_zp + 128, 127 - x_zp);
        var sw: i64 = 0;
        for (data[co * c.kh * c.kw * cin_g ..][0 .. c.kh * c.kw * cin_g]) |wv| sw += @as(i64, @intCast(@abs(@as(i8, @bitCast(wv)))));
        const mag = std.math.maxInt(i32) - maxdx * sw;
        b.* = @intCast(if (co % 2 == 0) mag else -mag);
        // the largest multiplier below 1 on every other channel pair, 0.5 elsewhere
        s.* = y_scale / x_scale * (if (co % 4 < 2) @as(f32, 1) else 0.5);
        while ((x_scale * s.*) / y_scale >= 1) s.* = std.math.nextAfter(f32, s.*, 0);
    };
    dataWriter(data).i32s(boff, bias);
    dataWriter(data).f32s(soff, ws);
    var clamp_buf: [64]u8 = undefined;
    const clamp = if (c.clamp) |cl| try std.fmt.bufPrint(&clamp_buf, ",\"clamp\":[{d},{d}]", .{ cl[0], cl[1] }) else "";
    const xdt = if (c.x_u8) "uint8" else "int8";
    const ydt = if (c.y_u8) "uint8" else "int8";
    const attrs = if (c.gemm) try std.fmt.allocPrint(gpa, "\"op\":\"Gemm\"", .{}) else try std.fmt.allocPrint(gpa,
        \\"op":"Conv","kernel":[{d},{d}],"strides":[{d},{d}],"dilations":[{d},{d}],"pads":[{d},{d},{d},{d}],"group":{d}
    , .{ c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pads[0], c.pads[1], c.pads[2], c.pads[3], c.group });
    defer gpa.free(attrs);
    const json = try std.fmt.allocPrint(gpa,
        \\{{"tensors":[{{"name":"x","shape":[{d},{d},{d},{d}],"scale":{e},"zero_point":{d},"dtype":"{s}"}},
        \\ {{"name":"y","shape":[{d},{d},{d},{d}],"scale":{e},"zero_point":{d},"dtype":"{s}"}}],"inputs":[0],"outputs":[1],
        \\ "ops":[{{{s},"name":"conv","inputs":[0],"outputs":[1],"weights":{{"offset":0,"length":{d}}},
        \\ "bias":{{"offset":{d},"length":{d}}},"w_scale":{{"offset":{d},"length":{d}}}{s}}}]}}
    , .{ c.n, c.h, c.w, c.cin, x_scale, x_zp, xdt, c.n, oh, ow, c.cout, y_scale, y_zp, ydt, attrs, wlen, boff, 4 * c.cout, soff, 4 * c.cout, clamp });
    defer gpa.free(json);
    const x = try gpa.alloc(u8, @as(usize, c.n) * c.h * c.w * c.cin);
    defer gpa.free(x);
    for (x) |*b| b.* = rnd.int(u8);
    const cores = [_]CoreConfig{ .{}, .{}, .{} };
    const outs = try runProgram(gpa, json, data, &.{x}, &cores);
    defer freeOuts(gpa, outs);
    // independent reference: plain loops with bounds checks, int64 accumulator
    const y = outs[0];
    const cout_g = c.cout / c.group;
    var idx: usize = 0;
    for (0..c.n) |n| for (0..oh) |i| for (0..ow) |j| for (0..c.cout) |co| {
        const g = co / cout_g;
        var acc: i64 = bias[co];
        for (0..c.kh) |a| for (0..c.kw) |b| {
            const ih = @as(i64, @intCast(i * c.sh + a * c.dh)) - c.pads[0];
            const iw = @as(i64, @intCast(j * c.sw + b * c.dw)) - c.pads[1];
            if (ih < 0 or iw < 0 or ih >= c.h or iw >= c.w) continue;
            for (0..cin_g) |ci| {
                const xi = ((n * c.h + @as(usize, @intCast(ih))) * c.w + @as(usize, @intCast(iw))) * c.cin + g * cin_g + ci;
                const xv: i64 = if (c.x_u8) x[xi] else @as(i8, @bitCast(x[xi]));
                const wv: i64 = @as(i8, @bitCast(data[((co * c.kh + a) * c.kw + b) * cin_g + ci]));
                acc += (xv - x_zp) * wv;
            }
        };
        const m: f32 = (x_scale * ws[co]) / y_scale;
        var v = refSat(refRne(@as(f32, @floatFromInt(acc)) * m) + y_zp, c.y_u8);
        if (c.clamp) |cl| v = @min(@max(v, cl[0]), cl[1]);
        const got: i64 = if (c.y_u8) y[idx] else @as(i8, @bitCast(y[idx]));
        if (got != v) {
            std.debug.print("conv case {any}: output {d} (n{d} h{d} w{d} c{d}) = {d}, want {d}\n", .{ c, idx, n, i, j, co, got, v });
            return error.TestExpectedEqual;
        }
        idx += 1;
    };
}

test "Conv and Gemm: randomised shapes against an independent reference" {
    const gpa = testing.allocator;
    const cases = [_]ConvCase{
        .{ .h = 5, .w = 7, .cin = 3, .cout = 5, .kh = 3, .kw = 3, .pads = .{ 1, 1, 1, 1 } },
        .{ .h = 9, .w = 8, .cin = 17, .cout = 9, .kh = 3, .kw = 2, .sh = 2, .sw = 3, .pads = .{ 2, 0, 1, 1 } },
        .{ .h = 6, .w = 6, .cin = 40, .cout = 33, .kh = 1, .kw = 1 },
        .{ .n = 3, .h = 4, .w = 5, .cin = 64, .cout = 8, .kh = 1, .kw = 1, .x_u8 = true, .y_u8 = true },
        .{ .h = 7, .w = 7, .cin = 8, .cout = 8, .kh = 3, .kw = 3, .dh = 2, .dw = 2, .pads = .{ 2, 2, 2, 2 }, .group = 8 }, // depthwise dilated
        .{ .n = 2, .h = 10, .w = 9, .cin = 37, .cout = 37, .kh = 5, .kw = 5, .sh = 2, .sw = 2, .pads = .{ 2, 2, 2, 2 }, .group = 37 },
        .{ .h = 6, .w = 9, .cin = 6, .cout = 4, .kh = 1, .kw = 3, .pads = .{ 0, 0, 0, 2 }, .group = 2 },
        .{ .h = 8, .w = 8, .cin = 12, .cout = 6, .kh = 3, .kw = 3, .dh = 1, .dw = 2, .pads = .{ 1, 2, 1, 2 }, .group = 3 },
        .{ .h = 5, .w = 5, .cin = 4, .cout = 7, .kh = 3, .kw = 3, .dw = 2, .pads = .{ 1, 1, 1, 1 }, .clamp = .{ -20, 30 } },
        .{ .h = 11, .w = 13, .cin = 3, .cout = 16, .kh = 7, .kw = 7, .sh = 2, .sw = 2, .pads = .{ 3, 3, 3, 3 }, .x_u8 = true },
        .{ .h = 1, .w = 1, .cin = 100, .cout = 10, .kh = 1, .kw = 1, .gemm = true },
        .{ .n = 2, .h = 3, .w = 2, .cin = 20, .cout = 5, .kh = 1, .kw = 1, .gemm = true, .y_u8 = true },
        // Cout % 16 == 8 (octets with VNNI): padded kxk with 8n + 1..7 pixels per row, a
        // uint8 1x1 in place, int8 1x1 copied, an odd segment length, 3 + 2 octets
        .{ .h = 5, .w = 19, .cin = 12, .cout = 24, .kh = 3, .kw = 3, .pads = .{ 1, 1, 1, 1 } },
        .{ .h = 3, .w = 9, .cin = 16, .cout = 8, .kh = 1, .kw = 1, .x_u8 = true, .clamp = .{ -20, 30 } },
        .{ .n = 2, .h = 2, .w = 17, .cin = 24, .cout = 40, .kh = 1, .kw = 1, .y_u8 = true },
        .{ .h = 4, .w = 11, .cin = 5, .cout = 56, .kh = 3, .kw = 1, .sw = 2, .pads = .{ 1, 0, 1, 0 }, .x_u8 = true },
        .{ .h = 1, .w = 1, .cin = 36, .cout = 360, .kh = 1, .kw = 1, .gemm = true },
        // accumulators near +-2^31 times multipliers just below 1: 1x1 in place (int8 and
        // uint8 in and out), padded kxk, depthwise, a clamp (the float clamp kept)
        .{ .h = 3, .w = 13, .cin = 16, .cout = 32, .kh = 1, .kw = 1, .edge = true },
        .{ .h = 3, .w = 13, .cin = 48, .cout = 12, .kh = 1, .kw = 1, .x_u8 = true, .y_u8 = true, .edge = true },
        .{ .h = 4, .w = 9, .cin = 8, .cout = 24, .kh = 3, .kw = 3, .pads = .{ 1, 1, 1, 1 }, .edge = true },
        .{ .h = 5, .w = 40, .cin = 32, .cout = 32, .kh = 3, .kw = 3, .pads = .{ 1, 1, 1, 1 }, .group = 32, .edge = true },
        .{ .h = 5, .w = 30, .cin = 16, .cout = 16, .kh = 5, .kw = 5, .pads = .{ 2, 2, 2, 2 }, .group = 16, .y_u8 = true, .edge = true },
        .{ .h = 3, .w = 13, .cin = 16, .cout = 16, .kh = 1, .kw = 1, .clamp = .{ -30, 40 }, .edge = true },
    };
    for (cases, 0..) |c, i| try convCase(gpa, c, i + 1);
}

test "Conv: random shapes (depthwise, 1x1 in place, odd channels, strides, dilations, padding, groups) against the reference at every level" {
    const gpa = testing.allocator;
    var prng = std.Random.DefaultPrng.init(2026);
    const rnd = prng.random();
    for (0..60) |i| {
        const kind = i % 4; // depthwise, 1x1 without padding, kxk group 1, grouped
        const k = [_]u32{ 1, 2, 3, 5, 7 };
        var c = ConvCase{ .h = rnd.intRangeAtMost(u32, 1, 12), .w = rnd.intRangeAtMost(u32, 1, 23), .cin = 1, .cout = 1, .kh = 1, .kw = 1 };
        c.n = rnd.intRangeAtMost(u32, 1, 2);
        c.x_u8 = rnd.boolean();
        c.y_u8 = rnd.boolean();
        c.y_scale_mul = if (rnd.intRangeLessThan(u32, 0, 4) == 0) 0.05 else 1;
        if (rnd.intRangeLessThan(u32, 0, 5) == 0) c.clamp = if (c.y_u8) .{ 100, 170 } else .{ -30, 40 };
        if (kind == 1) {
            c.cin = if (rnd.boolean()) 4 * rnd.intRangeAtMost(u32, 1, 40) else rnd.intRangeAtMost(u32, 1, 70);
            c.cout = rnd.intRangeAtMost(u32, 1, 70);
            c.sh = rnd.intRangeAtMost(u32, 1, 2);
            c.sw = rnd.intRangeAtMost(u32, 1, 2);
        } else {
            c.kh = k[rnd.intRangeLessThan(usize, 0, k.len)];
            c.kw = k[rnd.intRangeLessThan(usize, 0, k.len)];
            c.sh = rnd.intRangeAtMost(u32, 1, 3);
            c.sw = rnd.intRangeAtMost(u32, 1, 3);
            c.dh = rnd.intRangeAtMost(u32, 1, 2);
            c.dw = rnd.intRangeAtMost(u32, 1, 2);
            for (&c.pads) |*pd| pd.* = rnd.intRangeAtMost(u32, 0, 3);
            if (rnd.intRangeLessThan(u32, 0, 4) == 0) c.pads = .{ 0, 0, 0, 0 };
            const g = rnd.intRangeAtMost(u32, 1, 4);
            switch (kind) {
                0 => {
                    c.cin = rnd.intRangeAtMost(u32, 2, 80);
                    c.cout = c.cin;
                    c.group = c.cin;
                },
                2 => {
                    c.cin = rnd.intRangeAtMost(u32, 1, 40);
                    c.cout = rnd.intRangeAtMost(u32, 1, 40);
                },
                else => {
                    c.cin = g * rnd.intRangeAtMost(u32, 1, 9);
                    c.cout = g * rnd.intRangeAtMost(u32, 1, 9);
                    c.group = g;
                },
            }
            // the input must hold one window
            c.h = @max(c.h, (c.kh - 1) * c.dh + 1 -| (c.pads[0] + c.pads[2]));
            c.w = @max(c.w, (c.kw - 1) * c.dw + 1 -| (c.pads[1] + c.pads[3]));
        }
        try convCase(gpa, c, 1000 + i);
    }
}

test "Conv: wide depthwise shapes (several column strips on the VNNI levels, with padding at both ends and the rows split over 2-3 host threads) against the reference at every level" {
    const gpa = testing.allocator;
    var prng = std.Random.DefaultPrng.init(2027);
    const rnd = prng.random();
    const k = [_]u32{ 1, 2, 3, 4, 5, 7 };
    for (0..24) |i| {
        var c = ConvCase{ .h = rnd.intRangeAtMost(u32, 2, 7), .w = rnd.intRangeAtMost(u32, 90, 400), .cin = 1, .cout = 1, .kh = 1, .kw = 1 };
        c.n = rnd.intRangeAtMost(u32, 1, 2);
        c.kh = k[rnd.intRangeLessThan(usize, 0, k.len)];
        c.kw = k[rnd.intRangeLessThan(usize, 0, k.len)];
        c.sh = rnd.intRangeAtMost(u32, 1, 3);
        c.sw = rnd.intRangeAtMost(u32, 1, 3);
        c.dh = rnd.intRangeAtMost(u32, 1, 2);
        c.dw = rnd.intRangeAtMost(u32, 1, 2);
        for (&c.pads) |*pd| pd.* = rnd.intRangeAtMost(u32, 0, 3);
        c.cin = if (i % 2 == 0) 16 * rnd.intRangeAtMost(u32, 1, 3) else rnd.intRangeAtMost(u32, 2, 40);
        c.cout = c.cin;
        c.group = c.cin;
        c.x_u8 = rnd.boolean();
        c.y_u8 = rnd.boolean();
        c.y_scale_mul = if (i % 3 == 0) 0.05 else 1;
        if (i % 5 == 0) c.clamp = if (c.y_u8) .{ 100, 170 } else .{ -30, 40 };
        c.h = @max(c.h, (c.kh - 1) * c.dh + 1 -| (c.pads[0] + c.pads[2]));
        try convCase(gpa, c, 3000 + i);
    }
}

test "Conv: depthwise 3x3 with 16 channels (the VNNI levels store 4 output pixels at once) against the reference at every level" {
    const gpa = testing.allocator;
    // widths below, at and past the 8-pixel step (the last step redoing pixels), strides 1
    // and 2, no padding or padding at both ends, int8/uint8, a clamp, outputs at the
    // accumulator bound (`edge`), and the rows split over 2-3 host threads
    const ws = [_]u32{ 1, 3, 4, 7, 8, 9, 13, 16, 21, 37, 160 };
    for (ws, 0..) |w, i| {
        var c = ConvCase{ .h = 3 + @as(u32, @intCast(i % 4)), .w = w, .cin = 16, .cout = 16, .kh = 3, .kw = 3, .group = 16 };
        c.sh = 1 + @as(u32, @intCast(i % 2));
        c.sw = 1 + @as(u32, @intCast((i / 2) % 2));
        c.pads = if (i % 3 == 0) .{ 0, 0, 0, 0 } else .{ 1, 1, 1, 1 };
        c.w = @max(c.w, 3 -| (c.pads[1] + c.pads[3]));
        c.n = 1 + @as(u32, @intCast(i % 2));
        c.x_u8 = i % 2 == 1;
        c.y_u8 = i % 4 >= 2;
        c.y_scale_mul = if (i % 3 == 1) 0.05 else 1;
        if (i % 5 == 4) c.clamp = if (c.y_u8) .{ 100, 170 } else .{ -30, 40 };
        c.edge = i % 5 == 2;
        try convCase(gpa, c, 4000 + i);
    }
}

test "Add and Mul with broadcasting, dq -> f32 -> q with ties" {
    const gpa = testing.allocator;
    // a [1,2,2,2] scale 0.5 zp 0; b [1,1,1,2] scale 0.25 zp 2; y scale 1 zp -1
    const a = i8s(.{ 1, 2, 3, -4, 5, 0, -1, 7 });
    const b = i8s(.{ 4, 0 }); // dq: (4-2)*0.25 = 0.5, (0-2)*0.25 = -0.5
    const json =
        \\{"tensors":[{"name":"a","shape":[1,2,2,2],"scale":0.5,"zero_point":0},
        \\ {"name":"b","shape":[1,1,1,2],"scale":0.25,"zero_point":2},
        \\ {"name":"s","shape":[1,2,2,2],"scale":1,"zero_point":-1},
        \\ {"name":"p","shape":[1,2,2,2],"scale":0.125,"zero_point":0}],
        \\ "inputs":[0,1],"outputs":[2,3],
        \\ "ops":[{"op":"Add","name":"add","inputs":[0,1],"outputs":[2]},{"op":"Mul","name":"mul","inputs":[0,1],"outputs":[3]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{ &a, &b }, &.{});
    defer freeOuts(gpa, outs);
    // dq(a) = 0.5 1 1.5 -2 2.5 0 -0.5 3.5 ; + [0.5,-0.5] -> 1 0.5 2 -2.5 3 -0.5 0 3
    // q: rne(v) - 1 -> 0, rne(.5)=0 -> -1, 1, rne(-2.5)=-2 -> -3, 2, rne(-.5)=0 -> -1, -1, 2
    try testing.expectEqualSlices(u8, &i8s(.{ 0, -1, 1, -3, 2, -1, -1, 2 }), outs[0]);
    // * [0.5,-0.5] -> 0.25 -0.5 0.75 1 1.25 0 -0.25 -1.75 ; / 0.125 -> 2 -4 6 8 10 0 -2 -14
    try testing.expectEqualSlices(u8, &i8s(.{ 2, -4, 6, 8, 10, 0, -2, -14 }), outs[1]);
}

test "Add broadcasting on H and W both ways, saturation" {
    const gpa = testing.allocator;
    // a [1,2,1,1], b [1,1,3,1] -> y [1,2,3,1]
    const a = i8s(.{ 10, 100 });
    const b = i8s(.{ 1, 2, 127 });
    const json =
        \\{"tensors":[{"name":"a","shape":[1,2,1,1],"scale":1,"zero_point":0},
        \\ {"name":"b","shape":[1,1,3,1],"scale":1,"zero_point":0},
        \\ {"name":"y","shape":[1,2,3,1],"scale":1,"zero_point":0}],
        \\ "inputs":[0,1],"outputs":[2],"ops":[{"op":"Add","name":"add","inputs":[0,1],"outputs":[2]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{ &a, &b }, &.{});
    defer freeOuts(gpa, outs);
    try testing.expectEqualSlices(u8, &i8s(.{ 11, 12, 127, 101, 102, 127 }), outs[0]);
}

test "Concat with different scales (requantized) and equal ones (copied), Requantize" {
    const gpa = testing.allocator;
    const a = i8s(.{ 1, 2, 3, 4 }); // [1,1,2,2] scale 0.5 zp 0 (copied: same as y)
    const b = i8s(.{ 3, -3 }); // [1,1,2,1] scale 0.25 zp 0 -> dq 0.75 -0.75 -> /0.5 = 1.5 -> 2, -1.5 -> -2
    const json =
        \\{"tensors":[{"name":"a","shape":[1,1,2,2],"scale":0.5,"zero_point":0},
        \\ {"name":"b","shape":[1,1,2,1],"scale":0.25,"zero_point":0},
        \\ {"name":"y","shape":[1,1,2,3],"scale":0.5,"zero_point":0},
        \\ {"name":"r","shape":[1,1,2,1],"scale":0.01,"zero_point":5}],
        \\ "inputs":[0,1],"outputs":[2,3],"ops":[{"op":"Concat","name":"cat","inputs":[0,1],"outputs":[2],"axis":3},
        \\ {"op":"Requantize","name":"rq","inputs":[1],"outputs":[3]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{ &a, &b }, &.{});
    defer freeOuts(gpa, outs);
    try testing.expectEqualSlices(u8, &i8s(.{ 1, 2, 2, 3, 4, -2 }), outs[0]);
    // 0.75 / 0.01 = 75 + 5 = 80; -75 + 5 = -70
    try testing.expectEqualSlices(u8, &i8s(.{ 80, -70 }), outs[1]);
}
