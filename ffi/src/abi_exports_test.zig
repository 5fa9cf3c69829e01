//! Checks that the built libaxr.so exports every function declared in
//! include/axruntime/axruntime.h (the `nm -D` check, done with dlopen/dlsym).

const std = @import("std");
const build_options = @import("build_options");

/// The function names declared in the header: identifiers starting with "axr_"
/// followed by '(' (the typedef'd logger is a pointer type, "(*axr_logger_fn)").
fn headerFunctions(gpa: std.mem.Allocator, text: []const u8) !std.ArrayList([]const u8) {
    var out = std.ArrayList([]const u8).init(gpa);
    errdefer out.deinit();
    var i: usize = 0;
    while (std.mem.indexOfPos(u8, text, i, "axr_")) |p| {
        var e = p;
        while (e < text.len and (std.ascii.isAlphanumeric(text[e]) or text[e] == '_')) e += 1;
        i = e;
        const before_ok = p == 0 or !(std.ascii.isAlphanumeric(text[p - 1]) or text[p - 1] == '_' or text[p - 1] == '*');
        if (!before_ok or e >= text.len or text[e] != '(') continue;
        const name = text[p..e];
        for (out.items) |n| {
            if (std.mem.eql(u8, n, name)) break;
        } else try out.append(name);
    }
    return out;
}

test "libaxr.so exports every function of include/axruntime/axruntime.h" {
    const gpa = std.testing.allocator;
    const header = try std.fs.cwd().readFileAlloc(gpa, build_options.header_path, 1 << 20);
    defer gpa.free(header);
    var names = try headerFunctions(gpa, header);
    defer names.deinit();
    try std.testing.expect(names.items.len >= 31);
    var lib = try std.DynLib.open(build_options.lib_path);
    defer lib.close();
    var missing: usize = 0;
    for (names.items) |n| {
        var zbuf: [128]u8 = undefined;
        const z = try std.fmt.bufPrintZ(&zbuf, "{s}", .{n});
        if (lib.lookup(*anyopaque, z) == null) {
            std.debug.print("missing export: {s}\n", .{n});
            missing += 1;
        }
    }
    try std.testing.expectEqual(@as(usize, 0), missing);
}
