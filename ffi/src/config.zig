//! Device configuration of the emulated device: per-core clock (MHz, 100..800) and MVM
//! utilisation (percent, 1..100), DDR size. Stored per device in
//! `<state>/<device>.conf` ("key=value" lines), written atomically (an O_EXCL temporary,
//! fsync, renameat) under `<state>/<device>.conf.lock`, every file reached relative to
//! the state directory's descriptor without following symlinks, with `ready_at_ms` = now + settle time
//! (env AXR_EMU_SETTLE_MS, default 50): until then the device is "pending".

const std = @import("std");
const posix = std.posix;
const errors = @import("errors.zig");
const devices = @import("devices.zig");
const properties = @import("properties.zig");

const Error = errors.Error;
const Diag = errors.Diag;
const Device = devices.Device;
const StateDir = devices.StateDir;

pub const min_clock: u32 = 100;
pub const max_clock: u32 = 800;
pub const default_settle_ms: i64 = 50;

pub const Config = struct {
    clock: [devices.max_sub_devices]u32 = .{800} ** devices.max_sub_devices,
    mvm: [devices.max_sub_devices]u32 = .{100} ** devices.max_sub_devices,
    ddr: u64,
    ready_at_ms: i64 = 0,

    pub fn defaults(dev: *const Device) Config {
        return .{ .ddr = dev.ddrSize() };
    }
};

/// The settle time in ms (env AXR_EMU_SETTLE_MS; invalid or unset: 50).
pub fn settleMs() i64 {
    const s = posix.getenv("AXR_EMU_SETTLE_MS") orelse return default_settle_ms;
    const v = std.fmt.parseInt(i64, std.mem.trim(u8, s, " "), 10) catch return default_settle_ms;
    return std.math.clamp(v, 0, 3_600_000);
}

fn confName(buf: []u8, dev: *const Device, suffix: []const u8) Error![:0]const u8 {
    return std.fmt.bufPrintZ(buf, "{s}.conf{s}", .{ dev.name(), suffix }) catch error.InvalidConfiguration;
}

const nofollow_read: posix.O = .{ .ACCMODE = .RDONLY, .CLOEXEC = true, .NOFOLLOW = true, .NONBLOCK = true };

/// Parses the stored file; unknown or malformed lines are ignored (defaults stay).
pub fn parseStored(text: []const u8, dev: *const Device) Config {
    var cfg = Config.defaults(dev);
    var it = std.mem.splitScalar(u8, text, '\n');
    while (it.next()) |line| {
        const eq = std.mem.indexOfScalar(u8, line, '=') orelse continue;
        const k = line[0..eq];
        const v = line[eq + 1 ..];
        if (std.mem.eql(u8, k, "ready_at_ms")) {
            cfg.ready_at_ms = std.fmt.parseInt(i64, v, 10) catch continue;
        } else if (std.mem.eql(u8, k, "ddr_size")) {
            const d = parseSize(v) orelse continue;
            if (d > 0 and d <= dev.ddrSize()) cfg.ddr = d;
        } else if (coreKey(k, "clock_profile_core_")) |c| {
            const x = std.fmt.parseInt(u32, v, 10) catch continue;
            if (c < dev.subs and x >= min_clock and x <= max_clock) cfg.clock[c] = x;
        } else if (coreKey(k, "mvm_utilisation_core_")) |c| {
            const x = std.fmt.parseInt(u32, v, 10) catch continue;
            if (c < dev.subs and x >= 1 and x <= 100) cfg.mvm[c] = x;
        }
    }
    return cfg;
}

fn coreKey(k: []const u8, prefix: []const u8) ?u32 {
    if (!std.mem.startsWith(u8, k, prefix)) return null;
    const rest = k[prefix.len..];
    if (rest.len != 1 or rest[0] < '0' or rest[0] > '9') return null;
    return rest[0] - '0';
}

fn parseSize(v: []const u8) ?u64 {
    if (std.mem.startsWith(u8, v, "0x") or std.mem.startsWith(u8, v, "0X"))
        return std.fmt.parseInt(u64, v[2..], 16) catch null;
    return std.fmt.parseInt(u64, v, 10) catch null;
}

