//! Tests of the C ABI as C sees it (context, objects, errors, properties, devices).

const std = @import("std");
const abi = @import("abi.zig");
const object = @import("object.zig");
const x = @import("exports.zig");
const testutil = @import("testutil.zig");

const testing = std.testing;

test "error and board strings" {
    try testing.expectEqualStrings("Device in use", std.mem.span(x.axr_error_string(.device_in_use)));
    try testing.expectEqualStrings("Unknown result code", std.mem.span(x.axr_error_string(@enumFromInt(77))));
    try testing.expectEqualStrings("alpha_pcie", std.mem.span(x.axr_board_type_string(.alpha_pcie)));
    try testing.expectEqualStrings("sbc", std.mem.span(x.axr_board_type_string(.sbc)));
    try testing.expectEqualStrings("unknown", std.mem.span(x.axr_board_type_string(@enumFromInt(-3))));
    try testing.expectEqual(@as(c_uint, 1), x.axr_api_version());
}

test "object lifetime: destroying the context destroys its children; NULL and stale handles" {
    const live0 = object.liveCount();
    const ctx = x.axr_create_context().?;
    const p1 = x.axr_create_properties(ctx, "a=1").?;
    const p2 = x.axr_create_properties(ctx, null).?;
    try testing.expect(x.axr_get_context(p1) == ctx);
    try testing.expect(x.axr_get_context(ctx) == ctx);
    try testing.expectEqual(live0 + 3, object.liveCount());
    x.axr_destroy(p2);
    try testing.expectEqual(live0 + 2, object.liveCount());
    // a destroyed handle is rejected, not dereferenced
    try testing.expect(x.axr_get_context(p2) == null);
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(p2));
    x.axr_destroy(p2);
    x.axr_destroy(null);
    x.axr_destroy(null);
    x.axr_destroy(ctx);
    try testing.expectEqual(live0, object.liveCount());
    try testing.expect(x.axr_get_property(p1, "a") == null);
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(null));
    try testing.expectEqualStrings("NULL handle", std.mem.span(x.axr_last_error_string(null)));
    // a pointer that is not a handle at all
    var not_a_handle: [64]u8 = .{0} ** 64;
    try testing.expect(x.axr_get_context(&not_a_handle) == null);
    x.axr_destroy(&not_a_handle);
}

test "properties through the C ABI" {
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    try testing.expect(x.axr_create_properties(ctx, " a = 1 ; b=2;;a=3") == null);
    try testing.expectEqualStrings("property 'a' is given twice", std.mem.span(x.axr_last_error_string(ctx)));
    const p = x.axr_create_properties(ctx, " a = 3 \n b=2;;\n").?;
    try testing.expectEqualStrings("3", std.mem.span(x.axr_get_property(p, "a").?));
    try testing.expectEqualStrings("a;b", std.mem.span(x.axr_list_properties(p).?));
    x.axr_set_property(p, "c", "x");
    x.axr_del_property(p, "a");
    try testing.expectEqualStrings("b;c", std.mem.span(x.axr_list_properties(p).?));
    x.axr_set_property(p, "bad;key", "1");
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(p));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(p)), "bad;key") != null);
    x.axr_set_property(p, null, "1");
    x.axr_set_property(p, "c", null);
    try testing.expect(x.axr_get_property(p, "c") == null);
    try testing.expect(x.axr_get_property(p, null) == null);
    try testing.expect(x.axr_get_property(null, "c") == null);
    // creation errors are recorded on the context
    try testing.expect(x.axr_create_properties(ctx, "a=1;novalue") == null);
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(ctx));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "'novalue'") != null);
    try testing.expect(x.axr_create_properties(null, "a=1") == null);
}

test "device list from env: default, custom, bad" {
    var env = try testutil.Env.init();
    defer env.deinit();
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    var list: ?[*]abi.DeviceInfo = null;

    env.set("AXR_EMU_DEVICES", null);
    try testing.expectEqual(@as(usize, 1), x.axr_list_devices(ctx, &list));
    const d0 = list.?[0];
    try testing.expectEqualStrings("metis-0:1:0", abi.getCString(&d0.name));
    try testing.expectEqual(@as(usize, 4), d0.subdevice_count);
    try testing.expectEqual(@as(usize, 0x80000000), d0.max_memory);
    try testing.expectEqual(abi.BoardType.pcie, d0.board_type);
    try testing.expectEqual(@as(c_int, 0), d0.in_use);
    try testing.expectEqualStrings("v1.4.0-emu", abi.getCString(&d0.firmware_version));
    try testing.expectEqualStrings("v1.4.0-emu", abi.getCString(&d0.flashed_firmware_version));
    try testing.expect(abi.getCString(&d0.board_controller_firmware_version).len > 0);
    try testing.expect(abi.getCString(&d0.board_controller_board_type).len > 0);

    env.set("AXR_EMU_DEVICES", "m2:2,sbc");
    try testing.expectEqual(@as(usize, 2), x.axr_list_devices(ctx, &list));
    try testing.expectEqual(abi.BoardType.m2, list.?[0].board_type);
    try testing.expectEqual(@as(usize, 2), list.?[0].subdevice_count);
    try testing.expectEqual(@as(usize, 0x40000000), list.?[0].max_memory);
    try testing.expectEqualStrings("metis-1:2:0", abi.getCString(&list.?[1].name));

    env.set("AXR_EMU_DEVICES", "pcie:9");
    try testing.expectEqual(@as(usize, 0), x.axr_list_devices(ctx, &list));
    try testing.expect(list == null);
    try testing.expectEqual(abi.Result.invalid_configuration, x.axr_last_error(ctx));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "AXR_EMU_DEVICES") != null);
    try testing.expect(x.axr_device_connect(ctx, null, 1, null) == null);
    try testing.expectEqual(abi.Result.invalid_configuration, x.axr_last_error(ctx));

    env.set("AXR_EMU_DEVICES", "");
    try testing.expectEqual(@as(usize, 1), x.axr_list_devices(ctx, &list));
    try testing.expectEqual(@as(usize, 0), x.axr_list_devices(null, &list));
}

