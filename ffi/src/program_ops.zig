//! Per-op validation of the device program (docs/model-format.md): checks each op's
//! arity, shapes, quantization and attributes against the op rules and precomputes what
//! the executor needs (requantization multipliers, byte tables, accumulator bounds,
//! packed weights). `program.zig` parses the container, the tensors and the op list and
//! calls `attrs` once per op; failures go through `Parser.opFail` (the op's context).

const std = @import("std");
const assert = std.debug.assert;
const program = @import("program.zig");
const rq = @import("ops/requant.zig");
const conv = @import("ops/conv.zig");
const pool = @import("ops/pool.zig");
const eltwise = @import("ops/eltwise.zig");
const lut = @import("ops/lut.zig");
const pad_lut = @import("ops/pad_lut.zig");

const Parser = program.Parser;
const Op = program.Op;
const TensorDesc = program.TensorDesc;
const Error = program.Error;
const max_dim = program.max_dim;
const max_tensor_bytes = program.max_tensor_bytes;
const outSize = program.outSize;
const field = Parser.field;
const asInt = Parser.asInt;
const u32s = Parser.u32s;

/// Validates the attributes of `res` (kind, inputs and outputs already parsed) against
/// the tensors of `parser` and sets `res.attrs` (and `macs`, `const_bytes`).
pub fn attrs(parser: *Parser, res: *Op, o: std.json.ObjectMap) Error!void {
    const T = parser.tensors;
    // Parser.op checked the indices
    for (res.inputs) |t| assert(t < T.len);
    for (res.outputs) |t| assert(t < T.len);
    switch (res.kind) {
        .Conv, .Gemm => try convOp(parser, res, o),
        .Add, .Mul => {
            try arity(parser, res, 2, 1);
            const a = T[res.inputs[0]];
            const b = T[res.inputs[1]];
            const y = T[res.outputs[0]];
            var want: [4]u32 = undefined;
            for (0..4) |k| {
                if (a.shape[k] != b.shape[k] and a.shape[k] != 1 and b.shape[k] != 1)
                    return parser.opFail("input shapes do not broadcast on axis {d} ({d} vs {d})", .{ k, a.shape[k], b.shape[k] });
                want[k] = @max(a.shape[k], b.shape[k]);
            }
            try expectShape(parser, y, want, "output");
            const da = try parser.arena.create([256]f32);
            const db = try parser.arena.create([256]f32);
            rq.dqTable(da, a.zero_point, a.scale, a.isUint8());
            rq.dqTable(db, b.zero_point, b.scale, b.isUint8());
            res.attrs = .{ .binary = .{ .mul = res.kind == .Mul, .dqa = da, .dqb = db, .y_scale = y.scale, .y_zp = y.zero_point, .y_range = rq.Range.of(y.isUint8()) } };
        },
        .Concat => {
            try arity(parser, res, null, 1);
            const axis: u32 = @intCast(try parser.opInt(o, "axis", 0, 3, null));
            const y = T[res.outputs[0]];
            var want = T[res.inputs[0]].shape;
            var sum: u64 = 0;
            const tabs = try parser.arena.alloc(?*const [256]u8, res.inputs.len);
            for (res.inputs, 0..) |ti, i| {
                const x = T[ti];
                for (0..4) |k| if (k != axis and x.shape[k] != want[k])
                    return parser.opFail("input {d} '{s}' shape[{d}] = {d} differs from input 0's {d}", .{ i, x.name, k, x.shape[k], want[k] });
                sum += x.shape[axis];
                if (x.scale == y.scale and x.zero_point == y.zero_point and x.dtype == y.dtype) {
                    tabs[i] = null;
                } else {
                    const t = try parser.arena.create([256]u8);
                    eltwise.requantTable(t, x.scale, x.zero_point, x.isUint8(), y.scale, y.zero_point, y.isUint8());
                    tabs[i] = t;
                }
            }
            if (sum > max_dim) return parser.opFail("concatenated axis length {d} > {d}", .{ sum, max_dim });
            want[axis] = @intCast(sum);
            try expectShape(parser, y, want, "output");
            res.attrs = .{ .concat = .{ .axis = axis, .tables = tabs } };
        },
        .Requantize => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            try expectShape(parser, y, x.shape, "output");
            const t = try parser.arena.create([256]u8);
            eltwise.requantTable(t, x.scale, x.zero_point, x.isUint8(), y.scale, y.zero_point, y.isUint8());
            res.attrs = .{ .table = t };
        },
        .Relu, .Clip => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            try expectShape(parser, y, x.shape, "output");
            try sameQuant(parser, x, y);
            const r = rq.Range.of(x.isUint8());
            var lo: i64 = x.zero_point;
            var hi: i64 = r.hi;
            if (res.kind == .Clip) {
                lo = try parser.opInt(o, "lo", r.lo, r.hi, null);
                hi = try parser.opInt(o, "hi", r.lo, r.hi, null);
                if (lo > hi) return parser.opFail("lo {d} > hi {d}", .{ lo, hi });
            }
            const t = try parser.arena.create([256]u8);
            lut.clipTable(t, @intCast(lo), @intCast(hi), x.isUint8());
            res.attrs = .{ .table = t };
        },
        .Lut => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            try expectShape(parser, y, x.shape, "output");
            const tb = try parser.dataRef(o, "table", 1, 256, "256 entries");
            const t = try parser.arena.create([256]u8);
            lut.lutTable(t, tb, x.isUint8());
            res.attrs = .{ .table = t };
            res.const_bytes = 256;
        },
        .Pad => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            try sameQuant(parser, x, y);
            const pads = u32s(4, try parser.opInts(4, o, "pads", 0, max_dim, null));
            const mode: pad_lut.PadMode = @enumFromInt(try parser.opInt(o, "mode", 0, 2, 0));
            const r = rq.Range.of(x.isUint8());
            const value = try parser.opInt(o, "value", r.lo, r.hi, x.zero_point);
            if (mode == .reflect and (pads[0] >= x.shape[1] or pads[2] >= x.shape[1] or pads[1] >= x.shape[2] or pads[3] >= x.shape[2]))
                return parser.opFail("reflect pads {any} must be smaller than the input's {d}x{d}", .{ pads, x.shape[1], x.shape[2] });
            const oh = @as(u64, x.shape[1]) + pads[0] + pads[2];
            const ow = @as(u64, x.shape[2]) + pads[1] + pads[3];
            if (oh > max_dim or ow > max_dim) return parser.opFail("output size {d}x{d} > {d}", .{ oh, ow, max_dim });
            try expectShape(parser, y, .{ x.shape[0], @intCast(oh), @intCast(ow), x.shape[3] }, "output");
            res.attrs = .{ .pad = .{ .mode = mode, .pads = pads, .value = rq.toByte(@intCast(value)) } };
        },
        .ChannelLut => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            try expectShape(parser, y, x.shape, "output");
            const C = x.shape[3];
            const tb = try parser.dataRef(o, "table", 1, @as(u64, C) * 256, "256 entries per channel");
            const t = try parser.arena.alloc([256]u8, C);
            pad_lut.channelTables(t, tb, x.isUint8());
            res.attrs = .{ .channel_table = t };
            res.const_bytes = @as(u64, C) * 256;
        },
        .MaxPool, .AveragePool, .GlobalAveragePool => try poolOp(parser, res, o),
        .Resize => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            const s = u32s(2, try parser.opInts(2, o, "scales", 1, max_dim, null));
            const rh = @as(u64, x.shape[1]) * s[0];
            const rw = @as(u64, x.shape[2]) * s[1];
            if (rh > max_dim or rw > max_dim) return parser.opFail("output size {d}x{d} > {d}", .{ rh, rw, max_dim });
            const want = [4]u32{ x.shape[0], @intCast(rh), @intCast(rw), x.shape[3] };
            try expectShape(parser, y, want, "output");
            try sameQuant(parser, x, y);
            res.attrs = .{ .resize = s };
        },
        .Reshape => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            if (x.logicalSize() != y.logicalSize()) return parser.opFail("output '{s}' has {d} elements, input '{s}' {d}", .{ y.name, y.logicalSize(), x.name, x.logicalSize() });
            try sameQuant(parser, x, y);
            res.attrs = .reshape;
        },
        .Transpose => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            const perm = u32s(4, try parser.opInts(4, o, "perm", 0, 3, null));
            var seen = [_]bool{false} ** 4;
            for (perm) |a| {
                if (seen[a]) return parser.opFail("perm is not a permutation of 0..3", .{});
                seen[a] = true;
            }
            var want: [4]u32 = undefined;
            for (0..4) |k| want[k] = x.shape[perm[k]];
            try expectShape(parser, y, want, "output");
            try sameQuant(parser, x, y);
            res.attrs = .{ .transpose = perm };
        },
        .Slice => {
            try arity(parser, res, 1, 1);
            const x = T[res.inputs[0]];
            const y = T[res.outputs[0]];
            const big: i64 = 1 << 62;
            const st = try parser.opInts(4, o, "starts", -big, big, null);
            const en = try parser.opInts(4, o, "ends", -big, big, null);
            const sp = u32s(4, try parser.opInts(4, o, "steps", 1, max_dim, .{ 1, 1, 1, 1 }));
            var starts: [4]u32 = undefined;
            var want: [4]u32 = undefined;
            for (0..4) |k| {
                const d: i64 = x.shape[k];
                const s0 = sliceIndex(st[k], d);
                const e0 = sliceIndex(en[k], d);
                starts[k] = @intCast(s0);
                const len: i64 = if (e0 > s0) @divFloor(e0 - s0 + sp[k] - 1, sp[k]) else 0;
                if (len == 0) return parser.opFail("axis {d}: the slice is empty", .{k});
                want[k] = @intCast(len);
            }
            try expectShape(parser, y, want, "output");
            try sameQuant(parser, x, y);
            res.attrs = .{ .slice = .{ .starts = starts, .steps = sp } };
        },
        .Split => {
            try arity(parser, res, 1, null);
            const x = T[res.inputs[0]];
            const axis: u32 = @intCast(try parser.opInt(o, "axis", 0, 3, null));
            const sv = field(o, "sizes") orelse return parser.opFail("missing attribute 'sizes'", .{});
            if (sv != .array) return parser.opFail("attribute 'sizes' must be an array of integers", .{});
            if (sv.array.items.len != res.outputs.len) return parser.opFail("'sizes' has {d} entries for {d} outputs", .{ sv.array.items.len, res.outputs.len });
            var sum: i64 = 0;
            for (sv.array.items, res.outputs, 0..) |e, ti, k| {
                const sz = asInt(e) orelse return parser.opFail("'sizes'[{d}] must be an integer", .{k});
                if (sz < 1 or sz > max_dim) return parser.opFail("'sizes'[{d}] = {d} out of range 1..{d}", .{ k, sz, max_dim });
                sum += sz;
                var want = x.shape;
                want[axis] = @intCast(sz);
                try expectShape(parser, T[ti], want, "output");
                try sameQuant(parser, x, T[ti]);
            }
            if (sum != x.shape[axis]) return parser.opFail("'sizes' sum to {d}, input axis {d} has {d}", .{ sum, axis, x.shape[axis] });
            res.attrs = .{ .split = axis };
        },
    }
}

