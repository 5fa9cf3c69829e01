//! A model instance: a model loaded onto a connection's sub-devices. Holds the
//! executor's scratch (one Runner), the instance properties and the statistics of the
//! last run. Calls on one instance are serialized by its mutex.

const std = @import("std");
const posix = std.posix;
const abi = @import("abi.zig");
const alloc = @import("alloc.zig");
const errors = @import("errors.zig");
const object = @import("object.zig");
const properties = @import("properties.zig");
const context = @import("context.zig");
const connection = @import("connection.zig");
const devices = @import("devices.zig");
const config = @import("config.zig");
const model_mod = @import("model.zig");
const program = @import("program.zig");
const exec = @import("exec.zig");
const timing = @import("timing.zig");

const Error = errors.Error;
const Diag = errors.Diag;
const Connection = connection.Connection;
const Model = model_mod.Model;

pub const Settings = struct {
    aipu_cores: u32 = 0,
    num_sub_devices: u32 = 0,
    /// host threads a run on one core splits its convolutions over (0: one per core of
    /// the instance, at most the host's CPUs)
    host_threads: u32 = 0,
    input_dmabuf: bool = false,
    output_dmabuf: bool = false,
    double_buffer: bool = false,
    device_profiling: bool = false,
    host_profiling: bool = false,
    elf_in_ddr: bool = true,
    /// bytes; 0: AXR_EMU_MEMORY_LIMIT, else `default_memory_limit` (see `memoryLimit`)
    memory_limit: u64 = 0,
};

/// The memory an instance may use when neither `memory_limit` nor AXR_EMU_MEMORY_LIMIT
/// says otherwise: 2 GiB.
pub const default_memory_limit: u64 = 2 << 30;

/// A size in bytes: decimal digits, optionally followed by K, M, G or T (powers of 1024);
/// null when malformed or above 2^64 - 1.
pub fn parseSize(text: []const u8) ?u64 {
    var digits = text;
    var shift: u6 = 0;
    if (text.len > 1) switch (std.ascii.toUpper(text[text.len - 1])) {
        'K' => shift = 10,
        'M' => shift = 20,
        'G' => shift = 30,
        'T' => shift = 40,
        else => {},
    };
    if (shift != 0) digits = text[0 .. text.len - 1];
    if (digits.len == 0) return null;
    for (digits) |c| if (!std.ascii.isDigit(c)) return null;
    const n = std.fmt.parseInt(u64, digits, 10) catch return null;
    return std.math.shlExact(u64, n, shift) catch null;
}

/// Where an instance's memory limit came from (for messages).
pub const Limit = struct { bytes: u64, source: []const u8 };

/// The instance's memory limit: the `memory_limit` property when non-zero, else
/// AXR_EMU_MEMORY_LIMIT when set (a malformed or zero value is an InvalidArgument naming
/// it), else `default_memory_limit`.
pub fn memoryLimit(s: Settings, diag: *Diag) Error!Limit {
    if (s.memory_limit > 0) return .{ .bytes = s.memory_limit, .source = "the memory_limit property" };
    if (posix.getenv("AXR_EMU_MEMORY_LIMIT")) |v| {
        const n = parseSize(v) orelse 0;
        if (n == 0) return diag.fail(error.InvalidArgument, "AXR_EMU_MEMORY_LIMIT={s}: expected a positive size in bytes, optionally with K, M, G or T (e.g. 4G)", .{properties.clip(v)});
        return .{ .bytes = n, .source = "AXR_EMU_MEMORY_LIMIT" };
    }
    return .{ .bytes = default_memory_limit, .source = "the default (set the memory_limit property or AXR_EMU_MEMORY_LIMIT)" };
}

const bool_keys = [_][]const u8{ "input_dmabuf", "output_dmabuf", "double_buffer", "device_profiling", "host_profiling", "elf_in_ddr" };

