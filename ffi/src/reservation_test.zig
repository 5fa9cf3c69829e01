//! Cross-process reservation: a child process (axr-test-holder, built by build.zig)
//! reserves sub-device 0; this process gets DEVICE_IN_USE naming the holder; after the
//! child is killed with SIGKILL the kernel drops its lock and this process connects.

const std = @import("std");
const build_options = @import("build_options");
const abi = @import("abi.zig");
const x = @import("exports.zig");
const testutil = @import("testutil.zig");

const testing = std.testing;

test "reservation across two processes, released by the kernel on SIGKILL" {
    var env = try testutil.Env.init();
    defer env.deinit();
    env.set("AXR_EMU_DEVICES", "pcie:1");
    var child = std.process.Child.init(&.{ build_options.holder_exe, "1" }, testing.allocator);
    child.stdout_behavior = .Pipe;
    child.stdin_behavior = .Ignore;
    try child.spawn();
    var killed = false;
    defer if (!killed) {
        _ = child.kill() catch {};
    };
    var line: [16]u8 = undefined;
    const n = try child.stdout.?.read(&line);
    try testing.expectEqualStrings("ready\n", line[0..n]);

    const ctx = x.axr_create_context().?;
    defer x.axr_destroy(ctx);
    var list: ?[*]abi.DeviceInfo = null;
    try testing.expectEqual(@as(usize, 1), x.axr_list_devices(ctx, &list));
    try testing.expectEqual(@as(c_int, 1), list.?[0].in_use);
    var pid_buf: [32]u8 = undefined;
    const pid_s = try std.fmt.bufPrint(&pid_buf, ":{d}", .{child.id});
    try testing.expect(std.mem.endsWith(u8, std.mem.span(@as([*:0]const u8, @ptrCast(&list.?[0].in_use_by))), pid_s));

    try testing.expect(x.axr_device_connect(ctx, null, 1, null) == null);
    try testing.expectEqual(abi.Result.device_in_use, x.axr_last_error(ctx));
    const msg = std.mem.span(x.axr_last_error_string(ctx));
    try testing.expect(std.mem.indexOf(u8, msg, "sub-device 0 is in use by") != null);
    try testing.expect(std.mem.indexOf(u8, msg, pid_s) != null);

    try std.posix.kill(child.id, std.posix.SIG.KILL);
    _ = try child.wait();
    killed = true;
    const t0 = std.time.milliTimestamp();
    const conn = while (std.time.milliTimestamp() - t0 < 1000) {
        if (x.axr_device_connect(ctx, null, 1, null)) |c| break c;
        std.Thread.sleep(10 * std.time.ns_per_ms);
    } else return testutil.ctxError(ctx);
    _ = conn;
    _ = x.axr_list_devices(ctx, &list);
    try testing.expectEqual(@as(c_int, 1), list.?[0].in_use);
}