/// The stored configuration of `dev` (defaults when none was stored).
pub fn load(sd: *const StateDir, dev: *const Device) Config {
    var nbuf: [128]u8 = undefined;
    const name = confName(&nbuf, dev, "") catch return Config.defaults(dev);
    var buf: [2048]u8 = undefined;
    const fd = posix.openatZ(sd.fd, name, nofollow_read, 0) catch return Config.defaults(dev);
    const f = std.fs.File{ .handle = fd };
    defer f.close();
    const st = posix.fstat(fd) catch return Config.defaults(dev);
    if (!posix.S.ISREG(st.mode)) return Config.defaults(dev);
    const n = f.readAll(&buf) catch return Config.defaults(dev);
    return parseStored(buf[0..n], dev);
}

/// The stored file's identity (mtime + size + inode), to notice changes cheaply.
pub fn stamp(sd: *const StateDir, dev: *const Device) u128 {
    var nbuf: [128]u8 = undefined;
    const name = confName(&nbuf, dev, "") catch return 0;
    const st = posix.fstatatZ(sd.fd, name, posix.AT.SYMLINK_NOFOLLOW) catch return 0;
    const m = st.mtime(); // portable accessor: Linux names the field mtim, macOS mtimespec
    const mt: u64 = @bitCast(@as(i64, m.sec) *% 1_000_000_000 +% m.nsec);
    return (@as(u128, mt) << 64) | (@as(u128, @as(u64, @bitCast(st.size))) << 32) ^ @as(u128, st.ino);
}

/// Applies the configuration keys of `props` to `cfg`: all are checked first; on any
/// bad key or value nothing is applied and the message names the key and the value.
pub fn apply(cfg: *Config, dev: *const Device, props: *const properties.Map, diag: *Diag) Error!void {
    var next = cfg.*;
    // clock_profile first so that per-core keys override it whatever the order.
    for (props.entries.items) |e| {
        if (std.mem.eql(u8, e.key, "clock_profile")) {
            const v = try parseClock(e.key, e.value, diag);
            for (0..dev.subs) |c| next.clock[c] = v;
        }
    }
    for (props.entries.items) |e| {
        const k: []const u8 = e.key;
        const v: []const u8 = e.value;
        if (std.mem.eql(u8, k, "clock_profile")) continue;
        if (coreKey(k, "clock_profile_core_")) |c| {
            try checkCore(dev, c, k, v, diag);
            next.clock[c] = try parseClock(k, v, diag);
        } else if (coreKey(k, "mvm_utilisation_core_")) |c| {
            try checkCore(dev, c, k, v, diag);
            const x = std.fmt.parseInt(u32, v, 10) catch
                return diag.fail(error.InvalidConfiguration, "invalid configuration {s}={s}: expected an integer percentage 1..100", .{ k, properties.clip(v) });
            if (x < 1 or x > 100)
                return diag.fail(error.InvalidConfiguration, "invalid configuration {s}={s}: expected an integer percentage 1..100", .{ k, properties.clip(v) });
            next.mvm[c] = x;
        } else if (std.mem.eql(u8, k, "ddr_size")) {
            const d = parseSize(v) orelse
                return diag.fail(error.InvalidConfiguration, "invalid configuration ddr_size={s}: expected a positive integer (decimal or 0x hex)", .{properties.clip(v)});
            if (d == 0 or d > dev.ddrSize())
                return diag.fail(error.InvalidConfiguration, "invalid configuration ddr_size={s}: must be in 1..0x{x} (the DDR of this {s} board)", .{ properties.clip(v), dev.ddrSize(), devices.boardName(dev.board) });
            next.ddr = d;
        } else if (std.mem.eql(u8, k, "device_name")) {
            if (!std.mem.eql(u8, v, dev.name()))
                return diag.fail(error.InvalidConfiguration, "invalid configuration device_name={s}: the device is {s}", .{ properties.clip(v), dev.name() });
        } else if (std.mem.eql(u8, k, "board_type")) {
            if (!std.mem.eql(u8, v, devices.boardName(dev.board)))
                return diag.fail(error.InvalidConfiguration, "invalid configuration board_type={s}: the board is {s}", .{ properties.clip(v), devices.boardName(dev.board) });
        } else {
            return diag.fail(error.InvalidConfiguration, "invalid configuration key '{s}' (value '{s}'): expected clock_profile, clock_profile_core_N, mvm_utilisation_core_N or ddr_size", .{ properties.clip(k), properties.clip(v) });
        }
    }
    cfg.* = next;
}

