//! Test helpers: a private state directory and environment per test.

const std = @import("std");
const x = @import("exports.zig");

extern "c" fn setenv(name: [*:0]const u8, value: [*:0]const u8, overwrite: c_int) c_int;
extern "c" fn unsetenv(name: [*:0]const u8) c_int;

/// Sets AXR_EMU_STATE_DIR to a fresh temporary directory and restores the emulator's
/// environment variables on deinit.
pub const Env = struct {
    tmp: std.testing.TmpDir,
    path_buf: [std.fs.max_path_bytes]u8 = undefined,
    path: []const u8 = "",

    const vars = [_][:0]const u8{ "AXR_EMU_STATE_DIR", "AXR_EMU_DEVICES", "AXR_EMU_SETTLE_MS", "AXR_EMU_MEMORY_LIMIT" };

    pub fn init() !Env {
        var e = Env{ .tmp = std.testing.tmpDir(.{}) };
        e.path = try e.tmp.dir.realpath(".", &e.path_buf);
        e.set("AXR_EMU_STATE_DIR", e.path);
        e.set("AXR_EMU_DEVICES", null);
        e.set("AXR_EMU_SETTLE_MS", null);
        e.set("AXR_EMU_MEMORY_LIMIT", null);
        return e;
    }

    pub fn deinit(self: *Env) void {
        for (vars) |v| _ = unsetenv(v);
        self.tmp.cleanup();
    }

    /// Sets (or with null unsets) an environment variable.
    pub fn set(self: *Env, name: [:0]const u8, value: ?[]const u8) void {
        _ = self;
        if (value) |v| {
            var buf: [4096]u8 = undefined;
            const z = std.fmt.bufPrintZ(&buf, "{s}", .{v}) catch unreachable;
            _ = setenv(name, z, 1);
        } else _ = unsetenv(name);
    }
};

/// Fails the test with the context's last error.
pub fn ctxError(ctx: *anyopaque) error{TestUnexpectedNull} {
    std.debug.print("unexpected NULL: {s}: {s}\n", .{ @tagName(x.axr_last_error(ctx)), x.axr_last_error_string(ctx) });
    return error.TestUnexpectedNull;
}
