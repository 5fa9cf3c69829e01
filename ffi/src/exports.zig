//! The C ABI (include/axruntime/axruntime.h): context, objects, errors, logger, properties and
//! devices. Model and instance functions are in exports_model.zig. Every export checks
//! its handles against the registry of live handles, turns Zig errors into axrResult +
//! the object's last error here, at the boundary, and never lets an error escape.

const std = @import("std");
const abi = @import("abi.zig");
const alloc = @import("alloc.zig");
const errors = @import("errors.zig");
const object = @import("object.zig");
const devices = @import("devices.zig");
const properties = @import("properties.zig");
const context = @import("context.zig");
const connection = @import("connection.zig");
const boundary = @import("boundary.zig");
const fail = boundary.fail;
const anyContext = boundary.anyContext;

const Result = abi.Result;
const Diag = errors.Diag;
const Context = context.Context;
const Properties = properties.Properties;
const Connection = connection.Connection;

comptime {
    _ = @import("exports_model.zig");
    _ = @import("exports_cpu.zig");
}

pub export fn axr_api_version() c_uint {
    return abi.api_version;
}

pub export fn axr_create_context() ?*anyopaque {
    const c = Context.create() catch return null;
    return object.handleOf(&c.hdr);
}

pub export fn axr_destroy(obj: ?*const anyopaque) void {
    const h = object.lookup(obj) orelse return;
    object.destroy(h);
}

pub export fn axr_get_context(obj: ?*anyopaque) ?*anyopaque {
    const c = anyContext(obj) orelse return null;
    return object.handleOf(&c.hdr);
}

pub export fn axr_last_error(obj: ?*const anyopaque) Result {
    const h = object.lookup(obj) orelse return .invalid_argument;
    h.lock.lock();
    defer h.lock.unlock();
    return h.err_code;
}

pub export fn axr_last_error_string(obj: ?*const anyopaque) [*:0]const u8 {
    const h = object.lookup(obj) orelse return if (obj == null) "NULL handle" else "invalid or destroyed handle";
    return @ptrCast(&h.err_buf);
}

pub export fn axr_error_string(r: Result) [*:0]const u8 {
    return errors.resultString(r);
}

pub export fn axr_board_type_string(b: abi.BoardType) [*:0]const u8 {
    return devices.boardName(b);
}

pub export fn axr_set_logger(ctx_ptr: ?*anyopaque, level: abi.LogLevel, func: ?abi.LoggerFn, arg: ?*anyopaque) void {
    const ctx = object.cast(Context, ctx_ptr) orelse return;
    ctx.logger.set(level, func, arg);
    ctx.log(.debug, "logger set (level {d})", .{@intFromEnum(level)});
}

// ---- devices --------------------------------------------------------------------

pub export fn axr_list_devices(ctx_ptr: ?*anyopaque, out: ?*?[*]abi.DeviceInfo) usize {
    const ctx = object.cast(Context, ctx_ptr) orelse {
        if (out) |o| o.* = null;
        return 0;
    };
    var diag = Diag{};
    const list = ctx.listDevices(&diag) catch |e| {
        _ = fail(&ctx.hdr, e, &diag);
        ctx.log(.@"error", "{s}", .{diag.messageOr(e)});
        if (out) |o| o.* = null;
        return 0;
    };
    if (out) |o| o.* = if (list.len > 0) list.ptr else null;
    return list.len;
}

fn propsMap(ptr: ?*anyopaque, diag: *Diag) errors.Error!?*const properties.Map {
    if (ptr == null) return null;
    const p = object.cast(Properties, ptr) orelse return diag.fail(error.InvalidArgument, "properties handle is invalid or destroyed", .{});
    return &p.map;
}

pub export fn axr_configure_device(ctx_ptr: ?*anyopaque, dev: ?*abi.DeviceInfo, props: ?*anyopaque) Result {
    const ctx = object.cast(Context, ctx_ptr) orelse return .invalid_argument;
    var diag = Diag{};
    const empty = properties.Map{};
    const map = (propsMap(props, &diag) catch |e| return fail(&ctx.hdr, e, &diag)) orelse &empty;
    context.configureDevice(ctx, dev, map, &diag) catch |e| return fail(&ctx.hdr, e, &diag);
    return .success;
}