fn checkCore(dev: *const Device, c: u32, k: []const u8, v: []const u8, diag: *Diag) Error!void {
    if (c >= dev.subs)
        return diag.fail(error.InvalidConfiguration, "invalid configuration {s}={s}: {s} has {d} cores (0..{d})", .{ k, properties.clip(v), dev.name(), dev.subs, dev.subs - 1 });
}

fn parseClock(k: []const u8, v: []const u8, diag: *Diag) Error!u32 {
    const x = std.fmt.parseInt(u32, v, 10) catch
        return diag.fail(error.InvalidConfiguration, "invalid configuration {s}={s}: expected a clock in MHz, 100..800", .{ k, properties.clip(v) });
    if (x < min_clock or x > max_clock)
        return diag.fail(error.InvalidConfiguration, "invalid configuration {s}={s}: expected a clock in MHz, 100..800", .{ k, properties.clip(v) });
    return x;
}

/// Serialises `cfg` for `dev`.
pub fn format(cfg: *const Config, dev: *const Device, buf: []u8) []const u8 {
    var fbs = std.io.fixedBufferStream(buf);
    const w = fbs.writer();
    w.print("device_name={s}\nboard_type={s}\n", .{ dev.name(), devices.boardName(dev.board) }) catch {};
    for (0..dev.subs) |c| w.print("clock_profile_core_{d}={d}\n", .{ c, cfg.clock[c] }) catch {};
    for (0..dev.subs) |c| w.print("mvm_utilisation_core_{d}={d}\n", .{ c, cfg.mvm[c] }) catch {};
    w.print("ddr_size=0x{x}\nready_at_ms={d}\n", .{ cfg.ddr, cfg.ready_at_ms }) catch {};
    return fbs.getWritten();
}

/// Reads, updates with `props` and stores the configuration of `dev` (atomically, under
/// the device's configuration lock). Returns the new configuration.
pub fn configure(sd: *const StateDir, dev: *const Device, props: *const properties.Map, now_ms: i64, diag: *Diag) Error!Config {
    var lbuf: [128]u8 = undefined;
    const lock_name = try confName(&lbuf, dev, ".lock");
    const lfd = posix.openatZ(sd.fd, lock_name, .{ .ACCMODE = .RDWR, .CREAT = true, .CLOEXEC = true, .NOFOLLOW = true }, 0o600) catch |e|
        return diag.fail(error.RuntimeError, "cannot open '{s}/{s}': {s}", .{ sd.path(), lock_name, @errorName(e) });
    defer posix.close(lfd);
    posix.flock(lfd, posix.LOCK.EX) catch |e|
        return diag.fail(error.RuntimeError, "cannot lock '{s}/{s}': {s}", .{ sd.path(), lock_name, @errorName(e) });

    var cfg = load(sd, dev);
    try apply(&cfg, dev, props, diag);
    cfg.ready_at_ms = now_ms + settleMs();

    // One temporary name per device: writers are serialized by the lock above, and the
    // leftover of a writer killed before its rename is removed by the next one.
    var tbuf: [128]u8 = undefined;
    const tmp_name = try confName(&tbuf, dev, ".tmp");
    var cbuf: [128]u8 = undefined;
    const name = try confName(&cbuf, dev, "");
    var text_buf: [2048]u8 = undefined;
    const text = format(&cfg, dev, &text_buf);
    writeAtomic(sd.fd, tmp_name, name, text) catch |e|
        return diag.fail(error.RuntimeError, "cannot write '{s}/{s}': {s}", .{ sd.path(), name, @errorName(e) });
    return cfg;
}

/// Writes `text` to `name` in the directory `dir_fd` atomically: a new temporary
/// (O_CREAT|O_EXCL|O_NOFOLLOW, 0600, after removing a leftover of the same name),
/// fsync, renameat over `name`.
fn writeAtomic(dir_fd: posix.fd_t, tmp_name: [:0]const u8, name: [:0]const u8, text: []const u8) !void {
    posix.unlinkatZ(dir_fd, tmp_name, 0) catch |e| switch (e) {
        error.FileNotFound => {},
        else => return e,
    };
    const fd = try posix.openatZ(dir_fd, tmp_name, .{ .ACCMODE = .WRONLY, .CREAT = true, .EXCL = true, .NOFOLLOW = true, .CLOEXEC = true }, 0o600);
    errdefer posix.unlinkatZ(dir_fd, tmp_name, 0) catch {};
    {
        const f = std.fs.File{ .handle = fd };
        defer f.close();
        try f.writeAll(text);
        try f.sync();
    }
    try posix.renameatZ(dir_fd, tmp_name, dir_fd, name);
}

