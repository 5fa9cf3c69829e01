//! Tests of model loading and model instances through the C ABI, on the committed
//! fixtures (tests/fixtures/) and on corrupted copies of them.

const std = @import("std");
const abi = @import("abi.zig");
const object = @import("object.zig");
const x = @import("exports.zig");
const xm = @import("exports_model.zig");
const testutil = @import("testutil.zig");

const testing = std.testing;
const tiny = "tests/fixtures/tiny";

fn readAlloc(path: []const u8) ![]u8 {
    return std.fs.cwd().readFileAlloc(testing.allocator, path, 1 << 24);
}

/// Copies the tiny fixture into a temp dir, with `model.json` / `manifest.json` replaced
/// when given, and returns the path of the copied model.json.
const Copy = struct {
    tmp: testing.TmpDir,
    buf: [std.fs.max_path_bytes]u8 = undefined,
    len: usize = 0,

    fn init(model_json: ?[]const u8, manifest_json: ?[]const u8) !Copy {
        var c = Copy{ .tmp = testing.tmpDir(.{}) };
        errdefer c.tmp.cleanup();
        var src = try std.fs.cwd().openDir(tiny, .{});
        defer src.close();
        for ([_][]const u8{ "model.json", "manifest.json", "program.axp" }) |f| try src.copyFile(f, c.tmp.dir, f, .{});
        if (model_json) |t| try c.tmp.dir.writeFile(.{ .sub_path = "model.json", .data = t });
        if (manifest_json) |t| try c.tmp.dir.writeFile(.{ .sub_path = "manifest.json", .data = t });
        var dbuf: [std.fs.max_path_bytes]u8 = undefined;
        const dir = try c.tmp.dir.realpath(".", &dbuf);
        c.len = (try std.fmt.bufPrintZ(&c.buf, "{s}/model.json", .{dir})).len;
        return c;
    }
    /// The path of the copied model.json (in `buf`: taken after the copy is in place).
    fn path(self: *const Copy) [:0]const u8 {
        return self.buf[0..self.len :0];
    }
    fn deinit(self: *Copy) void {
        self.tmp.cleanup();
    }
};

fn replaceOnce(a: std.mem.Allocator, text: []const u8, old: []const u8, new: []const u8) ![]u8 {
    const i = std.mem.indexOf(u8, text, old) orelse return error.TestPatternNotFound;
    return std.mem.concat(a, u8, &.{ text[0..i], new, text[i + old.len ..] });
}

/// Expects axr_load_model to fail with INVALID_ARGUMENT and a message containing `needle`.
fn expectLoadFails(ctx: *anyopaque, model_json: ?[]const u8, manifest_json: ?[]const u8, needle: []const u8) !void {
    var c = try Copy.init(model_json, manifest_json);
    defer c.deinit();
    if (xm.axr_load_model(ctx, c.path())) |m| {
        x.axr_destroy(m);
        std.debug.print("loaded, expected failure with '{s}'\n", .{needle});
        return error.TestExpectedError;
    }
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(ctx));
    const msg = std.mem.span(x.axr_last_error_string(ctx));
    if (std.mem.indexOf(u8, msg, needle) == null) {
        std.debug.print("message '{s}' lacks '{s}'\n", .{ msg, needle });
        return error.TestUnexpectedMessage;
    }
}

