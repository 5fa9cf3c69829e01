//! Loading a compiled model directory (docs/model-format.md): model.json, manifest.json
//! and the device program, each checked (types, relative paths without "..", sizes,
//! manifest against program) with messages naming the file and the field. Every file is
//! opened through the model directory's descriptor and must resolve inside it
//! (model_dir.zig).

const std = @import("std");
const abi = @import("abi.zig");
const alloc = @import("alloc.zig");
const errors = @import("errors.zig");
const object = @import("object.zig");
const properties = @import("properties.zig");
const context = @import("context.zig");
const program = @import("program.zig");
const ModelDir = @import("model_dir.zig").ModelDir;

const Error = errors.Error;
const Diag = errors.Diag;
const Value = std.json.Value;

pub const max_json_bytes: u64 = 16 << 20;
pub const max_program_bytes: u64 = 2 << 30;

/// The parsed program, shared by the model and its instances (reference counted, so an
/// instance keeps running after its model handle is destroyed).
pub const ProgramBox = struct {
    refs: std.atomic.Value(u32) = .init(1),
    program: program.Program,

    pub fn retain(self: *ProgramBox) *ProgramBox {
        _ = self.refs.fetchAdd(1, .monotonic);
        return self;
    }

    pub fn release(self: *ProgramBox) void {
        if (self.refs.fetchSub(1, .acq_rel) != 1) return;
        const gpa = alloc.gpa();
        self.program.deinit(gpa);
        gpa.destroy(self);
    }
};

pub const Model = struct {
    hdr: object.Header,
    box: *ProgramBox,
    inputs: []abi.TensorInfo,
    outputs: []abi.TensorInfo,
    name: [:0]u8,
    preamble: [:0]u8,
    postamble: [:0]u8,
    layout: [:0]u8,

    pub const kind: object.Kind = .model;

    fn destroyFn(h: *object.Header) void {
        const m: *Model = @fieldParentPtr("hdr", h);
        const gpa = alloc.gpa();
        m.box.release();
        gpa.free(m.inputs);
        gpa.free(m.outputs);
        gpa.free(m.name);
        gpa.free(m.preamble);
        gpa.free(m.postamble);
        gpa.free(m.layout);
        gpa.destroy(m);
    }

    /// axr_load_model
    pub fn load(ctx: *context.Context, path: []const u8, diag: *Diag) Error!*Model {
        const gpa = alloc.gpa();
        var arena_state = std.heap.ArenaAllocator.init(gpa);
        defer arena_state.deinit();
        const arena = arena_state.allocator();
        const dir = std.fs.path.dirname(path) orelse ".";
        var mdir = try ModelDir.open(dir, path, diag);
        defer mdir.close();

        const mj = try readFile(arena, &mdir, std.fs.path.basename(path), max_json_bytes, "model.json", diag);
        const root = try parseJson(arena, mj, "model.json", diag);
        const mf = ModelFile.from(root, diag) catch |e| return e;

        const man_bytes = try readFile(arena, &mdir, mf.manifest, max_json_bytes, mf.manifest, diag);
        const man_root = try parseJson(arena, man_bytes, mf.manifest, diag);

        const pbytes = try readFile(gpa, &mdir, mf.program, max_program_bytes, mf.program, diag);
        var pdiag = program.Diagnostic{};
        const choice = program.cpu.current();
        if (choice.err()) |msg| {
            gpa.free(pbytes);
            return diag.fail(error.InvalidArgument, "{s}", .{msg});
        }
        const parsed = program.Program.parse(gpa, pbytes, &pdiag);
        gpa.free(pbytes);
        var prog = parsed catch |e| switch (e) {
            error.OutOfMemory => return error.OutOfMemory,
            else => return diag.fail(error.InvalidArgument, "{s}: {s}", .{ mf.program, pdiag.message() }),
        };
        var prog_owned = true;
        defer if (prog_owned) prog.deinit(gpa);

        for ([_]?[]const u8{ mf.preamble, mf.postamble }, [_][]const u8{ "model.json: \"preamble_graph\"", "model.json: \"postamble_graph\"" }) |g, what| if (g) |rel| {
            const f = try mdir.openFile(rel, what, diag);
            f.close();
        };

        try checkManifest(man_root, &prog, mf, diag);

        const box = try gpa.create(ProgramBox);
        box.* = .{ .program = prog };
        prog_owned = false;
        errdefer box.release();

        const m = try gpa.create(Model);
        errdefer gpa.destroy(m);
        const ins = try tensorInfos(gpa, box.program.inputs());
        errdefer gpa.free(ins);
        const outs = try tensorInfos(gpa, box.program.outputs());
        errdefer gpa.free(outs);
        const name = try gpa.dupeZ(u8, mf.name orelse std.fs.path.basename(dir));
        errdefer gpa.free(name);
        const pre = try gpa.dupeZ(u8, mf.preamble orelse "");
        errdefer gpa.free(pre);
        const post = try gpa.dupeZ(u8, mf.postamble orelse "");
        errdefer gpa.free(post);
        const lay = try gpa.dupeZ(u8, mf.layout);
        errdefer gpa.free(lay);
        m.* = .{
            .hdr = .{ .kind = kind, .ctx = &ctx.hdr, .destroy_fn = destroyFn },
            .box = box,
            .inputs = ins,
            .outputs = outs,
            .name = name,
            .preamble = pre,
            .postamble = post,
            .layout = lay,
        };
        try object.register(&m.hdr);
        ctx.hdr.adopt(&m.hdr);
        ctx.log(.info, "loaded model '{s}' from {s}: {d} input(s), {d} output(s), {d} op(s)", .{ name, path, ins.len, outs.len, box.program.ops.len });
        return m;
    }

    /// axr_get_model_properties: a new Properties owned by the model.
    pub fn makeProperties(self: *Model, diag: *Diag) Error!*properties.Properties {
        const p = try properties.Properties.create(self.hdr.ctx, &self.hdr);
        errdefer object.destroy(&p.hdr);
        const gpa = alloc.gpa();
        try p.map.set(gpa, "preamble_graph", self.preamble, diag);
        try p.map.set(gpa, "postamble_graph", self.postamble, diag);
        try p.map.set(gpa, "input_tensor_layout", self.layout, diag);
        try p.map.set(gpa, "name", self.name, diag);
        return p;
    }
};

