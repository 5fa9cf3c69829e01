//! The device program (`program.axp`, docs/model-format.md, format version 1): parsing and
//! validation. Everything the executor needs is checked and precomputed here (shapes
//! against the op rules, data references, requantization multipliers, byte tables,
//! accumulator bounds, packed weights), so `exec.zig` runs without checks.
//!
//! `Program.parse` copies what it keeps (the caller may free `bytes` afterwards); every
//! problem is an `error.InvalidProgram` with a message in `diag` naming the field
//! (without the file name: the caller prefixes it), e.g.
//! "op 3 'conv2' (Conv): weights length 100 != 432 (Cout*kh*kw*Cin/group)".

const std = @import("std");
const rq = @import("ops/requant.zig");
const conv = @import("ops/conv.zig");
const pool = @import("ops/pool.zig");
const eltwise = @import("ops/eltwise.zig");
const lut = @import("ops/lut.zig");

/// A human-readable error message, filled by `parse` (and by the runtime's loader).
pub const Diagnostic = struct {
    msg: [512]u8 = undefined,
    len: usize = 0,

    /// Formats the message (truncated to 512 bytes).
    pub fn set(self: *Diagnostic, comptime fmt: []const u8, args: anytype) void {
        var fbs = std.io.fixedBufferStream(&self.msg);
        std.fmt.format(fbs.writer(), fmt, args) catch {};
        self.len = fbs.pos;
    }

    /// The message set last (empty when none).
    pub fn message(self: *const Diagnostic) []const u8 {
        return self.msg[0..self.len];
    }
};

pub const DType = enum { int8, uint8 };

/// One tensor: logical NHWC shape, optional padding (program inputs/outputs only),
/// per-tensor quantization.
pub const TensorDesc = struct {
    name: []const u8,
    shape: [4]u32,
    /// [axis][lo, hi]
    padding: [4][2]u32 = .{ .{ 0, 0 }, .{ 0, 0 }, .{ 0, 0 }, .{ 0, 0 } },
    scale: f32,
    zero_point: i32,
    dtype: DType = .int8,

    /// Shape of the host buffer: shape + padding per axis.
    pub fn paddedShape(self: TensorDesc) [4]u32 {
        var s: [4]u32 = undefined;
        for (0..4) |i| s[i] = self.shape[i] + self.padding[i][0] + self.padding[i][1];
        return s;
    }

    /// Bytes of the host buffer (padded).
    pub fn byteSize(self: TensorDesc) usize {
        const s = self.paddedShape();
        return @as(usize, s[0]) * s[1] * s[2] * s[3];
    }

    /// Bytes of the logical region.
    pub fn logicalSize(self: TensorDesc) usize {
        return @as(usize, self.shape[0]) * self.shape[1] * self.shape[2] * self.shape[3];
    }

    pub fn isUint8(self: TensorDesc) bool {
        return self.dtype == .uint8;
    }

    pub fn hasPadding(self: TensorDesc) bool {
        for (self.padding) |p| if (p[0] != 0 or p[1] != 0) return true;
        return false;
    }
};

pub const OpKind = enum {
    Conv,
    Gemm,
    Add,
    Mul,
    Concat,
    Requantize,
    MaxPool,
    AveragePool,
    GlobalAveragePool,
    Relu,
    Clip,
    Lut,
    Resize,
    Reshape,
    Transpose,
    Slice,
    Split,
};

/// Run-time attributes of an op (validated and precomputed).
pub const Attrs = union(enum) {
    conv: conv.ConvParams,
    binary: eltwise.BinaryParams,
    concat: eltwise.ConcatParams,
    pool: pool.PoolParams,
    /// Requantize, Relu, Clip, Lut: a byte -> byte table
    table: *const [256]u8,
    resize: [2]u32,
    reshape,
    transpose: [4]u32,
    slice: struct { starts: [4]u32, steps: [4]u32 },
    split: u32,
};

pub const Op = struct {
    kind: OpKind,
    name: []const u8,
    inputs: []const u32,
    outputs: []const u32,
    attrs: Attrs,
    /// Multiply-accumulates of one run (whole batch); 0 for non-MVM ops.
    macs: u64 = 0,
    /// Bytes of weights, biases, scales and tables the op reads.
    const_bytes: u64 = 0,
};

/// Limits of the format.
pub const max_tensors = 65536;
pub const max_ops = 65536;
pub const max_dim = 65535;
pub const max_tensor_bytes: u64 = 1 << 31;
/// Sum of all tensors' logical bytes (the executor allocates them).
pub const max_total_bytes: u64 = 1 << 32;
pub const magic = "AXRPROG\x00";
pub const version: u32 = 1;

pub const Error = error{ InvalidProgram, OutOfMemory };