test "load the tiny fixture: tensor infos and properties" {
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const m = xm.axr_load_model(ctx, tiny ++ "/model.json") orelse return testutil.ctxError(ctx);
    try testing.expectEqual(@as(usize, 1), xm.axr_num_model_inputs(m));
    try testing.expectEqual(@as(usize, 1), xm.axr_num_model_outputs(m));
    const in = xm.axr_get_model_input(m, 0);
    try testing.expectEqual(@as(usize, 4), in.ndims);
    try testing.expectEqual([4]usize{ 1, 8, 8, 4 }, in.dims[0..4].*);
    try testing.expectEqual(@as(usize, 8), in.bits);
    try testing.expectEqual(@as(c_int, 1), in.type);
    try testing.expectEqualStrings("input", abi.getCString(&in.name));
    try testing.expectEqual([2]usize{ 0, 1 }, in.padding[3]);
    try testing.expectEqual(@as(c_int, 3), in.zero_point);
    try testing.expectApproxEqRel(@as(f64, 0.02), in.scale, 1e-6);
    try testing.expectEqual(@as(usize, 256), xm.axr_tensor_size(&in));
    const out = xm.axr_get_model_output(m, 0);
    try testing.expectEqual([4]usize{ 1, 1, 1, 16 }, out.dims[0..4].*);
    try testing.expectEqualStrings("fc", abi.getCString(&out.name));
    try testing.expectEqual(@as(usize, 0), xm.axr_tensor_size(null));

    // out of range: zeroed info and the model's last error
    const bad = xm.axr_get_model_input(m, 1);
    try testing.expectEqual(@as(usize, 0), bad.ndims);
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(m));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(m)), "input 1 is out of range") != null);
    var ti: abi.TensorInfo = undefined;
    try testing.expectEqual(abi.Result.success, xm.axr_ext_get_model_output(m, 0, &ti));
    try testing.expectEqual(@as(c_int, 4), ti.zero_point);
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_ext_get_model_output(m, 7, &ti));
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_ext_get_model_input(m, 0, null));

    const p = xm.axr_get_model_properties(m).?;
    try testing.expectEqualStrings("", std.mem.span(x.axr_get_property(p, "preamble_graph").?));
    try testing.expectEqualStrings("", std.mem.span(x.axr_get_property(p, "postamble_graph").?));
    try testing.expectEqualStrings("NHWC", std.mem.span(x.axr_get_property(p, "input_tensor_layout").?));
    try testing.expectEqualStrings("tiny", std.mem.span(x.axr_get_property(p, "name").?));
}

test "corrupt model.json and manifest.json give errors naming the field, never a crash" {
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const a = testing.allocator;
    const mj = try readAlloc(tiny ++ "/model.json");
    defer a.free(mj);
    const man = try readAlloc(tiny ++ "/manifest.json");
    defer a.free(man);

    try testing.expect(xm.axr_load_model(ctx, "/nonexistent/model.json") == null);
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "cannot open") != null);
    try testing.expect(xm.axr_load_model(ctx, null) == null);
    try testing.expect(xm.axr_load_model(null, "x") == null);

    try expectLoadFails(ctx, "{", null, "invalid JSON");
    try expectLoadFails(ctx, "[1,2]", null, "top level");
    try expectLoadFails(ctx, "", null, "invalid JSON");
    try expectLoadFails(ctx, "\x00\xff\xfe garbage", null, "invalid JSON");
    {
        const deep = try a.alloc(u8, 1 << 20);
        defer a.free(deep);
        @memset(deep, '[');
        try expectLoadFails(ctx, deep, null, "invalid JSON");
        try expectLoadFails(ctx, null, deep, "manifest.json: invalid JSON");
    }
    const cases = [_][3][]const u8{
        .{ "\"format\": \"axr-model\"", "\"format\": \"onnx\"", "'onnx'" },
        .{ "\"format\": \"axr-model\",", "", "missing \"format\"" },
        .{ "\"version\": 1", "\"version\": \"1\"", "\"version\" must be an integer" },
        .{ "\"version\": 1", "\"version\": 2", "not supported" },
        .{ "\"manifest\": \"manifest.json\"", "\"manifest\": \"/etc/passwd\"", "must be a relative path" },
        .{ "\"manifest\": \"manifest.json\"", "\"manifest\": \"../tiny/manifest.json\"", "'..'" },
        .{ "\"manifest\": \"manifest.json\"", "\"manifest\": 5", "\"manifest\" must be a string" },
        .{ "\"manifest\": \"manifest.json\"", "\"manifest\": \"missing.json\"", "cannot open" },
        .{ "\"program\": \"program.axp\"", "\"program\": \"a/../../x.axp\"", "'..'" },
        .{ "\"program\": \"program.axp\"", "\"program\": \"manifest.json\"", "manifest.json: " },
        .{ "\"program\": \"program.axp\",", "", "missing \"program\"" },
        .{ "\"preamble_graph\": null", "\"preamble_graph\": \"pre.onnx\"", "\"preamble_graph\": cannot open 'pre.onnx'" },
        .{ "\"postamble_graph\": null", "\"postamble_graph\": 3", "must be a string or null" },
    };
    for (cases) |c| {
        const t = try replaceOnce(a, mj, c[0], c[1]);
        defer a.free(t);
        try expectLoadFails(ctx, t, null, c[2]);
    }
    const mcases = [_][3][]const u8{
        .{ "\"quantize_params\"", "\"quantize_paramz\"", "missing \"quantize_params\"" },
        .{ "0.019999999552965164", "0.5", "quantize_params" },
        .{ "0.019999999552965164,\n   3", "0.019999999552965164,\n   4", "quantize_params" },
        .{ "0.949999988079071", "\"x\"", "scale must be a number" },
        .{ "   8,\n   4\n", "   8,\n   5\n", "input_shapes" },
        .{ "\"output_names\": [\n  \"fc\"", "\"output_names\": [\n  \"logits\"", "'logits'" },
        .{ "\"input_dtypes\": [\n  \"int8\"", "\"input_dtypes\": [\n  \"uint8\"", "input_dtypes" },
        .{ "\"manifest_version\": 1", "\"manifest_version\": 7", "manifest_version" },
        .{ "\"model_lib_file\": \"program.axp\"", "\"model_lib_file\": \"other.axp\"", "model_lib_file" },
        .{ "\"output_shapes\": [", "\"output_shapes\": 3, \"x\": [", "\"output_shapes\" must be an array" },
    };
    for (mcases) |c| {
        const t = replaceOnce(a, man, c[0], c[1]) catch |e| {
            std.debug.print("pattern not found: {s}\n", .{c[0]});
            return e;
        };
        defer a.free(t);
        try expectLoadFails(ctx, null, t, c[2]);
    }
    try expectLoadFails(ctx, null, "{}", "missing \"quantize_params\"");
    try expectLoadFails(ctx, null, "{\"quantize_params\": [], \"input_shapes\": []}", "has 0 entries but the program has 1");
}

