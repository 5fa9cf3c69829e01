//! The files of a model directory (docs/model-format.md, "Files"): the directory is
//! opened once, every file is opened relative to its descriptor and then checked
//! through the file's own descriptor: its real path (the kernel's, /proc/self/fd) must be
//! inside the directory's real path, and it must be a regular file. A symlink that stays
//! inside the directory is followed; one that leads out of it (a file, or a directory on
//! the way) is refused before anything is read. Checking the opened descriptor, not the
//! path text, leaves no window between check and use (TOCTOU): whatever the path is
//! swapped for afterwards, the bytes read are those of the file that was checked.
//! Files are opened with O_NONBLOCK, so a FIFO or a device never blocks the open.

const std = @import("std");
const posix = std.posix;
const errors = @import("errors.zig");

const Error = errors.Error;
const Diag = errors.Diag;

fn clip(s: []const u8) []const u8 {
    return s[0..@min(s.len, 160)];
}

pub const ModelDir = struct {
    fd: posix.fd_t,
    /// The directory's real path.
    real_buf: [std.fs.max_path_bytes]u8 = undefined,
    real_len: usize = 0,

    /// Opens the directory `path` (the directory of model.json, as the caller named it:
    /// a symlinked model directory is the directory it leads to). Failures are reported
    /// as "model.json: cannot open '<entry>': ..." (`entry`: the path the caller gave).
    pub fn open(path: []const u8, entry: []const u8, diag: *Diag) Error!ModelDir {
        var d = ModelDir{ .fd = -1 };
        d.fd = posix.openat(posix.AT.FDCWD, path, .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .CLOEXEC = true }, 0) catch |e|
            return diag.fail(error.InvalidArgument, "model.json: cannot open '{s}': {s} (its directory '{s}')", .{ clip(entry), @errorName(e), clip(path) });
        errdefer d.close();
        const real = std.os.getFdPath(d.fd, &d.real_buf) catch |e|
            return diag.fail(error.InvalidArgument, "model.json: cannot open '{s}': cannot resolve the real path of its directory '{s}': {s}", .{ clip(entry), clip(path), @errorName(e) });
        d.real_len = real.len;
        return d;
    }

    pub fn close(self: *ModelDir) void {
        if (self.fd >= 0) posix.close(self.fd);
        self.fd = -1;
    }

    /// The directory's real path.
    pub fn realPath(self: *const ModelDir) []const u8 {
        return self.real_buf[0..self.real_len];
    }

    /// Whether `real` (a real path) is strictly inside the directory.
    pub fn contains(self: *const ModelDir, real: []const u8) bool {
        const dir = self.realPath();
        if (std.mem.eql(u8, dir, "/")) return real.len > 1 and real[0] == '/';
        return real.len > dir.len + 1 and std.mem.startsWith(u8, real, dir) and real[dir.len] == '/';
    }

    /// Opens `rel` (a relative path already checked by the loader) for reading, refused
    /// unless it is a regular file inside the directory. `what` names the file in
    /// messages (e.g. "model.json: \"program\"").
    pub fn openFile(self: *const ModelDir, rel: []const u8, what: []const u8, diag: *Diag) Error!std.fs.File {
        const fd = posix.openat(self.fd, rel, .{ .ACCMODE = .RDONLY, .NONBLOCK = true, .CLOEXEC = true, .NOCTTY = true }, 0) catch |e|
            return diag.fail(error.InvalidArgument, "{s}: cannot open '{s}': {s}", .{ clip(what), clip(rel), @errorName(e) });
        errdefer posix.close(fd);
        var buf: [std.fs.max_path_bytes]u8 = undefined;
        const real = std.os.getFdPath(fd, &buf) catch |e|
            return diag.fail(error.InvalidArgument, "{s}: cannot resolve the real path of '{s}': {s}", .{ clip(what), clip(rel), @errorName(e) });
        if (!self.contains(real))
            return diag.fail(error.InvalidArgument, "{s}: '{s}' resolves to '{s}', outside the model directory '{s}': refused (symbolic links must stay inside the model directory)", .{ clip(what), clip(rel), clip(real), clip(self.realPath()) });
        const st = posix.fstat(fd) catch |e|
            return diag.fail(error.InvalidArgument, "{s}: cannot stat '{s}': {s}", .{ clip(what), clip(rel), @errorName(e) });
        if (!posix.S.ISREG(st.mode))
            return diag.fail(error.InvalidArgument, "{s}: '{s}' is not a regular file", .{ clip(what), clip(rel) });
        return .{ .handle = fd };
    }
};