pub export fn axr_device_ready(ctx_ptr: ?*anyopaque, dev: ?*abi.DeviceInfo) Result {
    const ctx = object.cast(Context, ctx_ptr) orelse return .invalid_argument;
    var diag = Diag{};
    context.deviceReady(dev, &diag) catch |e| return fail(&ctx.hdr, e, &diag);
    return .success;
}

pub export fn axr_read_device_configuration(ctx_ptr: ?*anyopaque, dev: ?*abi.DeviceInfo) ?*anyopaque {
    const ctx = object.cast(Context, ctx_ptr) orelse return null;
    var diag = Diag{};
    const p = context.readConfiguration(ctx, dev, &diag) catch |e| {
        _ = fail(&ctx.hdr, e, &diag);
        return null;
    };
    return object.handleOf(&p.hdr);
}

pub export fn axr_device_connect(ctx_ptr: ?*anyopaque, dev: ?*abi.DeviceInfo, num_sub_devices: usize, props: ?*anyopaque) ?*anyopaque {
    const ctx = object.cast(Context, ctx_ptr) orelse return null;
    var diag = Diag{};
    const map = propsMap(props, &diag) catch |e| {
        _ = fail(&ctx.hdr, e, &diag);
        return null;
    };
    const c = Connection.create(ctx, dev, num_sub_devices, map, &diag) catch |e| {
        _ = fail(&ctx.hdr, e, &diag);
        ctx.log(.warning, "device connect failed: {s}", .{diag.messageOr(e)});
        return null;
    };
    return object.handleOf(&c.hdr);
}

// ---- properties -----------------------------------------------------------------

pub export fn axr_create_properties(ctx_ptr: ?*anyopaque, initial: ?[*:0]const u8) ?*anyopaque {
    const ctx = object.cast(Context, ctx_ptr) orelse return null;
    var diag = Diag{};
    const p = Properties.create(&ctx.hdr, &ctx.hdr) catch |e| {
        _ = fail(&ctx.hdr, e, &diag);
        return null;
    };
    if (initial) |s| p.map.parse(alloc.gpa(), std.mem.span(s), &diag) catch |e| {
        _ = fail(&ctx.hdr, e, &diag);
        object.destroy(&p.hdr);
        return null;
    };
    return object.handleOf(&p.hdr);
}

pub export fn axr_get_property(ptr: ?*anyopaque, key: ?[*:0]const u8) ?[*:0]const u8 {
    const p = object.cast(Properties, ptr) orelse return null;
    const k = key orelse {
        p.hdr.setError(.invalid_argument, "key is NULL");
        return null;
    };
    const v = p.map.get(std.mem.span(k)) orelse return null;
    return v.ptr;
}

pub export fn axr_set_property(ptr: ?*anyopaque, key: ?[*:0]const u8, value: ?[*:0]const u8) void {
    const p = object.cast(Properties, ptr) orelse return;
    const k = key orelse return p.hdr.setError(.invalid_argument, "key is NULL");
    var diag = Diag{};
    if (value) |v| {
        p.map.set(alloc.gpa(), std.mem.span(k), std.mem.span(v), &diag) catch |e| {
            _ = fail(&p.hdr, e, &diag);
        };
    } else p.map.del(alloc.gpa(), std.mem.span(k));
}

pub export fn axr_del_property(ptr: ?*anyopaque, key: ?[*:0]const u8) void {
    const p = object.cast(Properties, ptr) orelse return;
    const k = key orelse return p.hdr.setError(.invalid_argument, "key is NULL");
    p.map.del(alloc.gpa(), std.mem.span(k));
}

pub export fn axr_list_properties(ptr: ?*anyopaque) ?[*:0]const u8 {
    const p = object.cast(Properties, ptr) orelse return null;
    var diag = Diag{};
    const s = p.list() catch |e| {
        _ = fail(&p.hdr, e, &diag);
        return null;
    };
    return s.ptr;
}