test "a corrupt program gives an error naming the program file" {
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    var c = try Copy.init(null, null);
    defer c.deinit();
    const f = try c.tmp.dir.openFile("program.axp", .{ .mode = .read_write });
    defer f.close();
    try f.setEndPos(40);
    try testing.expect(xm.axr_load_model(ctx, c.path()) == null);
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(ctx));
    try testing.expect(std.mem.startsWith(u8, std.mem.span(x.axr_last_error_string(ctx)), "program.axp: "));
}

test "instance: properties validated, runs bit-exact with host pointers and memfds, stats" {
    var env = try testutil.Env.init();
    defer env.deinit();
    const a = testing.allocator;
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const m = xm.axr_load_model(ctx, tiny ++ "/model.json") orelse return testutil.ctxError(ctx);
    const conn = x.axr_device_connect(ctx, null, 2, null) orelse return testutil.ctxError(ctx);

    const bad_props = [_][2][]const u8{
        .{ "aipu_cores=5", "aipu_cores=5" },
        .{ "num_sub_devices=3", "num_sub_devices=3" },
        .{ "input_dmabuf=yes", "input_dmabuf=yes" },
        .{ "double_buffer=2", "double_buffer=2" },
        .{ "batch=4", "unknown model instance property 'batch'" },
    };
    for (bad_props) |bp| {
        var zb: [64]u8 = undefined;
        const p = x.axr_create_properties(ctx, try std.fmt.bufPrintZ(&zb, "{s}", .{bp[0]})).?;
        try testing.expect(xm.axr_load_model_instance(conn, m, p) == null);
        try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(ctx));
        try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), bp[1]) != null);
        x.axr_destroy(p);
    }
    try testing.expect(xm.axr_load_model_instance(conn, null, null) == null);
    try testing.expect(xm.axr_load_model_instance(null, m, null) == null);

    const in = try readAlloc(tiny ++ "/cases/in_0_0.bin");
    defer a.free(in);
    const want = try readAlloc(tiny ++ "/cases/out_0_0.bin");
    defer a.free(want);
    var out: [16]u8 = undefined;

    const inst = xm.axr_load_model_instance(conn, m, null) orelse return testutil.ctxError(ctx);
    var ia = [_]abi.Argument{.{ .ptr = in.ptr, .fd = 0, .offset = 0, .size = 0 }};
    var oa = [_]abi.Argument{.{ .ptr = &out, .fd = -1, .offset = 0, .size = 16 }};
    try expectRun(inst, &ia, &oa);
    try testing.expectEqualSlices(u8, want, &out);

    // argument errors name the tensor
    ia[0].size = 1000;
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    try testing.expectEqualStrings("input 0 'input': size 1000 != expected 256", std.mem.span(x.axr_last_error_string(inst)));
    ia[0].size = 256;
    ia[0].offset = 8;
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    ia[0].offset = 0;
    oa[0].ptr = null;
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(inst)), "output 0 'fc': ptr is NULL") != null);
    oa[0].ptr = &out;
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst, &ia, 2, &oa, 1));
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst, null, 1, &oa, 1));
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(null, &ia, 1, &oa, 1));

    const stats = std.mem.span(xm.axr_ext_instance_stats(inst).?);
    var parsed = try std.json.parseFromSlice(std.json.Value, a, stats, .{});
    defer parsed.deinit();
    try testing.expectEqual(@as(i64, 1), parsed.value.object.get("runs").?.integer);
    try testing.expect(parsed.value.object.get("last_device_cycles").?.integer > 0);
    try testing.expectEqual(@as(usize, 2), parsed.value.object.get("clock_mhz").?.array.items.len);
    try testing.expectEqual(@as(usize, 0), parsed.value.object.get("ops").?.array.items.len);
    try testing.expect(parsed.value.object.get("host") == null);

    // dmabuf-style: memfds, with device and host profiling
    const p = x.axr_create_properties(ctx, "input_dmabuf=1;output_dmabuf=1;device_profiling=1;host_profiling=1;aipu_cores=1").?;
    const inst2 = xm.axr_load_model_instance(conn, m, p) orelse return testutil.ctxError(ctx);
    const ifd = try std.posix.memfd_create("axr-in", 0);
    defer std.posix.close(ifd);
    const ofd = try std.posix.memfd_create("axr-out", 0);
    defer std.posix.close(ofd);
    _ = try std.posix.pwrite(ifd, in, 0);
    var fa = [_]abi.Argument{.{ .ptr = null, .fd = ifd, .offset = 0, .size = 0 }};
    var fo = [_]abi.Argument{.{ .ptr = null, .fd = ofd, .offset = 0, .size = 0 }};
    // output memfd too small: error, no SIGBUS
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst2, &fa, 1, &fo, 1));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(inst2)), "has 0 bytes") != null);
    try std.posix.ftruncate(ofd, 16);
    try testing.expectEqual(abi.Result.success, xm.axr_run_model_instance(inst2, &fa, 1, &fo, 1));
    var got: [16]u8 = undefined;
    _ = try std.posix.pread(ofd, &got, 0);
    try testing.expectEqualSlices(u8, want, &got);
    const s2 = std.mem.span(xm.axr_ext_instance_stats(inst2).?);
    var p2 = try std.json.parseFromSlice(std.json.Value, a, s2, .{});
    defer p2.deinit();
    try testing.expect(p2.value.object.get("ops").?.array.items.len > 0);
    try testing.expect(p2.value.object.get("host").?.array.items.len >= 3);
    try testing.expectEqual(@as(usize, 1), p2.value.object.get("clock_mhz").?.array.items.len);
    fa[0].fd = 0;
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst2, &fa, 1, &fo, 1));

    // the instance outlives its model handle; the connection destroys its instances
    x.axr_destroy(m);
    oa[0].size = 0;
    try testing.expectEqual(abi.Result.success, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    x.axr_destroy(conn);
    try testing.expectEqual(abi.Result.invalid_argument, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    try testing.expect(xm.axr_ext_instance_stats(inst2) == null);
}

test "instance: a new device configuration changes the modelled time" {
    var env = try testutil.Env.init();
    defer env.deinit();
    env.set("AXR_EMU_SETTLE_MS", "0");
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const m = xm.axr_load_model(ctx, tiny ++ "/model.json") orelse return testutil.ctxError(ctx);
    const conn = x.axr_device_connect(ctx, null, 1, null) orelse return testutil.ctxError(ctx);
    const inst = xm.axr_load_model_instance(conn, m, null) orelse return testutil.ctxError(ctx);
    var in: [256]u8 = .{0} ** 256;
    var out: [16]u8 = undefined;
    var ia = [_]abi.Argument{.{ .ptr = &in, .fd = 0, .offset = 0, .size = 0 }};
    var oa = [_]abi.Argument{.{ .ptr = &out, .fd = 0, .offset = 0, .size = 0 }};
    try testing.expectEqual(abi.Result.success, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    const us800 = try deviceUs(inst);
    var list: ?[*]abi.DeviceInfo = null;
    _ = x.axr_list_devices(ctx, &list);
    const p = x.axr_create_properties(ctx, "clock_profile=200").?;
    try testing.expectEqual(abi.Result.success, x.axr_configure_device(ctx, &list.?[0], p));
    try testing.expectEqual(abi.Result.success, xm.axr_run_model_instance(inst, &ia, 1, &oa, 1));
    const us200 = try deviceUs(inst);
    try testing.expect(us200 > us800 * 3.5);
    try testing.expect(std.mem.indexOf(u8, std.mem.span(xm.axr_ext_instance_stats(inst).?), "\"clock_mhz\":[200]") != null);
}

fn deviceUs(inst: *anyopaque) !f64 {
    var parsed = try std.json.parseFromSlice(std.json.Value, testing.allocator, std.mem.span(xm.axr_ext_instance_stats(inst).?), .{});
    defer parsed.deinit();
    const v = parsed.value.object.get("last_device_us").?;
    return switch (v) {
        .float => |f| f,
        .integer => |i| @floatFromInt(i),
        else => error.TestUnexpectedType,
    };
}

fn expectRun(inst: *anyopaque, ia: []abi.Argument, oa: []abi.Argument) !void {
    const r = xm.axr_run_model_instance(inst, ia.ptr, ia.len, oa.ptr, oa.len);
    if (r != .success) {
        std.debug.print("run failed: {s}: {s}\n", .{ @tagName(r), x.axr_last_error_string(inst) });
        return error.TestRunFailed;
    }
}

/// Runs every golden case of a fixture through the C ABI and compares every output.
fn runFixture(ctx: *anyopaque, conn: *anyopaque, dir: []const u8) !usize {
    const a = testing.allocator;
    var pbuf: [256]u8 = undefined;
    const mpath = try std.fmt.bufPrintZ(&pbuf, "tests/fixtures/{s}/model.json", .{dir});
    const m = xm.axr_load_model(ctx, mpath) orelse return testutil.ctxError(ctx);
    defer x.axr_destroy(m);
    const inst = xm.axr_load_model_instance(conn, m, null) orelse return testutil.ctxError(ctx);
    defer x.axr_destroy(inst);
    const n_in = xm.axr_num_model_inputs(m);
    const n_out = xm.axr_num_model_outputs(m);
    var ins: [8][]u8 = undefined;
    var outs: [8][]u8 = undefined;
    var ia: [8]abi.Argument = undefined;
    var oa: [8]abi.Argument = undefined;
    var case: usize = 0;
    while (true) : (case += 1) {
        var loaded: usize = 0;
        defer for (ins[0..loaded]) |b| a.free(b);
        for (0..n_in) |i| {
            const p = try std.fmt.bufPrint(&pbuf, "tests/fixtures/{s}/cases/in_{d}_{d}.bin", .{ dir, case, i });
            ins[i] = readAlloc(p) catch |e| switch (e) {
                error.FileNotFound => return case,
                else => return e,
            };
            loaded += 1;
            const t = xm.axr_get_model_input(m, i);
            try testing.expectEqual(xm.axr_tensor_size(&t), ins[i].len);
            ia[i] = .{ .ptr = ins[i].ptr, .fd = 0, .offset = 0, .size = ins[i].len };
        }
        var made: usize = 0;
        defer for (outs[0..made]) |b| a.free(b);
        for (0..n_out) |j| {
            const t = xm.axr_get_model_output(m, j);
            outs[j] = try a.alloc(u8, xm.axr_tensor_size(&t));
            made += 1;
            @memset(outs[j], 0x55);
            oa[j] = .{ .ptr = outs[j].ptr, .fd = 0, .offset = 0, .size = 0 };
        }
        try expectRun(inst, ia[0..n_in], oa[0..n_out]);
        for (0..n_out) |j| {
            const p = try std.fmt.bufPrint(&pbuf, "tests/fixtures/{s}/cases/out_{d}_{d}.bin", .{ dir, case, j });
            const want = try readAlloc(p);
            defer a.free(want);
            try testing.expectEqualSlices(u8, want, outs[j]);
        }
    }
}

test "every committed fixture runs bit-exact through the C ABI" {
    var env = try testutil.Env.init();
    defer env.deinit();
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const conn = x.axr_device_connect(ctx, null, 4, null) orelse return testutil.ctxError(ctx);
    var total: usize = 0;
    for ([_][]const u8{ "tiny", "ops", "uint8" }) |d| total += try runFixture(ctx, conn, d);
    try testing.expect(total >= 3);
}

test "oversized and non-regular model files are refused before reading" {
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    var c = try Copy.init(null, null);
    defer c.deinit();
    {
        const f = try c.tmp.dir.openFile("manifest.json", .{ .mode = .read_write });
        defer f.close();
        try f.setEndPos((16 << 20) + 1); // sparse
    }
    try testing.expect(xm.axr_load_model(ctx, c.path()) == null);
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "larger than the limit") != null);
    var dbuf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try c.tmp.dir.realpath(".", &dbuf);
    var zb: [std.fs.max_path_bytes]u8 = undefined;
    try testing.expect(xm.axr_load_model(ctx, try std.fmt.bufPrintZ(&zb, "{s}", .{dir})) == null);
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "not a regular file") != null);
}