fn sliceIndex(v: i64, d: i64) i64 {
    const w = if (v < 0) v + d else v;
    return @min(@max(w, 0), d);
}

fn convOp(parser: *Parser, res: *Op, o: std.json.ObjectMap) Error!void {
    try arity(parser, res, 1, 1);
    const x = parser.tensors[res.inputs[0]];
    const y = parser.tensors[res.outputs[0]];
    var p = conv.ConvParams{};
    p.cin = x.shape[3];
    p.cout = y.shape[3];
    var oh: u32 = x.shape[1];
    var ow: u32 = x.shape[2];
    if (res.kind == .Conv) {
        const k = u32s(2, try parser.opInts(2, o, "kernel", 1, max_dim, null));
        const s = u32s(2, try parser.opInts(2, o, "strides", 1, max_dim, .{ 1, 1 }));
        const d = u32s(2, try parser.opInts(2, o, "dilations", 1, max_dim, .{ 1, 1 }));
        const pads = u32s(4, try parser.opInts(4, o, "pads", 0, max_dim, .{ 0, 0, 0, 0 }));
        p.group = @intCast(try parser.opInt(o, "group", 1, max_dim, 1));
        if (p.cin % p.group != 0) return parser.opFail("input channels {d} not divisible by group {d}", .{ p.cin, p.group });
        if (p.cout % p.group != 0) return parser.opFail("output channels {d} not divisible by group {d}", .{ p.cout, p.group });
        p.kh = k[0];
        p.kw = k[1];
        p.sh = s[0];
        p.sw = s[1];
        p.dh = d[0];
        p.dw = d[1];
        p.pads = pads;
        oh = outSize(x.shape[1], k[0], s[0], d[0], pads[0], pads[2], false) orelse return parser.opFail("kernel {d}x{d} (dilation {d}) does not fit the padded input height {d}", .{ k[0], k[1], d[0], x.shape[1] });
        ow = outSize(x.shape[2], k[1], s[1], d[1], pads[1], pads[3], false) orelse return parser.opFail("kernel {d}x{d} (dilation {d}) does not fit the padded input width {d}", .{ k[0], k[1], d[1], x.shape[2] });
        // the padded input (int16 scratch) of one image must stay reasonable
        const hp: u64 = @as(u64, x.shape[1]) + pads[0] + pads[2];
        const wp: u64 = @as(u64, x.shape[2]) + pads[1] + pads[3];
        // saturating: with large pads the product exceeds 2^64
        if (hp *| wp *| p.cin *| x.shape[0] *| 2 > max_tensor_bytes * 2) return parser.opFail("padded input too large", .{});
    }
    try expectShape(parser, y, .{ x.shape[0], oh, ow, p.cout }, "output");
    const cin_g = p.cin / p.group;
    const taps: u64 = @as(u64, p.kh) * p.kw;
    const wlen: u64 = @as(u64, p.cout) * taps * cin_g;
    if (wlen > max_tensor_bytes) return parser.opFail("{d} weights (limit 2^31)", .{wlen});
    const what = if (res.kind == .Conv) "Cout*kh*kw*Cin/group" else "Cout*K";
    const wb = try parser.dataRef(o, "weights", 1, wlen, what);
    p.weights = @ptrCast(try parser.arena.dupe(u8, wb));
    if (field(o, "bias") != null) {
        p.bias = try parser.readI32s(try parser.dataRef(o, "bias", 4, @as(u64, p.cout) * 4, "int32[Cout]"));
    } else {
        const z = try parser.arena.alloc(i32, p.cout);
        @memset(z, 0);
        p.bias = z;
    }
    const ws = try parser.readF32s(try parser.dataRef(o, "w_scale", 4, @as(u64, p.cout) * 4, "float32[Cout]"));
    const mult = try parser.arena.alloc(f32, p.cout);
    for (ws, 0..) |s, c| {
        if (!std.math.isFinite(s) or !(s > 0)) return parser.opFail("w_scale[{d}] = {e} must be finite and > 0", .{ c, s });
        // m[c] = (x_scale * w_scale[c]) / y_scale in float32, in that order
        const xw: f32 = x.scale * s;
        mult[c] = xw / y.scale;
        if (!std.math.isFinite(mult[c])) return parser.opFail("requantization multiplier of channel {d} is not finite", .{c});
    }
    p.mult = mult;
    const yr = rq.Range.of(y.isUint8());
    p.lo = yr.lo;
    p.hi = yr.hi;
    p.y_zp = y.zero_point;
    if (field(o, "clamp") != null) {
        const c = try parser.opInts(2, o, "clamp", yr.lo, yr.hi, null);
        if (c[0] > c[1]) return parser.opFail("clamp [{d}, {d}] is empty", .{ c[0], c[1] });
        p.lo = @intCast(c[0]);
        p.hi = @intCast(c[1]);
    }
    // worst case |accumulator| per channel: |bias| + max|x - x_zp| * sum |w|
    const xr = rq.Range.of(x.isUint8());
    const maxdx: i64 = @max(x.zero_point - xr.lo, xr.hi - x.zero_point);
    const per_c = taps * cin_g;
    for (0..p.cout) |c| {
        var sw: i64 = 0;
        for (p.weights[c * per_c ..][0..per_c]) |w| sw += @as(i64, @abs(w));
        const bound = @as(i64, @abs(p.bias[c])) + maxdx * sw;
        if (bound > std.math.maxInt(i32)) return parser.opFail("output channel {d}: worst-case accumulator {d} exceeds 2^31-1", .{ c, bound });
    }
    const vnni = program.cpu.table(parser.level).vnni;
    conv.pack(parser.arena, &p, x.shape[1], x.shape[2], x.zero_point, x.isUint8(), vnni) catch return error.OutOfMemory;
    res.macs = @as(u64, y.logicalSize()) * taps * cin_g;
    res.const_bytes = wlen + @as(u64, p.cout) * 8;
    res.attrs = .{ .conv = p };
}

