//! The emulated devices: described by env AXR_EMU_DEVICES (default "pcie"), a
//! comma-separated list of board types, each optionally "type:N" for N sub-devices
//! (1..4, default 4). Device i is "metis-<i>:<i+1>:0". Also the state directory
//! (env AXR_EMU_STATE_DIR, default /tmp/axr-emu-<uid>, created 0700, opened without
//! following symlinks and checked through its descriptor: docs/emulator.md).

const std = @import("std");
const posix = std.posix;
const linux = std.os.linux;
const abi = @import("abi.zig");
const errors = @import("errors.zig");

const Error = errors.Error;
const Diag = errors.Diag;

pub const max_devices = 16;
pub const max_sub_devices = 4;
pub const firmware_version = "v1.4.0-emu";
pub const board_controller_firmware_version = "v2.1.0-emu";

pub const Device = struct {
    index: u32,
    board: abi.BoardType,
    subs: u32,
    name_buf: [32]u8 = undefined,
    name_len: usize = 0,

    pub fn name(self: *const Device) []const u8 {
        return self.name_buf[0..self.name_len];
    }

    /// DDR size of the board (bytes): the max_memory and the default ddr_size.
    pub fn ddrSize(self: *const Device) u64 {
        return boardDdr(self.board);
    }
};

pub fn boardDdr(b: abi.BoardType) u64 {
    return switch (b) {
        .pcie, .alpha_pcie, .devboard => 0x80000000,
        .m2, .alpha_m2 => 0x40000000,
        .sbc => 0x100000000,
        else => 0x40000000,
    };
}

/// axr_board_type_string
pub fn boardName(b: abi.BoardType) [:0]const u8 {
    return switch (b) {
        .alpha_pcie => "alpha_pcie",
        .alpha_m2 => "alpha_m2",
        .pcie => "pcie",
        .m2 => "m2",
        .devboard => "devboard",
        .sbc => "sbc",
        else => "unknown",
    };
}

fn boardFromName(s: []const u8) ?abi.BoardType {
    inline for (.{ .alpha_pcie, .alpha_m2, .pcie, .m2, .devboard, .sbc }) |b| {
        if (std.ascii.eqlIgnoreCase(s, boardName(b))) return b;
    }
    return null;
}

pub const Devices = struct {
    items: [max_devices]Device = undefined,
    len: usize = 0,

    pub fn slice(self: *const Devices) []const Device {
        return self.items[0..self.len];
    }

    /// The device named `name`, or null.
    pub fn find(self: *const Devices, name: []const u8) ?*const Device {
        for (self.slice()) |*d| if (std.mem.eql(u8, d.name(), name)) return d;
        return null;
    }
};

/// Parses a device spec ("pcie", "pcie:2,m2", ...).
pub fn parseSpec(spec: []const u8, diag: *Diag) Error!Devices {
    var out = Devices{};
    var it = std.mem.splitScalar(u8, spec, ',');
    while (it.next()) |raw| {
        const item = std.mem.trim(u8, raw, " \t");
        if (item.len == 0) return diag.fail(error.InvalidConfiguration, "AXR_EMU_DEVICES='{s}': empty device entry", .{clip(spec)});
        if (out.len == max_devices) return diag.fail(error.InvalidConfiguration, "AXR_EMU_DEVICES: more than {d} devices", .{max_devices});
        var type_s = item;
        var subs: u32 = max_sub_devices;
        if (std.mem.indexOfScalar(u8, item, ':')) |c| {
            type_s = item[0..c];
            const n_s = item[c + 1 ..];
            subs = std.fmt.parseInt(u32, n_s, 10) catch
                return diag.fail(error.InvalidConfiguration, "AXR_EMU_DEVICES: '{s}': sub-device count '{s}' is not a number 1..4", .{ clip(item), clip(n_s) });
            if (subs < 1 or subs > max_sub_devices)
                return diag.fail(error.InvalidConfiguration, "AXR_EMU_DEVICES: '{s}': sub-device count {d} is not in 1..4", .{ clip(item), subs });
        }
        const board = boardFromName(type_s) orelse
            return diag.fail(error.InvalidConfiguration, "AXR_EMU_DEVICES: unknown board type '{s}' (expected pcie, m2, devboard, sbc, alpha_pcie or alpha_m2)", .{clip(type_s)});
        var d = Device{ .index = @intCast(out.len), .board = board, .subs = subs };
        const n = (std.fmt.bufPrint(&d.name_buf, "metis-{d}:{d}:0", .{ out.len, out.len + 1 }) catch unreachable).len;
        d.name_len = n;
        out.items[out.len] = d;
        out.len += 1;
    }
    if (out.len == 0) return diag.fail(error.InvalidConfiguration, "AXR_EMU_DEVICES is empty", .{});
    return out;
}

