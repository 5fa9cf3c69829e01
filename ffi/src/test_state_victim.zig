//! Test helper (built by build.zig, not installed): the victim of the state-directory
//! swap race (state_dir_test.zig). Runs N rounds of list devices, configure device and
//! connect + release through the C ABI, with AXR_EMU_STATE_DIR from the environment,
//! while another user swaps that path between nothing, a symlink to one of our
//! directories and a directory of theirs. Prints "ok A refused B" and each distinct
//! error message once; exits 0 unless something other than a typed error happened.
//! Usage: axr-test-state-victim N

const std = @import("std");
const abi = @import("abi.zig");
const x = @import("exports.zig");

pub fn main() !void {
    var args = std.process.args();
    _ = args.next();
    const n = if (args.next()) |a| try std.fmt.parseInt(usize, a, 10) else 100;
    const out = std.io.getStdOut().writer();
    const ctx = x.axr_create_context() orelse return error.NoContext;
    defer x.axr_destroy(ctx);
    var seen = std.StringHashMap(void).init(std.heap.page_allocator);
    var ok: usize = 0;
    var refused: usize = 0;
    const props = x.axr_create_properties(ctx, "clock_profile=400") orelse return error.NoProperties;
    for (0..n) |_| {
        var list: ?[*]abi.DeviceInfo = null;
        const ops = [_]bool{
            x.axr_list_devices(ctx, &list) == 1,
            list != null and switch (x.axr_configure_device(ctx, &list.?[0], props)) {
                .success, .pending_error => true,
                else => false,
            },
            blk: {
                const c = x.axr_device_connect(ctx, null, 1, null) orelse break :blk false;
                x.axr_destroy(c);
                break :blk true;
            },
        };
        for (ops) |good| {
            if (good) {
                ok += 1;
                continue;
            }
            refused += 1;
            const r = x.axr_last_error(ctx);
            if (r != .connection_error and r != .runtime_error and r != .pending_error) {
                try out.print("untyped error {d}: {s}\n", .{ @intFromEnum(r), x.axr_last_error_string(ctx) });
                std.process.exit(3);
            }
            const msg = std.mem.span(x.axr_last_error_string(ctx));
            if (!seen.contains(msg)) try seen.put(try std.heap.page_allocator.dupe(u8, msg), {});
        }
    }
    try out.print("ok {d} refused {d}\n", .{ ok, refused });
    var it = seen.keyIterator();
    while (it.next()) |k| try out.print("message: {s}\n", .{k.*});
}
