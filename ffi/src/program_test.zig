//! Tests of program.zig: the parser on valid, truncated, corrupted and hostile programs.

const std = @import("std");
const program = @import("program.zig");
const Program = program.Program;
const Diagnostic = program.Diagnostic;
const encode = program.encode;
const outSize = program.outSize;
const max_tensors = program.max_tensors;

const testing = std.testing;

const valid_json =
    \\{"tensors":[{"name":"x","shape":[1,3,3,2],"scale":0.5,"zero_point":1,"padding":[[0,0],[0,0],[0,0],[0,2]]},
    \\ {"name":"c","shape":[1,3,3,2],"scale":0.25,"zero_point":0},
    \\ {"name":"y","shape":[1,3,3,2],"scale":0.25,"zero_point":0}],
    \\ "inputs":[0],"outputs":[2],
    \\ "ops":[{"op":"Conv","name":"conv2","inputs":[0],"outputs":[1],"kernel":[3,3],"pads":[1,1,1,1],
    \\   "weights":{"offset":0,"length":36},"bias":{"offset":48,"length":8},"w_scale":{"offset":56,"length":8}},
    \\  {"op":"Relu","name":"relu","inputs":[1],"outputs":[2]}]}
;

fn validData() [64]u8 {
    var d = [_]u8{0} ** 64;
    for (0..36) |i| d[i] = @intCast(i % 5);
    std.mem.writeInt(i32, d[48..52], 7, .little);
    std.mem.writeInt(i32, d[52..56], -7, .little);
    std.mem.writeInt(u32, d[56..60], @bitCast(@as(f32, 0.125)), .little);
    std.mem.writeInt(u32, d[60..64], @bitCast(@as(f32, 0.0625)), .little);
    return d;
}

/// Parses json+data and expects an error whose message contains every needle.
fn expectInvalid(json: []const u8, data: []const u8, needles: []const []const u8) !void {
    const gpa = testing.allocator;
    const bytes = try encode(gpa, json, data);
    defer gpa.free(bytes);
    try expectInvalidBytes(bytes, needles);
}

fn expectInvalidBytes(bytes: []const u8, needles: []const []const u8) !void {
    const gpa = testing.allocator;
    var diag = Diagnostic{};
    if (Program.parse(gpa, bytes, &diag)) |p_| {
        var p = p_;
        p.deinit(gpa);
        return error.TestExpectedError;
    } else |e| {
        try testing.expectEqual(error.InvalidProgram, e);
        for (needles) |n| {
            if (std.mem.indexOf(u8, diag.message(), n) == null) {
                std.debug.print("message \"{s}\" lacks \"{s}\"\n", .{ diag.message(), n });
                return error.TestExpectedEqual;
            }
        }
    }
}

/// valid_json with `from` replaced by `to` (exactly one occurrence).
fn mutate(from: []const u8, to: []const u8) ![]u8 {
    const gpa = testing.allocator;
    const i = std.mem.indexOf(u8, valid_json, from) orelse return error.TestBadMutation;
    try testing.expect(std.mem.indexOfPos(u8, valid_json, i + 1, from) == null);
    return std.mem.concat(gpa, u8, &.{ valid_json[0..i], to, valid_json[i + from.len ..] });
}

fn expectMutationInvalid(from: []const u8, to: []const u8, needles: []const []const u8) !void {
    const j = try mutate(from, to);
    defer testing.allocator.free(j);
    const d = validData();
    expectInvalid(j, &d, needles) catch |e| {
        std.debug.print("mutation {s} -> {s}\n", .{ from, to });
        return e;
    };
}

