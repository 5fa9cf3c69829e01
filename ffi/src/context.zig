//! The context (root of every object tree): logger, device listing and the device
//! operations that take a context (configure, ready, read configuration).

const std = @import("std");
const abi = @import("abi.zig");
const alloc = @import("alloc.zig");
const errors = @import("errors.zig");
const object = @import("object.zig");
const log_mod = @import("log.zig");
const devices = @import("devices.zig");
const reservation = @import("reservation.zig");
const config = @import("config.zig");
const properties = @import("properties.zig");

const Error = errors.Error;
const Diag = errors.Diag;

pub const Context = struct {
    hdr: object.Header,
    logger: log_mod.Logger = .{},
    dev_lock: std.Thread.Mutex = .{},
    /// The array returned by the last axr_list_devices (owned).
    dev_list: []abi.DeviceInfo = &.{},

    pub const kind: object.Kind = .context;

    pub fn create() Error!*Context {
        const gpa = alloc.gpa();
        const c = try gpa.create(Context);
        c.* = .{ .hdr = .{ .kind = kind, .ctx = undefined, .destroy_fn = destroyFn } };
        c.hdr.ctx = &c.hdr;
        object.register(&c.hdr) catch |e| {
            gpa.destroy(c);
            return e;
        };
        return c;
    }

    fn destroyFn(h: *object.Header) void {
        const c: *Context = @fieldParentPtr("hdr", h);
        const gpa = alloc.gpa();
        if (c.dev_list.len > 0) gpa.free(c.dev_list);
        gpa.destroy(c);
    }

    /// The context that owns the object with header `h`.
    pub fn of(h: *object.Header) *Context {
        std.debug.assert(h.ctx.kind == .context);
        return @fieldParentPtr("hdr", h.ctx);
    }

    pub fn log(self: *Context, level: abi.LogLevel, comptime fmt: []const u8, args: anytype) void {
        self.logger.log(level, fmt, args);
    }

    /// axr_list_devices: a fresh array (the previous one is freed).
    pub fn listDevices(self: *Context, diag: *Diag) Error![]abi.DeviceInfo {
        const devs = try devices.fromEnv(diag);
        var state = try devices.openStateDir(diag);
        defer state.close();
        const gpa = alloc.gpa();
        const list = try gpa.alloc(abi.DeviceInfo, devs.len);
        for (devs.slice(), list) |*d, *info| fillInfo(info, d, &state);
        {
            self.dev_lock.lock();
            defer self.dev_lock.unlock();
            if (self.dev_list.len > 0) gpa.free(self.dev_list);
            self.dev_list = list;
        }
        self.log(.debug, "listed {d} device(s) (state dir {s})", .{ list.len, state.path() });
        return list;
    }
};

/// Fills a DeviceInfo for `d`, probing the reservation of each sub-device.
pub fn fillInfo(info: *abi.DeviceInfo, d: *const devices.Device, state_dir: *const devices.StateDir) void {
    info.* = std.mem.zeroes(abi.DeviceInfo);
    abi.setCString(&info.name, d.name());
    info.subdevice_count = d.subs;
    info.max_memory = @intCast(d.ddrSize());
    info.board_type = d.board;
    info.board_revision = switch (d.board) {
        .alpha_pcie, .alpha_m2 => 0,
        else => 1,
    };
    abi.setCString(&info.firmware_version, devices.firmware_version);
    abi.setCString(&info.flashed_firmware_version, devices.firmware_version);
    abi.setCString(&info.board_controller_firmware_version, devices.board_controller_firmware_version);
    var bt: [64]u8 = undefined;
    abi.setCString(&info.board_controller_board_type, std.fmt.bufPrint(&bt, "{s}-emu", .{devices.boardName(d.board)}) catch "emu");
    var by: [abi.name_size]u8 = undefined;
    var fbs = std.io.fixedBufferStream(by[0 .. by.len - 1]);
    var in_use: c_int = 0;
    var seen: [devices.max_sub_devices]reservation.Holder = undefined;
    var n_seen: usize = 0;
    for (0..d.subs) |s| {
        const h = reservation.probe(state_dir, d.name(), @intCast(s)) orelse continue;
        in_use += 1;
        const dup = for (seen[0..n_seen]) |*o| {
            if (std.mem.eql(u8, o.text(), h.text())) break true;
        } else false;
        if (dup) continue;
        seen[n_seen] = h;
        n_seen += 1;
        if (fbs.pos > 0) fbs.writer().writeByte(',') catch {};
        fbs.writer().writeAll(h.text()) catch {};
    }
    info.in_use = in_use;
    abi.setCString(&info.in_use_by, fbs.getWritten());
}