fn clip(s: []const u8) []const u8 {
    return s[0..@min(s.len, 128)];
}

fn tensorInfos(gpa: std.mem.Allocator, descs: []const program.TensorDesc) Error![]abi.TensorInfo {
    const out = try gpa.alloc(abi.TensorInfo, descs.len);
    for (descs, out) |d, *t| t.* = tensorInfo(d);
    return out;
}

/// The TensorInfo of a program input/output: padded NHWC dims, 8 bits.
pub fn tensorInfo(d: program.TensorDesc) abi.TensorInfo {
    var t = abi.TensorInfo.zero;
    const ps = d.paddedShape();
    for (0..4) |i| {
        t.dims[i] = ps[i];
        t.padding[i] = .{ d.padding[i][0], d.padding[i][1] };
    }
    t.ndims = 4;
    t.bits = 8;
    t.type = @intFromEnum(if (d.dtype == .uint8) abi.TensorType.unsigned else abi.TensorType.signed);
    abi.setCString(&t.name, d.name);
    t.scale = d.scale;
    t.zero_point = d.zero_point;
    return t;
}

/// Reads a whole file of the model directory (`ModelDir.openFile`: inside the directory,
/// a regular file), refusing files larger than `limit` (checked before reading).
fn readFile(a: std.mem.Allocator, mdir: *const ModelDir, rel: []const u8, limit: u64, what: []const u8, diag: *Diag) Error![]u8 {
    const f = try mdir.openFile(rel, what, diag);
    defer f.close();
    const st = f.stat() catch |e|
        return diag.fail(error.InvalidArgument, "{s}: cannot stat: {s}", .{ clip(what), @errorName(e) });
    if (st.size > limit) return diag.fail(error.InvalidArgument, "{s}: {d} bytes is larger than the limit of {d} bytes", .{ clip(what), st.size, limit });
    const buf = try a.alloc(u8, @intCast(st.size));
    errdefer a.free(buf);
    const n = f.readAll(buf) catch |e|
        return diag.fail(error.InvalidArgument, "{s}: read error: {s}", .{ clip(what), @errorName(e) });
    if (n != buf.len) return diag.fail(error.InvalidArgument, "{s}: file changed while reading", .{clip(what)});
    return buf;
}

