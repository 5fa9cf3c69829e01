//! The context's logger: messages at or above the set level go to the user's callback
//! (from whichever thread logs). No logger is set by default.

const std = @import("std");
const abi = @import("abi.zig");

pub const Logger = struct {
    lock: std.Thread.Mutex = .{},
    level: abi.LogLevel = .@"error",
    func: ?abi.LoggerFn = null,
    arg: ?*anyopaque = null,

    /// axr_set_logger: `func` null disables logging.
    pub fn set(self: *Logger, level: abi.LogLevel, func: ?abi.LoggerFn, arg: ?*anyopaque) void {
        self.lock.lock();
        defer self.lock.unlock();
        self.level = level;
        self.func = func;
        self.arg = arg;
    }

    /// Whether a message at `level` would be delivered.
    pub fn enabled(self: *Logger, level: abi.LogLevel) bool {
        self.lock.lock();
        defer self.lock.unlock();
        return self.func != null and @intFromEnum(level) >= @intFromEnum(self.level);
    }

    /// Formats and delivers a message (truncated to 1023 bytes). The callback runs
    /// without the lock held, so it may call back into the library.
    pub fn log(self: *Logger, level: abi.LogLevel, comptime fmt: []const u8, args: anytype) void {
        self.lock.lock();
        const f_opt = self.func;
        const min = self.level;
        const arg = self.arg;
        self.lock.unlock();
        const f = f_opt orelse return;
        if (@intFromEnum(level) < @intFromEnum(min)) return;
        var buf: [1024]u8 = undefined;
        var fbs = std.io.fixedBufferStream(buf[0 .. buf.len - 1]);
        std.fmt.format(fbs.writer(), fmt, args) catch {};
        buf[fbs.pos] = 0;
        f(arg, level, @ptrCast(&buf));
    }
};

const TestSink = struct {
    var count: usize = 0;
    var last: [1024]u8 = undefined;
    fn cb(arg: ?*anyopaque, level: abi.LogLevel, msg: [*:0]const u8) callconv(.c) void {
        _ = arg;
        _ = level;
        count += 1;
        abi.setCString(&last, std.mem.span(msg));
    }
};

test "logger filters by level" {
    var l = Logger{};
    l.log(.@"error", "dropped", .{});
    l.set(.info, TestSink.cb, null);
    TestSink.count = 0;
    l.log(.debug, "no", .{});
    l.log(.info, "yes {d}", .{1});
    l.log(.@"error", "yes {d}", .{2});
    try std.testing.expectEqual(@as(usize, 2), TestSink.count);
    try std.testing.expectEqualStrings("yes 2", abi.getCString(&TestSink.last));
    l.set(.info, null, null);
    l.log(.@"error", "dropped", .{});
    try std.testing.expectEqual(@as(usize, 2), TestSink.count);
}