test "connect: in_use, in_use_by, DEVICE_IN_USE within one process, release on destroy" {
    var env = try testutil.Env.init();
    defer env.deinit();
    env.set("AXR_EMU_DEVICES", "pcie:2,m2");
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    var list: ?[*]abi.DeviceInfo = null;
    try testing.expectEqual(@as(usize, 2), x.axr_list_devices(ctx, &list));

    const c1 = x.axr_device_connect(ctx, null, 0, null) orelse return testutil.ctxError(ctx);
    _ = x.axr_list_devices(ctx, &list);
    try testing.expectEqual(@as(c_int, 1), list.?[0].in_use);
    try testing.expect(std.mem.indexOf(u8, abi.getCString(&list.?[0].in_use_by), ":") != null);
    const c2 = x.axr_device_connect(ctx, &list.?[0], 1, null) orelse return testutil.ctxError(ctx);
    try testing.expect(x.axr_device_connect(ctx, &list.?[0], 1, null) == null);
    try testing.expectEqual(abi.Result.device_in_use, x.axr_last_error(ctx));
    const msg = std.mem.span(x.axr_last_error_string(ctx));
    try testing.expect(std.mem.indexOf(u8, msg, "metis-0:1:0 sub-device 0 is in use by") != null);
    try testing.expect(std.mem.indexOf(u8, msg, "sub-device 1 is in use by") != null);
    _ = x.axr_list_devices(ctx, &list);
    try testing.expectEqual(@as(c_int, 2), list.?[0].in_use);

    // too many sub-devices; unknown property; device_name property
    try testing.expect(x.axr_device_connect(ctx, &list.?[1], 5, null) == null);
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_last_error(ctx));
    const bad = x.axr_create_properties(ctx, "colour=blue").?;
    try testing.expect(x.axr_device_connect(ctx, null, 1, bad) == null);
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "colour") != null);
    const byname = x.axr_create_properties(ctx, "device_name=metis-1:2:0").?;
    const c3 = x.axr_device_connect(ctx, null, 4, byname) orelse return testutil.ctxError(ctx);
    _ = x.axr_list_devices(ctx, &list);
    try testing.expectEqual(@as(c_int, 4), list.?[1].in_use);

    x.axr_destroy(c1);
    _ = x.axr_list_devices(ctx, &list);
    try testing.expectEqual(@as(c_int, 1), list.?[0].in_use);
    const c4 = x.axr_device_connect(ctx, null, 1, null) orelse return testutil.ctxError(ctx);
    try testing.expect(x.axr_get_context(c4) == ctx);
    _ = c2;
    _ = c3;
    // the context destroys c2, c3, c4 and releases their locks
}