// ---- tests --------------------------------------------------------------------

const testing = std.testing;

fn testDevice(spec: []const u8) !Device {
    var d = Diag{};
    const ds = try devices.parseSpec(spec, &d);
    return ds.items[0];
}

fn mapOf(text: []const u8) !properties.Map {
    var m = properties.Map{};
    errdefer m.deinit(testing.allocator);
    var d = Diag{};
    try m.parse(testing.allocator, text, &d);
    return m;
}

fn expectBad(dev: *const Device, text: []const u8, needle: []const u8) !void {
    var m = try mapOf(text);
    defer m.deinit(testing.allocator);
    var cfg = Config.defaults(dev);
    const before = cfg;
    var d = Diag{};
    try testing.expectError(error.InvalidConfiguration, apply(&cfg, dev, &m, &d));
    if (std.mem.indexOf(u8, d.message(), needle) == null) {
        std.debug.print("message '{s}' lacks '{s}'\n", .{ d.message(), needle });
        return error.TestUnexpectedMessage;
    }
    try testing.expectEqual(before, cfg);
}

test "configure validation: every key, bad values, nothing applied on error" {
    const dev = try testDevice("pcie");
    const m2 = try testDevice("m2:2");
    try expectBad(&dev, "clock_profile=900", "clock_profile=900");
    try expectBad(&dev, "clock_profile=99", "clock_profile=99");
    try expectBad(&dev, "clock_profile=fast", "clock_profile=fast");
    try expectBad(&dev, "clock_profile_core_0=400;clock_profile_core_1=1000", "clock_profile_core_1=1000");
    try expectBad(&m2, "clock_profile_core_2=400", "has 2 cores");
    try expectBad(&dev, "clock_profile_core_4=400", "clock_profile_core_4=400");
    try expectBad(&dev, "mvm_utilisation_core_0=0", "mvm_utilisation_core_0=0");
    try expectBad(&dev, "mvm_utilisation_core_3=101", "mvm_utilisation_core_3=101");
    try expectBad(&m2, "mvm_utilisation_core_3=50", "has 2 cores");
    try expectBad(&dev, "ddr_size=0", "ddr_size=0");
    try expectBad(&dev, "ddr_size=0x100000000", "ddr_size=0x100000000");
    try expectBad(&m2, "ddr_size=0x80000000", "ddr_size=0x80000000");
    try expectBad(&dev, "ddr_size=-1", "ddr_size=-1");
    try expectBad(&dev, "turbo=1", "invalid configuration key 'turbo' (value '1')");
    try expectBad(&dev, "device_name=metis-9:10:0", "device_name=metis-9:10:0");

    var m = try mapOf("clock_profile_core_1=200;clock_profile=400;mvm_utilisation_core_2=50;ddr_size=0x40000000;device_name=metis-0:1:0");
    defer m.deinit(testing.allocator);
    var cfg = Config.defaults(&dev);
    var d = Diag{};
    try apply(&cfg, &dev, &m, &d);
    try testing.expectEqual([4]u32{ 400, 200, 400, 400 }, cfg.clock);
    try testing.expectEqual([4]u32{ 100, 100, 50, 100 }, cfg.mvm);
    try testing.expectEqual(@as(u64, 0x40000000), cfg.ddr);
    var m3 = try mapOf("clock_profile=123;ddr_size=1048576");
    defer m3.deinit(testing.allocator);
    try apply(&cfg, &dev, &m3, &d);
    try testing.expectEqual([4]u32{ 123, 123, 123, 123 }, cfg.clock);
    try testing.expectEqual(@as(u64, 1048576), cfg.ddr);
}

test "stored configuration round-trips and survives garbage" {
    const dev = try testDevice("pcie");
    var cfg = Config.defaults(&dev);
    cfg.clock = .{ 100, 200, 600, 700 };
    cfg.mvm = .{ 1, 2, 3, 100 };
    cfg.ddr = 0x1000;
    cfg.ready_at_ms = 12345;
    var buf: [2048]u8 = undefined;
    const text = format(&cfg, &dev, &buf);
    try testing.expectEqual(cfg, parseStored(text, &dev));
    const junk = parseStored("clock_profile_core_0=5000\nxx\n=\nddr_size=zz\nmvm_utilisation_core_9=3", &dev);
    try testing.expectEqual(Config.defaults(&dev), junk);
}