test "a valid program parses; descriptors, multipliers and accounting" {
    const gpa = testing.allocator;
    const d = validData();
    const bytes = try encode(gpa, valid_json, &d);
    defer gpa.free(bytes);
    var diag = Diagnostic{};
    var p = try Program.parse(gpa, bytes, &diag);
    defer p.deinit(gpa);
    try testing.expectEqual(@as(usize, 1), p.inputs().len);
    try testing.expectEqualStrings("x", p.inputs()[0].name);
    try testing.expectEqual([4]u32{ 1, 3, 3, 4 }, p.inputs()[0].paddedShape());
    try testing.expectEqual(@as(usize, 36), p.inputs()[0].byteSize());
    try testing.expectEqualStrings("y", p.outputs()[0].name);
    try testing.expectEqual(@as(usize, 2), p.ops.len);
    const c = p.ops[0].attrs.conv;
    try testing.expectEqual(@as(f32, (0.5 * 0.125) / 0.25), c.mult[0]);
    try testing.expectEqual(@as(f32, (0.5 * 0.0625) / 0.25), c.mult[1]);
    try testing.expectEqual(@as(i32, -7), c.bias[1]);
    try testing.expectEqual(@as(u64, 3 * 3 * 2 * 9 * 2), p.ops[0].macs);
    try testing.expectEqual(@as(u32, 1), p.batch);
}

test "every truncation of a valid program is an error, never a crash" {
    const gpa = testing.allocator;
    const d = validData();
    const bytes = try encode(gpa, valid_json, &d);
    defer gpa.free(bytes);
    for (0..bytes.len) |n| {
        var diag = Diagnostic{};
        if (Program.parse(gpa, bytes[0..n], &diag)) |p_| {
            var p = p_;
            p.deinit(gpa);
            std.debug.print("truncated to {d} of {d} bytes parsed\n", .{ n, bytes.len });
            return error.TestExpectedError;
        } else |e| try testing.expectEqual(error.InvalidProgram, e);
        try testing.expect(diag.message().len > 0);
    }
}

test "random byte corruption never crashes or leaks" {
    const gpa = testing.allocator;
    const d = validData();
    const bytes = try encode(gpa, valid_json, &d);
    defer gpa.free(bytes);
    const copy = try gpa.dupe(u8, bytes);
    defer gpa.free(copy);
    var prng = std.Random.DefaultPrng.init(5);
    const rnd = prng.random();
    for (0..3000) |_| {
        @memcpy(copy, bytes);
        for (0..rnd.intRangeAtMost(usize, 1, 4)) |_| {
            const i = rnd.uintLessThan(usize, copy.len);
            copy[i] = switch (rnd.uintLessThan(u8, 4)) {
                0 => rnd.int(u8),
                1 => "0123456789"[rnd.uintLessThan(usize, 10)],
                2 => "[]{}\",:-"[rnd.uintLessThan(usize, 8)],
                else => copy[i] ^ 1,
            };
        }
        var diag = Diagnostic{};
        if (Program.parse(gpa, copy, &diag)) |p_| {
            var p = p_;
            p.deinit(gpa);
        } else |e| try testing.expectEqual(error.InvalidProgram, e);
    }
}

test "header errors: magic, version, json_len, JSON syntax" {
    const gpa = testing.allocator;
    const d = validData();
    const bytes = try encode(gpa, valid_json, &d);
    defer gpa.free(bytes);
    const b = try gpa.dupe(u8, bytes);
    defer gpa.free(b);
    b[0] = 'X';
    try expectInvalidBytes(b, &.{"bad magic"});
    @memcpy(b, bytes);
    std.mem.writeInt(u32, b[8..12], 2, .little);
    try expectInvalidBytes(b, &.{"version 2"});
    @memcpy(b, bytes);
    std.mem.writeInt(u32, b[12..16], @intCast(bytes.len), .little);
    try expectInvalidBytes(b, &.{"json_len"});
    std.mem.writeInt(u32, b[12..16], 0xFFFFFFFF, .little);
    try expectInvalidBytes(b, &.{"json_len"});
    try expectInvalidBytes("AXRPROG", &.{"truncated"});
    try expectInvalid("{\"tensors\": [", &.{}, &.{"not valid JSON"});
    try expectInvalid("[]", &.{}, &.{"must be an object"});
}