fn parseJson(arena: std.mem.Allocator, bytes: []const u8, what: []const u8, diag: *Diag) Error!std.json.ObjectMap {
    const v = std.json.parseFromSliceLeaky(Value, arena, bytes, .{ .duplicate_field_behavior = .use_last, .max_value_len = max_json_bytes }) catch |e| switch (e) {
        error.OutOfMemory => return error.OutOfMemory,
        else => return diag.fail(error.InvalidArgument, "{s}: invalid JSON ({s})", .{ clip(what), @errorName(e) }),
    };
    if (v != .object) return diag.fail(error.InvalidArgument, "{s}: expected a JSON object at the top level", .{clip(what)});
    return v.object;
}

/// Checks a relative path from a JSON file: not empty, not absolute, no ".." component.
fn checkRelPath(p: []const u8, file: []const u8, field: []const u8, diag: *Diag) Error!void {
    if (p.len == 0) return diag.fail(error.InvalidArgument, "{s}: \"{s}\" is empty", .{ file, field });
    if (std.mem.indexOfScalar(u8, p, 0) != null) return diag.fail(error.InvalidArgument, "{s}: \"{s}\" contains NUL", .{ file, field });
    if (p[0] == '/' or p[0] == '\\') return diag.fail(error.InvalidArgument, "{s}: \"{s}\" must be a relative path, not '{s}'", .{ file, field, clip(p) });
    var it = std.mem.tokenizeAny(u8, p, "/\\");
    while (it.next()) |c| if (std.mem.eql(u8, c, ".."))
        return diag.fail(error.InvalidArgument, "{s}: \"{s}\" must not contain '..' ('{s}')", .{ file, field, clip(p) });
}

const ModelFile = struct {
    manifest: []const u8,
    program: []const u8,
    name: ?[]const u8,
    preamble: ?[]const u8,
    postamble: ?[]const u8,
    layout: []const u8,

    fn from(o: std.json.ObjectMap, diag: *Diag) Error!ModelFile {
        const f = "model.json";
        const format = try reqString(o, f, "format", diag);
        if (!std.mem.eql(u8, format, "axr-model"))
            return diag.fail(error.InvalidArgument, "model.json: \"format\" is '{s}', expected 'axr-model'", .{clip(format)});
        const version = try reqInt(o, f, "version", diag);
        if (version != 1) return diag.fail(error.InvalidArgument, "model.json: \"version\" {d} is not supported (expected 1)", .{version});
        const r = ModelFile{
            .manifest = try reqString(o, f, "manifest", diag),
            .program = try reqString(o, f, "program", diag),
            .name = try optString(o, f, "name", diag),
            .preamble = try optString(o, f, "preamble_graph", diag),
            .postamble = try optString(o, f, "postamble_graph", diag),
            .layout = (try optString(o, f, "input_tensor_layout", diag)) orelse "NHWC",
        };
        try checkRelPath(r.manifest, f, "manifest", diag);
        try checkRelPath(r.program, f, "program", diag);
        if (r.preamble) |p| try checkRelPath(p, f, "preamble_graph", diag);
        if (r.postamble) |p| try checkRelPath(p, f, "postamble_graph", diag);
        return r;
    }
};

fn typeName(v: Value) []const u8 {
    return switch (v) {
        .null => "null",
        .bool => "a boolean",
        .integer, .float, .number_string => "a number",
        .string => "a string",
        .array => "an array",
        .object => "an object",
    };
}

