//! The emulated devices: described by env AXR_EMU_DEVICES (default "pcie"), a
//! comma-separated list of board types, each optionally "type:N" for N sub-devices
//! (1..4, default 4). Device i is "metis-<i>:<i+1>:0". Also the state directory
//! (env AXR_EMU_STATE_DIR, default /tmp/axr-emu-<uid>, created 0700).

const std = @import("std");
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
    const spec = std.posix.getenv("AXR_EMU_DEVICES") orelse "pcie";
    const s = std.mem.trim(u8, spec, " \t");
    return parseSpec(if (s.len == 0) "pcie" else s, diag);
}

fn clip(s: []const u8) []const u8 {
    return s[0..@min(s.len, 64)];
}

/// The state directory (created 0700 if missing), written into `buf`.
pub fn stateDir(buf: []u8, diag: *Diag) Error![]const u8 {
    const path = if (std.posix.getenv("AXR_EMU_STATE_DIR")) |p| (if (p.len > 0) p else null) else null;
    const dir = if (path) |p| blk: {
        if (p.len >= buf.len) return diag.fail(error.InvalidConfiguration, "AXR_EMU_STATE_DIR is too long", .{});
        @memcpy(buf[0..p.len], p);
        break :blk buf[0..p.len];
    } else std.fmt.bufPrint(buf, "/tmp/axr-emu-{d}", .{std.os.linux.getuid()}) catch unreachable;
    std.fs.cwd().makePath(dir) catch |e|
        return diag.fail(error.ConnectionError, "cannot create state directory '{s}': {s}", .{ dir, @errorName(e) });
    if (path == null) {
        // the default lives in /tmp: refuse a directory that another user created
        const st = std.posix.fstatat(std.posix.AT.FDCWD, dir, 0) catch |e|
            return diag.fail(error.ConnectionError, "cannot stat state directory '{s}': {s}", .{ dir, @errorName(e) });
        if (st.uid != std.os.linux.getuid())
            return diag.fail(error.ConnectionError, "state directory '{s}' belongs to uid {d}, not to this user (set AXR_EMU_STATE_DIR)", .{ dir, st.uid });
        if (st.mode & 0o077 != 0) std.posix.fchmodat(std.posix.AT.FDCWD, dir, 0o700, 0) catch {};
    }
    return dir;
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