/// Parses and validates the instance properties (max_subs: the connection's sub-devices).
pub fn parseSettings(map: ?*const properties.Map, max_subs: u32, diag: *Diag) Error!Settings {
    var s = Settings{};
    const m = map orelse return s;
    for (m.entries.items) |e| {
        const k: []const u8 = e.key;
        const v: []const u8 = e.value;
        if (std.mem.eql(u8, k, "aipu_cores")) {
            s.aipu_cores = std.fmt.parseInt(u32, v, 10) catch std.math.maxInt(u32);
            if (s.aipu_cores > devices.max_sub_devices)
                return diag.fail(error.InvalidArgument, "aipu_cores={s}: expected an integer 0..4", .{properties.clip(v)});
        } else if (std.mem.eql(u8, k, "host_threads")) {
            s.host_threads = std.fmt.parseInt(u32, v, 10) catch std.math.maxInt(u32);
            if (s.host_threads > exec.max_workers)
                return diag.fail(error.InvalidArgument, "host_threads={s}: expected an integer 0..{d}", .{ properties.clip(v), exec.max_workers });
        } else if (std.mem.eql(u8, k, "num_sub_devices")) {
            s.num_sub_devices = std.fmt.parseInt(u32, v, 10) catch std.math.maxInt(u32);
            if (s.num_sub_devices > max_subs)
                return diag.fail(error.InvalidArgument, "num_sub_devices={s}: expected an integer 0..{d} (the connection's sub-devices)", .{ properties.clip(v), max_subs });
        } else if (std.mem.eql(u8, k, "memory_limit")) {
            s.memory_limit = parseSize(v) orelse
                return diag.fail(error.InvalidArgument, "memory_limit={s}: expected a size in bytes, optionally with K, M, G or T (e.g. 4G; 0: AXR_EMU_MEMORY_LIMIT or the default 2G)", .{properties.clip(v)});
        } else inline for (bool_keys) |bk| {
            if (std.mem.eql(u8, k, bk)) {
                @field(s, bk) = if (std.mem.eql(u8, v, "1")) true else if (std.mem.eql(u8, v, "0")) false else return diag.fail(error.InvalidArgument, "{s}={s}: expected 0 or 1", .{ bk, properties.clip(v) });
                break;
            }
        } else return diag.fail(error.InvalidArgument, "unknown model instance property '{s}' (expected aipu_cores, num_sub_devices, host_threads, input_dmabuf, output_dmabuf, double_buffer, device_profiling, host_profiling, elf_in_ddr, memory_limit)", .{properties.clip(k)});
    }
    return s;
}

pub const HostSpan = struct { name: []const u8, start_ns: u64, dur_ns: u64 };

fn monoNs() u64 {
    const ts = posix.clock_gettime(.MONOTONIC) catch return 0;
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}