fn reqString(o: std.json.ObjectMap, file: []const u8, key: []const u8, diag: *Diag) Error![]const u8 {
    const v = o.get(key) orelse return diag.fail(error.InvalidArgument, "{s}: missing \"{s}\"", .{ file, key });
    if (v != .string) return diag.fail(error.InvalidArgument, "{s}: \"{s}\" must be a string, not {s}", .{ file, key, typeName(v) });
    return v.string;
}

fn optString(o: std.json.ObjectMap, file: []const u8, key: []const u8, diag: *Diag) Error!?[]const u8 {
    const v = o.get(key) orelse return null;
    return switch (v) {
        .null => null,
        .string => |s| if (s.len == 0) null else s,
        else => diag.fail(error.InvalidArgument, "{s}: \"{s}\" must be a string or null, not {s}", .{ file, key, typeName(v) }),
    };
}

fn asInt(v: Value) ?i64 {
    return switch (v) {
        .integer => |i| i,
        .float => |f| if (@floor(f) == f and @abs(f) < 1e15) @intFromFloat(f) else null,
        else => null,
    };
}

fn asFloat(v: Value) ?f64 {
    return switch (v) {
        .integer => |i| @floatFromInt(i),
        .float => |f| f,
        else => null,
    };
}

fn reqInt(o: std.json.ObjectMap, file: []const u8, key: []const u8, diag: *Diag) Error!i64 {
    const v = o.get(key) orelse return diag.fail(error.InvalidArgument, "{s}: missing \"{s}\"", .{ file, key });
    return asInt(v) orelse diag.fail(error.InvalidArgument, "{s}: \"{s}\" must be an integer, not {s}", .{ file, key, typeName(v) });
}

/// An array of `n` entries (required or optional key).
fn arrayOf(o: std.json.ObjectMap, key: []const u8, n: usize, required: bool, diag: *Diag) Error!?[]const Value {
    const v = o.get(key) orelse {
        if (required) return diag.fail(error.InvalidArgument, "manifest.json: missing \"{s}\"", .{key});
        return null;
    };
    if (v == .null and !required) return null;
    if (v != .array) return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\" must be an array, not {s}", .{ key, typeName(v) });
    if (v.array.items.len != n)
        return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\" has {d} entries but the program has {d}", .{ key, v.array.items.len, n });
    return v.array.items;
}

fn intList(v: Value, key: []const u8, i: usize, comptime len: usize, diag: *Diag) Error![len]i64 {
    if (v != .array or v.array.items.len != len)
        return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] must be an array of {d} integers", .{ key, i, len });
    var out: [len]i64 = undefined;
    for (v.array.items, 0..) |e, j| out[j] = asInt(e) orelse
        return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}][{d}] must be an integer, not {s}", .{ key, i, j, typeName(e) });
    return out;
}

fn sameScale(a: f64, b: f32) bool {
    const bf: f64 = b;
    return @abs(a - bf) <= 1e-6 * @abs(bf) + 1e-30;
}

const Side = struct {
    what: []const u8,
    names: []const u8,
    params: []const u8,
    shapes: []const u8,
    originals: []const u8,
    pads: []const u8,
    dtypes: []const u8,
};