test "data references: out of range, misaligned, wrong length, wrong type" {
    try expectMutationInvalid("\"weights\":{\"offset\":0,\"length\":36}", "\"weights\":{\"offset\":40,\"length\":36}", &.{ "op 0 'conv2' (Conv)", "past the data section" });
    try expectMutationInvalid("\"weights\":{\"offset\":0,\"length\":36}", "\"weights\":{\"offset\":0,\"length\":100}", &.{"op 0 'conv2' (Conv): weights length 100 != 36 (Cout*kh*kw*Cin/group)"});
    try expectMutationInvalid("\"bias\":{\"offset\":48,\"length\":8}", "\"bias\":{\"offset\":46,\"length\":8}", &.{"not aligned to 4"});
    try expectMutationInvalid("\"bias\":{\"offset\":48,\"length\":8}", "\"bias\":{\"offset\":-8,\"length\":8}", &.{"negative"});
    try expectMutationInvalid("\"bias\":{\"offset\":48,\"length\":8}", "\"bias\":{\"offset\":18446744073709551615,\"length\":8}", &.{"'bias.offset' must be an integer"});
    try expectMutationInvalid("\"bias\":{\"offset\":48,\"length\":8}", "\"bias\":{\"offset\":9007199254740000,\"length\":8}", &.{"past the data section"});
    try expectMutationInvalid("\"bias\":{\"offset\":48,\"length\":8}", "\"bias\":[48,8]", &.{"'bias' must be an object"});
    try expectMutationInvalid("\"w_scale\":{\"offset\":56,\"length\":8}", "\"w_scale\":{\"offset\":56}", &.{"'w_scale.length' missing"});
}

test "wrong types and out-of-range values name the field" {
    try expectMutationInvalid("\"shape\":[1,3,3,2],\"scale\":0.5", "\"shape\":\"1,3,3,2\",\"scale\":0.5", &.{ "tensor 0 'x'", "shape" });
    try expectMutationInvalid("\"shape\":[1,3,3,2],\"scale\":0.5", "\"shape\":[1,3,3],\"scale\":0.5", &.{"4 integers"});
    try expectMutationInvalid("\"shape\":[1,3,3,2],\"scale\":0.5", "\"shape\":[1,3,70000,2],\"scale\":0.5", &.{"shape[2] = 70000 out of range"});
    try expectMutationInvalid("\"shape\":[1,3,3,2],\"scale\":0.5", "\"shape\":[1,3,0,2],\"scale\":0.5", &.{"shape[2] = 0"});
    try expectMutationInvalid("\"scale\":0.5", "\"scale\":\"0.5\"", &.{"'scale' must be a number"});
    try expectMutationInvalid("\"scale\":0.5", "\"scale\":-0.5", &.{"scale"});
    try expectMutationInvalid("\"scale\":0.5", "\"scale\":1e-60", &.{"float32"});
    try expectMutationInvalid("\"scale\":0.5", "\"scale\":1e300", &.{"finite"});
    try expectMutationInvalid("\"zero_point\":1", "\"zero_point\":128", &.{"zero_point 128 out of range -128..127"});
    try expectMutationInvalid("\"zero_point\":1", "\"zero_point\":1.5", &.{"'zero_point' must be an integer"});
    try expectMutationInvalid("\"zero_point\":1,", "\"zero_point\":1,\"dtype\":\"float16\",", &.{"dtype 'float16'"});
    try expectMutationInvalid("[[0,0],[0,0],[0,0],[0,2]]", "[[0,0],[0,0],[0,0]]", &.{"padding"});
    try expectMutationInvalid("[[0,0],[0,0],[0,0],[0,2]]", "[[0,0],[0,0],[0,0],[0,-2]]", &.{"padding[3][1] = -2"});
    try expectMutationInvalid("\"kernel\":[3,3]", "\"kernel\":[3,\"3\"]", &.{ "op 0 'conv2' (Conv)", "'kernel'[1] must be an integer" });
    try expectMutationInvalid("\"kernel\":[3,3]", "\"kernel\":3", &.{"'kernel' must be an array"});
    try expectMutationInvalid("\"kernel\":[3,3],", "\"kernel\":[3,3],\"group\":1000000000000,", &.{"'group' = 1000000000000 out of range"});
    try expectMutationInvalid("\"kernel\":[3,3],", "\"kernel\":[3,3],\"group\":2,", &.{"weights length 36 != 18"});
    try expectMutationInvalid("\"kernel\":[3,3],", "", &.{"missing attribute 'kernel'"});
    try expectMutationInvalid("\"inputs\":[0],\"outputs\":[2]", "\"inputs\":0,\"outputs\":[2]", &.{"'inputs' must be an array"});
    try expectMutationInvalid("\"inputs\":[0],\"outputs\":[2]", "\"inputs\":[7],\"outputs\":[2]", &.{"no such tensor"});
    try expectMutationInvalid("\"inputs\":[0],\"outputs\":[2]", "\"inputs\":[0],\"outputs\":[0]", &.{"also a program input"});
    try expectMutationInvalid("\"op\":\"Relu\"", "\"op\":\"Softmax\"", &.{ "op 1 'relu'", "unknown op 'Softmax'" });
    try expectMutationInvalid("\"op\":\"Relu\"", "\"op\":7", &.{"'op' must be a string"});
    try expectMutationInvalid("\"name\":\"relu\",\"inputs\":[1]", "\"name\":\"relu\",\"inputs\":[1,1]", &.{"2 inputs, expected 1"});
}