/// The devices of env AXR_EMU_DEVICES (unset or blank: one "pcie" device).
pub fn fromEnv(diag: *Diag) Error!Devices {
    const spec = posix.getenv("AXR_EMU_DEVICES") orelse "pcie";
    const s = std.mem.trim(u8, spec, " \t");
    return parseSpec(if (s.len == 0) "pcie" else s, diag);
}

fn clip(s: []const u8) []const u8 {
    return s[0..@min(s.len, 64)];
}

/// The opened state directory: every file in it is reached relative to `fd` (openat,
/// O_NOFOLLOW), never through the path again, so swapping the path for a symlink or
/// another directory after the checks changes nothing. `path` is for messages only.
pub const StateDir = struct {
    fd: posix.fd_t,
    path_buf: [std.fs.max_path_bytes]u8 = undefined,
    path_len: usize = 0,

    pub fn path(self: *const StateDir) []const u8 {
        return self.path_buf[0..self.path_len];
    }

    pub fn close(self: *StateDir) void {
        posix.close(self.fd);
        self.fd = -1;
    }
};

/// The state directory of env AXR_EMU_STATE_DIR (default /tmp/axr-emu-<uid>), opened
/// and verified (see `openStateDirAt`).
pub fn openStateDir(diag: *Diag) Error!StateDir {
    if (posix.getenv("AXR_EMU_STATE_DIR")) |p| if (p.len > 0) return openStateDirAt(p, true, diag);
    var buf: [64]u8 = undefined;
    const dflt = std.fmt.bufPrint(&buf, "/tmp/axr-emu-{d}", .{linux.geteuid()}) catch unreachable;
    return openStateDirAt(dflt, false, diag);
}

fn isSymlink(p: [:0]const u8) bool {
    const st = posix.fstatatZ(posix.AT.FDCWD, p, posix.AT.SYMLINK_NOFOLLOW) catch return false;
    return posix.S.ISLNK(st.mode);
}