/// Finds the device an axrDeviceInfo names (by its name) in the current device list.
pub fn resolveDevice(devs: *const devices.Devices, info: ?*const abi.DeviceInfo, diag: *Diag) Error!devices.Device {
    const i = info orelse return diag.fail(error.InvalidArgument, "device is NULL", .{});
    const name = abi.getCString(&i.name);
    const d = devs.find(name) orelse
        return diag.fail(error.InvalidArgument, "no device named '{s}' (AXR_EMU_DEVICES has {d} device(s))", .{ properties.clip(name), devs.len });
    return d.*;
}

/// axr_configure_device: validates and stores; error.Pending while not settled.
pub fn configureDevice(ctx: *Context, info: ?*const abi.DeviceInfo, props: *const properties.Map, diag: *Diag) Error!void {
    const devs = try devices.fromEnv(diag);
    const dev = try resolveDevice(&devs, info, diag);
    var state = try devices.openStateDir(diag);
    defer state.close();
    const now = std.time.milliTimestamp();
    const cfg = config.configure(&state, &dev, props, now, diag) catch |e| {
        ctx.log(.warning, "configure {s} failed: {s}", .{ dev.name(), diag.messageOr(e) });
        return e;
    };
    ctx.log(.info, "configured {s}: clock {any} MHz, mvm {any} %, ddr 0x{x}", .{ dev.name(), cfg.clock[0..dev.subs], cfg.mvm[0..dev.subs], cfg.ddr });
    if (cfg.ready_at_ms > now) return diag.fail(error.Pending, "pending", .{});
}

/// axr_device_ready: error.Pending until the last configuration has settled.
pub fn deviceReady(info: ?*const abi.DeviceInfo, diag: *Diag) Error!void {
    const devs = try devices.fromEnv(diag);
    const dev = try resolveDevice(&devs, info, diag);
    var state = try devices.openStateDir(diag);
    defer state.close();
    const cfg = config.load(&state, &dev);
    if (cfg.ready_at_ms > std.time.milliTimestamp()) return diag.fail(error.Pending, "pending", .{});
}

/// axr_read_device_configuration: a new Properties (owned by the context).
pub fn readConfiguration(ctx: *Context, info: ?*const abi.DeviceInfo, diag: *Diag) Error!*properties.Properties {
    const devs = try devices.fromEnv(diag);
    const dev = try resolveDevice(&devs, info, diag);
    var state = try devices.openStateDir(diag);
    defer state.close();
    const cfg = config.load(&state, &dev);
    const p = try properties.Properties.create(&ctx.hdr, &ctx.hdr);
    errdefer object.destroy(&p.hdr);
    const gpa = alloc.gpa();
    var kb: [64]u8 = undefined;
    var vb: [64]u8 = undefined;
    try p.map.set(gpa, "clock_profile", std.fmt.bufPrint(&vb, "{d}", .{cfg.clock[0]}) catch unreachable, diag);
    for (0..dev.subs) |c| try p.map.set(gpa, std.fmt.bufPrint(&kb, "clock_profile_core_{d}", .{c}) catch unreachable, std.fmt.bufPrint(&vb, "{d}", .{cfg.clock[c]}) catch unreachable, diag);
    for (0..dev.subs) |c| try p.map.set(gpa, std.fmt.bufPrint(&kb, "mvm_utilisation_core_{d}", .{c}) catch unreachable, std.fmt.bufPrint(&vb, "{d}", .{cfg.mvm[c]}) catch unreachable, diag);
    try p.map.set(gpa, "ddr_size", std.fmt.bufPrint(&vb, "0x{x}", .{cfg.ddr}) catch unreachable, diag);
    try p.map.set(gpa, "device_name", dev.name(), diag);
    try p.map.set(gpa, "board_type", devices.boardName(dev.board), diag);
    return p;
}