test "graph errors: cycles, double writes, unwritten tensors, padding and uint8 inside" {
    // relu reads tensor 1 before conv writes it (ops swapped)
    try expectMutationInvalid("\"name\":\"relu\",\"inputs\":[1]", "\"name\":\"relu\",\"inputs\":[2]", &.{ "op 1 'relu'", "no earlier op writes it" });
    try expectMutationInvalid("\"name\":\"conv2\",\"inputs\":[0]", "\"name\":\"conv2\",\"inputs\":[1]", &.{ "op 0 'conv2'", "no earlier op writes it" });
    try expectMutationInvalid("\"inputs\":[1],\"outputs\":[2]}", "\"inputs\":[1],\"outputs\":[1]}", &.{"already written"});
    try expectMutationInvalid("\"inputs\":[1],\"outputs\":[2]}", "\"inputs\":[1],\"outputs\":[]}", &.{"0 outputs, expected 1"});
    try expectMutationInvalid("{\"name\":\"c\",\"shape\":[1,3,3,2],\"scale\":0.25,\"zero_point\":0}", "{\"name\":\"c\",\"shape\":[1,3,3,2],\"scale\":0.25,\"zero_point\":0,\"padding\":[[0,0],[0,1],[0,0],[0,0]]}", &.{"padding is allowed only"});
    try expectMutationInvalid("{\"name\":\"c\",\"shape\":[1,3,3,2],\"scale\":0.25,\"zero_point\":0}", "{\"name\":\"c\",\"shape\":[1,3,3,2],\"scale\":0.25,\"zero_point\":0,\"dtype\":\"uint8\"}", &.{"uint8 is allowed only"});
    try expectMutationInvalid("{\"name\":\"y\",\"shape\":[1,3,3,2],\"scale\":0.25,\"zero_point\":0}]", "{\"name\":\"y\",\"shape\":[1,3,3,2],\"scale\":0.25,\"zero_point\":0},{\"name\":\"z\",\"shape\":[1,1,1,1],\"scale\":1,\"zero_point\":0}]", &.{"tensor 3 'z' is never written"});
}

test "shape and quantization rule mismatches" {
    try expectMutationInvalid("{\"name\":\"c\",\"shape\":[1,3,3,2]", "{\"name\":\"c\",\"shape\":[1,2,2,2]", &.{ "op 0 'conv2' (Conv)", "expected [1,3,3,2]" });
    try expectMutationInvalid("\"pads\":[1,1,1,1]", "\"pads\":[0,0,0,0]", &.{"expected [1,1,1,2]"});
    try expectMutationInvalid("\"pads\":[1,1,1,1]", "\"pads\":[0,0,0,0],\"kernel_x\":[5,5],\"strides\":[1,1],\"dilations\":[3,3]", &.{"does not fit"});
    try expectMutationInvalid("{\"name\":\"y\",\"shape\":[1,3,3,2],\"scale\":0.25,", "{\"name\":\"y\",\"shape\":[1,3,3,2],\"scale\":0.5,", &.{ "op 1 'relu' (Relu)", "quantization" });
    try expectMutationInvalid("\"kernel\":[3,3],", "\"kernel\":[3,3],\"clamp\":[10,-10],", &.{"clamp [10, -10] is empty"});
    try expectMutationInvalid("\"kernel\":[3,3],", "\"kernel\":[3,3],\"clamp\":[-200,10],", &.{"'clamp'[0] = -200 out of range"});
}

