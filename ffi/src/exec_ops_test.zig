//! Tests of exec.zig, continued: pools, tables and their merging, Pad and ChannelLut,
//! layout ops, padded regions, batches across cores, timing.

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

test "MaxPool ceil_mode, AveragePool pads with and without count_include_pad, GlobalAveragePool" {
    const gpa = testing.allocator;
    // x [1,3,3,1] = 1..9 (scale 1, zp 0)
    const x = i8s(.{ 1, 2, 3, 4, 5, 6, 7, 8, 9 });
    const json =
        \\{"tensors":[{"name":"x","shape":[1,3,3,1],"scale":1,"zero_point":0},
        \\ {"name":"mp","shape":[1,2,2,1],"scale":1,"zero_point":0},
        \\ {"name":"ap","shape":[1,2,2,1],"scale":1,"zero_point":0},
        \\ {"name":"api","shape":[1,2,2,1],"scale":1,"zero_point":0},
        \\ {"name":"gap","shape":[1,1,1,1],"scale":0.5,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1,2,3,4],"ops":[
        \\ {"op":"MaxPool","name":"mp","inputs":[0],"outputs":[1],"kernel":[2,2],"strides":[2,2],"ceil_mode":1},
        \\ {"op":"AveragePool","name":"ap","inputs":[0],"outputs":[2],"kernel":[2,2],"strides":[2,2],"pads":[1,1,0,0],"count_include_pad":0},
        \\ {"op":"AveragePool","name":"api","inputs":[0],"outputs":[3],"kernel":[2,2],"strides":[2,2],"pads":[1,1,0,0],"count_include_pad":1},
        \\ {"op":"GlobalAveragePool","name":"gap","inputs":[0],"outputs":[4]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{&x}, &.{});
    defer freeOuts(gpa, outs);
    // MaxPool 2x2/2 ceil: windows {1,2,4,5} {3,6} {7,8} {9}
    try testing.expectEqualSlices(u8, &i8s(.{ 5, 6, 8, 9 }), outs[0]);
    // AveragePool pads top/left 1: windows (-1..0,-1..0) = {1}; (-1..0, 1..2) = {2,3}; {4,7}; {5,6,8,9}
    // no pad count: 1, 2.5 -> 2, 5.5 -> 6, 7
    try testing.expectEqualSlices(u8, &i8s(.{ 1, 2, 6, 7 }), outs[1]);
    // include pad: /4 each: 0.25 -> 0, 1.25 -> 1, 2.75 -> 3, 7
    try testing.expectEqualSlices(u8, &i8s(.{ 0, 1, 3, 7 }), outs[2]);
    // GAP: 45 / 9 = 5 -> / 0.5 = 10
    try testing.expectEqualSlices(u8, &i8s(.{10}), outs[3]);
}

test "AveragePool ceil_mode with count_include_pad counts only positions inside the padded extent" {
    const gpa = testing.allocator;
    // x [1,1,4,1] = 2 4 6 8 ; kernel [1,3] stride [1,2] pads [0,1,0,1] ceil:
    // out = ceil((4+2-3)/2)+1 = 3; last window starts at 4-1=3 < 4+1 -> kept
    // windows (cols): -1..1 -> {pad,2,4} ; 1..3 -> {4,6,8} ; 3..5 -> {8, pad, beyond}
    const x = i8s(.{ 2, 4, 6, 8 });
    const json =
        \\{"tensors":[{"name":"x","shape":[1,1,4,1],"scale":1,"zero_point":0},
        \\ {"name":"a","shape":[1,1,3,1],"scale":1,"zero_point":0},{"name":"b","shape":[1,1,3,1],"scale":1,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1,2],"ops":[
        \\ {"op":"AveragePool","name":"inc","inputs":[0],"outputs":[1],"kernel":[1,3],"strides":[1,2],"pads":[0,1,0,1],"ceil_mode":1,"count_include_pad":1},
        \\ {"op":"AveragePool","name":"exc","inputs":[0],"outputs":[2],"kernel":[1,3],"strides":[1,2],"pads":[0,1,0,1],"ceil_mode":1}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{&x}, &.{});
    defer freeOuts(gpa, outs);
    // include: 6/3 = 2, 18/3 = 6, 8/2 = 4 (col 5 is past the right pad)
    try testing.expectEqualSlices(u8, &i8s(.{ 2, 6, 4 }), outs[0]);
    // exclude: 6/2 = 3, 6, 8
    try testing.expectEqualSlices(u8, &i8s(.{ 3, 6, 8 }), outs[1]);
}

test "MaxPool with dilation and padding on int8 and uint8" {
    const gpa = testing.allocator;
    const x = i8s(.{ -5, 3, -128, 7, -1 }); // [1,1,5,1]
    const xu = [_]u8{ 200, 3, 255, 7, 1 };
    // kernel 1x2 dilation 2 pads left 1: out = (5+1-2-1)/1+1 = 4 ; windows cols {-1,1} {0,2} {1,3} {2,4}
    const json =
        \\{"tensors":[{"name":"x","shape":[1,1,5,1],"scale":1,"zero_point":0},{"name":"y","shape":[1,1,4,1],"scale":1,"zero_point":0},
        \\ {"name":"xu","shape":[1,1,5,1],"scale":1,"zero_point":0,"dtype":"uint8"},{"name":"yu","shape":[1,1,4,1],"scale":1,"zero_point":0,"dtype":"uint8"}],
        \\ "inputs":[0,2],"outputs":[1,3],"ops":[
        \\ {"op":"MaxPool","name":"mp","inputs":[0],"outputs":[1],"kernel":[1,2],"dilations":[1,2],"pads":[0,1,0,0]},
        \\ {"op":"MaxPool","name":"mpu","inputs":[2],"outputs":[3],"kernel":[1,2],"dilations":[1,2],"pads":[0,1,0,0]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{ &x, &xu }, &.{});
    defer freeOuts(gpa, outs);
    try testing.expectEqualSlices(u8, &i8s(.{ 3, -5, 7, -1 }), outs[0]);
    try testing.expectEqualSlices(u8, &[_]u8{ 3, 255, 7, 255 }, outs[1]);
}

test "Lut, Relu, Clip" {
    const gpa = testing.allocator;
    const x = i8s(.{ -128, -3, 0, 2, 127 });
    var table: [256]u8 = undefined;
    for (&table, 0..) |*t, i| t.* = @truncate(i *% 3);
    const json =
        \\{"tensors":[{"name":"x","shape":[1,1,1,5],"scale":0.1,"zero_point":-2},
        \\ {"name":"l","shape":[1,1,1,5],"scale":1,"zero_point":0},
        \\ {"name":"r","shape":[1,1,1,5],"scale":0.1,"zero_point":-2},
        \\ {"name":"c","shape":[1,1,1,5],"scale":0.1,"zero_point":-2}],
        \\ "inputs":[0],"outputs":[1,2,3],"ops":[
        \\ {"op":"Lut","name":"lut","inputs":[0],"outputs":[1],"table":{"offset":0,"length":256}},
        \\ {"op":"Relu","name":"relu","inputs":[0],"outputs":[2]},
        \\ {"op":"Clip","name":"clip","inputs":[0],"outputs":[3],"lo":-3,"hi":100}]}
    ;
    const outs = try runProgram(gpa, json, &table, &.{&x}, &.{});
    defer freeOuts(gpa, outs);
    // table[x + 128]: idx 0, 125, 128, 130, 255 -> *3 mod 256: 0, 119, 128, 134, 253
    try testing.expectEqualSlices(u8, &[_]u8{ 0, 119, 128, 134, 253 }, outs[0]);
    try testing.expectEqualSlices(u8, &i8s(.{ -2, -2, 0, 2, 127 }), outs[1]);
    try testing.expectEqualSlices(u8, &i8s(.{ -3, -3, 0, 2, 100 }), outs[2]);
}

test "a chain of single-use tables is merged into one pass; a table read twice is not" {
    const gpa = testing.allocator;
    var xs: [300]u8 = undefined;
    for (&xs, 0..) |*e, i| e.* = @truncate(i *% 7);
    var table: [256]u8 = undefined;
    for (&table, 0..) |*t, i| t.* = @truncate(i *% 3 +% 1);
    // x -> Relu -> a -> Lut -> b -> Clip -> y0; b is also read by Requantize -> y1
    const json =
        \\{"tensors":[{"name":"x","shape":[1,1,1,300],"scale":0.1,"zero_point":-2},
        \\ {"name":"a","shape":[1,1,1,300],"scale":0.1,"zero_point":-2},
        \\ {"name":"b","shape":[1,1,1,300],"scale":0.1,"zero_point":3},
        \\ {"name":"y0","shape":[1,1,1,300],"scale":0.1,"zero_point":3},
        \\ {"name":"c","shape":[1,1,1,300],"scale":0.2,"zero_point":0},
        \\ {"name":"y1","shape":[1,1,1,300],"scale":0.2,"zero_point":0}],
        \\ "inputs":[0],"outputs":[3,5],"ops":[
        \\ {"op":"Relu","name":"relu","inputs":[0],"outputs":[1]},
        \\ {"op":"Lut","name":"lut","inputs":[1],"outputs":[2],"table":{"offset":0,"length":256}},
        \\ {"op":"Clip","name":"clip","inputs":[2],"outputs":[3],"lo":-3,"hi":100},
        \\ {"op":"Requantize","name":"rq","inputs":[2],"outputs":[4]},
        \\ {"op":"Relu","name":"relu2","inputs":[4],"outputs":[5]}]}
    ;
    const bytes = try prog.encode(gpa, json, &table);
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = try Program.parse(gpa, bytes, &diag);
    defer p.deinit(gpa);
    var r = try Runner.init(gpa, &p);
    defer r.deinit(gpa);
    // relu merged into lut; lut's output is read twice, so clip and rq keep their own pass;
    // rq merged into relu2
    try testing.expectEqualSlices(bool, &.{ false, true, true, false, true }, r.exec_op);
    var y0: [300]u8 = undefined;
    var y1: [300]u8 = undefined;
    var spans = std.ArrayList(OpSpan).init(gpa);
    defer spans.deinit();
    _ = try r.run(&.{&xs}, &.{ &y0, &y1 }, &.{}, &spans);
    try testing.expectEqual(@as(usize, 5), spans.items.len); // the timing model counts every op
    // each op's table on its own, one after the other
    const t = p.ops;
    for (xs, 0..) |x, i| {
        const a = t[0].attrs.table[x];
        const b = t[1].attrs.table[a];
        try testing.expectEqual(t[2].attrs.table[b], y0[i]);
        try testing.expectEqual(t[4].attrs.table[t[3].attrs.table[b]], y1[i]);
    }
}

test "Pad (constant with the quantized value, edge, reflect) and ChannelLut" {
    const gpa = testing.allocator;
    // x: 1x2x2x2 NHWC, int8
    const x = i8s(.{ 1, -1, 2, -2, 3, -3, 4, -4 });
    var table: [2 * 256]u8 = undefined;
    for (0..256) |i| {
        table[i] = @truncate(i); // channel 0: y = x + 128 as a byte
        table[256 + i] = @truncate(i *% 5);
    }
    const json =
        \\{"tensors":[{"name":"x","shape":[1,2,2,2],"scale":0.5,"zero_point":-3},
        \\ {"name":"c","shape":[1,3,4,2],"scale":0.5,"zero_point":-3},
        \\ {"name":"e","shape":[1,2,3,2],"scale":0.5,"zero_point":-3},
        \\ {"name":"r","shape":[1,3,2,2],"scale":0.5,"zero_point":-3},
        \\ {"name":"l","shape":[1,2,2,2],"scale":1,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1,2,3,4],"ops":[
        \\ {"op":"Pad","name":"pc","inputs":[0],"outputs":[1],"pads":[1,1,0,1],"value":7},
        \\ {"op":"Pad","name":"pe","inputs":[0],"outputs":[2],"pads":[0,1,0,0],"mode":1},
        \\ {"op":"Pad","name":"pr","inputs":[0],"outputs":[3],"pads":[0,0,1,0],"mode":2},
        \\ {"op":"ChannelLut","name":"cl","inputs":[0],"outputs":[4],"table":{"offset":0,"length":512}}]}
    ;
    const outs = try runProgram(gpa, json, &table, &.{&x}, &.{});
    defer freeOuts(gpa, outs);
    try testing.expectEqualSlices(u8, &i8s(.{ 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 1, -1, 2, -2, 7, 7, 7, 7, 3, -3, 4, -4, 7, 7 }), outs[0]);
    try testing.expectEqualSlices(u8, &i8s(.{ 1, -1, 1, -1, 2, -2, 3, -3, 3, -3, 4, -4 }), outs[1]);
    try testing.expectEqualSlices(u8, &i8s(.{ 1, -1, 2, -2, 3, -3, 4, -4, 1, -1, 2, -2 }), outs[2]);
    // channel 0: table[x + 128] = x + 128; channel 1: (x + 128) * 5 mod 256
    try testing.expectEqualSlices(u8, &[_]u8{ 129, @truncate(127 * 5), 130, @truncate(126 * 5), 131, @truncate(125 * 5), 132, @truncate(124 * 5) }, outs[3]);
}

test "Resize, Reshape, Transpose, Slice (negative and clamped), Split" {
    const gpa = testing.allocator;
    // x [1,2,3,2] = 0..11
    var x: [12]u8 = undefined;
    for (&x, 0..) |*e, i| e.* = @intCast(i);
    const json =
        \\{"tensors":[{"name":"x","shape":[1,2,3,2],"scale":1,"zero_point":0},
        \\ {"name":"rs","shape":[1,4,3,2],"scale":1,"zero_point":0},
        \\ {"name":"rh","shape":[1,1,6,2],"scale":1,"zero_point":0},
        \\ {"name":"tp","shape":[1,2,2,3],"scale":1,"zero_point":0},
        \\ {"name":"sl","shape":[1,1,2,1],"scale":1,"zero_point":0},
        \\ {"name":"s0","shape":[1,2,1,2],"scale":1,"zero_point":0},
        \\ {"name":"s1","shape":[1,2,2,2],"scale":1,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1,2,3,4,5,6],"ops":[
        \\ {"op":"Resize","name":"rs","inputs":[0],"outputs":[1],"scales":[2,1]},
        \\ {"op":"Reshape","name":"rh","inputs":[0],"outputs":[2]},
        \\ {"op":"Transpose","name":"tp","inputs":[0],"outputs":[3],"perm":[0,3,1,2]},
        \\ {"op":"Slice","name":"sl","inputs":[0],"outputs":[4],"starts":[0,-1,-100,1],"ends":[1,1000,1000,2],"steps":[1,1,2,1]},
        \\ {"op":"Split","name":"sp","inputs":[0],"outputs":[5,6],"axis":2,"sizes":[1,2]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{&x}, &.{});
    defer freeOuts(gpa, outs);
    try testing.expectEqualSlices(u8, &[_]u8{ 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 6, 7, 8, 9, 10, 11 }, outs[0]);
    try testing.expectEqualSlices(u8, &x, outs[1]);
    // y[0,c,h,w] = x[0,h,w,c]
    try testing.expectEqualSlices(u8, &[_]u8{ 0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11 }, outs[2]);
    // h from 1, w 0 and 2, c 1: x[0,1,0,1] = 7, x[0,1,2,1] = 11
    try testing.expectEqualSlices(u8, &[_]u8{ 7, 11 }, outs[3]);
    try testing.expectEqualSlices(u8, &[_]u8{ 0, 1, 6, 7 }, outs[4]);
    try testing.expectEqualSlices(u8, &[_]u8{ 2, 3, 4, 5, 8, 9, 10, 11 }, outs[5]);
}

test "padded input and output regions: padding ignored on input, filled with the zero point on output" {
    const gpa = testing.allocator;
    // x logical [1,2,2,1] in a buffer padded H 1+0, W 0+1, C 0+1 -> [1,3,3,2]
    var xb = [_]u8{0x77} ** 18;
    const put = struct {
        fn f(b: []u8, h: usize, w: usize, v: i8) void {
            b[((h + 1) * 3 + w) * 2] = @bitCast(v);
        }
    }.f;
    put(&xb, 0, 0, -5);
    put(&xb, 0, 1, 6);
    put(&xb, 1, 0, 7);
    put(&xb, 1, 1, -8);
    const json =
        \\{"tensors":[{"name":"x","shape":[1,2,2,1],"scale":1,"zero_point":0,"padding":[[0,0],[1,0],[0,1],[0,1]]},
        \\ {"name":"y","shape":[1,2,2,1],"scale":1,"zero_point":-4,"padding":[[0,1],[0,0],[1,0],[0,2]]}],
        \\ "inputs":[0],"outputs":[1],"ops":[{"op":"Requantize","name":"rq","inputs":[0],"outputs":[1]}]}
    ;
    const outs = try runProgram(gpa, json, &.{}, &.{&xb}, &.{});
    defer freeOuts(gpa, outs);
    // y buffer [2,2,3,3]; logical at n 0, h 0..1, w 1..2, c 0; value = x - 4
    var want = [_]u8{0xFC} ** 36;
    want[(0 * 3 + 1) * 3] = @bitCast(@as(i8, -9));
    want[(0 * 3 + 2) * 3] = 2;
    want[(1 * 3 + 1) * 3] = 3;
    want[(1 * 3 + 2) * 3] = @bitCast(@as(i8, -12));
    try testing.expectEqualSlices(u8, &want, outs[0]);
}

test "a batch split across cores gives the same bytes; timing takes the slowest core" {
    const gpa = testing.allocator;
    var prng = std.Random.DefaultPrng.init(99);
    var data: [64 + 64]u8 = undefined;
    for (data[0..72]) |*b| b.* = @bitCast(prng.random().intRangeAtMost(i8, -50, 50));
    dataWriter(&data).f32s(80, &.{ 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08 });
    const json =
        \\{"tensors":[{"name":"x","shape":[5,6,6,1],"scale":0.1,"zero_point":0,"padding":[[0,0],[0,0],[0,0],[0,3]]},
        \\ {"name":"c","shape":[5,4,4,8],"scale":0.05,"zero_point":1},
        \\ {"name":"y","shape":[5,2,2,8],"scale":0.05,"zero_point":1,"padding":[[0,0],[0,0],[0,0],[0,8]]}],
        \\ "inputs":[0],"outputs":[2],"ops":[
        \\ {"op":"Conv","name":"conv","inputs":[0],"outputs":[1],"kernel":[3,3],"weights":{"offset":0,"length":72},"w_scale":{"offset":80,"length":32}},
        \\ {"op":"MaxPool","name":"pool","inputs":[1],"outputs":[2],"kernel":[2,2],"strides":[2,2]}]}
    ;
    const bytes = try prog.encode(gpa, json, &data);
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = try Program.parse(gpa, bytes, &diag);
    defer p.deinit(gpa);
    try testing.expectEqual(@as(u32, 5), p.batch);
    var r = try Runner.init(gpa, &p);
    defer r.deinit(gpa);
    var x: [5 * 6 * 6 * 4]u8 = undefined;
    prng.random().bytes(&x);
    var y1: [5 * 2 * 2 * 16]u8 = undefined;
    var y4: [5 * 2 * 2 * 16]u8 = undefined;
    const one = try r.run(&.{&x}, &.{&y1}, &.{.{}}, null);
    var spans = std.ArrayList(OpSpan).init(gpa);
    defer spans.deinit();
    const cores = [_]CoreConfig{ .{}, .{}, .{ .clock_mhz = 400 }, .{} };
    const four = try r.run(&.{&x}, &.{&y4}, &cores, &spans);
    try testing.expectEqualSlices(u8, &y1, &y4);
    // 4 cores: 2 ops x 4 cores spans, core 2 at 400 MHz is the slowest and decides the time
    try testing.expectEqual(@as(usize, 8), spans.items.len);
    try testing.expect(four.device_cycles < one.device_cycles);
    try testing.expectEqual(timing.toNs(four.device_cycles, 400), four.device_ns);
    for (spans.items) |s| if (s.core == 2 and std.mem.eql(u8, s.op, "Conv")) {
        try testing.expectEqual(timing.run_overhead_cycles, s.start_cycle);
        try testing.expectEqual(@as(u64, 1 * 4 * 4 * 8 * 9), s.macs); // core 2 has image 2 only (5 images on 4 cores: 1,1,1,2)
    };
    // single core: op spans are back to back
    var sp1 = std.ArrayList(OpSpan).init(gpa);
    defer sp1.deinit();
    const st = try r.run(&.{&x}, &.{&y1}, &.{.{ .clock_mhz = 800, .mvm_utilisation = 50 }}, &sp1);
    try testing.expectEqual(@as(usize, 2), sp1.items.len);
    try testing.expectEqual(sp1.items[0].start_cycle + sp1.items[0].cycles, sp1.items[1].start_cycle);
    try testing.expectEqual(sp1.items[1].start_cycle + sp1.items[1].cycles, st.device_cycles);
    try testing.expectEqual(st.device_cycles * 1000 / 800, st.device_ns);
    // wrong buffers are errors, not crashes
    try testing.expectError(error.BadBufferSize, r.run(&.{x[1..]}, &.{&y1}, &.{}, null));
    try testing.expectError(error.BadInputCount, r.run(&.{}, &.{&y1}, &.{}, null));
}

test "timing: the worked example of docs/timing-model.md" {
    const gpa = testing.allocator;
    const wlen = 64 * 9 * 64;
    const data = try gpa.alloc(u8, wlen + 64 * 4);
    defer gpa.free(data);
    @memset(data, 1);
    for (0..64) |c| std.mem.writeInt(u32, data[wlen + 4 * c ..][0..4], @bitCast(@as(f32, 0.01)), .little);
    const json = try std.fmt.allocPrint(gpa,
        \\{{"tensors":[{{"name":"x","shape":[1,56,56,64],"scale":0.1,"zero_point":0}},{{"name":"y","shape":[1,56,56,64],"scale":0.1,"zero_point":0}}],
        \\"inputs":[0],"outputs":[1],"ops":[{{"op":"Conv","name":"c","inputs":[0],"outputs":[1],"kernel":[3,3],"pads":[1,1,1,1],
        \\"weights":{{"offset":0,"length":{d}}},"bias":{{"offset":0,"length":256}},"w_scale":{{"offset":{d},"length":256}}}}]}}
    , .{ wlen, wlen });
    defer gpa.free(json);
    const bytes = try prog.encode(gpa, json, data);
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = try Program.parse(gpa, bytes, &diag);
    defer p.deinit(gpa);
    var r = try Runner.init(gpa, &p);
    defer r.deinit(gpa);
    const x = try gpa.alloc(u8, 56 * 56 * 64);
    defer gpa.free(x);
    @memset(x, 0);
    const y = try gpa.alloc(u8, 56 * 56 * 64);
    defer gpa.free(y);
    var spans = std.ArrayList(OpSpan).init(gpa);
    defer spans.deinit();
    const st = try r.run(&.{x}, &.{y}, &.{.{}}, &spans);
    try testing.expectEqual(@as(u64, 115_605_504), spans.items[0].macs);
    // docs/timing-model.md, "Example": depth 576 -> 9 row tiles of 64, 64 outputs -> 1
    // column tile of 64: 3136 pixels * 576 * 64 = 115,605,504 tile MACs / 11585 = 9979
    // cycles (compute-bound: activations 784); weights 37,376 bytes / 64 = 584 to load
    try testing.expectEqual(@as(u64, 8192 + 584 + 9979), spans.items[0].cycles);
    try testing.expectEqual(@as(u64, 32000 + 8192 + 584 + 9979), st.device_cycles);
    try testing.expectEqual(@as(u64, 50755 * 1000 / 800), st.device_ns);
    const half = try r.run(&.{x}, &.{y}, &.{.{ .mvm_utilisation = 50 }}, null);
    try testing.expectEqual(@as(u64, 32000 + 8192 + 584 + 19958), half.device_cycles);
    const slow = try r.run(&.{x}, &.{y}, &.{.{ .clock_mhz = 100 }}, null);
    try testing.expectEqual(@as(u64, 50755 * 10), slow.device_ns);
}

test "a chain of 11 Requantize ops runs as one merged table pass; results stay right" {
    const gpa = testing.allocator;
    var json = std.ArrayList(u8).init(gpa);
    defer json.deinit();
    try json.appendSlice("{\"tensors\":[");
    for (0..12) |i| {
        if (i > 0) try json.appendSlice(",");
        try json.writer().print("{{\"name\":\"t{d}\",\"shape\":[1,16,16,8],\"scale\":1,\"zero_point\":{d}}}", .{ i, @as(i32, @intCast(i)) - 6 });
    }
    try json.appendSlice("],\"inputs\":[0],\"outputs\":[11],\"ops\":[");
    for (0..11) |i| {
        if (i > 0) try json.appendSlice(",");
        try json.writer().print("{{\"op\":\"Requantize\",\"name\":\"r{d}\",\"inputs\":[{d}],\"outputs\":[{d}]}}", .{ i, i, i + 1 });
    }
    try json.appendSlice("]}");
    const bytes = try prog.encode(gpa, json.items, &.{});
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = try Program.parse(gpa, bytes, &diag);
    defer p.deinit(gpa);
    var r = try Runner.init(gpa, &p);
    defer r.deinit(gpa);
    // every intermediate tensor belongs to a merged op: no buffer at all
    try testing.expectEqual(@as(usize, 0), r.arena_size);
    for (r.exec_op, 0..) |e, i| try testing.expectEqual(i == 10, e);
    var x: [16 * 16 * 8]u8 = undefined;
    for (&x, 0..) |*e, i| e.* = @truncate(i * 7);
    var y: [16 * 16 * 8]u8 = undefined;
    _ = try r.run(&.{&x}, &.{&y}, &.{}, null);
    // each step: value - zp_in + zp_out = value + 1, saturating at 127
    for (x, y) |a, b| {
        const v: i32 = @as(i8, @bitCast(a));
        try testing.expectEqual(@min(v + 11, 127), @as(i8, @bitCast(b)));
    }
}

test "a batched graph with branches: every core count gives identical bytes; axis-0 concat is not split" {
    const gpa = testing.allocator;
    var prng = std.Random.DefaultPrng.init(3);
    var data: [16 * 9 * 8 + 64]u8 = undefined;
    prng.random().bytes(&data);
    const wl = 9 * 8 * 8;
    dataWriter(&data).f32s(wl, &.{ 0.01, 0.02, 0.03, 0.01, 0.02, 0.03, 0.01, 0.02 });
    const json_tpl =
        \\{{"tensors":[{{"name":"x","shape":[{d},7,7,8],"scale":0.1,"zero_point":2}},
        \\ {{"name":"c","shape":[{d},7,7,8],"scale":0.2,"zero_point":-1}},
        \\ {{"name":"r","shape":[{d},7,7,8],"scale":0.2,"zero_point":-1}},
        \\ {{"name":"a","shape":[{d},7,7,8],"scale":0.15,"zero_point":0}},
        \\ {{"name":"k","shape":[{d},7,7,16],"scale":0.15,"zero_point":0}},
        \\ {{"name":"y","shape":[{d},4,4,16],"scale":0.1,"zero_point":3,"padding":[[0,0],[0,0],[0,0],[0,4]]}}],
        \\ "inputs":[0],"outputs":[5],"ops":[
        \\ {{"op":"Conv","name":"conv","inputs":[0],"outputs":[1],"kernel":[3,3],"pads":[1,1,1,1],"weights":{{"offset":0,"length":{d}}},"w_scale":{{"offset":{d},"length":32}}}},
        \\ {{"op":"Relu","name":"relu","inputs":[1],"outputs":[2]}},
        \\ {{"op":"Add","name":"add","inputs":[2,0],"outputs":[3]}},
        \\ {{"op":"Concat","name":"cat","inputs":[3,1],"outputs":[4],"axis":3}},
        \\ {{"op":"AveragePool","name":"pool","inputs":[4],"outputs":[5],"kernel":[2,2],"strides":[2,2],"ceil_mode":1}}]}}
    ;
    const json = try std.fmt.allocPrint(gpa, json_tpl, .{ 6, 6, 6, 6, 6, 6, wl, wl });
    defer gpa.free(json);
    var x: [6 * 7 * 7 * 8]u8 = undefined;
    prng.random().bytes(&x);
    var first: ?[][]u8 = null;
    defer if (first) |f| freeOuts(gpa, f);
    const cfgs = [_]CoreConfig{ .{}, .{}, .{}, .{} };
    for (1..5) |nc| {
        const outs = try runProgram(gpa, json, &data, &.{&x}, cfgs[0..nc]);
        if (first) |f| {
            defer freeOuts(gpa, outs);
            try testing.expectEqualSlices(u8, f[0], outs[0]);
        } else first = outs;
    }
    // the same images one at a time (N = 1 programs) give the same bytes
    const json1 = try std.fmt.allocPrint(gpa, json_tpl, .{ 1, 1, 1, 1, 1, 1, wl, wl });
    defer gpa.free(json1);
    for (0..6) |n| {
        const outs = try runProgram(gpa, json1, &data, &.{x[n * 392 ..][0..392]}, &.{});
        defer freeOuts(gpa, outs);
        try testing.expectEqualSlices(u8, first.?[0][n * 320 ..][0..320], outs[0]);
    }
    // Concat on axis 0 mixes images: the batch is not split
    const json0 =
        \\{"tensors":[{"name":"a","shape":[2,1,1,2],"scale":1,"zero_point":0},{"name":"b","shape":[2,1,1,2],"scale":1,"zero_point":0},
        \\ {"name":"y","shape":[4,1,1,2],"scale":0.5,"zero_point":0}],"inputs":[0,1],"outputs":[2],
        \\ "ops":[{"op":"Concat","name":"cat","inputs":[0,1],"outputs":[2],"axis":0}]}
    ;
    const outs = try runProgram(gpa, json0, &.{}, &.{ &i8s(.{ 1, 2, 3, 4 }), &i8s(.{ 5, 6, 7, -8 }) }, cfgs[0..4]);
    defer freeOuts(gpa, outs);
    try testing.expectEqualSlices(u8, &i8s(.{ 2, 4, 6, 8, 10, 12, 14, -16 }), outs[0]);
}
