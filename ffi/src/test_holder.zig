//! Test helper (built by build.zig, not installed): reserves `N` sub-devices of the
//! first device through the library's Zig API (AXR_EMU_STATE_DIR from the environment),
//! prints "ready" on stdout and sleeps until killed. Usage: axr-test-holder [N]

const std = @import("std");
const context = @import("context.zig");
const connection = @import("connection.zig");
const errors = @import("errors.zig");

pub fn main() !void {
    var args = std.process.args();
    _ = args.next();
    const n = if (args.next()) |a| try std.fmt.parseInt(usize, a, 10) else 1;
    const ctx = try context.Context.create();
    var diag = errors.Diag{};
    _ = connection.Connection.create(ctx, null, n, null, &diag) catch |e| {
        std.io.getStdErr().writer().print("holder: {s}: {s}\n", .{ @errorName(e), diag.message() }) catch {};
        std.process.exit(2);
    };
    try std.io.getStdOut().writeAll("ready\n");
    while (true) std.Thread.sleep(std.time.ns_per_s);
}