test "accumulator bound: a channel whose worst case exceeds 2^31-1 is rejected" {
    var d = validData();
    std.mem.writeInt(i32, d[48..52], std.math.maxInt(i32) - 100, .little);
    try expectInvalid(valid_json, &d, &.{ "op 0 'conv2'", "output channel 0: worst-case accumulator" });
}

test "pool, slice, split, concat, transpose validation" {
    const base =
        \\{"tensors":[{"name":"x","shape":[1,4,4,2],"scale":1,"zero_point":0},{"name":"y","shape":[%s],"scale":1,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1],"ops":[{"op":"%s","name":"o","inputs":[0],"outputs":[1]%s}]}
    ;
    const C = struct { shape: []const u8, op: []const u8, attrs: []const u8, err: ?[]const u8 };
    const cases = [_]C{
        .{ .shape = "1,2,2,2", .op = "MaxPool", .attrs = ",\"kernel\":[2,2],\"strides\":[2,2]", .err = null },
        .{ .shape = "1,3,3,2", .op = "MaxPool", .attrs = ",\"kernel\":[2,2],\"strides\":[2,2]", .err = "expected [1,2,2,2]" },
        .{ .shape = "1,2,2,2", .op = "MaxPool", .attrs = ",\"kernel\":[2,2],\"strides\":[2,2],\"pads\":[2,0,0,0]", .err = "smaller than the kernel" },
        .{ .shape = "1,3,3,2", .op = "MaxPool", .attrs = ",\"kernel\":[3,3],\"strides\":[2,2],\"pads\":[1,1,1,1],\"ceil_mode\":1", .err = null },
        .{ .shape = "1,2,2,2", .op = "MaxPool", .attrs = ",\"kernel\":[3,3],\"strides\":[2,2],\"pads\":[0,0,1,1],\"ceil_mode\":1", .err = null },
        .{ .shape = "1,2,2,2", .op = "AveragePool", .attrs = ",\"kernel\":[2,2],\"strides\":[2,2],\"count_include_pad\":2", .err = "'count_include_pad' = 2" },
        .{ .shape = "1,2,2,2", .op = "AveragePool", .attrs = ",\"kernel\":[2,2],\"strides\":[2,2],\"dilations\":[2,2]", .err = "no dilations" },
        .{ .shape = "1,1,1,2", .op = "GlobalAveragePool", .attrs = "", .err = null },
        .{ .shape = "1,4,4,1", .op = "GlobalAveragePool", .attrs = "", .err = "expected [1,1,1,2]" },
        .{ .shape = "1,2,4,2", .op = "Slice", .attrs = ",\"starts\":[0,-2,0,0],\"ends\":[1,99,4,2]", .err = null },
        .{ .shape = "1,1,2,2", .op = "Slice", .attrs = ",\"starts\":[0,0,0,0],\"ends\":[1,1,4,2],\"steps\":[1,1,3,1]", .err = null },
        .{ .shape = "1,1,2,2", .op = "Slice", .attrs = ",\"starts\":[0,0,0,0],\"ends\":[1,1,4,2],\"steps\":[1,1,0,1]", .err = "'steps'[2] = 0" },
        .{ .shape = "1,1,2,2", .op = "Slice", .attrs = ",\"starts\":[0,3,0,0],\"ends\":[1,1,4,2]", .err = "axis 1: the slice is empty" },
        .{ .shape = "1,2,4,4", .op = "Transpose", .attrs = ",\"perm\":[0,3,1,2]", .err = null },
        .{ .shape = "1,6,5,2", .op = "Pad", .attrs = ",\"pads\":[1,0,1,1],\"mode\":2", .err = null },
        .{ .shape = "1,8,4,2", .op = "Pad", .attrs = ",\"pads\":[4,0,0,0],\"mode\":2", .err = "must be smaller than the input" },
        .{ .shape = "1,4,4,2", .op = "Pad", .attrs = ",\"pads\":[0,0,0,0],\"mode\":3", .err = "'mode' = 3" },
        .{ .shape = "1,5,4,2", .op = "Pad", .attrs = ",\"pads\":[1,0,0,0]", .err = null },
        .{ .shape = "1,5,5,2", .op = "Pad", .attrs = ",\"pads\":[1,0,0,0]", .err = "expected [1,5,4,2]" },
        .{ .shape = "1,4,4,2", .op = "ChannelLut", .attrs = ",\"table\":{\"offset\":0,\"length\":256}", .err = "!= 512" },
        .{ .shape = "1,2,4,4", .op = "Transpose", .attrs = ",\"perm\":[0,3,3,2]", .err = "not a permutation" },
        .{ .shape = "1,8,8,2", .op = "Resize", .attrs = ",\"scales\":[2,2]", .err = null },
        .{ .shape = "1,8,8,2", .op = "Resize", .attrs = ",\"scales\":[2,0]", .err = "'scales'[1] = 0" },
        .{ .shape = "1,8,8,2", .op = "Resize", .attrs = ",\"scales\":[65535,65535]", .err = "output size" },
        .{ .shape = "1,8,8,2", .op = "MaxPool", .attrs = ",\"kernel\":[65535,65535],\"dilations\":[65535,65535]", .err = "does not fit" },
        .{ .shape = "1,7,7,2", .op = "MaxPool", .attrs = ",\"kernel\":[2,2],\"dilations\":[5,5],\"pads\":[4,4,4,4]", .err = "covers no input element" },
        .{ .shape = "1,5,5,2", .op = "MaxPool", .attrs = ",\"kernel\":[2,2],\"dilations\":[3,3],\"pads\":[2,2,2,2]", .err = null },
        .{ .shape = "1,2,4,4", .op = "Reshape", .attrs = "", .err = null },
        .{ .shape = "1,2,4,3", .op = "Reshape", .attrs = "", .err = "24 elements" },
        .{ .shape = "1,4,4,2", .op = "Split", .attrs = ",\"axis\":3,\"sizes\":[2]", .err = null },
        .{ .shape = "1,4,4,2", .op = "Split", .attrs = ",\"axis\":3,\"sizes\":[1]", .err = "expected [1,4,4,1]" },
        .{ .shape = "1,4,4,2", .op = "Split", .attrs = ",\"axis\":3,\"sizes\":[2,0]", .err = "'sizes' has 2 entries for 1 outputs" },
        .{ .shape = "1,4,4,2", .op = "Concat", .attrs = ",\"axis\":4", .err = "'axis' = 4 out of range" },
        .{ .shape = "1,4,4,2", .op = "Concat", .attrs = ",\"axis\":0", .err = null },
        .{ .shape = "1,4,4,2", .op = "Lut", .attrs = ",\"table\":{\"offset\":0,\"length\":255}", .err = "table length 255 != 256" },
        .{ .shape = "1,4,4,2", .op = "Clip", .attrs = ",\"lo\":5,\"hi\":4", .err = "lo 5 > hi 4" },
        .{ .shape = "1,4,4,2", .op = "Clip", .attrs = ",\"lo\":-5", .err = "missing attribute 'hi'" },
        .{ .shape = "1,4,4,2", .op = "Add", .attrs = "", .err = "1 inputs, expected 2" },
    };
    const gpa = testing.allocator;
    const table = [_]u8{0} ** 256;
    for (cases) |c| {
        var json = std.ArrayList(u8).init(gpa);
        defer json.deinit();
        var parts = std.mem.splitSequence(u8, base, "%s");
        try json.appendSlice(parts.next().?);
        try json.appendSlice(c.shape);
        try json.appendSlice(parts.next().?);
        try json.appendSlice(c.op);
        try json.appendSlice(parts.next().?);
        try json.appendSlice(c.attrs);
        try json.appendSlice(parts.next().?);
        if (c.err) |e| {
            expectInvalid(json.items, &table, &.{e}) catch |err| {
                std.debug.print("case {s} {s}\n", .{ c.op, c.attrs });
                return err;
            };
        } else {
            const bytes = try encode(gpa, json.items, &table);
            defer gpa.free(bytes);
            var diag = Diagnostic{};
            var p = Program.parse(gpa, bytes, &diag) catch |err| {
                std.debug.print("case {s} {s}: {s}\n", .{ c.op, c.attrs, diag.message() });
                return err;
            };
            p.deinit(gpa);
        }
    }
}

test "outSize follows ONNX including the ceil_mode last-window rule" {
    try testing.expectEqual(@as(?u32, 2), outSize(5, 3, 2, 1, 0, 0, false));
    try testing.expectEqual(@as(?u32, 3), outSize(6, 3, 2, 1, 0, 0, true)); // ceil((6-3)/2)+1 = 3
    try testing.expectEqual(@as(?u32, 2), outSize(4, 2, 2, 1, 0, 1, true)); // 3rd window would start at 4 >= 4
    try testing.expectEqual(@as(?u32, null), outSize(2, 3, 1, 1, 0, 0, false));
    try testing.expectEqual(@as(?u32, 3), outSize(7, 3, 1, 2, 0, 0, false));
}

test "huge counts: more tensors than the format allows is an error before any per-tensor work" {
    const gpa = testing.allocator;
    var json = std.ArrayList(u8).init(gpa);
    defer json.deinit();
    try json.appendSlice("{\"tensors\":[");
    for (0..max_tensors + 1) |i| {
        if (i > 0) try json.append(',');
        try json.appendSlice("0");
    }
    try json.appendSlice("],\"inputs\":[0],\"outputs\":[1],\"ops\":[]}");
    try expectInvalid(json.items, &.{}, &.{"65537 tensors (limit 65536)"});
    // an index list longer than the tensor list
    try expectInvalid(
        \\{"tensors":[{"name":"a","shape":[1,1,1,1],"scale":1,"zero_point":0}],"inputs":[0,0,0],"outputs":[0],"ops":[]}
    , &.{}, &.{"'inputs' has 3 entries (limit 1)"});
    // deeply nested JSON does not overflow the stack
    const deep = try gpa.alloc(u8, 200000);
    defer gpa.free(deep);
    @memset(deep[0..100000], '[');
    @memset(deep[100000..], ']');
    try expectInvalid(deep, &.{}, &.{"must be an object"});
}

test "size arithmetic never wraps: huge padding and Conv pads are refused" {
    // four padded dimensions of 1 + 2 x 65535 would be 2.9e20 bytes, past 2^64
    try expectInvalid(
        \\{"tensors":[{"name":"x","shape":[1,1,1,1],"scale":0.5,"zero_point":0,"padding":[[65535,65535],[65535,65535],[65535,65535],[65535,65535]]},
        \\ {"name":"y","shape":[1,1,1,1],"scale":0.5,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1],"ops":[{"op":"Relu","name":"r","inputs":[0],"outputs":[1]}]}
    , "", &.{ "tensor 0 'x'", "padded shape[0] = 131071 > 65535" });
    // a Conv whose padded int16 scratch (131071^2 x 32768 x 65535 x 2) is past 2^64
    try expectInvalid(
        \\{"tensors":[{"name":"x","shape":[65535,1,1,32768],"scale":0.5,"zero_point":0},
        \\ {"name":"y","shape":[65535,3,3,1],"scale":0.5,"zero_point":0}],
        \\ "inputs":[0],"outputs":[1],"ops":[{"op":"Conv","name":"c","inputs":[0],"outputs":[1],"kernel":[1,1],"strides":[65535,65535],
        \\  "pads":[65535,65535,65535,65535],"weights":{"offset":0,"length":32768},"bias":{"offset":0,"length":4},"w_scale":{"offset":0,"length":4}}]}
    , "", &.{ "op 0 'c'", "padded input too large" });
}
