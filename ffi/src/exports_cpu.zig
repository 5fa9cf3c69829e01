//! axr_ext_host_cpu: the host CPU level the emulator's kernels run at (cpu.zig).

const std = @import("std");
const cpu = @import("cpu.zig");

var json_buf: [512]u8 = undefined;
var json_len: usize = 0;
var json_once = std.once(fill);

fn fill() void {
    const c = cpu.current();
    var fbs = std.io.fixedBufferStream(json_buf[0 .. json_buf.len - 1]);
    const w = fbs.writer();
    w.print("{{\"level\":\"{s}\",\"native\":\"{s}\",\"levels\":[", .{ if (c.err() == null) c.level.name() else "", c.native.name() }) catch {};
    var first = true;
    for (cpu.levels) |l| if (@intFromEnum(l) <= @intFromEnum(c.native)) {
        w.print("{s}\"{s}\"", .{ if (first) "" else ",", l.name() }) catch {};
        first = false;
    };
    w.writeAll("],\"error\":") catch {};
    if (c.err()) |e| std.json.stringify(e, .{}, w) catch {} else w.writeAll("null") catch {};
    w.writeAll("}") catch {};
    json_len = fbs.pos;
    json_buf[json_len] = 0;
}

/// {"level":"vnni","native":"vbmi","levels":["baseline",..],"error":null}: the level in
/// use ("" when AXR_CPU was refused, then "error" says why), the CPU's highest level and
/// every level it runs. Static text, valid for the life of the process.
pub export fn axr_ext_host_cpu() [*:0]const u8 {
    json_once.call();
    return @ptrCast(json_buf[0..json_len :0].ptr);
}

test "axr_ext_host_cpu is JSON naming the level" {
    const s = std.mem.span(axr_ext_host_cpu());
    var parsed = try std.json.parseFromSlice(std.json.Value, std.testing.allocator, s, .{});
    defer parsed.deinit();
    try std.testing.expect(parsed.value.object.get("levels").?.array.items.len >= 1);
}