fn poolOp(parser: *Parser, res: *Op, o: std.json.ObjectMap) Error!void {
    try arity(parser, res, 1, 1);
    const x = parser.tensors[res.inputs[0]];
    const y = parser.tensors[res.outputs[0]];
    var p = pool.PoolParams{ .kind = switch (res.kind) {
        .MaxPool => .max,
        .AveragePool => .avg,
        else => .global_avg,
    } };
    p.x_is_uint8 = x.isUint8();
    p.y_scale = y.scale;
    p.y_zp = y.zero_point;
    p.y_range = rq.Range.of(y.isUint8());
    var oh: u32 = 1;
    var ow: u32 = 1;
    if (p.kind == .global_avg) {
        p.kh = x.shape[1];
        p.kw = x.shape[2];
    } else {
        const k = u32s(2, try parser.opInts(2, o, "kernel", 1, max_dim, null));
        const s = u32s(2, try parser.opInts(2, o, "strides", 1, max_dim, .{ 1, 1 }));
        const d = u32s(2, try parser.opInts(2, o, "dilations", 1, max_dim, .{ 1, 1 }));
        const pads = u32s(4, try parser.opInts(4, o, "pads", 0, max_dim, .{ 0, 0, 0, 0 }));
        if (p.kind == .avg and (d[0] != 1 or d[1] != 1)) return parser.opFail("AveragePool takes no dilations", .{});
        p.ceil_mode = (try parser.opInt(o, "ceil_mode", 0, 1, 0)) == 1;
        p.count_include_pad = (try parser.opInt(o, "count_include_pad", 0, 1, 0)) == 1;
        p.kh = k[0];
        p.kw = k[1];
        p.sh = s[0];
        p.sw = s[1];
        p.dh = d[0];
        p.dw = d[1];
        p.pads = pads;
        for (0..2) |a| {
            const span = @as(u64, k[a] - 1) * d[a] + 1;
            if (pads[a] >= span or pads[a + 2] >= span) return parser.opFail("pads {any} must be smaller than the kernel extent", .{pads});
        }
        oh = outSize(x.shape[1], k[0], s[0], d[0], pads[0], pads[2], p.ceil_mode) orelse return parser.opFail("kernel does not fit the padded input height {d}", .{x.shape[1]});
        ow = outSize(x.shape[2], k[1], s[1], d[1], pads[1], pads[3], p.ceil_mode) orelse return parser.opFail("kernel does not fit the padded input width {d}", .{x.shape[2]});
        // every window must hold at least one input element (possible holes with dilation)
        if (!windowsNonEmpty(oh, x.shape[1], k[0], s[0], d[0], pads[0]) or !windowsNonEmpty(ow, x.shape[2], k[1], s[1], d[1], pads[1]))
            return parser.opFail("a pooling window covers no input element", .{});
    }
    try expectShape(parser, y, .{ x.shape[0], oh, ow, x.shape[3] }, "output");
    if (p.kind == .max) {
        try sameQuant(parser, x, y);
    } else {
        const t = try parser.arena.create([256]f32);
        rq.dqTable(t, x.zero_point, x.scale, x.isUint8());
        p.dq = t;
    }
    res.attrs = .{ .pool = p };
}

