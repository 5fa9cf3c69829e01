//! Helpers of the executor tests (exec_test.zig, exec_ops_test.zig): fixture files, the
//! CPU levels of this machine, running a program from its JSON and data, and the
//! reference rounding.

const std = @import("std");
const exec = @import("exec.zig");
const prog = @import("program.zig");
const cpu = @import("cpu.zig");
const CoreConfig = exec.CoreConfig;
const Runner = exec.Runner;
const Program = prog.Program;
const testing = std.testing;

pub fn readFixture(gpa: std.mem.Allocator, dir: []const u8, file: []const u8) ![]u8 {
    const roots = [_][]const u8{ "tests/fixtures", "../tests/fixtures", "../../tests/fixtures" };
    for (roots) |r| {
        const path = try std.fmt.allocPrint(gpa, "{s}/{s}/{s}", .{ r, dir, file });
        defer gpa.free(path);
        return std.fs.cwd().readFileAlloc(gpa, path, 1 << 24) catch |e| switch (e) {
            error.FileNotFound => continue,
            else => return e,
        };
    }
    return error.FileNotFound;
}

/// The CPU levels this machine runs (cpu.zig), lowest first.
pub fn cpuLevels() []const cpu.Level {
    const top = cpu.detect();
    for (cpu.levels, 0..) |l, i| if (l == top) return cpu.levels[0 .. i + 1];
    return cpu.levels[0..1];
}

pub fn runProgram(gpa: std.mem.Allocator, json: []const u8, data: []const u8, inputs: []const []const u8, cores: []const CoreConfig) ![][]u8 {
    const levels = cpuLevels();
    const first = try runProgramAt(gpa, json, data, inputs, cores, levels[0], .{});
    errdefer freeOuts(gpa, first);
    for (levels[1..]) |l| {
        const o = try runProgramAt(gpa, json, data, inputs, cores, l, .{});
        defer freeOuts(gpa, o);
        for (first, o, 0..) |a, b, i| testing.expectEqualSlices(u8, a, b) catch |e| {
            std.debug.print("output {d}: CPU level {s} differs from {s}\n", .{ i, l.name(), levels[0].name() });
            return e;
        };
    }
    // split over 2 and 3 host threads (every conv and table, however small)
    for ([_]u32{ 2, 3 }) |t| {
        const o = try runProgramAt(gpa, json, data, inputs, cores, levels[levels.len - 1], .{ .n = t, .all = true });
        defer freeOuts(gpa, o);
        for (first, o, 0..) |a, b, i| testing.expectEqualSlices(u8, a, b) catch |e| {
            std.debug.print("output {d}: {d} host threads differ from 1\n", .{ i, t });
            return e;
        };
    }
    return first;
}

pub fn runProgramAt(gpa: std.mem.Allocator, json: []const u8, data: []const u8, inputs: []const []const u8, cores: []const CoreConfig, level: cpu.Level, threads: exec.Threads) ![][]u8 {
    const bytes = try prog.encode(gpa, json, data);
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = Program.parseAt(gpa, bytes, &diag, level) catch |e| {
        std.debug.print("parse failed: {s}\n", .{diag.message()});
        return e;
    };
    defer p.deinit(gpa);
    var r = try Runner.initThreads(gpa, &p, threads);
    defer r.deinit(gpa);
    const outs = try gpa.alloc([]u8, p.outputs().len);
    for (p.outputs(), 0..) |d, i| {
        outs[i] = try gpa.alloc(u8, d.byteSize());
        @memset(outs[i], 0x5A);
    }
    _ = try r.run(inputs, outs, cores, null);
    return outs;
}

pub fn freeOuts(gpa: std.mem.Allocator, outs: [][]u8) void {
    for (outs) |o| gpa.free(o);
    gpa.free(outs);
}

/// Round half to even computed independently (float64 floor), for expected values.
pub fn refRne(v: f32) i64 {
    const d: f64 = v;
    const f = @floor(d);
    const frac = d - f;
    const r = if (frac < 0.5) f else if (frac > 0.5) f + 1 else if (@mod(f, 2) == 0) f else f + 1;
    return @intFromFloat(@min(@max(r, -1e9), 1e9));
}