pub const Instance = struct {
    hdr: object.Header,
    mutex: std.Thread.Mutex = .{},
    box: *model_mod.ProgramBox,
    runner: exec.Runner,
    settings: Settings,
    device: devices.Device,
    /// The connection's state directory (the connection outlives its instances).
    state: *const devices.StateDir,
    core_ids: [devices.max_sub_devices]u32 = undefined,
    n_cores: u32 = 0,
    cores: [devices.max_sub_devices]exec.CoreConfig = .{exec.CoreConfig{}} ** devices.max_sub_devices,
    cfg_stamp: u128 = 0,
    in_views: [][]const u8,
    out_views: [][]u8,
    profile: std.ArrayList(exec.OpSpan),
    host_spans: std.ArrayList(HostSpan),
    runs: u64 = 0,
    last_host_ns: u64 = 0,
    last_compute_ns: u64 = 0,
    last: exec.RunStats = .{ .device_cycles = 0, .device_ns = 0 },
    json: std.ArrayList(u8),

    pub const kind: object.Kind = .instance;

    fn stateDir(self: *const Instance) *const devices.StateDir {
        return self.state;
    }

    /// axr_load_model_instance
    pub fn create(conn: *Connection, model: *Model, map: ?*const properties.Map, diag: *Diag) Error!*Instance {
        const settings = try parseSettings(map, conn.n_subs, diag);
        const limit = try memoryLimit(settings, diag);
        const gpa = alloc.gpa();
        const box = model.box.retain();
        errdefer box.release();
        const want_cores = if (settings.aipu_cores > 0) settings.aipu_cores else if (settings.num_sub_devices > 0) settings.num_sub_devices else conn.n_subs;
        const host_cpus: u32 = @intCast(std.Thread.getCpuCount() catch 1);
        const threads: exec.Threads = if (settings.host_threads > 0)
            .{ .n = settings.host_threads, .all = true }
        else
            .{ .n = @max(1, @min(want_cores, conn.n_subs, host_cpus)) };
        // the program's own memory (weights, tables) counts against the limit too
        const prog_bytes = box.program.bytes;
        var fp: exec.Footprint = .{};
        var runner = exec.Runner.initWithin(gpa, &box.program, threads, limit.bytes -| prog_bytes, &fp) catch |e| return switch (e) {
            error.MemoryLimit => diag.fail(error.IncompatibleDevice, "model '{s}' needs {d} bytes on an instance ({d} of tensors, {d} of scratch, {d} of program: weights and tables), more than the memory limit of {d} bytes from {s}", .{ properties.clip(model.name), fp.total() +| prog_bytes, fp.tensors, fp.scratch, prog_bytes, limit.bytes, limit.source }),
            error.OutOfMemory => error.OutOfMemory,
        };
        errdefer runner.deinit(gpa);
        const ins = try gpa.alloc([]const u8, box.program.inputs().len);
        errdefer gpa.free(ins);
        const outs = try gpa.alloc([]u8, box.program.outputs().len);
        errdefer gpa.free(outs);
        const inst = try gpa.create(Instance);
        errdefer gpa.destroy(inst);
        inst.* = .{
            .hdr = .{ .kind = kind, .ctx = conn.hdr.ctx, .destroy_fn = destroyFn },
            .box = box,
            .runner = runner,
            .settings = settings,
            .device = conn.device,
            .state = conn.stateDir(),
            .in_views = ins,
            .out_views = outs,
            .profile = std.ArrayList(exec.OpSpan).init(gpa),
            .host_spans = std.ArrayList(HostSpan).init(gpa),
            .json = std.ArrayList(u8).init(gpa),
        };
        // cores: aipu_cores, else num_sub_devices, else all of the connection's
        // sub-devices; never more than the connection reserved.
        inst.n_cores = @min(want_cores, conn.n_subs);
        std.debug.assert(inst.n_cores >= 1);
        // round robin: each instance starts where the previous one ended
        const start = conn.next_core.fetchAdd(inst.n_cores, .monotonic) % conn.n_subs;
        for (inst.core_ids[0..inst.n_cores], 0..) |*id, i| id.* = conn.subs[(start + i) % conn.n_subs];
        inst.refreshConfig();
        try object.register(&inst.hdr);
        conn.hdr.adopt(&inst.hdr);
        const ctx = context.Context.of(&conn.hdr);
        ctx.log(.info, "loaded model '{s}' on {s} core(s) {any} ({d} MHz core 0)", .{ model.name, conn.device.name(), inst.core_ids[0..inst.n_cores], inst.cores[0].clock_mhz });
        if (timing.unknownOp(&box.program)) |op| ctx.log(.warning, "the timing model does not know op {s} (model '{s}'): timed as an element-wise op over its bytes", .{ op, model.name });
        ctx.log(.debug, "host CPU kernels: level '{s}' (this CPU: up to '{s}'{s})", .{ box.program.level.name(), program.cpu.current().native.name(), if (std.posix.getenv("AXR_CPU") != null) ", AXR_CPU set" else "" });
        return inst;
    }

    fn destroyFn(h: *object.Header) void {
        const inst: *Instance = @alignCast(@fieldParentPtr("hdr", h));
        const gpa = alloc.gpa();
        inst.mutex.lock();
        inst.runner.deinit(gpa);
        inst.box.release();
        gpa.free(inst.in_views);
        gpa.free(inst.out_views);
        inst.profile.deinit();
        inst.host_spans.deinit();
        inst.json.deinit();
        inst.mutex.unlock();
        gpa.destroy(inst);
    }

    /// Re-reads the device configuration when the stored file changed.
    fn refreshConfig(self: *Instance) void {
        const st = config.stamp(self.stateDir(), &self.device);
        if (st == self.cfg_stamp and self.runs > 0) return;
        self.cfg_stamp = st;
        const cfg = config.load(self.stateDir(), &self.device);
        for (self.core_ids[0..self.n_cores], 0..) |c, i| self.cores[i] = .{ .clock_mhz = cfg.clock[c], .mvm_utilisation = cfg.mvm[c] };
    }

    fn span(self: *Instance, name: []const u8, start: u64) void {
        if (!self.settings.host_profiling) return;
        const now = monoNs();
        self.host_spans.append(.{ .name = name, .start_ns = start, .dur_ns = now -| start }) catch {};
    }

    /// axr_run_model_instance
    pub fn run(self: *Instance, inputs: ?[*]const abi.Argument, n_in: usize, outputs: ?[*]const abi.Argument, n_out: usize, diag: *Diag) Error!void {
        self.mutex.lock();
        defer self.mutex.unlock();
        const t0 = monoNs();
        self.host_spans.clearRetainingCapacity();
        const p = &self.box.program;
        const in_descs = p.inputs();
        const out_descs = p.outputs();
        if (n_in != in_descs.len) return diag.fail(error.InvalidArgument, "expected {d} input(s), got {d}", .{ in_descs.len, n_in });
        if (n_out != out_descs.len) return diag.fail(error.InvalidArgument, "expected {d} output(s), got {d}", .{ out_descs.len, n_out });
        if (n_in > 0 and inputs == null) return diag.fail(error.InvalidArgument, "inputs is NULL", .{});
        if (n_out > 0 and outputs == null) return diag.fail(error.InvalidArgument, "outputs is NULL", .{});

        // argument checks
        for (in_descs, 0..) |d, i| try checkArg(inputs.?[i], d, "input", i, self.settings.input_dmabuf, diag);
        for (out_descs, 0..) |d, i| try checkArg(outputs.?[i], d, "output", i, self.settings.output_dmabuf, diag);
        self.span("check_arguments", t0);

        // map file descriptors
        const t1 = monoNs();
        var mapped_in: usize = 0;
        var mapped_out: usize = 0;
        defer {
            const t3 = monoNs();
            if (self.settings.input_dmabuf) for (self.in_views[0..mapped_in]) |v| posix.munmap(@alignCast(@constCast(v)));
            if (self.settings.output_dmabuf) for (self.out_views[0..mapped_out]) |v| posix.munmap(@alignCast(v));
            if (self.settings.input_dmabuf or self.settings.output_dmabuf) self.span("munmap", t3);
        }
        for (in_descs, 0..) |d, i| {
            const a = inputs.?[i];
            if (self.settings.input_dmabuf) {
                self.in_views[i] = try mapFd(a.fd, d.byteSize(), false, "input", i, d.name, diag);
                mapped_in += 1;
            } else self.in_views[i] = @as([*]const u8, @ptrCast(a.ptr.?))[0..d.byteSize()];
        }
        for (out_descs, 0..) |d, i| {
            const a = outputs.?[i];
            if (self.settings.output_dmabuf) {
                self.out_views[i] = try mapFd(a.fd, d.byteSize(), true, "output", i, d.name, diag);
                mapped_out += 1;
            } else self.out_views[i] = @as([*]u8, @ptrCast(a.ptr.?))[0..d.byteSize()];
        }
        if (self.settings.input_dmabuf or self.settings.output_dmabuf) self.span("mmap", t1);

        self.refreshConfig();
        self.profile.clearRetainingCapacity();
        const t2 = monoNs();
        const stats = self.runner.run(self.in_views, self.out_views, self.cores[0..self.n_cores], if (self.settings.device_profiling) &self.profile else null) catch |e| switch (e) {
            error.OutOfMemory => return error.OutOfMemory,
            else => return diag.fail(error.RuntimeError, "execution failed: {s}", .{@errorName(e)}),
        };
        const t_end = monoNs();
        self.span("exec", t2);
        self.runs += 1;
        self.last = stats;
        self.last_compute_ns = t_end -| t2;
        self.last_host_ns = t_end -| t0;
    }

    /// axr_ext_instance_stats: JSON owned by the instance.
    pub fn statsJson(self: *Instance) Error![:0]const u8 {
        self.mutex.lock();
        defer self.mutex.unlock();
        self.json.clearRetainingCapacity();
        const w = self.json.writer();
        try w.print("{{\"runs\":{d},\"last_host_ns\":{d},\"last_compute_ns\":{d},\"last_device_cycles\":{d},\"last_device_us\":{d:.3}", .{
            self.runs,                                             self.last_host_ns, self.last_compute_ns, self.last.device_cycles,
            @as(f64, @floatFromInt(self.last.device_ns)) / 1000.0,
        });
        // host transfer of one frame's inputs and outputs over the board's link (timing.zig)
        var io: u64 = 0;
        for (self.box.program.input_descs) |d| io += d.byteSize();
        for (self.box.program.output_descs) |d| io += d.byteSize();
        try w.print(",\"board_type\":\"{s}\",\"transfer_bytes\":{d},\"transfer_us\":{d:.3}", .{ devices.boardName(self.device.board), io, @as(f64, @floatFromInt(timing.transferNs(io, self.device.board))) / 1000.0 });
        if (timing.unknownOp(&self.box.program)) |op| try w.print(",\"timing_unknown_op\":\"{s}\"", .{op});
        try w.print(",\"cpu\":\"{s}\",\"host_threads\":{d}", .{ self.box.program.level.name(), self.runner.host_threads });
        try w.writeAll(",\"sub_devices\":[");
        for (self.core_ids[0..self.n_cores], 0..) |id, i| try w.print("{s}{d}", .{ if (i > 0) "," else "", id });
        try w.writeAll("],\"clock_mhz\":[");
        for (self.cores[0..self.n_cores], 0..) |c, i| try w.print("{s}{d}", .{ if (i > 0) "," else "", c.clock_mhz });
        try w.writeAll("],\"mvm_utilisation\":[");
        for (self.cores[0..self.n_cores], 0..) |c, i| try w.print("{s}{d}", .{ if (i > 0) "," else "", c.mvm_utilisation });
        try w.writeAll("],\"ops\":[");
        if (self.settings.device_profiling) for (self.profile.items, 0..) |o, i| {
            if (i > 0) try w.writeByte(',');
            try w.writeAll("{\"name\":");
            try std.json.stringify(o.name, .{}, w);
            try w.writeAll(",\"op\":");
            try std.json.stringify(o.op, .{}, w);
            try w.print(",\"cycles\":{d},\"start_cycle\":{d},\"macs\":{d},\"core\":{d}}}", .{ o.cycles, o.start_cycle, o.macs, self.core_ids[o.core] });
        };
        try w.writeByte(']');
        if (self.settings.host_profiling) {
            try w.writeAll(",\"host\":[");
            for (self.host_spans.items, 0..) |h, i| {
                if (i > 0) try w.writeByte(',');
                try w.print("{{\"name\":\"{s}\",\"start_ns\":{d},\"dur_ns\":{d}}}", .{ h.name, h.start_ns, h.dur_ns });
            }
            try w.writeByte(']');
        }
        try w.writeByte('}');
        try self.json.append(0);
        return self.json.items[0 .. self.json.items.len - 1 :0];
    }
};

