//! A connection: the reservation of one or more sub-devices of one device. Destroying
//! it destroys its model instances, then releases the locks.

const std = @import("std");
const abi = @import("abi.zig");
const alloc = @import("alloc.zig");
const errors = @import("errors.zig");
const object = @import("object.zig");
const devices = @import("devices.zig");
const reservation = @import("reservation.zig");
const properties = @import("properties.zig");
const context = @import("context.zig");

const Error = errors.Error;
const Diag = errors.Diag;
const Context = context.Context;

pub const Connection = struct {
    hdr: object.Header,
    device: devices.Device,
    /// The opened state directory (closed with the connection; its instances use it).
    state: devices.StateDir = .{ .fd = -1 },
    /// Reserved sub-device indices, in order.
    subs: [devices.max_sub_devices]u32 = undefined,
    held: [devices.max_sub_devices]reservation.Held = undefined,
    n_subs: u32 = 0,
    /// Where the next instance's cores start (round robin over `subs`), so that
    /// instances loaded one after another land on different sub-devices.
    next_core: std.atomic.Value(u32) = std.atomic.Value(u32).init(0),

    pub const kind: object.Kind = .connection;

    pub fn stateDir(self: *const Connection) *const devices.StateDir {
        return &self.state;
    }

    pub fn subDevices(self: *const Connection) []const u32 {
        return self.subs[0..self.n_subs];
    }

    /// axr_device_connect
    pub fn create(ctx: *Context, info: ?*const abi.DeviceInfo, num_sub_devices: usize, props: ?*const properties.Map, diag: *Diag) Error!*Connection {
        const devs = try devices.fromEnv(diag);
        var by_name: ?[]const u8 = null;
        if (props) |m| for (m.entries.items) |e| {
            if (std.mem.eql(u8, e.key, "device_name")) {
                by_name = e.value;
            } else return diag.fail(error.InvalidArgument, "unknown connection property '{s}' (expected device_name)", .{properties.clip(e.key)});
        };
        const dev: devices.Device = if (by_name) |n| blk: {
            const d = devs.find(n) orelse
                return diag.fail(error.InvalidArgument, "device_name={s}: no such device", .{properties.clip(n)});
            break :blk d.*;
        } else if (info != null) try context.resolveDevice(&devs, info, diag) else devs.items[0];

        const want: usize = if (num_sub_devices == 0) 1 else num_sub_devices;
        if (want > dev.subs)
            return diag.fail(error.InvalidArgument, "num_sub_devices={d}: {s} has {d} sub-device(s)", .{ num_sub_devices, dev.name(), dev.subs });

        const gpa = alloc.gpa();
        const c = try gpa.create(Connection);
        c.* = .{ .hdr = .{ .kind = kind, .ctx = &ctx.hdr, .destroy_fn = destroyFn }, .device = dev };
        var ok = false;
        defer if (!ok) {
            for (c.held[0..c.n_subs]) |h| h.release();
            if (c.state.fd >= 0) c.state.close();
            gpa.destroy(c);
        };
        c.state = try devices.openStateDir(diag);

        var busy_buf: [512]u8 = undefined;
        var busy = std.io.fixedBufferStream(&busy_buf);
        var s: u32 = 0;
        while (s < dev.subs and c.n_subs < want) : (s += 1) {
            switch (try reservation.tryAcquire(c.stateDir(), dev.name(), s, diag)) {
                .held => |h| {
                    c.held[c.n_subs] = h;
                    c.subs[c.n_subs] = s;
                    c.n_subs += 1;
                },
                .busy => |who| {
                    if (busy.pos > 0) busy.writer().writeAll(", ") catch {};
                    busy.writer().print("{s} sub-device {d} is in use by {s}", .{ dev.name(), s, who.text() }) catch {};
                },
            }
        }
        if (c.n_subs < want)
            return diag.fail(error.DeviceInUse, "cannot reserve {d} sub-device(s) of {s}: {s}", .{ want, dev.name(), busy.getWritten() });
        try object.register(&c.hdr);
        ok = true;
        ctx.hdr.adopt(&c.hdr);
        ctx.log(.info, "connected to {s}, sub-device(s) {any}", .{ dev.name(), c.subDevices() });
        return c;
    }

    fn destroyFn(h: *object.Header) void {
        const c: *Connection = @fieldParentPtr("hdr", h);
        const ctx = Context.of(h);
        for (c.held[0..c.n_subs]) |held| held.release();
        c.state.close();
        ctx.log(.info, "released {s}, sub-device(s) {any}", .{ c.device.name(), c.subDevices() });
        alloc.gpa().destroy(c);
    }
};