pub const Program = struct {
    arena: std.heap.ArenaAllocator,
    tensors: []const TensorDesc,
    input_ids: []const u32,
    output_ids: []const u32,
    input_descs: []const TensorDesc,
    output_descs: []const TensorDesc,
    ops: []const Op,
    /// N of the program inputs when every tensor has it and no op mixes images
    /// (then a batch can be split across cores); 1 otherwise.
    batch: u32,

    /// Parses and validates `bytes` (a whole program.axp).
    pub fn parse(gpa: std.mem.Allocator, bytes: []const u8, diag: *Diagnostic) Error!Program {
        var arena = std.heap.ArenaAllocator.init(gpa);
        errdefer arena.deinit();
        var p = Parser{ .gpa = gpa, .arena = arena.allocator(), .diag = diag };
        const r = try p.run(bytes);
        return .{
            .arena = arena,
            .tensors = r.tensors,
            .input_ids = r.inputs,
            .output_ids = r.outputs,
            .input_descs = r.input_descs,
            .output_descs = r.output_descs,
            .ops = r.ops,
            .batch = r.batch,
        };
    }

    pub fn deinit(self: *Program, gpa: std.mem.Allocator) void {
        _ = gpa;
        self.arena.deinit();
        self.* = undefined;
    }

    /// Descriptions of the program inputs, in order.
    pub fn inputs(self: *const Program) []const TensorDesc {
        return self.input_descs;
    }

    /// Descriptions of the program outputs, in order.
    pub fn outputs(self: *const Program) []const TensorDesc {
        return self.output_descs;
    }
};

const Value = std.json.Value;

const Parsed = struct {
    tensors: []TensorDesc,
    inputs: []u32,
    outputs: []u32,
    input_descs: []TensorDesc,
    output_descs: []TensorDesc,
    ops: []Op,
    batch: u32,
};

/// Output size of a conv/pool axis (ONNX); null when the window does not fit.
pub fn outSize(in: u32, k: u32, s: u32, d: u32, lo: u32, hi: u32, ceil_mode: bool) ?u32 {
    const span: i64 = @as(i64, in) + lo + hi - @as(i64, d) * (@as(i64, k) - 1) - 1;
    if (span < 0) return null;
    var o: i64 = (if (ceil_mode) @divFloor(span + s - 1, s) else @divFloor(span, s)) + 1;
    // ONNX / onnxruntime: with ceil_mode the last window must start inside the input or the left pad.
    if (ceil_mode and (o - 1) * s >= @as(i64, in) + lo) o -= 1;
    if (o < 1 or o > max_dim) return null;
    return @intCast(o);
}