fn checkArg(a: abi.Argument, d: program.TensorDesc, side: []const u8, i: usize, dmabuf: bool, diag: *Diag) Error!void {
    const want = d.byteSize();
    const name = d.name[0..@min(d.name.len, 64)];
    if (a.offset != 0) return diag.fail(error.InvalidArgument, "{s} {d} '{s}': offset {d} is not supported (must be 0)", .{ side, i, name, a.offset });
    if (a.size != 0 and a.size != want) return diag.fail(error.InvalidArgument, "{s} {d} '{s}': size {d} != expected {d}", .{ side, i, name, a.size, want });
    if (dmabuf) {
        if (a.fd <= 0) return diag.fail(error.InvalidArgument, "{s} {d} '{s}': fd {d} is not a valid file descriptor ({s}_dmabuf=1)", .{ side, i, name, a.fd, side });
    } else if (a.ptr == null) return diag.fail(error.InvalidArgument, "{s} {d} '{s}': ptr is NULL", .{ side, i, name });
}

fn mapFd(fd: c_int, size: usize, writable: bool, side: []const u8, i: usize, tname: []const u8, diag: *Diag) Error![]u8 {
    // Raw system calls, not std.posix.fstat/mmap: those treat EBADF as unreachable (a
    // panic), and a caller's closed or bogus descriptor must be an error, never a crash.
    const linux = std.os.linux;
    const name = tname[0..@min(tname.len, 64)];
    var st: linux.Stat = undefined;
    const rc = linux.fstat(fd, &st);
    if (posix.errno(rc) != .SUCCESS)
        return diag.fail(error.InvalidArgument, "{s} {d} '{s}': fd {d}: {s}", .{ side, i, name, fd, @tagName(posix.errno(rc)) });
    if (st.size < 0 or @as(u64, @intCast(st.size)) < size)
        return diag.fail(error.InvalidArgument, "{s} {d} '{s}': fd {d} has {d} bytes, expected at least {d}", .{ side, i, name, fd, st.size, size });
    const prot: usize = if (writable) linux.PROT.READ | linux.PROT.WRITE else linux.PROT.READ;
    const addr = linux.mmap(null, size, prot, .{ .TYPE = .SHARED }, fd, 0);
    if (posix.errno(addr) != .SUCCESS)
        return diag.fail(error.InvalidArgument, "{s} {d} '{s}': cannot map fd {d} ({d} bytes): {s}", .{ side, i, name, fd, size, @tagName(posix.errno(addr)) });
    const m: [*]u8 = @ptrFromInt(addr);
    return m[0..size];
}