/// Creates `path` (mode 0700; with `make_parents` its missing parents too) unless it
/// exists, opens it with O_DIRECTORY|O_NOFOLLOW and checks, through the descriptor, that
/// it is a directory owned by this user and not writable by group or others. A symlink,
/// a non-directory, someone else's directory or a group/world-writable one is refused
/// with error.ConnectionError and a message naming the path.
pub fn openStateDirAt(path_in: []const u8, make_parents: bool, diag: *Diag) Error!StateDir {
    // "dir/" would let O_NOFOLLOW follow a symlink named dir: drop trailing slashes
    var p = path_in;
    while (p.len > 1 and p[p.len - 1] == '/') p = p[0 .. p.len - 1];
    var sd = StateDir{ .fd = -1 };
    if (p.len == 0 or p.len >= sd.path_buf.len - 1)
        return diag.fail(error.InvalidConfiguration, "AXR_EMU_STATE_DIR is empty or too long", .{});
    @memcpy(sd.path_buf[0..p.len], p);
    sd.path_buf[p.len] = 0;
    sd.path_len = p.len;
    const pz: [:0]const u8 = sd.path_buf[0..p.len :0];
    if (make_parents) if (std.fs.path.dirname(p)) |parent| {
        std.fs.cwd().makePath(parent) catch |e|
            return diag.fail(error.ConnectionError, "cannot create the parent of state directory '{s}': {s}", .{ clip(p), @errorName(e) });
    };
    posix.mkdiratZ(posix.AT.FDCWD, pz, 0o700) catch |e| switch (e) {
        error.PathAlreadyExists => {},
        else => return diag.fail(error.ConnectionError, "cannot create state directory '{s}': {s}", .{ clip(p), @errorName(e) }),
    };
    sd.fd = posix.openatZ(posix.AT.FDCWD, pz, .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true }, 0) catch |e| return switch (e) {
        error.SymLinkLoop => diag.fail(error.ConnectionError, "state directory '{s}' is a symbolic link: refused (set AXR_EMU_STATE_DIR to a directory of your own)", .{clip(p)}),
        // O_DIRECTORY|O_NOFOLLOW on a symlink is ENOTDIR: tell which (for the message only)
        error.NotDir => if (isSymlink(pz))
            diag.fail(error.ConnectionError, "state directory '{s}' is a symbolic link: refused (set AXR_EMU_STATE_DIR to a directory of your own)", .{clip(p)})
        else
            diag.fail(error.ConnectionError, "state directory '{s}' is not a directory: refused", .{clip(p)}),
        else => diag.fail(error.ConnectionError, "cannot open state directory '{s}': {s}", .{ clip(p), @errorName(e) }),
    };
    errdefer sd.close();
    const st = posix.fstat(sd.fd) catch |e|
        return diag.fail(error.ConnectionError, "cannot stat state directory '{s}': {s}", .{ clip(p), @errorName(e) });
    if (!posix.S.ISDIR(st.mode))
        return diag.fail(error.ConnectionError, "state directory '{s}' is not a directory: refused", .{clip(p)});
    const me = linux.geteuid();
    if (st.uid != me)
        return diag.fail(error.ConnectionError, "state directory '{s}' belongs to uid {d}, not to this user (uid {d}): refused (set AXR_EMU_STATE_DIR to a directory of your own)", .{ clip(p), st.uid, me });
    if (st.mode & 0o022 != 0)
        return diag.fail(error.ConnectionError, "state directory '{s}' is writable by group or others (mode 0{o}): refused (chmod 700 it)", .{ clip(p), st.mode & 0o7777 });
    return sd;
}

// ---- tests --------------------------------------------------------------------

const testing = std.testing;

test "device spec: default, counts, names" {
    var d = Diag{};
    const a = try parseSpec("pcie", &d);
    try testing.expectEqual(@as(usize, 1), a.len);
    try testing.expectEqualStrings("metis-0:1:0", a.items[0].name());
    try testing.expectEqual(@as(u32, 4), a.items[0].subs);
    const b = try parseSpec("pcie:2, m2 ,sbc:1,alpha_pcie,alpha_m2,devboard:3", &d);
    try testing.expectEqual(@as(usize, 6), b.len);
    try testing.expectEqual(@as(u32, 2), b.items[0].subs);
    try testing.expectEqual(abi.BoardType.m2, b.items[1].board);
    try testing.expectEqualStrings("metis-1:2:0", b.items[1].name());
    try testing.expectEqual(@as(u64, 0x40000000), b.items[1].ddrSize());
    try testing.expectEqual(@as(u32, 3), b.items[5].subs);
    try testing.expect(b.find("metis-5:6:0") != null);
    try testing.expect(b.find("metis-6:7:0") == null);
}