const Parser = struct {
    gpa: std.mem.Allocator,
    arena: std.mem.Allocator,
    diag: *Diagnostic,
    data: []const u8 = &.{},
    tensors: []TensorDesc = &.{},
    // context of the op being parsed
    op_index: usize = 0,
    op_name: []const u8 = "",
    op_kind: []const u8 = "",

    fn fail(self: *Parser, comptime fmt: []const u8, args: anytype) error{InvalidProgram} {
        self.diag.set(fmt, args);
        return error.InvalidProgram;
    }

    fn opFail(self: *Parser, comptime fmt: []const u8, args: anytype) error{InvalidProgram} {
        self.diag.set("op {d} '{s}' ({s}): " ++ fmt, .{ self.op_index, self.op_name, self.op_kind } ++ args);
        return error.InvalidProgram;
    }

    fn run(self: *Parser, bytes: []const u8) Error!Parsed {
        if (bytes.len < 16) return self.fail("truncated header: {d} bytes, need 16", .{bytes.len});
        if (!std.mem.eql(u8, bytes[0..8], magic)) return self.fail("bad magic (not a device program)", .{});
        const ver = std.mem.readInt(u32, bytes[8..12], .little);
        if (ver != version) return self.fail("unsupported format version {d} (this library reads {d})", .{ ver, version });
        const json_len = std.mem.readInt(u32, bytes[12..16], .little);
        if (json_len > bytes.len - 16) return self.fail("json_len {d} past the end of the file ({d} bytes)", .{ json_len, bytes.len });
        const json_end: usize = 16 + @as(usize, json_len);
        const data_start = std.mem.alignForward(usize, json_end, 16);
        self.data = if (data_start <= bytes.len) bytes[data_start..] else &.{};

        var parsed = std.json.parseFromSlice(Value, self.gpa, bytes[16..json_end], .{
            .max_value_len = bytes.len,
            .duplicate_field_behavior = .use_last,
        }) catch |e| switch (e) {
            error.OutOfMemory => return error.OutOfMemory,
            else => return self.fail("JSON section is not valid JSON ({s})", .{@errorName(e)}),
        };
        defer parsed.deinit();
        return self.root(parsed.value);
    }

    // ---- JSON helpers ----

    fn field(obj: std.json.ObjectMap, key: []const u8) ?Value {
        const v = obj.get(key) orelse return null;
        if (v == .null) return null;
        return v;
    }

    fn asInt(v: Value) ?i64 {
        return switch (v) {
            .integer => |i| i,
            .float => |f| if (@floor(f) == f and @abs(f) < 9.0e15) @as(i64, @intFromFloat(f)) else null,
            else => null,
        };
    }

    fn asF64(v: Value) ?f64 {
        return switch (v) {
            .integer => |i| @floatFromInt(i),
            .float => |f| f,
            else => null,
        };
    }

    /// An integer field in [lo, hi]; `def` when absent (null def: required).
    fn opInt(self: *Parser, obj: std.json.ObjectMap, key: []const u8, lo: i64, hi: i64, def: ?i64) !i64 {
        const v = field(obj, key) orelse return def orelse self.opFail("missing attribute '{s}'", .{key});
        const i = asInt(v) orelse return self.opFail("attribute '{s}' must be an integer", .{key});
        if (i < lo or i > hi) return self.opFail("attribute '{s}' = {d} out of range {d}..{d}", .{ key, i, lo, hi });
        return i;
    }

    /// An array of exactly `n` integers in [lo, hi]; `def` when absent.
    fn opInts(self: *Parser, comptime n: usize, obj: std.json.ObjectMap, key: []const u8, lo: i64, hi: i64, def: ?[n]i64) ![n]i64 {
        const v = field(obj, key) orelse return def orelse self.opFail("missing attribute '{s}'", .{key});
        if (v != .array) return self.opFail("attribute '{s}' must be an array of {d} integers", .{ key, n });
        if (v.array.items.len != n) return self.opFail("attribute '{s}' has {d} elements, expected {d}", .{ key, v.array.items.len, n });
        var out: [n]i64 = undefined;
        for (v.array.items, 0..) |e, i| {
            const x = asInt(e) orelse return self.opFail("attribute '{s}'[{d}] must be an integer", .{ key, i });
            if (x < lo or x > hi) return self.opFail("attribute '{s}'[{d}] = {d} out of range {d}..{d}", .{ key, i, x, lo, hi });
            out[i] = x;
        }
        return out;
    }

    fn u32s(comptime n: usize, a: [n]i64) [n]u32 {
        var o: [n]u32 = undefined;
        for (0..n) |i| o[i] = @intCast(a[i]);
        return o;
    }

    /// A data reference {offset, length}: in range, aligned to `elem`, length == want.
    fn dataRef(self: *Parser, obj: std.json.ObjectMap, key: []const u8, elem: usize, want: u64, what: []const u8) ![]const u8 {
        const v = field(obj, key) orelse return self.opFail("missing data reference '{s}'", .{key});
        if (v != .object) return self.opFail("'{s}' must be an object {{\"offset\", \"length\"}}", .{key});
        const ov = field(v.object, "offset") orelse return self.opFail("'{s}.offset' missing", .{key});
        const lv = field(v.object, "length") orelse return self.opFail("'{s}.length' missing", .{key});
        const off = asInt(ov) orelse return self.opFail("'{s}.offset' must be an integer", .{key});
        const len = asInt(lv) orelse return self.opFail("'{s}.length' must be an integer", .{key});
        if (off < 0 or len < 0) return self.opFail("'{s}' offset {d} / length {d} negative", .{ key, off, len });
        const o: u64 = @intCast(off);
        const l: u64 = @intCast(len);
        if (l != want) return self.opFail("{s} length {d} != {d} ({s})", .{ key, l, want, what });
        if (o > self.data.len or l > self.data.len - o)
            return self.opFail("'{s}' offset {d} + length {d} past the data section ({d} bytes)", .{ key, o, l, self.data.len });
        if (o % elem != 0) return self.opFail("'{s}' offset {d} not aligned to {d}", .{ key, o, elem });
        return self.data[@intCast(o)..][0..@intCast(l)];
    }

    fn readI32s(self: *Parser, b: []const u8) ![]i32 {
        const out = try self.arena.alloc(i32, b.len / 4);
        for (out, 0..) |*e, i| e.* = std.mem.readInt(i32, b[i * 4 ..][0..4], .little);
        return out;
    }

    fn readF32s(self: *Parser, b: []const u8) ![]f32 {
        const out = try self.arena.alloc(f32, b.len / 4);
        for (out, 0..) |*e, i| e.* = @bitCast(std.mem.readInt(u32, b[i * 4 ..][0..4], .little));
        return out;
    }

    fn indexList(self: *Parser, v: ?Value, what: []const u8, ntensors: usize, max_len: usize) ![]u32 {
        const a = v orelse return self.fail("'{s}' missing", .{what});
        if (a != .array) return self.fail("'{s}' must be an array of tensor indices", .{what});
        if (a.array.items.len > max_len) return self.fail("'{s}' has {d} entries (limit {d})", .{ what, a.array.items.len, max_len });
        const out = try self.arena.alloc(u32, a.array.items.len);
        for (a.array.items, 0..) |e, i| {
            const x = asInt(e) orelse return self.fail("'{s}'[{d}] must be an integer", .{ what, i });
            if (x < 0 or x >= ntensors) return self.fail("'{s}'[{d}] = {d}: no such tensor ({d} tensors)", .{ what, i, x, ntensors });
            out[i] = @intCast(x);
        }
        return out;
    }

    // ---- sections ----

    fn root(self: *Parser, v: Value) Error!Parsed {
        if (v != .object) return self.fail("JSON section must be an object", .{});
        const obj = v.object;
        const tv = field(obj, "tensors") orelse return self.fail("'tensors' missing", .{});
        if (tv != .array) return self.fail("'tensors' must be an array", .{});
        if (tv.array.items.len > max_tensors) return self.fail("{d} tensors (limit {d})", .{ tv.array.items.len, max_tensors });
        const tensors = try self.arena.alloc(TensorDesc, tv.array.items.len);
        var total: u64 = 0;
        for (tv.array.items, 0..) |t, i| {
            tensors[i] = try self.tensor(t, i);
            total += tensors[i].logicalSize();
        }
        if (total > max_total_bytes) return self.fail("tensors need {d} bytes in all (limit {d})", .{ total, max_total_bytes });
        self.tensors = tensors;
        const nt = tensors.len;
        const ins = try self.indexList(field(obj, "inputs"), "inputs", nt, nt);
        const outs = try self.indexList(field(obj, "outputs"), "outputs", nt, nt);
        if (ins.len == 0) return self.fail("the program has no inputs", .{});
        if (outs.len == 0) return self.fail("the program has no outputs", .{});

        // role of each tensor: 0 internal, 1 input, 2 output
        const role = try self.arena.alloc(u8, nt);
        @memset(role, 0);
        for (ins, 0..) |t, i| {
            if (role[t] != 0) return self.fail("inputs[{d}]: tensor {d} listed twice", .{ i, t });
            role[t] = 1;
        }
        for (outs, 0..) |t, i| {
            if (role[t] == 1) return self.fail("outputs[{d}]: tensor {d} '{s}' is also a program input", .{ i, t, tensors[t].name });
            if (role[t] == 2) return self.fail("outputs[{d}]: tensor {d} listed twice", .{ i, t });
            role[t] = 2;
        }
        for (tensors, 0..) |t, i| {
            if (role[i] == 0 and t.hasPadding()) return self.fail("tensor {d} '{s}': padding is allowed only on program inputs and outputs", .{ i, t.name });
            if (role[i] == 0 and t.dtype == .uint8) return self.fail("tensor {d} '{s}': dtype uint8 is allowed only on program inputs and outputs", .{ i, t.name });
        }

        const ov = field(obj, "ops") orelse return self.fail("'ops' missing", .{});
        if (ov != .array) return self.fail("'ops' must be an array", .{});
        if (ov.array.items.len > max_ops) return self.fail("{d} ops (limit {d})", .{ ov.array.items.len, max_ops });
        const written = try self.arena.alloc(bool, nt);
        for (written, 0..) |*w, i| w.* = role[i] == 1;
        const ops = try self.arena.alloc(Op, ov.array.items.len);
        for (ov.array.items, 0..) |o, i| {
            self.op_index = i;
            self.op_name = "";
            self.op_kind = "?";
            ops[i] = try self.op(o, written);
        }
        for (tensors, 0..) |t, i| {
            if (!written[i]) return self.fail("tensor {d} '{s}' is never written (no op produces it and it is not a program input)", .{ i, t.name });
        }

        const in_d = try self.arena.alloc(TensorDesc, ins.len);
        for (ins, 0..) |t, i| in_d[i] = tensors[t];
        const out_d = try self.arena.alloc(TensorDesc, outs.len);
        for (outs, 0..) |t, i| out_d[i] = tensors[t];
        return .{ .tensors = tensors, .inputs = ins, .outputs = outs, .input_descs = in_d, .output_descs = out_d, .ops = ops, .batch = batchOf(tensors, ops) };
    }

    fn tensor(self: *Parser, v: Value, i: usize) !TensorDesc {
        if (v != .object) return self.fail("tensor {d} must be an object", .{i});
        const o = v.object;
        const nv = field(o, "name") orelse return self.fail("tensor {d}: 'name' missing", .{i});
        if (nv != .string) return self.fail("tensor {d}: 'name' must be a string", .{i});
        const name = try self.arena.dupe(u8, nv.string);
        var t = TensorDesc{ .name = name, .shape = undefined, .scale = 0, .zero_point = 0 };
        const sv = field(o, "shape") orelse return self.fail("tensor {d} '{s}': 'shape' missing", .{ i, name });
        if (sv != .array or sv.array.items.len != 4) return self.fail("tensor {d} '{s}': 'shape' must be 4 integers (NHWC)", .{ i, name });
        for (sv.array.items, 0..) |d, k| {
            const x = asInt(d) orelse return self.fail("tensor {d} '{s}': shape[{d}] must be an integer", .{ i, name, k });
            if (x < 1 or x > max_dim) return self.fail("tensor {d} '{s}': shape[{d}] = {d} out of range 1..{d}", .{ i, name, k, x, max_dim });
            t.shape[k] = @intCast(x);
        }
        if (field(o, "dtype")) |dv| {
            if (dv != .string) return self.fail("tensor {d} '{s}': 'dtype' must be a string", .{ i, name });
            if (std.mem.eql(u8, dv.string, "int8")) t.dtype = .int8 else if (std.mem.eql(u8, dv.string, "uint8")) t.dtype = .uint8 else return self.fail("tensor {d} '{s}': dtype '{s}' is not int8 or uint8", .{ i, name, dv.string });
        }
        const scv = field(o, "scale") orelse return self.fail("tensor {d} '{s}': 'scale' missing", .{ i, name });
        const sc = asF64(scv) orelse return self.fail("tensor {d} '{s}': 'scale' must be a number", .{ i, name });
        const sc32: f32 = @floatCast(sc);
        if (!std.math.isFinite(sc32) or !(sc32 > 0)) return self.fail("tensor {d} '{s}': scale {d} must be finite and > 0 (as float32)", .{ i, name, sc });
        t.scale = sc32;
        const zv = field(o, "zero_point") orelse return self.fail("tensor {d} '{s}': 'zero_point' missing", .{ i, name });
        const zp = asInt(zv) orelse return self.fail("tensor {d} '{s}': 'zero_point' must be an integer", .{ i, name });
        const r = rq.Range.of(t.dtype == .uint8);
        if (zp < r.lo or zp > r.hi) return self.fail("tensor {d} '{s}': zero_point {d} out of range {d}..{d}", .{ i, name, zp, r.lo, r.hi });
        t.zero_point = @intCast(zp);
        if (field(o, "padding")) |pv| {
            if (pv != .array or pv.array.items.len != 4) return self.fail("tensor {d} '{s}': 'padding' must be 4 pairs [lo, hi]", .{ i, name });
            for (pv.array.items, 0..) |pair, k| {
                if (pair != .array or pair.array.items.len != 2) return self.fail("tensor {d} '{s}': padding[{d}] must be a pair [lo, hi]", .{ i, name, k });
                for (pair.array.items, 0..) |e, m| {
                    const x = asInt(e) orelse return self.fail("tensor {d} '{s}': padding[{d}][{d}] must be an integer", .{ i, name, k, m });
                    if (x < 0 or x > max_dim) return self.fail("tensor {d} '{s}': padding[{d}][{d}] = {d} out of range 0..{d}", .{ i, name, k, m, x, max_dim });
                    t.padding[k][m] = @intCast(x);
                }
            }
        }
        const ps = t.paddedShape();
        for (ps, 0..) |d, k| if (d > max_dim) return self.fail("tensor {d} '{s}': padded shape[{d}] = {d} > {d}", .{ i, name, k, d, max_dim });
        if (t.byteSize() > max_tensor_bytes) return self.fail("tensor {d} '{s}': {d} bytes (limit 2^31)", .{ i, name, t.byteSize() });
        return t;
    }

    fn op(self: *Parser, v: Value, written: []bool) Error!Op {
        if (v != .object) return self.opFail("must be an object", .{});
        const o = v.object;
        if (field(o, "name")) |nv| {
            if (nv != .string) return self.opFail("'name' must be a string", .{});
            self.op_name = try self.arena.dupe(u8, nv.string);
        }
        const kv = field(o, "op") orelse return self.opFail("'op' missing", .{});
        if (kv != .string) return self.opFail("'op' must be a string", .{});
        self.op_kind = try self.arena.dupe(u8, kv.string);
        const kind = std.meta.stringToEnum(OpKind, kv.string) orelse return self.opFail("unknown op '{s}'", .{kv.string});
        const nt = self.tensors.len;
        const ins = try self.opIndices(field(o, "inputs"), "inputs", nt);
        const outs = try self.opIndices(field(o, "outputs"), "outputs", nt);
        for (ins, 0..) |t, i| {
            if (!written[t]) return self.opFail("inputs[{d}]: tensor {d} '{s}' is not a program input and no earlier op writes it", .{ i, t, self.tensors[t].name });
        }
        for (outs, 0..) |t, i| {
            if (written[t]) return self.opFail("outputs[{d}]: tensor {d} '{s}' is already written (by an earlier op or as a program input)", .{ i, t, self.tensors[t].name });
            written[t] = true;
        }
        var res = Op{ .kind = kind, .name = self.op_name, .inputs = ins, .outputs = outs, .attrs = .reshape };
        try self.attrs(&res, o);
        return res;
    }

    fn opIndices(self: *Parser, v: ?Value, what: []const u8, nt: usize) ![]u32 {
        const a = v orelse return self.opFail("'{s}' missing", .{what});
        if (a != .array) return self.opFail("'{s}' must be an array of tensor indices", .{what});
        if (a.array.items.len > nt) return self.opFail("'{s}' has {d} entries, more than the {d} tensors", .{ what, a.array.items.len, nt });
        const out = try self.arena.alloc(u32, a.array.items.len);
        for (a.array.items, 0..) |e, i| {
            const x = asInt(e) orelse return self.opFail("'{s}'[{d}] must be an integer", .{ what, i });
            if (x < 0 or x >= nt) return self.opFail("'{s}'[{d}] = {d}: no such tensor ({d} tensors)", .{ what, i, x, nt });
            out[i] = @intCast(x);
        }
        return out;
    }

    fn arity(self: *Parser, op_: *const Op, nin: ?usize, nout: ?usize) !void {
        if (nin) |n| if (op_.inputs.len != n) return self.opFail("{d} inputs, expected {d}", .{ op_.inputs.len, n });
        if (nout) |n| if (op_.outputs.len != n) return self.opFail("{d} outputs, expected {d}", .{ op_.outputs.len, n });
        if (op_.inputs.len == 0) return self.opFail("no inputs", .{});
        if (op_.outputs.len == 0) return self.opFail("no outputs", .{});
    }

    fn expectShape(self: *Parser, t: TensorDesc, want: [4]u32, what: []const u8) !void {
        if (!std.mem.eql(u32, &t.shape, &want))
            return self.opFail("{s} '{s}' has shape [{d},{d},{d},{d}], expected [{d},{d},{d},{d}]", .{ what, t.name, t.shape[0], t.shape[1], t.shape[2], t.shape[3], want[0], want[1], want[2], want[3] });
    }

    fn sameQuant(self: *Parser, x: TensorDesc, y: TensorDesc) !void {
        if (x.scale != y.scale or x.zero_point != y.zero_point or x.dtype != y.dtype)
            return self.opFail("output '{s}' quantization (scale {e}, zero point {d}, {s}) must equal the input's (scale {e}, zero point {d}, {s})", .{ y.name, y.scale, y.zero_point, @tagName(y.dtype), x.scale, x.zero_point, @tagName(x.dtype) });
    }

    fn attrs(self: *Parser, res: *Op, o: std.json.ObjectMap) Error!void {
        const T = self.tensors;
        switch (res.kind) {
            .Conv, .Gemm => try self.convOp(res, o),
            .Add, .Mul => {
                try self.arity(res, 2, 1);
                const a = T[res.inputs[0]];
                const b = T[res.inputs[1]];
                const y = T[res.outputs[0]];
                var want: [4]u32 = undefined;
                for (0..4) |k| {
                    if (a.shape[k] != b.shape[k] and a.shape[k] != 1 and b.shape[k] != 1)
                        return self.opFail("input shapes do not broadcast on axis {d} ({d} vs {d})", .{ k, a.shape[k], b.shape[k] });
                    want[k] = @max(a.shape[k], b.shape[k]);
                }
                try self.expectShape(y, want, "output");
                const da = try self.arena.create([256]f32);
                const db = try self.arena.create([256]f32);
                rq.dqTable(da, a.zero_point, a.scale, a.isUint8());
                rq.dqTable(db, b.zero_point, b.scale, b.isUint8());
                res.attrs = .{ .binary = .{ .mul = res.kind == .Mul, .dqa = da, .dqb = db, .y_scale = y.scale, .y_zp = y.zero_point, .y_range = rq.Range.of(y.isUint8()) } };
            },
            .Concat => {
                try self.arity(res, null, 1);
                const axis: u32 = @intCast(try self.opInt(o, "axis", 0, 3, null));
                const y = T[res.outputs[0]];
                var want = T[res.inputs[0]].shape;
                var sum: u64 = 0;
                const tabs = try self.arena.alloc(?*const [256]u8, res.inputs.len);
                for (res.inputs, 0..) |ti, i| {
                    const x = T[ti];
                    for (0..4) |k| if (k != axis and x.shape[k] != want[k])
                        return self.opFail("input {d} '{s}' shape[{d}] = {d} differs from input 0's {d}", .{ i, x.name, k, x.shape[k], want[k] });
                    sum += x.shape[axis];
                    if (x.scale == y.scale and x.zero_point == y.zero_point and x.dtype == y.dtype) {
                        tabs[i] = null;
                    } else {
                        const t = try self.arena.create([256]u8);
                        eltwise.requantTable(t, x.scale, x.zero_point, x.isUint8(), y.scale, y.zero_point, y.isUint8());
                        tabs[i] = t;
                    }
                }
                if (sum > max_dim) return self.opFail("concatenated axis length {d} > {d}", .{ sum, max_dim });
                want[axis] = @intCast(sum);
                try self.expectShape(y, want, "output");
                res.attrs = .{ .concat = .{ .axis = axis, .tables = tabs } };
            },
            .Requantize => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                try self.expectShape(y, x.shape, "output");
                const t = try self.arena.create([256]u8);
                eltwise.requantTable(t, x.scale, x.zero_point, x.isUint8(), y.scale, y.zero_point, y.isUint8());
                res.attrs = .{ .table = t };
            },
            .Relu, .Clip => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                try self.expectShape(y, x.shape, "output");
                try self.sameQuant(x, y);
                const r = rq.Range.of(x.isUint8());
                var lo: i64 = x.zero_point;
                var hi: i64 = r.hi;
                if (res.kind == .Clip) {
                    lo = try self.opInt(o, "lo", r.lo, r.hi, null);
                    hi = try self.opInt(o, "hi", r.lo, r.hi, null);
                    if (lo > hi) return self.opFail("lo {d} > hi {d}", .{ lo, hi });
                }
                const t = try self.arena.create([256]u8);
                lut.clipTable(t, @intCast(lo), @intCast(hi), x.isUint8());
                res.attrs = .{ .table = t };
            },
            .Lut => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                try self.expectShape(y, x.shape, "output");
                const tb = try self.dataRef(o, "table", 1, 256, "256 entries");
                const t = try self.arena.create([256]u8);
                lut.lutTable(t, tb, x.isUint8());
                res.attrs = .{ .table = t };
                res.const_bytes = 256;
            },
            .MaxPool, .AveragePool, .GlobalAveragePool => try self.poolOp(res, o),
            .Resize => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                const s = u32s(2, try self.opInts(2, o, "scales", 1, max_dim, null));
                const rh = @as(u64, x.shape[1]) * s[0];
                const rw = @as(u64, x.shape[2]) * s[1];
                if (rh > max_dim or rw > max_dim) return self.opFail("output size {d}x{d} > {d}", .{ rh, rw, max_dim });
                const want = [4]u32{ x.shape[0], @intCast(rh), @intCast(rw), x.shape[3] };
                try self.expectShape(y, want, "output");
                try self.sameQuant(x, y);
                res.attrs = .{ .resize = s };
            },
            .Reshape => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                if (x.logicalSize() != y.logicalSize()) return self.opFail("output '{s}' has {d} elements, input '{s}' {d}", .{ y.name, y.logicalSize(), x.name, x.logicalSize() });
                try self.sameQuant(x, y);
                res.attrs = .reshape;
            },
            .Transpose => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                const perm = u32s(4, try self.opInts(4, o, "perm", 0, 3, null));
                var seen = [_]bool{false} ** 4;
                for (perm) |a| {
                    if (seen[a]) return self.opFail("perm is not a permutation of 0..3", .{});
                    seen[a] = true;
                }
                var want: [4]u32 = undefined;
                for (0..4) |k| want[k] = x.shape[perm[k]];
                try self.expectShape(y, want, "output");
                try self.sameQuant(x, y);
                res.attrs = .{ .transpose = perm };
            },
            .Slice => {
                try self.arity(res, 1, 1);
                const x = T[res.inputs[0]];
                const y = T[res.outputs[0]];
                const big: i64 = 1 << 62;
                const st = try self.opInts(4, o, "starts", -big, big, null);
                const en = try self.opInts(4, o, "ends", -big, big, null);
                const sp = u32s(4, try self.opInts(4, o, "steps", 1, max_dim, .{ 1, 1, 1, 1 }));
                var starts: [4]u32 = undefined;
                var want: [4]u32 = undefined;
                for (0..4) |k| {
                    const d: i64 = x.shape[k];
                    const s0 = sliceIndex(st[k], d);
                    const e0 = sliceIndex(en[k], d);
                    starts[k] = @intCast(s0);
                    const len: i64 = if (e0 > s0) @divFloor(e0 - s0 + sp[k] - 1, sp[k]) else 0;
                    if (len == 0) return self.opFail("axis {d}: the slice is empty", .{k});
                    want[k] = @intCast(len);
                }
                try self.expectShape(y, want, "output");
                try self.sameQuant(x, y);
                res.attrs = .{ .slice = .{ .starts = starts, .steps = sp } };
            },
            .Split => {
                try self.arity(res, 1, null);
                const x = T[res.inputs[0]];
                const axis: u32 = @intCast(try self.opInt(o, "axis", 0, 3, null));
                const sv = field(o, "sizes") orelse return self.opFail("missing attribute 'sizes'", .{});
                if (sv != .array) return self.opFail("attribute 'sizes' must be an array of integers", .{});
                if (sv.array.items.len != res.outputs.len) return self.opFail("'sizes' has {d} entries for {d} outputs", .{ sv.array.items.len, res.outputs.len });
                var sum: i64 = 0;
                for (sv.array.items, res.outputs, 0..) |e, ti, k| {
                    const sz = asInt(e) orelse return self.opFail("'sizes'[{d}] must be an integer", .{k});
                    if (sz < 1 or sz > max_dim) return self.opFail("'sizes'[{d}] = {d} out of range 1..{d}", .{ k, sz, max_dim });
                    sum += sz;
                    var want = x.shape;
                    want[axis] = @intCast(sz);
                    try self.expectShape(T[ti], want, "output");
                    try self.sameQuant(x, T[ti]);
                }
                if (sum != x.shape[axis]) return self.opFail("'sizes' sum to {d}, input axis {d} has {d}", .{ sum, axis, x.shape[axis] });
                res.attrs = .{ .split = axis };
            },
        }
    }

    fn sliceIndex(v: i64, d: i64) i64 {
        const w = if (v < 0) v + d else v;
        return @min(@max(w, 0), d);
    }

    fn convOp(self: *Parser, res: *Op, o: std.json.ObjectMap) Error!void {
        try self.arity(res, 1, 1);
        const x = self.tensors[res.inputs[0]];
        const y = self.tensors[res.outputs[0]];
        var p = conv.ConvParams{};
        p.cin = x.shape[3];
        p.cout = y.shape[3];
        var oh: u32 = x.shape[1];
        var ow: u32 = x.shape[2];
        if (res.kind == .Conv) {
            const k = u32s(2, try self.opInts(2, o, "kernel", 1, max_dim, null));
            const s = u32s(2, try self.opInts(2, o, "strides", 1, max_dim, .{ 1, 1 }));
            const d = u32s(2, try self.opInts(2, o, "dilations", 1, max_dim, .{ 1, 1 }));
            const pads = u32s(4, try self.opInts(4, o, "pads", 0, max_dim, .{ 0, 0, 0, 0 }));
            p.group = @intCast(try self.opInt(o, "group", 1, max_dim, 1));
            if (p.cin % p.group != 0) return self.opFail("input channels {d} not divisible by group {d}", .{ p.cin, p.group });
            if (p.cout % p.group != 0) return self.opFail("output channels {d} not divisible by group {d}", .{ p.cout, p.group });
            p.kh = k[0];
            p.kw = k[1];
            p.sh = s[0];
            p.sw = s[1];
            p.dh = d[0];
            p.dw = d[1];
            p.pads = pads;
            oh = outSize(x.shape[1], k[0], s[0], d[0], pads[0], pads[2], false) orelse return self.opFail("kernel {d}x{d} (dilation {d}) does not fit the padded input height {d}", .{ k[0], k[1], d[0], x.shape[1] });
            ow = outSize(x.shape[2], k[1], s[1], d[1], pads[1], pads[3], false) orelse return self.opFail("kernel {d}x{d} (dilation {d}) does not fit the padded input width {d}", .{ k[0], k[1], d[1], x.shape[2] });
            // the padded input (int16 scratch) of one image must stay reasonable
            const hp: u64 = @as(u64, x.shape[1]) + pads[0] + pads[2];
            const wp: u64 = @as(u64, x.shape[2]) + pads[1] + pads[3];
            if (hp * wp * p.cin * x.shape[0] * 2 > max_tensor_bytes * 2) return self.opFail("padded input too large", .{});
        }
        try self.expectShape(y, .{ x.shape[0], oh, ow, p.cout }, "output");
        const cin_g = p.cin / p.group;
        const taps: u64 = @as(u64, p.kh) * p.kw;
        const wlen: u64 = @as(u64, p.cout) * taps * cin_g;
        if (wlen > max_tensor_bytes) return self.opFail("{d} weights (limit 2^31)", .{wlen});
        const what = if (res.kind == .Conv) "Cout*kh*kw*Cin/group" else "Cout*K";
        const wb = try self.dataRef(o, "weights", 1, wlen, what);
        p.weights = @ptrCast(try self.arena.dupe(u8, wb));
        if (field(o, "bias") != null) {
            p.bias = try self.readI32s(try self.dataRef(o, "bias", 4, @as(u64, p.cout) * 4, "int32[Cout]"));
        } else {
            const z = try self.arena.alloc(i32, p.cout);
            @memset(z, 0);
            p.bias = z;
        }
        const ws = try self.readF32s(try self.dataRef(o, "w_scale", 4, @as(u64, p.cout) * 4, "float32[Cout]"));
        const mult = try self.arena.alloc(f32, p.cout);
        for (ws, 0..) |s, c| {
            if (!std.math.isFinite(s) or !(s > 0)) return self.opFail("w_scale[{d}] = {e} must be finite and > 0", .{ c, s });
            // m[c] = (x_scale * w_scale[c]) / y_scale in float32, in that order
            const xw: f32 = x.scale * s;
            mult[c] = xw / y.scale;
            if (!std.math.isFinite(mult[c])) return self.opFail("requantization multiplier of channel {d} is not finite", .{c});
        }
        p.mult = mult;
        const yr = rq.Range.of(y.isUint8());
        p.lo = yr.lo;
        p.hi = yr.hi;
        p.y_zp = y.zero_point;
        if (field(o, "clamp") != null) {
            const c = try self.opInts(2, o, "clamp", yr.lo, yr.hi, null);
            if (c[0] > c[1]) return self.opFail("clamp [{d}, {d}] is empty", .{ c[0], c[1] });
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
            if (bound > std.math.maxInt(i32)) return self.opFail("output channel {d}: worst-case accumulator {d} exceeds 2^31-1", .{ c, bound });
        }
        conv.pack(self.arena, &p, x.shape[1], x.shape[2], x.zero_point, x.isUint8()) catch return error.OutOfMemory;
        res.macs = @as(u64, y.logicalSize()) * taps * cin_g;
        res.const_bytes = wlen + @as(u64, p.cout) * 8;
        res.attrs = .{ .conv = p };
    }

    fn poolOp(self: *Parser, res: *Op, o: std.json.ObjectMap) Error!void {
        try self.arity(res, 1, 1);
        const x = self.tensors[res.inputs[0]];
        const y = self.tensors[res.outputs[0]];
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
            const k = u32s(2, try self.opInts(2, o, "kernel", 1, max_dim, null));
            const s = u32s(2, try self.opInts(2, o, "strides", 1, max_dim, .{ 1, 1 }));
            const d = u32s(2, try self.opInts(2, o, "dilations", 1, max_dim, .{ 1, 1 }));
            const pads = u32s(4, try self.opInts(4, o, "pads", 0, max_dim, .{ 0, 0, 0, 0 }));
            if (p.kind == .avg and (d[0] != 1 or d[1] != 1)) return self.opFail("AveragePool takes no dilations", .{});
            p.ceil_mode = (try self.opInt(o, "ceil_mode", 0, 1, 0)) == 1;
            p.count_include_pad = (try self.opInt(o, "count_include_pad", 0, 1, 0)) == 1;
            p.kh = k[0];
            p.kw = k[1];
            p.sh = s[0];
            p.sw = s[1];
            p.dh = d[0];
            p.dw = d[1];
            p.pads = pads;
            for (0..2) |a| {
                const span = @as(u64, k[a] - 1) * d[a] + 1;
                if (pads[a] >= span or pads[a + 2] >= span) return self.opFail("pads {any} must be smaller than the kernel extent", .{pads});
            }
            oh = outSize(x.shape[1], k[0], s[0], d[0], pads[0], pads[2], p.ceil_mode) orelse return self.opFail("kernel does not fit the padded input height {d}", .{x.shape[1]});
            ow = outSize(x.shape[2], k[1], s[1], d[1], pads[1], pads[3], p.ceil_mode) orelse return self.opFail("kernel does not fit the padded input width {d}", .{x.shape[2]});
            // every window must hold at least one input element (possible holes with dilation)
            if (!windowsNonEmpty(oh, x.shape[1], k[0], s[0], d[0], pads[0]) or !windowsNonEmpty(ow, x.shape[2], k[1], s[1], d[1], pads[1]))
                return self.opFail("a pooling window covers no input element", .{});
        }
        try self.expectShape(y, .{ x.shape[0], oh, ow, x.shape[3] }, "output");
        if (p.kind == .max) {
            try self.sameQuant(x, y);
        } else {
            const t = try self.arena.create([256]f32);
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
};

