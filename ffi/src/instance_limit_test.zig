//! Tests of the per-instance memory limit (`memory_limit`, AXR_EMU_MEMORY_LIMIT, 2 GiB by
//! default): the executor's budget (exec.Runner.initWithin) and the C ABI's answer.

const std = @import("std");
const abi = @import("abi.zig");
const exec = @import("exec.zig");
const prog = @import("program.zig");
const instance = @import("instance.zig");
const x = @import("exports.zig");
const xm = @import("exports_model.zig");
const testutil = @import("testutil.zig");
const util = @import("exec_testutil.zig");

const testing = std.testing;
const tiny = "tests/fixtures/tiny";

/// A 1x64x64x4 input resized to 1x65472x4096x4 (1023 MiB), a 1x1 Conv over it (another
/// 1023 MiB and 2046 MiB of int16 scratch) and a global average pool: 4 GiB declared by
/// a few hundred bytes.
const huge_json =
    \\{"tensors":[{"name":"x","shape":[1,64,64,4],"scale":0.05,"zero_point":0},
    \\ {"name":"big","shape":[1,65472,4096,4],"scale":0.05,"zero_point":0},
    \\ {"name":"conv","shape":[1,65472,4096,4],"scale":0.05,"zero_point":0},
    \\ {"name":"y","shape":[1,1,1,4],"scale":0.05,"zero_point":0}],
    \\ "inputs":[0],"outputs":[3],
    \\ "ops":[{"op":"Resize","name":"up","inputs":[0],"outputs":[1],"scales":[1023,64]},
    \\  {"op":"Conv","name":"conv","inputs":[1],"outputs":[2],"kernel":[1,1],
    \\   "weights":{"offset":0,"length":16},"bias":{"offset":16,"length":16},"w_scale":{"offset":32,"length":16}},
    \\  {"op":"GlobalAveragePool","name":"gap","inputs":[2],"outputs":[3]}]}
;

fn hugeData() [48]u8 {
    var d = [_]u8{0} ** 48;
    for (0..4) |i| d[i * 5] = 1;
    for (0..4) |i| std.mem.writeInt(u32, d[32 + 4 * i ..][0..4], @bitCast(@as(f32, 1)), .little);
    return d;
}

test "sizes: digits with an optional K, M, G or T" {
    const parse = instance.parseSize;
    try testing.expectEqual(@as(?u64, 0), parse("0"));
    try testing.expectEqual(@as(?u64, 4096), parse("4096"));
    try testing.expectEqual(@as(?u64, 4 << 10), parse("4K"));
    try testing.expectEqual(@as(?u64, 512 << 20), parse("512m"));
    try testing.expectEqual(@as(?u64, 2 << 30), parse("2G"));
    try testing.expectEqual(@as(?u64, 1 << 40), parse("1T"));
    for ([_][]const u8{ "", "G", "-1", "1.5G", "2GB", " 2", "0x10", "18446744073709551616", "16777216T" }) |bad|
        try testing.expectEqual(@as(?u64, null), parse(bad));
}

test "budget: a huge declared program is refused before its tensors are allocated" {
    const gpa = testing.allocator;
    const data = hugeData();
    const bytes = try prog.encode(gpa, huge_json, &data);
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = prog.Program.parse(gpa, bytes, &diag) catch |e| {
        std.debug.print("{s}\n", .{diag.message()});
        return e;
    };
    defer p.deinit(gpa);
    try testing.expect(bytes.len < 1024);
    var fp: exec.Footprint = .{};
    // testing.allocator would fail the test if the 4 GiB were allocated and leaked; the
    // budget answers first
    try testing.expectError(error.MemoryLimit, exec.Runner.initWithin(gpa, &p, .{}, instance.default_memory_limit, &fp));
    try testing.expectEqual(@as(u64, 2 * 65472 * 4096 * 4), fp.tensors);
    try testing.expect(fp.scratch >= 2 * 65472 * 4096 * 4);
    try testing.expect(fp.total() > 4_000_000_000);
}