test "device spec: bad values give clear errors" {
    var d = Diag{};
    try testing.expectError(error.InvalidConfiguration, parseSpec("gpu", &d));
    try testing.expect(std.mem.indexOf(u8, d.message(), "unknown board type 'gpu'") != null);
    try testing.expectError(error.InvalidConfiguration, parseSpec("pcie:5", &d));
    try testing.expect(std.mem.indexOf(u8, d.message(), "not in 1..4") != null);
    try testing.expectError(error.InvalidConfiguration, parseSpec("pcie:0", &d));
    try testing.expectError(error.InvalidConfiguration, parseSpec("pcie:x", &d));
    try testing.expectError(error.InvalidConfiguration, parseSpec("pcie,,m2", &d));
    try testing.expectError(error.InvalidConfiguration, parseSpec("pcie" ++ ",pcie" ** 16, &d));
}

test "board type strings" {
    try testing.expectEqualStrings("alpha_m2", boardName(.alpha_m2));
    try testing.expectEqualStrings("unknown", boardName(.unknown));
    try testing.expectEqualStrings("unknown", boardName(@enumFromInt(42)));
}

fn expectRefused(path: []const u8, needle: []const u8) !void {
    var d = Diag{};
    try testing.expectError(error.ConnectionError, openStateDirAt(path, false, &d));
    const named = std.mem.trimRight(u8, path, "/");
    if (std.mem.indexOf(u8, d.message(), needle) == null or std.mem.indexOf(u8, d.message(), named) == null) {
        std.debug.print("message '{s}' lacks '{s}' or the path\n", .{ d.message(), needle });
        return error.TestUnexpectedMessage;
    }
}

test "state directory: created 0700; symlinks, files, writable and foreign directories refused" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var rbuf: [std.fs.max_path_bytes]u8 = undefined;
    const root = try tmp.dir.realpath(".", &rbuf);
    var pbuf: [std.fs.max_path_bytes]u8 = undefined;
    var d = Diag{};

    // created, 0700, usable through its descriptor, also with a trailing slash
    const fresh = try std.fmt.bufPrint(&pbuf, "{s}/a/b/state/", .{root});
    var sd = try openStateDirAt(fresh, true, &d);
    const st = try posix.fstat(sd.fd);
    try testing.expectEqual(@as(u32, 0o700), st.mode & 0o777);
    try testing.expectStringEndsWith(sd.path(), "/a/b/state");
    sd.close();

    // a symlink to a directory of ours: refused, and the target keeps its mode
    try tmp.dir.makeDir("target");
    try posix.fchmodat(tmp.dir.fd, "target", 0o750, 0);
    try tmp.dir.symLink("target", "link", .{ .is_directory = true });
    try expectRefused(try std.fmt.bufPrint(&pbuf, "{s}/link", .{root}), "is a symbolic link: refused");
    try expectRefused(try std.fmt.bufPrint(&pbuf, "{s}/link/", .{root}), "is a symbolic link: refused");
    const tst = try tmp.dir.statFile("target");
    try testing.expectEqual(@as(u32, 0o750), @as(u32, @intCast(tst.mode & 0o777)));

    // a regular file
    (try tmp.dir.createFile("file", .{})).close();
    try expectRefused(try std.fmt.bufPrint(&pbuf, "{s}/file", .{root}), "is not a directory");

    // group- or world-writable
    try tmp.dir.makeDir("open");
    try posix.fchmodat(tmp.dir.fd, "open", 0o777, 0);
    try expectRefused(try std.fmt.bufPrint(&pbuf, "{s}/open", .{root}), "writable by group or others (mode 0777)");

    // someone else's (needs root to make one)
    if (linux.geteuid() == 0) {
        try tmp.dir.makeDir("theirs");
        try posix.fchmodat(tmp.dir.fd, "theirs", 0o700, 0);
        var theirs = try tmp.dir.openDir("theirs", .{ .iterate = true });
        try posix.fchown(theirs.fd, 65534, 65534);
        theirs.close();
        try expectRefused(try std.fmt.bufPrint(&pbuf, "{s}/theirs", .{root}), "belongs to uid 65534, not to this user (uid 0)");
    }
}