fn windowsNonEmpty(on: u32, in: u32, k: u32, s: u32, d: u32, lo: u32) bool {
    for (0..on) |oi| {
        const a: i64 = @as(i64, lo) - @as(i64, @intCast(oi)) * s; // first valid tap i needs i*d >= a
        const first: i64 = if (a <= 0) 0 else @divFloor(a + d - 1, d);
        if (first >= k or first * d >= a + in) return false;
    }
    return true;
}

fn arity(parser: *Parser, op_: *const Op, nin: ?usize, nout: ?usize) !void {
    if (nin) |n| if (op_.inputs.len != n) return parser.opFail("{d} inputs, expected {d}", .{ op_.inputs.len, n });
    if (nout) |n| if (op_.outputs.len != n) return parser.opFail("{d} outputs, expected {d}", .{ op_.outputs.len, n });
    if (op_.inputs.len == 0) return parser.opFail("no inputs", .{});
    if (op_.outputs.len == 0) return parser.opFail("no outputs", .{});
}

fn expectShape(parser: *Parser, t: TensorDesc, want: [4]u32, what: []const u8) !void {
    if (!std.mem.eql(u32, &t.shape, &want))
        return parser.opFail("{s} '{s}' has shape [{d},{d},{d},{d}], expected [{d},{d},{d},{d}]", .{ what, t.name, t.shape[0], t.shape[1], t.shape[2], t.shape[3], want[0], want[1], want[2], want[3] });
}

fn sameQuant(parser: *Parser, x: TensorDesc, y: TensorDesc) !void {
    if (x.scale != y.scale or x.zero_point != y.zero_point or x.dtype != y.dtype)
        return parser.opFail("output '{s}' quantization (scale {e}, zero point {d}, {s}) must equal the input's (scale {e}, zero point {d}, {s})", .{ y.name, y.scale, y.zero_point, @tagName(y.dtype), x.scale, x.zero_point, @tagName(x.dtype) });
}

test {
    std.testing.refAllDecls(@This());
}
