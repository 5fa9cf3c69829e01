//! The C ABI of models and model instances (include/axruntime/axruntime.h), with the same rules
//! as exports.zig: handles checked, errors recorded at the boundary, nothing escapes.

const std = @import("std");
const abi = @import("abi.zig");
const errors = @import("errors.zig");
const object = @import("object.zig");
const context = @import("context.zig");
const connection = @import("connection.zig");
const properties = @import("properties.zig");
const model_mod = @import("model.zig");
const instance = @import("instance.zig");
const x = @import("boundary.zig");

const Result = abi.Result;
const Diag = errors.Diag;
const Context = context.Context;
const Model = model_mod.Model;
const Instance = instance.Instance;

pub export fn axr_load_model(ctx_ptr: ?*anyopaque, path: ?[*:0]const u8) ?*anyopaque {
    const ctx = object.cast(Context, ctx_ptr) orelse return null;
    var diag = Diag{};
    const p = path orelse {
        ctx.hdr.setError(.invalid_argument, "model path is NULL");
        return null;
    };
    const m = Model.load(ctx, std.mem.span(p), &diag) catch |e| {
        _ = x.fail(&ctx.hdr, e, &diag);
        ctx.log(.@"error", "load_model failed: {s}", .{diag.messageOr(e)});
        return null;
    };
    return object.handleOf(&m.hdr);
}

pub export fn axr_num_model_inputs(ptr: ?*anyopaque) usize {
    const m = object.cast(Model, ptr) orelse return 0;
    return m.inputs.len;
}

pub export fn axr_num_model_outputs(ptr: ?*anyopaque) usize {
    const m = object.cast(Model, ptr) orelse return 0;
    return m.outputs.len;
}

fn tensorAt(ptr: ?*anyopaque, n: usize, comptime outputs: bool, out: *abi.TensorInfo) Result {
    out.* = abi.TensorInfo.zero;
    const m = object.cast(Model, ptr) orelse return .invalid_argument;
    const list = if (outputs) m.outputs else m.inputs;
    if (n >= list.len) {
        var diag = Diag{};
        diag.set("{s} {d} is out of range (the model has {d})", .{ if (outputs) "output" else "input", n, list.len });
        m.hdr.setError(.invalid_argument, diag.message());
        return .invalid_argument;
    }
    out.* = list[n];
    return .success;
}

pub export fn axr_get_model_input(ptr: ?*anyopaque, n: usize) abi.TensorInfo {
    var t: abi.TensorInfo = undefined;
    _ = tensorAt(ptr, n, false, &t);
    return t;
}

pub export fn axr_get_model_output(ptr: ?*anyopaque, n: usize) abi.TensorInfo {
    var t: abi.TensorInfo = undefined;
    _ = tensorAt(ptr, n, true, &t);
    return t;
}

pub export fn axr_ext_get_model_input(ptr: ?*anyopaque, n: usize, out: ?*abi.TensorInfo) Result {
    const o = out orelse return .invalid_argument;
    return tensorAt(ptr, n, false, o);
}

pub export fn axr_ext_get_model_output(ptr: ?*anyopaque, n: usize, out: ?*abi.TensorInfo) Result {
    const o = out orelse return .invalid_argument;
    return tensorAt(ptr, n, true, o);
}

pub export fn axr_get_model_properties(ptr: ?*anyopaque) ?*anyopaque {
    const m = object.cast(Model, ptr) orelse return null;
    var diag = Diag{};
    const p = m.makeProperties(&diag) catch |e| {
        _ = x.fail(&m.hdr, e, &diag);
        _ = x.fail(m.hdr.ctx, e, &diag);
        return null;
    };
    return object.handleOf(&p.hdr);
}

pub export fn axr_tensor_size(info: ?*const abi.TensorInfo) usize {
    const t = info orelse return 0;
    const nd = @min(t.ndims, abi.max_dims);
    var n: usize = 1;
    for (t.dims[0..nd]) |d| n = std.math.mul(usize, n, d) catch return 0;
    return std.math.mul(usize, n, t.bits / 8) catch 0;
}

pub export fn axr_load_model_instance(conn_ptr: ?*anyopaque, model_ptr: ?*anyopaque, props: ?*anyopaque) ?*anyopaque {
    const conn = object.cast(connection.Connection, conn_ptr) orelse {
        // record on the context of whatever valid handle we were given
        if (x.anyContext(model_ptr)) |c| c.hdr.setError(.invalid_argument, "connection handle is NULL, invalid or destroyed");
        return null;
    };
    var diag = Diag{};
    const ctx_h = conn.hdr.ctx;
    const m = object.cast(Model, model_ptr) orelse {
        diag.set("model handle is NULL, invalid or destroyed", .{});
        _ = x.fail(ctx_h, error.InvalidArgument, &diag);
        _ = x.fail(&conn.hdr, error.InvalidArgument, &diag);
        return null;
    };
    var map: ?*const properties.Map = null;
    if (props != null) {
        const p = object.cast(properties.Properties, props) orelse {
            diag.set("properties handle is invalid or destroyed", .{});
            _ = x.fail(ctx_h, error.InvalidArgument, &diag);
            _ = x.fail(&conn.hdr, error.InvalidArgument, &diag);
            return null;
        };
        map = &p.map;
    }
    const inst = Instance.create(conn, m, map, &diag) catch |e| {
        _ = x.fail(ctx_h, e, &diag);
        _ = x.fail(&conn.hdr, e, &diag);
        return null;
    };
    return object.handleOf(&inst.hdr);
}

pub export fn axr_run_model_instance(ptr: ?*anyopaque, inputs: ?[*]abi.Argument, n_in: usize, outputs: ?[*]abi.Argument, n_out: usize) Result {
    const inst = object.cast(Instance, ptr) orelse return .invalid_argument;
    var diag = Diag{};
    inst.run(inputs, n_in, outputs, n_out, &diag) catch |e| return x.fail(&inst.hdr, e, &diag);
    return .success;
}

pub export fn axr_ext_instance_stats(ptr: ?*anyopaque) ?[*:0]const u8 {
    const inst = object.cast(Instance, ptr) orelse return null;
    const s = inst.statsJson() catch {
        inst.hdr.setError(.runtime_error, "out of memory");
        return null;
    };
    return s.ptr;
}