// ---- tests --------------------------------------------------------------------

const testing = std.testing;

fn expectRefused(d: *const ModelDir, rel: []const u8, needle: []const u8) !void {
    var diag = Diag{};
    if (d.openFile(rel, "t", &diag)) |f| {
        f.close();
        std.debug.print("'{s}' opened, expected a refusal with '{s}'\n", .{ rel, needle });
        return error.TestExpectedError;
    } else |e| try testing.expectEqual(error.InvalidArgument, e);
    if (std.mem.indexOf(u8, diag.message(), needle) == null) {
        std.debug.print("message '{s}' lacks '{s}'\n", .{ diag.message(), needle });
        return error.TestUnexpectedMessage;
    }
}

test "model directory: files inside open, symlinks out of it and non-files are refused" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    try tmp.dir.makePath("model/sub");
    try tmp.dir.makePath("outside");
    try tmp.dir.writeFile(.{ .sub_path = "model/a.bin", .data = "inside" });
    try tmp.dir.writeFile(.{ .sub_path = "model/sub/b.bin", .data = "deeper" });
    try tmp.dir.writeFile(.{ .sub_path = "outside/secret", .data = "secret" });
    try tmp.dir.symLink("sub/b.bin", "model/link_in", .{}); // stays inside: followed
    try tmp.dir.symLink("sub", "model/dir_in", .{ .is_directory = true });
    try tmp.dir.symLink("../outside/secret", "model/link_out", .{});
    try tmp.dir.symLink("/etc/passwd", "model/passwd", .{});
    try tmp.dir.symLink("../outside", "model/dir_out", .{ .is_directory = true });
    try tmp.dir.symLink("self_loop", "model/self_loop", .{});
    try tmp.dir.symLink("..", "model/up", .{ .is_directory = true });
    var pbuf: [std.fs.max_path_bytes]u8 = undefined;
    const mpath = try tmp.dir.realpath("model", &pbuf);
    var diag = Diag{};
    var d = try ModelDir.open(mpath, "model.json", &diag);
    // a missing directory names the entry the caller gave
    try testing.expectError(error.InvalidArgument, ModelDir.open("/nonexistent-axr-dir", "/nonexistent-axr-dir/model.json", &diag));
    try testing.expect(std.mem.startsWith(u8, diag.message(), "model.json: cannot open '/nonexistent-axr-dir/model.json': FileNotFound"));
    defer d.close();
    try testing.expectEqualStrings(mpath, d.realPath());
    for ([_][]const u8{ "a.bin", "sub/b.bin", "link_in", "dir_in/b.bin" }) |rel| {
        const f = try d.openFile(rel, "t", &diag);
        defer f.close();
        var b: [16]u8 = undefined;
        const n = try f.readAll(&b);
        try testing.expect(n == 6);
    }
    try expectRefused(&d, "link_out", "outside the model directory");
    try expectRefused(&d, "passwd", "resolves to '/etc/passwd'");
    try expectRefused(&d, "dir_out/secret", "outside the model directory");
    try expectRefused(&d, "up/outside/secret", "outside the model directory");
    try expectRefused(&d, "sub", "not a regular file");
    try expectRefused(&d, "missing", "FileNotFound");
    try expectRefused(&d, "self_loop", "SymLinkLoop");
    // a FIFO neither blocks the open nor passes as a file
    const fifo = try std.fmt.allocPrintZ(testing.allocator, "{s}/fifo", .{mpath});
    defer testing.allocator.free(fifo);
    if (std.os.linux.mknodat(std.os.linux.AT.FDCWD, fifo, std.os.linux.S.IFIFO | 0o600, 0) == 0) try expectRefused(&d, "fifo", "not a regular file");
}

test "model directory: containment is by path components" {
    var d = ModelDir{ .fd = -1 };
    const dir = "/m/model";
    @memcpy(d.real_buf[0..dir.len], dir);
    d.real_len = dir.len;
    try testing.expect(d.contains("/m/model/program.axp"));
    try testing.expect(!d.contains("/m/model"));
    try testing.expect(!d.contains("/m/model2/program.axp"));
    try testing.expect(!d.contains("/m/mode"));
    d.real_buf[0] = '/';
    d.real_len = 1;
    try testing.expect(d.contains("/etc/passwd"));
}
