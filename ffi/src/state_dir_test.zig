//! The state-directory swap race (issue 18): a victim process running as another uid
//! (setpriv --reuid=65534) uses AXR_EMU_STATE_DIR=<base>/state while this process, the
//! "other local user", keeps swapping that path between nothing, a symlink to a
//! directory of the victim's (holding a 0600 file named like the emulator's
//! configuration) and a directory of its own. Whatever the interleaving, the victim's
//! directory keeps its mode, its entries and its file's content, nothing of the
//! victim's lands in the attacker's directory, and the victim only ever sees typed
//! errors. Needs root (to become two users) and setpriv; skipped otherwise.

const std = @import("std");
const build_options = @import("build_options");
const posix = std.posix;
const linux = std.os.linux;
const testing = std.testing;

const victim_uid = 65534;

fn exists(path: []const u8) bool {
    std.fs.cwd().access(path, .{}) catch return false;
    return true;
}

test "state directory swap race: nothing outside the victim's own state directory is touched" {
    if (linux.geteuid() != 0 or !exists("/usr/bin/setpriv")) return error.SkipZigTest;
    const gpa = testing.allocator;
    var base_buf: [64]u8 = undefined;
    const base = try std.fmt.bufPrint(&base_buf, "/tmp/axr-race-{d}-{d}", .{ linux.getpid(), std.time.milliTimestamp() });
    try std.fs.cwd().makeDir(base);
    defer std.fs.cwd().deleteTree(base) catch {};
    var dir = try std.fs.cwd().openDir(base, .{ .iterate = true });
    defer dir.close();
    try dir.chmod(0o1777); // like /tmp: anyone may create, only owners may remove

    // the victim's precious directory and file, and the attacker's directory
    try dir.makeDir("precious");
    var precious = try dir.openDir("precious", .{ .iterate = true });
    defer precious.close();
    try precious.chmod(0o750);
    {
        const f = try precious.createFile("metis-0:1:0.conf", .{ .mode = 0o600 });
        defer f.close();
        try f.writeAll("precious\n");
        try posix.fchown(f.handle, victim_uid, victim_uid);
    }
    try posix.fchown(precious.fd, victim_uid, victim_uid);
    try dir.makeDir("attacker");
    var attacker = try dir.openDir("attacker", .{ .iterate = true });
    defer attacker.close();
    try attacker.chmod(0o777);

    // the victim program, where uid 65534 can run it
    try std.fs.cwd().copyFile(build_options.victim_exe, dir, "victim", .{});
    try posix.fchmodat(dir.fd, "victim", 0o755, 0);
    var vbuf: [128]u8 = undefined;
    const victim = try std.fmt.bufPrint(&vbuf, "{s}/victim", .{base});
    var sbuf: [128]u8 = undefined;
    const state = try std.fmt.bufPrint(&sbuf, "{s}/state", .{base});

    var env = try std.process.getEnvMap(gpa);
    defer env.deinit();
    try env.put("AXR_EMU_STATE_DIR", state);
    try env.put("AXR_EMU_SETTLE_MS", "0");
    try env.put("AXR_EMU_DEVICES", "pcie:1");
    var child = std.process.Child.init(&.{ "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", victim, "400" }, gpa);
    child.env_map = &env;
    child.stdout_behavior = .Pipe;
    child.stderr_behavior = .Pipe;
    try child.spawn();

    // swap until the victim is done: nothing, a symlink to precious, our directory
    var stop = std.atomic.Value(bool).init(false);
    const Swapper = struct {
        fn run(d: std.fs.Dir, flag: *std.atomic.Value(bool)) void {
            var round: usize = 0;
            var phase: usize = 0;
            while (true) : (round += 1) {
                // undo the last phase
                if (phase == 2) d.rename("state", "attacker") catch {} else {
                    d.deleteFile("state") catch {};
                    d.deleteTree("state") catch {};
                }
                if (flag.load(.acquire)) break;
                phase = round % 3;
                switch (phase) {
                    0 => {}, // absent: the victim creates its own
                    1 => d.symLink("precious", "state", .{ .is_directory = true }) catch {},
                    else => d.rename("attacker", "state") catch {},
                }
                std.Thread.sleep(200 * std.time.ns_per_us);
            }
        }
    };
    const swapper = try std.Thread.spawn(.{}, Swapper.run, .{ dir, &stop });
    var out_buf: std.ArrayListUnmanaged(u8) = .empty;
    defer out_buf.deinit(gpa);
    var err_buf: std.ArrayListUnmanaged(u8) = .empty;
    defer err_buf.deinit(gpa);
    child.collectOutput(gpa, &out_buf, &err_buf, 1 << 20) catch {};
    const term = try child.wait();
    stop.store(true, .release);
    swapper.join();

    std.debug.print("victim: {s}{s}", .{ out_buf.items, err_buf.items });
    try testing.expectEqual(std.process.Child.Term{ .Exited = 0 }, term);
    // precious: same mode, owner, entries and content
    const pst = try posix.fstat(precious.fd);
    try testing.expectEqual(@as(u32, 0o750), pst.mode & 0o7777);
    try testing.expectEqual(@as(u32, victim_uid), pst.uid);
    var it = precious.iterate();
    var n: usize = 0;
    while (try it.next()) |e| : (n += 1) try testing.expectEqualStrings("metis-0:1:0.conf", e.name);
    try testing.expectEqual(@as(usize, 1), n);
    var cbuf: [64]u8 = undefined;
    try testing.expectEqualStrings("precious\n", try precious.readFile("metis-0:1:0.conf", &cbuf));
    // the attacker's own directory (world-writable) got nothing from the victim either
    var ait = attacker.iterate();
    try testing.expect(try ait.next() == null);

    try testing.expect(std.mem.startsWith(u8, out_buf.items, "ok "));
    // the victim worked in a directory of its own at times
    try testing.expect(!std.mem.startsWith(u8, out_buf.items, "ok 0 "));
    // the victim saw the symlink or the foreign directory at least once, and said so
    try testing.expect(std.mem.indexOf(u8, out_buf.items, "is a symbolic link: refused") != null or
        std.mem.indexOf(u8, out_buf.items, "belongs to uid 0") != null or
        std.mem.indexOf(u8, out_buf.items, "writable by group or others") != null);
}