/// Expects loading `c` to fail with INVALID_ARGUMENT and a message containing each needle.
fn expectLoadRefused(ctx: *anyopaque, c: *const Copy, needles: []const []const u8) !void {
    if (xm.axr_load_model(ctx, c.path())) |m| {
        x.axr_destroy(m);
        return error.TestExpectedError;
    }
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(ctx));
    const msg = std.mem.span(x.axr_last_error_string(ctx));
    for (needles) |n| if (std.mem.indexOf(u8, msg, n) == null) {
        std.debug.print("message '{s}' lacks '{s}'\n", .{ msg, n });
        return error.TestUnexpectedMessage;
    };
}

test "model files: symlinks out of the model directory are refused, inside ones followed" {
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    // program.axp -> /etc/passwd
    {
        var c = try Copy.init(null, null);
        defer c.deinit();
        try c.tmp.dir.deleteFile("program.axp");
        try c.tmp.dir.symLink("/etc/passwd", "program.axp", .{});
        try expectLoadRefused(ctx, &c, &.{ "program.axp", "resolves to '/etc/passwd'", "outside the model directory" });
    }
    // a program inside a symlinked directory that leads out of the model directory
    {
        var c = try Copy.init("{\"format\": \"axr-model\", \"version\": 1, \"manifest\": \"manifest.json\", \"program\": \"lib/program.axp\"}", null);
        defer c.deinit();
        var out = testing.tmpDir(.{});
        defer out.cleanup();
        try c.tmp.dir.copyFile("program.axp", out.dir, "program.axp", .{});
        var obuf: [std.fs.max_path_bytes]u8 = undefined;
        try c.tmp.dir.symLink(try out.dir.realpath(".", &obuf), "lib", .{ .is_directory = true });
        try expectLoadRefused(ctx, &c, &.{ "lib/program.axp", "outside the model directory" });
        // the same layout with lib/ a real directory of the model loads
        try c.tmp.dir.deleteFile("lib");
        try c.tmp.dir.makeDir("lib");
        try c.tmp.dir.rename("program.axp", "lib/program.axp");
        const m = xm.axr_load_model(ctx, c.path()) orelse return testutil.ctxError(ctx);
        x.axr_destroy(m);
    }
    // model.json itself and the manifest are held to the same rule
    {
        var c = try Copy.init(null, null);
        defer c.deinit();
        var out = testing.tmpDir(.{});
        defer out.cleanup();
        try c.tmp.dir.copyFile("manifest.json", out.dir, "manifest.json", .{});
        try c.tmp.dir.deleteFile("manifest.json");
        var obuf: [std.fs.max_path_bytes]u8 = undefined;
        const target = try std.fmt.allocPrint(testing.allocator, "{s}/manifest.json", .{try out.dir.realpath(".", &obuf)});
        defer testing.allocator.free(target);
        try c.tmp.dir.symLink(target, "manifest.json", .{});
        try expectLoadRefused(ctx, &c, &.{ "manifest.json", "outside the model directory" });
    }
    // a symlink that stays inside is followed: program.axp -> build/program.axp
    {
        var c = try Copy.init(null, null);
        defer c.deinit();
        try c.tmp.dir.makeDir("build");
        try c.tmp.dir.rename("program.axp", "build/program.axp");
        try c.tmp.dir.symLink("build/program.axp", "program.axp", .{});
        const m = xm.axr_load_model(ctx, c.path()) orelse return testutil.ctxError(ctx);
        x.axr_destroy(m);
    }
}

