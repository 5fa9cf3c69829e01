//! The device program (`program.axp`, docs/model-format.md, format version 1): parsing and
//! validation. Everything the executor needs is checked and precomputed here (shapes
//! against the op rules, data references, requantization multipliers, byte tables,
//! accumulator bounds, packed weights), so `exec.zig` runs without checks.
//!
//! `Program.parse` copies what it keeps (the caller may free `bytes` afterwards); every
//! problem is an `error.InvalidProgram` with a message in `diag` naming the field
//! (without the file name: the caller prefixes it), e.g.
//! "op 3 'conv2' (Conv): weights length 100 != 432 (Cout*kh*kw*Cin/group)".
//!
//! This file reads the container, the tensors and the op list; the per-op rules
//! (attributes, shapes, tables, packed weights) are in `program_ops.zig`.

const std = @import("std");
const rq = @import("ops/requant.zig");
const conv = @import("ops/conv.zig");
pub const cpu = @import("cpu.zig");
const pool = @import("ops/pool.zig");
const eltwise = @import("ops/eltwise.zig");
const pad_lut = @import("ops/pad_lut.zig");
const program_ops = @import("program_ops.zig");

/// The error message filled by `parse` (and by the runtime's loader): the library's one
/// diagnostic type, a fixed buffer with no allocation.
pub const Diagnostic = @import("errors.zig").Diag;

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
    Pad,
    ChannelLut,
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
    pad: pad_lut.PadParams,
    /// ChannelLut: one byte -> byte table per channel
    channel_table: []const [256]u8,
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
    /// The CPU level the program was packed for and runs its kernels at (cpu.zig).
    level: cpu.Level,
    /// Bytes the parsed program holds (weights packed for the kernels, tables, tensor
    /// and op descriptions): the capacity of its arena.
    bytes: u64,

    /// Parses and validates `bytes` (a whole program.axp) for the process's CPU level
    /// (baseline when AXR_CPU was refused: the loader reports that before parsing).
    pub fn parse(gpa: std.mem.Allocator, bytes: []const u8, diag: *Diagnostic) Error!Program {
        const c = cpu.current();
        return parseAt(gpa, bytes, diag, if (c.err() == null) c.level else .baseline);
    }

    /// `parse` for CPU level `level` (one this CPU supports).
    pub fn parseAt(gpa: std.mem.Allocator, bytes: []const u8, diag: *Diagnostic, level: cpu.Level) Error!Program {
        var arena = std.heap.ArenaAllocator.init(gpa);
        errdefer arena.deinit();
        var p = Parser{ .gpa = gpa, .arena = arena.allocator(), .diag = diag, .level = level };
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
            .level = level,
            .bytes = arena.queryCapacity(),
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

/// The parser state; `program_ops.zig` validates each op through its pub helpers.
pub const Parser = struct {
    gpa: std.mem.Allocator,
    arena: std.mem.Allocator,
    diag: *Diagnostic,
    level: cpu.Level = .baseline,
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

    pub fn opFail(self: *Parser, comptime fmt: []const u8, args: anytype) error{InvalidProgram} {
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

    // ---- JSON helpers (pub: program_ops.zig uses them) ----

    pub fn field(obj: std.json.ObjectMap, key: []const u8) ?Value {
        const v = obj.get(key) orelse return null;
        if (v == .null) return null;
        return v;
    }

    pub fn asInt(v: Value) ?i64 {
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
    pub fn opInt(self: *Parser, obj: std.json.ObjectMap, key: []const u8, lo: i64, hi: i64, def: ?i64) !i64 {
        const v = field(obj, key) orelse return def orelse self.opFail("missing attribute '{s}'", .{key});
        const i = asInt(v) orelse return self.opFail("attribute '{s}' must be an integer", .{key});
        if (i < lo or i > hi) return self.opFail("attribute '{s}' = {d} out of range {d}..{d}", .{ key, i, lo, hi });
        return i;
    }

    /// An array of exactly `n` integers in [lo, hi]; `def` when absent.
    pub fn opInts(self: *Parser, comptime n: usize, obj: std.json.ObjectMap, key: []const u8, lo: i64, hi: i64, def: ?[n]i64) ![n]i64 {
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

    pub fn u32s(comptime n: usize, a: [n]i64) [n]u32 {
        var o: [n]u32 = undefined;
        for (0..n) |i| o[i] = @intCast(a[i]);
        return o;
    }

    /// A data reference {offset, length}: in range, aligned to `elem`, length == want.
    pub fn dataRef(self: *Parser, obj: std.json.ObjectMap, key: []const u8, elem: usize, want: u64, what: []const u8) ![]const u8 {
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

    pub fn readI32s(self: *Parser, b: []const u8) ![]i32 {
        const out = try self.arena.alloc(i32, b.len / 4);
        for (out, 0..) |*e, i| e.* = std.mem.readInt(i32, b[i * 4 ..][0..4], .little);
        return out;
    }

    pub fn readF32s(self: *Parser, b: []const u8) ![]f32 {
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
        try program_ops.attrs(self, &res, o);
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
    std.testing.refAllDecls(program_ops);
}