test "configure: pending then ready, read back, persistence across contexts, errors" {
    var env = try testutil.Env.init();
    defer env.deinit();
    env.set("AXR_EMU_DEVICES", "pcie,m2:2");
    env.set("AXR_EMU_SETTLE_MS", "30");
    const ctx = x.axr_create_context().?;
    var list: ?[*]abi.DeviceInfo = null;
    try testing.expectEqual(@as(usize, 2), x.axr_list_devices(ctx, &list));
    const dev = &list.?[0];

    const props = x.axr_create_properties(ctx, "clock_profile=400;clock_profile_core_3=200;mvm_utilisation_core_1=50;ddr_size=0x40000000").?;
    try testing.expectEqual(abi.Result.pending_error, x.axr_configure_device(ctx, dev, props));
    try testing.expectEqualStrings("pending", std.mem.span(x.axr_last_error_string(ctx)));
    try testing.expectEqual(abi.Result.pending_error, x.axr_device_ready(ctx, dev));
    var waited: u32 = 0;
    while (x.axr_device_ready(ctx, dev) == .pending_error) : (waited += 1) {
        try testing.expect(waited < 200);
        std.Thread.sleep(5 * std.time.ns_per_ms);
    }
    try testing.expectEqual(abi.Result.success, x.axr_device_ready(ctx, dev));

    const bad = x.axr_create_properties(ctx, "clock_profile=300;mvm_utilisation_core_0=0").?;
    try testing.expectEqual(abi.Result.invalid_configuration, x.axr_configure_device(ctx, dev, bad));
    try testing.expect(std.mem.indexOf(u8, std.mem.span(x.axr_last_error_string(ctx)), "mvm_utilisation_core_0=0") != null);
    try testing.expectEqual(abi.Result.success, x.axr_device_ready(ctx, dev));
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_configure_device(ctx, null, props));
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_configure_device(null, dev, props));
    x.axr_destroy(ctx);

    // a new context (as another process would) sees the stored configuration
    const ctx2 = x.axr_create_context().?;
    defer x.axr_destroy(ctx2);
    try testing.expectEqual(@as(usize, 2), x.axr_list_devices(ctx2, &list));
    const cfg = x.axr_read_device_configuration(ctx2, &list.?[0]) orelse return testutil.ctxError(ctx2);
    const get = struct {
        fn f(p: *anyopaque, k: [*:0]const u8) []const u8 {
            return std.mem.span(x.axr_get_property(p, k) orelse return "<absent>");
        }
    }.f;
    try testing.expectEqualStrings("400", get(cfg, "clock_profile"));
    try testing.expectEqualStrings("400", get(cfg, "clock_profile_core_0"));
    try testing.expectEqualStrings("200", get(cfg, "clock_profile_core_3"));
    try testing.expectEqualStrings("100", get(cfg, "mvm_utilisation_core_0"));
    try testing.expectEqualStrings("50", get(cfg, "mvm_utilisation_core_1"));
    try testing.expectEqualStrings("0x40000000", get(cfg, "ddr_size"));
    try testing.expectEqualStrings("metis-0:1:0", get(cfg, "device_name"));
    try testing.expectEqualStrings("pcie", get(cfg, "board_type"));
    // defaults of an unconfigured m2 with 2 cores
    const cfg2 = x.axr_read_device_configuration(ctx2, &list.?[1]) orelse return testutil.ctxError(ctx2);
    try testing.expectEqualStrings("clock_profile;clock_profile_core_0;clock_profile_core_1;mvm_utilisation_core_0;mvm_utilisation_core_1;ddr_size;device_name;board_type", std.mem.span(x.axr_list_properties(cfg2).?));
    try testing.expectEqualStrings("0x40000000", get(cfg2, "ddr_size"));
    try testing.expectEqualStrings("800", get(cfg2, "clock_profile_core_1"));

    // settle time 0: configure succeeds at once
    env.set("AXR_EMU_SETTLE_MS", "0");
    const p0 = x.axr_create_properties(ctx2, "clock_profile=800").?;
    try testing.expectEqual(abi.Result.success, x.axr_configure_device(ctx2, &list.?[1], p0));
    // an unknown device
    var fake = list.?[0];
    abi.setCString(&fake.name, "metis-7:8:0");
    try testing.expectEqual(abi.Result.invalid_argument, x.axr_configure_device(ctx2, &fake, p0));
    try testing.expect(x.axr_read_device_configuration(ctx2, &fake) == null);
}

const LogSink = struct {
    var lock: std.Thread.Mutex = .{};
    var count: usize = 0;
    var connects: usize = 0;
    var min_level: c_int = 99;
    fn cb(arg: ?*anyopaque, level: abi.LogLevel, msg: [*:0]const u8) callconv(.c) void {
        lock.lock();
        defer lock.unlock();
        std.debug.assert(arg == @as(?*anyopaque, @ptrFromInt(0x1234)));
        count += 1;
        min_level = @min(min_level, @intFromEnum(level));
        if (std.mem.startsWith(u8, std.mem.span(msg), "connected to metis-0:1:0")) connects += 1;
    }
};

test "logger: level filter, messages from other threads" {
    var env = try testutil.Env.init();
    defer env.deinit();
    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    LogSink.count = 0;
    LogSink.connects = 0;
    LogSink.min_level = 99;
    x.axr_set_logger(ctx, .info, LogSink.cb, @ptrFromInt(0x1234));
    var list: ?[*]abi.DeviceInfo = null;
    _ = x.axr_list_devices(ctx, &list); // DEBUG: filtered
    try testing.expectEqual(@as(usize, 0), LogSink.count);
    const T = struct {
        fn connect(c: *anyopaque) void {
            const conn = x.axr_device_connect(c, null, 1, null) orelse return;
            x.axr_destroy(conn);
        }
    };
    const th = try std.Thread.spawn(.{}, T.connect, .{ctx});
    th.join();
    try testing.expectEqual(@as(usize, 1), LogSink.connects);
    try testing.expect(LogSink.min_level >= @intFromEnum(abi.LogLevel.info));
    x.axr_set_logger(ctx, .trace, LogSink.cb, @ptrFromInt(0x1234));
    _ = x.axr_list_devices(ctx, &list);
    try testing.expect(LogSink.min_level <= @intFromEnum(abi.LogLevel.debug));
    x.axr_set_logger(ctx, .trace, null, null);
    const before = LogSink.count;
    T.connect(ctx);
    try testing.expectEqual(before, LogSink.count);
    x.axr_set_logger(null, .trace, LogSink.cb, null);
}