/// Encodes a program container (header, JSON, zero padding to 16, data); for tests and tools.
pub fn encode(gpa: std.mem.Allocator, json: []const u8, data: []const u8) ![]u8 {
    const start = std.mem.alignForward(usize, 16 + json.len, 16);
    const out = try gpa.alloc(u8, start + data.len);
    @memset(out, 0);
    @memcpy(out[0..8], magic);
    std.mem.writeInt(u32, out[8..12], version, .little);
    std.mem.writeInt(u32, out[12..16], @intCast(json.len), .little);
    @memcpy(out[16..][0..json.len], json);
    @memcpy(out[start..], data);
    return out;
}

/// The batch size a program can be split over (see Program.batch).
fn batchOf(tensors: []const TensorDesc, ops: []const Op) u32 {
    if (tensors.len == 0) return 1;
    const n = tensors[0].shape[0];
    if (n <= 1) return 1;
    for (tensors) |t| if (t.shape[0] != n) return 1;
    for (ops) |o| switch (o.attrs) {
        .concat => |c| if (c.axis == 0) return 1,
        .split => |a| if (a == 0) return 1,
        .transpose => |p| if (p[0] != 0) return 1,
        .slice => |s| if (s.starts[0] != 0 or s.steps[0] != 1) return 1,
        else => {},
    };
    return n;
}

test {
    std.testing.refAllDecls(@This());
    std.testing.refAllDecls(Program);
    std.testing.refAllDecls(Parser);
}