pub fn refSat(v: i64, is_u8: bool) i64 {
    return if (is_u8) @min(@max(v, 0), 255) else @min(@max(v, -128), 127);
}

pub fn i8s(comptime vals: anytype) [vals.len]u8 {
    var out: [vals.len]u8 = undefined;
    inline for (vals, 0..) |v, i| out[i] = @bitCast(@as(i8, v));
    return out;
}

pub fn dataWriter(buf: []u8) struct {
    buf: []u8,
    pub fn i32s(self: @This(), off: usize, vals: []const i32) void {
        for (vals, 0..) |v, i| std.mem.writeInt(i32, self.buf[off + 4 * i ..][0..4], v, .little);
    }
    pub fn f32s(self: @This(), off: usize, vals: []const f32) void {
        for (vals, 0..) |v, i| std.mem.writeInt(u32, self.buf[off + 4 * i ..][0..4], @bitCast(v), .little);
    }
} {
    return .{ .buf = buf };
}

test "Conv 3x3 stride 2 pads 1 on 1x3x3x2, hand-computed with rounding ties" {
    const gpa = testing.allocator;
    // x (zp 1): values 1..18 minus offsets; weights all 1 for channel 0, alternating for channel 1
    // m = (1.0 * 1.0) / 2.0 = 0.5 so odd accumulators are exact ties.
    const x = i8s(.{ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18 });
    var data = [_]u8{0} ** 96;
    // weights [2][3][3][2] at 0: channel 0 all 1; channel 1: +1 on input channel 0, -1 on input channel 1
    for (0..18) |i| data[i] = 1;
    for (0..9) |t| {
        data[18 + 2 * t] = 1;
        data[18 + 2 * t + 1] = @bitCast(@as(i8, -1));
    }
    const dw = dataWriter(&data);
    dw.i32s(48, &.{ 1, 0 }); // bias
    dw.f32s(64, &.{ 1.0, 1.0 }); // w_scale
    const json =
        \\{"tensors":[{"name":"x","shape":[1,3,3,2],"scale":1,"zero_point":1},
        \\            {"name":"y","shape":[1,2,2,2],"scale":2,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1],
        \\ "ops":[{"op":"Conv","name":"c","inputs":[0],"outputs":[1],"kernel":[3,3],"strides":[2,2],"pads":[1,1,1,1],
        \\   "weights":{"offset":0,"length":36},"bias":{"offset":48,"length":8},"w_scale":{"offset":64,"length":8}}]}
    ;
    const outs = try runProgram(gpa, json, &data, &.{&x}, &.{});
    defer freeOuts(gpa, outs);
    // x - zp per pixel (h,w): [0,1] [2,3] [4,5] / [6,7] [8,9] [10,11] / [12,13] [14,15] [16,17]
    // out (0,0): window rows -1..1, cols -1..1 -> pixels (0,0),(0,1),(1,0),(1,1)
    //   ch0: 1 + (0+1+2+3+6+7+8+9) = 37 -> 18.5 -> 18 (tie to even)
    //   ch1: 0 + (0-1)+(2-3)+(6-7)+(8-9) = -4 -> -2
    // out (0,1): pixels (0,1),(0,2),(1,1),(1,2): ch0 1 + 2+3+4+5+8+9+10+11 = 53 -> 26.5 -> 26; ch1 -4 -> -2
    // out (1,0): pixels (1,0),(1,1),(2,0),(2,1): ch0 1 + 6+7+8+9+12+13+14+15 = 85 -> 42.5 -> 42; ch1 -2
    // out (1,1): pixels (1,1),(1,2),(2,1),(2,2): ch0 1 + 8+9+10+11+14+15+16+17 = 101 -> 50.5 -> 50; ch1 -2
    const want = i8s(.{ 18, -2, 26, -2, 42, -2, 50, -2 });
    try testing.expectEqualSlices(u8, &want, outs[0]);
}
