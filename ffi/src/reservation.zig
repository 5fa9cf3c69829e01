//! Cross-process reservation of sub-devices: one lock file per sub-device,
//! `<state>/<device>.<sub>.lock` (opened relative to the state directory's descriptor,
//! never following a symlink, and required to be a regular file), locked with flock(LOCK_EX|LOCK_NB) through an fd that
//! the holder keeps open (O_CLOEXEC, so children do not inherit it). The kernel drops
//! the lock when the fd is closed or the process dies (also on SIGKILL). The holder
//! writes "user:pid" into the file; a busy sub-device reports it.

const std = @import("std");
const posix = std.posix;
const linux = std.os.linux;
const errors = @import("errors.zig");
const devices = @import("devices.zig");

const Error = errors.Error;
const StateDir = devices.StateDir;
const Diag = errors.Diag;

/// A held sub-device lock.
pub const Held = struct {
    fd: posix.fd_t,

    /// Releases the lock (clears the holder text first).
    pub fn release(self: Held) void {
        posix.ftruncate(self.fd, 0) catch {};
        posix.close(self.fd);
    }
};

/// Who holds a lock: "user:pid".
pub const Holder = struct {
    buf: [128]u8 = undefined,
    len: usize = 0,
    pub fn text(self: *const Holder) []const u8 {
        return self.buf[0..self.len];
    }
};

/// "user:pid" of this process.
pub fn selfHolder() Holder {
    var h = Holder{};
    const user = std.posix.getenv("USER") orelse std.posix.getenv("LOGNAME");
    const s = if (user) |u|
        std.fmt.bufPrint(&h.buf, "{s}:{d}", .{ u[0..@min(u.len, 64)], linux.getpid() }) catch unreachable
    else
        std.fmt.bufPrint(&h.buf, "uid{d}:{d}", .{ linux.getuid(), linux.getpid() }) catch unreachable;
    h.len = s.len;
    return h;
}

fn lockName(buf: []u8, device: []const u8, sub: u32) [:0]const u8 {
    return std.fmt.bufPrintZ(buf, "{s}.{d}.lock", .{ device, sub }) catch unreachable;
}

fn readHolder(fd: posix.fd_t) Holder {
    var h = Holder{};
    const n = posix.pread(fd, &h.buf, 0) catch 0;
    h.len = std.mem.indexOfScalar(u8, h.buf[0..n], '\n') orelse n;
    if (h.len == 0) {
        const s = "another process";
        @memcpy(h.buf[0..s.len], s);
        h.len = s.len;
    }
    return h;
}

pub const Attempt = union(enum) { held: Held, busy: Holder };

/// Tries to lock a sub-device. A lock briefly held by a `probe` of another thread or
/// process is retried for a few milliseconds before the sub-device counts as busy.
pub fn tryAcquire(sd: *const StateDir, device: []const u8, sub: u32, diag: *Diag) Error!Attempt {
    var nbuf: [128]u8 = undefined;
    if (device.len + 32 > nbuf.len) return diag.fail(error.ConnectionError, "device name too long", .{});
    const name = lockName(&nbuf, device, sub);
    const fd = posix.openatZ(sd.fd, name, .{ .ACCMODE = .RDWR, .CREAT = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o600) catch |e|
        return diag.fail(error.ConnectionError, "cannot open lock file '{s}/{s}': {s}", .{ sd.path(), name, @errorName(e) });
    const st = posix.fstat(fd) catch |e| {
        posix.close(fd);
        return diag.fail(error.ConnectionError, "cannot stat lock file '{s}/{s}': {s}", .{ sd.path(), name, @errorName(e) });
    };
    if (!posix.S.ISREG(st.mode)) {
        posix.close(fd);
        return diag.fail(error.ConnectionError, "lock file '{s}/{s}' is not a regular file: refused", .{ sd.path(), name });
    }
    var tries: u32 = 0;
    while (true) : (tries += 1) {
        posix.flock(fd, posix.LOCK.EX | posix.LOCK.NB) catch |e| switch (e) {
            error.WouldBlock => {
                if (tries < 10) {
                    std.Thread.sleep(500 * std.time.ns_per_us);
                    continue;
                }
                const h = readHolder(fd);
                posix.close(fd);
                return .{ .busy = h };
            },
            else => {
                posix.close(fd);
                return diag.fail(error.ConnectionError, "cannot lock '{s}/{s}': {s}", .{ sd.path(), name, @errorName(e) });
            },
        };
        break;
    }
    const me = selfHolder();
    posix.ftruncate(fd, 0) catch {};
    _ = posix.pwrite(fd, me.text(), 0) catch {};
    return .{ .held = .{ .fd = fd } };
}

/// Whether a sub-device is held by anyone (any process, including this one); returns
/// the holder when it is. Does not create the lock file.
pub fn probe(sd: *const StateDir, device: []const u8, sub: u32) ?Holder {
    var nbuf: [128]u8 = undefined;
    if (device.len + 32 > nbuf.len) return null;
    const name = lockName(&nbuf, device, sub);
    const fd = posix.openatZ(sd.fd, name, .{ .ACCMODE = .RDONLY, .CLOEXEC = true, .NOFOLLOW = true, .NONBLOCK = true }, 0) catch return null;
    defer posix.close(fd);
    posix.flock(fd, posix.LOCK.SH | posix.LOCK.NB) catch |e| switch (e) {
        error.WouldBlock => return readHolder(fd),
        else => return null,
    };
    posix.flock(fd, posix.LOCK.UN) catch {};
    return null;
}

// ---- tests --------------------------------------------------------------------

const testing = std.testing;

test "a held sub-device is busy for a second open file description, free after release" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var dbuf: [std.fs.max_path_bytes]u8 = undefined;
    var d = Diag{};
    var sdir = try devices.openStateDirAt(try tmp.dir.realpath(".", &dbuf), false, &d);
    defer sdir.close();
    const dir = &sdir;
    const a = try tryAcquire(dir, "metis-0:1:0", 0, &d);
    try testing.expect(a == .held);
    const holder = probe(dir, "metis-0:1:0", 0) orelse return error.TestExpectedBusy;
    const me = selfHolder();
    try testing.expectEqualStrings(me.text(), holder.text());
    const b = try tryAcquire(dir, "metis-0:1:0", 0, &d);
    try testing.expect(b == .busy);
    try testing.expectEqualStrings(me.text(), b.busy.text());
    try testing.expect(probe(dir, "metis-0:1:0", 1) == null);
    a.held.release();
    try testing.expect(probe(dir, "metis-0:1:0", 0) == null);
    const c = try tryAcquire(dir, "metis-0:1:0", 0, &d);
    try testing.expect(c == .held);
    c.held.release();
}