fn checkSide(o: std.json.ObjectMap, descs: []const program.TensorDesc, s: Side, diag: *Diag) Error!void {
    const n = descs.len;
    const params = (try arrayOf(o, s.params, n, true, diag)).?;
    const shapes = (try arrayOf(o, s.shapes, n, true, diag)).?;
    const names = try arrayOf(o, s.names, n, false, diag);
    const pads = try arrayOf(o, s.pads, n, false, diag);
    const dtypes = try arrayOf(o, s.dtypes, n, false, diag);
    if (try arrayOf(o, s.originals, n, false, diag)) |orig| for (orig, 0..) |v, i| {
        if (v != .array) return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] must be an array", .{ s.originals, i });
    };
    for (descs, 0..) |d, i| {
        // [scale, zero_point]
        const p = params[i];
        if (p != .array or p.array.items.len != 2)
            return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] must be [scale, zero_point]", .{ s.params, i });
        const scale = asFloat(p.array.items[0]) orelse
            return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] scale must be a number", .{ s.params, i });
        const zp = asInt(p.array.items[1]) orelse
            return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] zero point must be an integer", .{ s.params, i });
        if (!sameScale(scale, d.scale) or zp != d.zero_point)
            return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] = [{d}, {d}] but the program's {s} {d} '{s}' has [{d}, {d}]", .{ s.params, i, scale, zp, s.what, i, clip(d.name), d.scale, d.zero_point });
        const shape = try intList(shapes[i], s.shapes, i, 4, diag);
        const ps = d.paddedShape();
        for (0..4) |k| if (shape[k] != ps[k])
            return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] = {any} but the program's {s} {d} '{s}' has padded shape {any}", .{ s.shapes, i, shape, s.what, i, clip(d.name), ps });
        if (pads) |pp| {
            const pad = try intList(pp[i], s.pads, i, 8, diag);
            for (0..4) |k| if (pad[2 * k] != d.padding[k][0] or pad[2 * k + 1] != d.padding[k][1])
                return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] = {any} does not match the program's padding of {s} {d} '{s}'", .{ s.pads, i, pad, s.what, i, clip(d.name) });
        }
        if (names) |nn| {
            if (nn[i] != .string) return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] must be a string", .{ s.names, i });
            if (!std.mem.eql(u8, nn[i].string, d.name))
                return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] is '{s}' but the program's {s} {d} is '{s}'", .{ s.names, i, clip(nn[i].string), s.what, i, clip(d.name) });
        }
        if (dtypes) |dt| {
            if (dt[i] != .string) return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] must be a string", .{ s.dtypes, i });
            const want: []const u8 = if (d.dtype == .uint8) "uint8" else "int8";
            if (!std.mem.eql(u8, dt[i].string, want))
                return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\"[{d}] is '{s}' but the program's {s} {d} '{s}' is {s}", .{ s.dtypes, i, clip(dt[i].string), s.what, i, clip(d.name), want });
        }
    }
}

fn checkManifest(o: std.json.ObjectMap, prog: *const program.Program, mf: ModelFile, diag: *Diag) Error!void {
    if (o.get("manifest_version")) |v| {
        const n = asInt(v) orelse return diag.fail(error.InvalidArgument, "manifest.json: \"manifest_version\" must be an integer, not {s}", .{typeName(v)});
        if (n != 1) return diag.fail(error.InvalidArgument, "manifest.json: \"manifest_version\" {d} is not supported (expected 1)", .{n});
    }
    try checkSide(o, prog.inputs(), .{ .what = "input", .names = "input_names", .params = "quantize_params", .shapes = "input_shapes", .originals = "input_shapes_original", .pads = "n_padded_ch_inputs", .dtypes = "input_dtypes" }, diag);
    try checkSide(o, prog.outputs(), .{ .what = "output", .names = "output_names", .params = "dequantize_params", .shapes = "output_shapes", .originals = "output_shapes_original", .pads = "n_padded_ch_outputs", .dtypes = "output_dtypes" }, diag);
    for ([_][]const u8{ "preprocess_graph", "postprocess_graph", "model_lib_file", "input_tensor_layout" }) |k| {
        if (o.get(k)) |v| if (v != .string and v != .null)
            return diag.fail(error.InvalidArgument, "manifest.json: \"{s}\" must be a string or null, not {s}", .{ k, typeName(v) });
    }
    if (o.get("model_lib_file")) |v| if (v == .string) {
        if (!std.mem.eql(u8, std.fs.path.basename(v.string), std.fs.path.basename(mf.program)))
            return diag.fail(error.InvalidArgument, "manifest.json: \"model_lib_file\" is '{s}' but model.json's program is '{s}'", .{ clip(v.string), clip(mf.program) });
    };
}