const Runner = struct {
    fn loop(inst: *anyopaque, in: []u8, out: []u8, n: usize, failures: *std.atomic.Value(u32)) void {
        var ia = [_]abi.Argument{.{ .ptr = in.ptr, .fd = 0, .offset = 0, .size = 0 }};
        var oa = [_]abi.Argument{.{ .ptr = out.ptr, .fd = 0, .offset = 0, .size = 0 }};
        for (0..n) |_| {
            if (xm.axr_run_model_instance(inst, &ia, 1, &oa, 1) != .success) _ = failures.fetchAdd(1, .monotonic);
            _ = xm.axr_ext_instance_stats(inst);
        }
    }
};

test "threads: one instance shared by two threads, two instances in parallel" {
    var env = try testutil.Env.init();
    defer env.deinit();
    const a = testing.allocator;
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    const m = xm.axr_load_model(ctx, tiny ++ "/model.json") orelse return testutil.ctxError(ctx);
    const c1 = x.axr_device_connect(ctx, null, 1, null) orelse return testutil.ctxError(ctx);
    const c2 = x.axr_device_connect(ctx, null, 1, null) orelse return testutil.ctxError(ctx);
    const shared = xm.axr_load_model_instance(c1, m, null) orelse return testutil.ctxError(ctx);
    const other = xm.axr_load_model_instance(c2, m, null) orelse return testutil.ctxError(ctx);
    const in = try readAlloc(tiny ++ "/cases/in_1_0.bin");
    defer a.free(in);
    const want = try readAlloc(tiny ++ "/cases/out_1_0.bin");
    defer a.free(want);
    var outs: [3][16]u8 = undefined;
    var failures = std.atomic.Value(u32).init(0);
    const n = 200;
    const t1 = try std.Thread.spawn(.{}, Runner.loop, .{ shared, in, &outs[0], n, &failures });
    const t2 = try std.Thread.spawn(.{}, Runner.loop, .{ shared, in, &outs[1], n, &failures });
    const t3 = try std.Thread.spawn(.{}, Runner.loop, .{ other, in, &outs[2], n, &failures });
    t1.join();
    t2.join();
    t3.join();
    try testing.expectEqual(@as(u32, 0), failures.load(.monotonic));
    for (outs) |o| try testing.expectEqualSlices(u8, want, &o);
    try testing.expect(std.mem.indexOf(u8, std.mem.span(xm.axr_ext_instance_stats(shared).?), "\"runs\":400") != null);
}