test "budget: what initWithin budgets is what the runner holds" {
    const gpa = testing.allocator;
    const bytes = try util.readFixture(gpa, "tiny", "program.axp");
    defer gpa.free(bytes);
    var diag = prog.Diagnostic{};
    var p = try prog.Program.parse(gpa, bytes, &diag);
    defer p.deinit(gpa);
    try testing.expect(p.bytes > 0);
    var fp: exec.Footprint = .{};
    var r = try exec.Runner.initWithin(gpa, &p, .{}, std.math.maxInt(u64), &fp);
    defer r.deinit(gpa);
    try testing.expectEqual(@as(u64, r.memoryBytes()), fp.total());
    try testing.expectError(error.MemoryLimit, exec.Runner.initWithin(gpa, &p, .{}, fp.total() - 1, &fp));
}

fn expectInstanceFails(ctx: *anyopaque, conn: *anyopaque, m: *anyopaque, props: ?[:0]const u8, code: abi.Result, needles: []const []const u8) !void {
    const p = if (props) |s| x.axr_create_properties(ctx, s).? else null;
    defer if (p) |q| x.axr_destroy(q);
    if (xm.axr_load_model_instance(conn, m, p)) |inst| {
        x.axr_destroy(inst);
        return error.TestExpectedError;
    }
    try testing.expectEqual(code, x.axr_last_error(ctx));
    const msg = std.mem.span(x.axr_last_error_string(ctx));
    for (needles) |n| if (std.mem.indexOf(u8, msg, n) == null) {
        std.debug.print("message '{s}' lacks '{s}'\n", .{ msg, n });
        return error.TestUnexpectedMessage;
    };
}

test "C ABI: memory_limit and AXR_EMU_MEMORY_LIMIT, INCOMPATIBLE_DEVICE naming the sizes" {
    var env = try testutil.Env.init();
    defer env.deinit();
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const m = xm.axr_load_model(ctx, tiny ++ "/model.json") orelse return testutil.ctxError(ctx);
    const conn = x.axr_device_connect(ctx, null, 1, null) orelse return testutil.ctxError(ctx);
    try expectInstanceFails(ctx, conn, m, "memory_limit=1K", .incompatible_device, &.{ "model 'tiny' needs", "memory limit of 1024 bytes from the memory_limit property" });
    try expectInstanceFails(ctx, conn, m, "memory_limit=2GB", .invalid_argument, &.{"memory_limit=2GB"});
    try expectInstanceFails(ctx, conn, m, "memory_limit=-1", .invalid_argument, &.{"memory_limit=-1"});
    for ([_][:0]const u8{ "memory_limit=1M", "memory_limit=0", "memory_limit=1048576" }) |ok| {
        const p = x.axr_create_properties(ctx, ok).?;
        defer x.axr_destroy(p);
        const inst = xm.axr_load_model_instance(conn, m, p) orelse return testutil.ctxError(ctx);
        x.axr_destroy(inst);
    }
    env.set("AXR_EMU_MEMORY_LIMIT", "2K");
    try expectInstanceFails(ctx, conn, m, null, .incompatible_device, &.{"from AXR_EMU_MEMORY_LIMIT"});
    // the property wins over the environment
    {
        const p = x.axr_create_properties(ctx, "memory_limit=64K").?;
        defer x.axr_destroy(p);
        const inst = xm.axr_load_model_instance(conn, m, p) orelse return testutil.ctxError(ctx);
        x.axr_destroy(inst);
    }
    for ([_][]const u8{ "lots", "0", "" }) |bad| {
        env.set("AXR_EMU_MEMORY_LIMIT", bad);
        try expectInstanceFails(ctx, conn, m, null, .invalid_argument, &.{"AXR_EMU_MEMORY_LIMIT="});
    }
    env.set("AXR_EMU_MEMORY_LIMIT", null);
    const inst = xm.axr_load_model_instance(conn, m, null) orelse return testutil.ctxError(ctx);
    x.axr_destroy(inst);
}
