//! The executor of the emulated Metis device: runs a validated `Program` bit-exactly
//! (docs/model-format.md) and reports the modelled device time (docs/timing-model.md).
//!
//! `Runner.init` allocates every tensor and all scratch once; `run` allocates nothing
//! (except the caller's `profile` list and, for a split batch, the worker threads).
//! Internal tensors share buffers whose lifetimes do not overlap (a liveness plan: best
//! fit, a buffer is free after the last op that reads it).
//! Inputs and outputs without padding are used in place (zero copy); padded ones are
//! copied in (logical region only) and out (padding filled with the zero point).
//! A batch (N > 1 on every tensor, no op mixing images: `Program.batch`) is split across
//! the given cores, one thread per core, each on its own images (one image at a time
//! through the whole program) with its own tensor arena and scratch; otherwise the whole
//! batch runs at once on the calling thread.
//! One Runner runs one `run` at a time (the caller serialises).

const std = @import("std");
/// Bounds and overflow checks inside the kernels only in Debug builds (the tests): the
/// loader has validated every shape and index, and ReleaseSafe checks cost 3-5x here.
const kernel_safety = @import("builtin").mode == .Debug;
pub const prog = @import("program.zig");
const timing = @import("timing.zig");
const conv = @import("ops/conv.zig");
const pool = @import("ops/pool.zig");
const eltwise = @import("ops/eltwise.zig");
const lut = @import("ops/lut.zig");
const pad_lut = @import("ops/pad_lut.zig");
const layout = @import("ops/layout.zig");
const kernels = @import("ops/kernels.zig");
const host_pool = @import("host_pool.zig");
const Pool = host_pool.Pool;
const Part = host_pool.Part;

const Program = prog.Program;
const Op = prog.Op;

pub const CoreConfig = struct { clock_mhz: u32 = 800, mvm_utilisation: u32 = 100 };
pub const OpSpan = struct { name: []const u8, op: []const u8, start_cycle: u64, cycles: u64, macs: u64, core: u32 };
pub const RunStats = struct { device_cycles: u64, device_ns: u64 };

/// What a Runner allocates for its tensors and scratch (`Runner.initWithin`).
pub const Footprint = struct {
    /// padded program inputs/outputs and the internal tensors' arenas (all workers)
    tensors: u64 = 0,
    /// the convolutions' int16 input and int32 accumulator scratch (all workers)
    scratch: u64 = 0,

    pub fn total(self: Footprint) u64 {
        return self.tensors +| self.scratch;
    }
};

pub const RunError = error{ BadInputCount, BadOutputCount, BadBufferSize, OutOfMemory, ThreadFailed };

/// Host threads of a run on one core (`Runner.initThreads`).
pub const Threads = struct {
    /// threads, 1..max_workers (1: no helper threads)
    n: u32 = 1,
    /// split every convolution, Add/Mul and pool (by output rows) and table op (by cache
    /// lines), however small; else only programs with a convolution of at least
    /// `auto_min_macs` MACs per image use the threads, a conv is split when it has that
    /// many MACs, and the other ops only into parts of at least `auto_min_part` output
    /// bytes (below that the hand-over costs more than the part)
    all: bool = false,

    pub const auto_min_macs: u64 = 1 << 20;
    pub const auto_min_part: usize = 32 * 1024;
};

/// At most this many worker threads (and scratch sets) for one batch.
pub const max_workers: u32 = 8;
comptime {
    // the parts of a split op use the workers' scratch
    std.debug.assert(host_pool.max_parts <= max_workers);
}

pub const Runner = struct {
    program: *const Program,
    /// storage of padded program inputs/outputs (whole batch, contiguous), then the
    /// per-worker arenas of the internal tensors
    storage: []align(64) u8,
    /// external tensors: their own buffer (empty when the host buffer is used in place);
    /// internal tensors: unused
    bufs: [][]u8,
    /// per-run views of the external tensors (own buffer or the host buffer)
    views: [][]u8,
    /// internal tensors: offset in a worker arena (liveness-planned slots); external: none
    slot_off: []usize,
    external: []bool,
    arena_off: usize,
    arena_size: usize,
    /// per op: activation bytes moved per batch unit (inputs + outputs)
    act_bytes: []u64,
    workers: u32,
    xp: []align(64) i16,
    xp_per_worker: usize,
    acc: []align(64) i32,
    acc_per_worker: usize,
    /// scratch for Concat/Split slice lists
    list_bufs: [][]const u8,
    list_mut: [][]u8,
    list_shapes: [][4]u32,
    list_per_worker: usize,
    /// per op: false when a table op is merged into the next one (its output is never
    /// written; the timing model still counts it)
    exec_op: []bool,
    /// per op: the input tensor a (merged) table op reads
    table_src: []u32,
    /// per op: the merged table of a table op at the end of a chain (else unused)
    tables: [][256]u8,
    /// threads a run on one core splits its convolutions and tables over
    host_threads: u32 = 1,
    /// the smallest conv worth splitting (MACs per image), and the smallest part of
    /// another op worth a thread (output bytes)
    min_split_macs: u64 = Threads.auto_min_macs,
    min_part: usize = Threads.auto_min_part,
    /// the helper threads (host_threads - 1), or null
    pool: ?*Pool = null,

    /// Plans and allocates all memory of the runs: the program's internal tensors share
    /// buffers whose lifetimes do not overlap (best-fit slots, freed after an op's last
    /// reader), per batch unit (one image of a split batch; the whole batch otherwise),
    /// one arena per worker.
    pub fn init(gpa: std.mem.Allocator, program: *const Program) !Runner {
        var fp: Footprint = .{};
        return initWithin(gpa, program, .{}, std.math.maxInt(u64), &fp);
    }

    /// `init` for runs that split the convolutions and tables of a batch-1 program (or
    /// any program run on one core) over `threads.n` threads (the helper threads start
    /// here and wait for work; see `Threads` for when a program or an op is split).
    pub fn initThreads(gpa: std.mem.Allocator, program: *const Program, threads: Threads) !Runner {
        var fp: Footprint = .{};
        return initWithin(gpa, program, threads, std.math.maxInt(u64), &fp);
    }

    /// `initThreads` within a memory budget: `fp` receives the bytes the tensors and
    /// scratch need (the scratch of every host thread included), and when they exceed
    /// `limit` the result is error.MemoryLimit, before those allocations are made (only
    /// the plan's small per-tensor and per-op arrays were).
    pub fn initWithin(gpa: std.mem.Allocator, program: *const Program, threads: Threads, limit: u64, fp: *Footprint) !Runner {
        var r = try initPlan(gpa, program, threads, limit, fp);
        errdefer r.deinit(gpa);
        if (r.host_threads > 1) r.pool = Pool.start(gpa, r.host_threads - 1) catch null;
        if (r.pool) |pl| r.host_threads = pl.n + 1;
        if (r.pool == null) r.host_threads = 1;
        return r;
    }

    fn initPlan(gpa: std.mem.Allocator, program: *const Program, threads: Threads, limit: u64, fp: *Footprint) !Runner {
        const p = program;
        const B: u64 = p.batch;
        const nt = p.tensors.len;
        const external = try gpa.alloc(bool, nt);
        errdefer gpa.free(external);
        @memset(external, false);
        for (p.input_ids) |t| external[t] = true;
        for (p.output_ids) |t| external[t] = true;

        // chains of table ops: a table op whose output only the next table op reads is
        // merged into it (one pass with the composed table)
        const exec_op = try gpa.alloc(bool, p.ops.len);
        errdefer gpa.free(exec_op);
        const table_src = try gpa.alloc(u32, p.ops.len);
        errdefer gpa.free(table_src);
        const tables = try gpa.alloc([256]u8, p.ops.len);
        errdefer gpa.free(tables);
        try planTables(gpa, p, external, exec_op, table_src, tables);

        // liveness: the last op reading each tensor
        const last = try gpa.alloc(usize, nt);
        defer gpa.free(last);
        const slot_of = try gpa.alloc(usize, nt);
        defer gpa.free(slot_of);
        @memset(slot_of, std.math.maxInt(usize)); // stays so for the outputs of merged ops
        for (last, 0..) |*l, t| l.* = if (external[t]) 0 else std.math.maxInt(usize);
        for (p.ops, 0..) |o, i| {
            if (!exec_op[i]) continue;
            for (opInputs(o, i, table_src)) |t| last[t] = i;
            for (o.outputs) |t| if (last[t] == std.math.maxInt(usize)) {
                last[t] = i; // written but never read
            };
        }
        for (p.ops, 0..) |o, i| for (o.outputs) |t| {
            if (exec_op[i] and !external[t] and last[t] < i) last[t] = i;
        };
        const Slot = struct { size: usize, free: bool };
        var slots = std.ArrayList(Slot).init(gpa);
        defer slots.deinit();
        for (p.ops, 0..) |o, i| {
            if (!exec_op[i]) continue;
            for (o.outputs) |t| {
                if (external[t]) continue;
                const need = std.mem.alignForward(usize, p.tensors[t].logicalSize() / B, 64);
                var best: ?usize = null;
                for (slots.items, 0..) |sl, k| {
                    if (!sl.free) continue;
                    if (best) |b| {
                        const bs = slots.items[b].size;
                        const better = if (sl.size >= need) (bs < need or sl.size < bs) else (bs < need and sl.size > bs);
                        if (better) best = k;
                    } else best = k;
                }
                if (best) |k| {
                    slots.items[k].free = false;
                    slots.items[k].size = @max(slots.items[k].size, need);
                    slot_of[t] = k;
                } else {
                    try slots.append(.{ .size = need, .free = false });
                    slot_of[t] = slots.items.len - 1;
                }
            }
            for (opInputs(o, i, table_src)) |t| if (!external[t] and last[t] == i) {
                slots.items[slot_of[t]].free = true;
            };
            for (o.outputs) |t| if (!external[t] and last[t] == i) {
                slots.items[slot_of[t]].free = true;
            };
        }
        const slot_base = try gpa.alloc(usize, slots.items.len);
        defer gpa.free(slot_base);
        var arena_size: usize = 0;
        for (slots.items, 0..) |sl, k| {
            slot_base[k] = arena_size;
            arena_size += sl.size;
        }
        const slot_off = try gpa.alloc(usize, nt);
        errdefer gpa.free(slot_off);
        for (slot_off, 0..) |*o, t| o.* = if (external[t] or slot_of[t] == std.math.maxInt(usize)) 0 else slot_base[slot_of[t]];

        // threads only pay when the program has real convolutions
        var big = threads.all;
        for (p.ops) |o| {
            if (o.attrs == .conv and o.macs / B >= Threads.auto_min_macs) big = true;
        }
        const host_threads: u32 = if (big) @max(1, @min(threads.n, max_workers)) else 1;
        const workers: u32 = @intCast(@max(@min(B, max_workers), host_threads));
        var ext_size: usize = 0;
        for (p.tensors, 0..) |t, i| {
            if (external[i] and t.hasPadding()) ext_size += std.mem.alignForward(usize, t.logicalSize(), 64);
        }
        const act = try gpa.alloc(u64, p.ops.len);
        errdefer gpa.free(act);
        var xp_n: usize = 0;
        var acc_n: usize = 0;
        var list_n: usize = 1;
        for (p.ops, 0..) |o, i| {
            var bytes: u64 = 0;
            for (o.inputs) |t| bytes += p.tensors[t].logicalSize();
            for (o.outputs) |t| bytes += p.tensors[t].logicalSize();
            act[i] = bytes / B;
            list_n = @max(list_n, o.inputs.len, o.outputs.len);
            switch (o.attrs) {
                .conv => |*c| {
                    xp_n = @max(xp_n, c.scratchElems(@intCast(p.tensors[o.inputs[0]].shape[0] / B)));
                    acc_n = @max(acc_n, c.accElems());
                },
                else => {},
            }
        }
        xp_n = std.mem.alignForward(usize, xp_n, 32);
        acc_n = std.mem.alignForward(usize, acc_n, 16);

        // the budget, before the large allocations (saturating: never wraps)
        fp.* = .{
            .tensors = @as(u64, ext_size) +| @as(u64, arena_size) *| workers,
            .scratch = (@as(u64, xp_n) *| 2 +| @as(u64, acc_n) *| 4) *| workers,
        };
        if (fp.total() > limit) return error.MemoryLimit;

        const storage = try gpa.alignedAlloc(u8, 64, ext_size + arena_size * workers);
        errdefer gpa.free(storage);
        @memset(storage, 0);
        const bufs = try gpa.alloc([]u8, nt);
        errdefer gpa.free(bufs);
        var off: usize = 0;
        for (p.tensors, 0..) |t, i| {
            bufs[i] = &.{};
            if (external[i] and t.hasPadding()) {
                bufs[i] = storage[off..][0..t.logicalSize()];
                off += std.mem.alignForward(usize, t.logicalSize(), 64);
            }
        }
        const views = try gpa.alloc([]u8, nt);
        errdefer gpa.free(views);
        const xp = try gpa.alignedAlloc(i16, 64, xp_n * workers);
        errdefer gpa.free(xp);
        // a part widens only the input rows it reads; its last vector loads read past them
        // (into weights of zero), so every value there must be defined from the start
        @memset(xp, 0);
        const acc = try gpa.alignedAlloc(i32, 64, acc_n * workers);
        errdefer gpa.free(acc);
        const lb = try gpa.alloc([]const u8, list_n * workers);
        errdefer gpa.free(lb);
        const lm = try gpa.alloc([]u8, list_n * workers);
        errdefer gpa.free(lm);
        const ls = try gpa.alloc([4]u32, list_n * workers);
        return .{
            .program = program,
            .storage = storage,
            .bufs = bufs,
            .views = views,
            .slot_off = slot_off,
            .external = external,
            .arena_off = ext_size,
            .arena_size = arena_size,
            .act_bytes = act,
            .workers = workers,
            .xp = xp,
            .xp_per_worker = xp_n,
            .acc = acc,
            .acc_per_worker = acc_n,
            .list_bufs = lb,
            .list_mut = lm,
            .list_shapes = ls,
            .list_per_worker = list_n,
            .exec_op = exec_op,
            .table_src = table_src,
            .tables = tables,
            .host_threads = host_threads,
            .min_split_macs = if (threads.all) 0 else Threads.auto_min_macs,
            .min_part = if (threads.all) 64 else Threads.auto_min_part,
        };
    }

    /// Runs `a` (ConvArgs, BinaryArgs or PoolArgs, all `rows` output rows of axis 1) on
    /// the pool in parts of consecutive rows (a conv's parts with their workers' scratch),
    /// or alone when `parts` is 1.
    fn splitRows(self: *Runner, k: *const kernels.Table, comptime tag: std.meta.Tag(Part), a: anytype, rows: u32, parts_want: usize) void {
        const parts: u32 = @intCast(@max(1, @min(self.pool.?.n + 1, rows, parts_want)));
        var ps: [host_pool.max_parts]Part = undefined;
        for (0..parts) |i| {
            var b = a.*;
            b.row0 = @intCast(@as(u64, rows) * i / parts);
            b.row1 = @intCast(@as(u64, rows) * (i + 1) / parts);
            if (tag == .conv) {
                b.xp = self.xp[i * self.xp_per_worker ..][0..self.xp_per_worker];
                b.acc = self.acc[i * self.acc_per_worker ..][0..self.acc_per_worker];
            }
            ps[i] = @unionInit(Part, @tagName(tag), b);
        }
        self.pool.?.run(k, ps[0..parts]);
    }

    /// A table op's bytes split over the pool (chunks of whole cache lines).
    fn splitTable(self: *Runner, k: *const kernels.Table, a: *const kernels.TableArgs) void {
        const n = a.x.len;
        const parts: u32 = @intCast(@max(1, @min(self.pool.?.n + 1, n / self.min_part)));
        var ps: [host_pool.max_parts]Part = undefined;
        for (0..parts) |i| {
            const lo = std.mem.alignBackward(usize, n * i / parts, 64);
            const hi = if (i + 1 == parts) n else std.mem.alignBackward(usize, n * (i + 1) / parts, 64);
            ps[i] = .{ .table = .{ .t = a.t, .x = a.x[lo..hi], .y = a.y[lo..hi] } };
        }
        self.pool.?.run(k, ps[0..parts]);
    }

    /// The inputs op `i` reads when it runs (a merged table op: the chain's first input).
    fn opInputs(o: Op, i: usize, table_src: []const u32) []const u32 {
        return if (o.attrs == .table) table_src[i .. i + 1] else o.inputs;
    }

    /// Marks the table ops merged into the next one (`exec_op` false) and composes the
    /// tables of each chain into `tables` at the chain's last op.
    fn planTables(gpa: std.mem.Allocator, p: *const Program, external: []const bool, exec_op: []bool, table_src: []u32, tables: [][256]u8) !void {
        @memset(exec_op, true);
        const readers = try gpa.alloc(u32, p.tensors.len);
        defer gpa.free(readers);
        @memset(readers, 0);
        for (p.ops) |o| for (o.inputs) |t| {
            readers[t] += 1;
        };
        // the op that writes each tensor
        const writer = try gpa.alloc(u32, p.tensors.len);
        defer gpa.free(writer);
        @memset(writer, std.math.maxInt(u32));
        for (p.ops, 0..) |o, i| for (o.outputs) |t| {
            writer[t] = @intCast(i);
        };
        for (p.ops, 0..) |o, i| {
            table_src[i] = if (o.inputs.len > 0) o.inputs[0] else 0;
            const t = switch (o.attrs) {
                .table => |t| t,
                else => continue,
            };
            tables[i] = t.*;
            const x = o.inputs[0];
            const w = writer[x];
            if (w == std.math.maxInt(u32) or external[x] or readers[x] != 1) continue;
            if (p.ops[w].attrs != .table) continue;
            // merge the writer (itself possibly merged) into this op
            exec_op[w] = false;
            table_src[i] = table_src[w];
            var composed: [256]u8 = undefined;
            lut.compose(&composed, &tables[w], t);
            tables[i] = composed;
        }
    }

    pub fn deinit(self: *Runner, gpa: std.mem.Allocator) void {
        if (self.pool) |pl| pl.stop(gpa);
        gpa.free(self.storage);
        gpa.free(self.bufs);
        gpa.free(self.views);
        gpa.free(self.slot_off);
        gpa.free(self.external);
        gpa.free(self.act_bytes);
        gpa.free(self.xp);
        gpa.free(self.acc);
        gpa.free(self.list_bufs);
        gpa.free(self.list_mut);
        gpa.free(self.list_shapes);
        gpa.free(self.exec_op);
        gpa.free(self.table_src);
        gpa.free(self.tables);
        self.* = undefined;
    }

    /// Bytes of memory the runner holds (tensors and scratch), for diagnostics: what
    /// `initWithin` budgeted (`Footprint.total`).
    pub fn memoryBytes(self: *const Runner) usize {
        return self.storage.len + self.xp.len * 2 + self.acc.len * 4;
    }

    /// Runs the program: `inputs` / `outputs` are the padded host buffers in program order.
    /// `cores` are the configurations of the cores the instance runs on (an empty slice
    /// means one core with the defaults). Appends one span per op and core to `profile`.
    pub fn run(self: *Runner, inputs: []const []const u8, outputs: []const []u8, cores: []const CoreConfig, profile: ?*std.ArrayList(OpSpan)) RunError!RunStats {
        const p = self.program;
        if (inputs.len != p.input_ids.len) return error.BadInputCount;
        if (outputs.len != p.output_ids.len) return error.BadOutputCount;
        for (inputs, p.input_descs) |b, d| if (b.len != d.byteSize()) return error.BadBufferSize;
        for (outputs, p.output_descs) |b, d| if (b.len != d.byteSize()) return error.BadBufferSize;

        @memcpy(self.views, self.bufs);
        for (inputs, p.input_ids) |b, t| {
            const d = p.tensors[t];
            if (d.hasPadding()) copyIn(d, b, self.bufs[t]) else self.views[t] = @constCast(b);
        }
        for (outputs, p.output_ids) |b, t| {
            if (!p.tensors[t].hasPadding()) self.views[t] = b;
        }

        const default_core = [_]CoreConfig{.{}};
        const cfg = if (cores.len == 0) default_core[0..] else cores;
        const B = p.batch;
        const nw: u32 = @intCast(@min(@as(usize, B), cfg.len, self.workers));
        if (nw <= 1) {
            self.execRange(0, 0, B);
        } else {
            var threads: [max_workers]std.Thread = undefined;
            var spawned: u32 = 0;
            for (1..nw) |k| {
                const r = unitRange(B, nw, @intCast(k));
                threads[k] = std.Thread.spawn(.{}, execRange, .{ self, @as(u32, @intCast(k)), r[0], r[1] }) catch break;
                spawned += 1;
            }
            // ranges whose thread could not start run here, on worker 0's scratch
            for (spawned + 1..nw) |k| {
                const r = unitRange(B, nw, @intCast(k));
                self.execRange(0, r[0], r[1]);
            }
            const r0 = unitRange(B, nw, 0);
            self.execRange(0, r0[0], r0[1]);
            for (threads[1 .. spawned + 1]) |t| t.join();
        }

        for (outputs, p.output_ids) |b, t| {
            const d = p.tensors[t];
            if (d.hasPadding()) copyOut(d, self.bufs[t], b);
        }
        return self.model(cfg, nw, profile);
    }

    fn unitRange(B: u32, nw: u32, k: u32) [2]u32 {
        return .{ @intCast(@as(u64, B) * k / nw), @intCast(@as(u64, B) * (k + 1) / nw) };
    }

    /// The timing model (docs/timing-model.md).
    fn model(self: *Runner, cfg: []const CoreConfig, nw: u32, profile: ?*std.ArrayList(OpSpan)) RunError!RunStats {
        const p = self.program;
        const B = p.batch;
        var best = RunStats{ .device_cycles = 0, .device_ns = 0 };
        const l2_free = timing.l2Free(p, timing.params);
        for (0..@max(nw, 1)) |k| {
            const r = unitRange(B, @max(nw, 1), @intCast(k));
            const units: u64 = r[1] - r[0];
            const c = cfg[k];
            var cyc: u64 = timing.run_overhead_cycles;
            for (p.ops, self.act_bytes) |o, act| {
                const w = timing.work(&o, B, units, act, l2_free, timing.params);
                const oc = timing.cycles(w, c.mvm_utilisation, timing.params);
                if (profile) |list| try list.append(.{ .name = o.name, .op = @tagName(o.kind), .start_cycle = cyc, .cycles = oc, .macs = w.macs, .core = @intCast(k) });
                cyc += oc;
            }
            const ns = timing.toNs(cyc, c.clock_mhz);
            if (ns > best.device_ns or k == 0) best = .{ .device_cycles = cyc, .device_ns = ns };
        }
        return best;
    }

    const View = struct { data: []u8, shape: [4]u32 };

    /// Tensor `t` of batch unit `u` as worker `w` sees it.
    fn view(self: *Runner, w: u32, t: u32, u: u32) View {
        const d = self.program.tensors[t];
        const bb = self.program.batch;
        const per = d.logicalSize() / bb;
        var s = d.shape;
        s[0] = d.shape[0] / bb;
        if (self.external[t]) return .{ .data = self.views[t][per * u ..][0..per], .shape = s };
        const base = self.arena_off + @as(usize, w) * self.arena_size + self.slot_off[t];
        return .{ .data = self.storage[base..][0..per], .shape = s };
    }

    /// Runs every op on batch units [ua, ub), one unit at a time, with worker `w`'s arena
    /// and scratch.
    fn execRange(self: *Runner, w: u32, ua: u32, ub: u32) void {
        const p = self.program;
        const xp = self.xp[w * self.xp_per_worker ..][0..self.xp_per_worker];
        const acc = self.acc[w * self.acc_per_worker ..][0..self.acc_per_worker];
        const lb = self.list_bufs[w * self.list_per_worker ..][0..self.list_per_worker];
        const lm = self.list_mut[w * self.list_per_worker ..][0..self.list_per_worker];
        const ls = self.list_shapes[w * self.list_per_worker ..][0..self.list_per_worker];
        const k = prog.cpu.table(p.level);
        // one unit on the calling thread: split the heavy ops over the pool
        const split = self.pool != null and w == 0 and ub - ua == p.batch;
        for (ua..ub) |uu| {
            const u: u32 = @intCast(uu);
            for (p.ops, 0..) |*o, oi| {
                if (!self.exec_op[oi]) continue;
                const x = self.view(w, if (o.attrs == .table) self.table_src[oi] else o.inputs[0], u);
                const y = self.view(w, o.outputs[0], u);
                const xd = p.tensors[o.inputs[0]];
                switch (o.attrs) {
                    .conv => |*c| {
                        const a = kernels.ConvArgs{ .p = c, .x = .{ .data = x.data, .shape = x.shape, .zp = xd.zero_point, .is_uint8 = xd.isUint8() }, .y = y.data, .oh = y.shape[1], .ow = y.shape[2], .row0 = 0, .row1 = y.shape[1], .xp = xp, .acc = acc };
                        if (split and o.macs / p.batch >= self.min_split_macs) self.splitRows(k, .conv, &a, a.oh, host_pool.max_parts) else k.conv(&a);
                    },
                    .binary => |*bp| {
                        const b = self.view(w, o.inputs[1], u);
                        const a = kernels.BinaryArgs{ .p = bp, .a = x.data, .as_ = x.shape, .b = b.data, .bs = b.shape, .y = y.data, .ys = y.shape, .row0 = 0, .row1 = y.shape[1] };
                        if (split) self.splitRows(k, .binary, &a, a.ys[1], y.data.len / self.min_part) else k.binary(&a);
                    },
                    .concat => |*cp| {
                        for (o.inputs, 0..) |t, i| {
                            const v = self.view(w, t, u);
                            lb[i] = v.data;
                            ls[i] = v.shape;
                        }
                        k.concat(&.{ .p = cp, .xs = lb[0..o.inputs.len], .shapes = ls[0..o.inputs.len], .y = y.data, .ys = y.shape });
                    },
                    .pool => |*pp| {
                        const a = kernels.PoolArgs{ .p = pp, .x = x.data, .xs = x.shape, .y = y.data, .oh = y.shape[1], .ow = y.shape[2], .row0 = 0, .row1 = y.shape[1] };
                        if (split) self.splitRows(k, .pool, &a, a.oh, y.data.len / self.min_part) else k.pool(&a);
                    },
                    .table => {
                        const a = kernels.TableArgs{ .t = &self.tables[oi], .x = x.data, .y = y.data };
                        if (split) self.splitTable(k, &a) else k.table(&a);
                    },
                    .pad => |*pp| pad_lut.pad(pp, x.data, x.shape, y.data, y.shape),
                    .channel_table => |t| pad_lut.channelLut(t, x.data, y.data),
                    .resize => |s| layout.resize(s[0], s[1], x.data, x.shape, y.data),
                    .reshape => layout.reshape(x.data, y.data),
                    .transpose => |perm| layout.transpose(perm, x.data, x.shape, y.data),
                    .slice => |s| layout.slice(s.starts, s.steps, x.data, x.shape, y.data, y.shape),
                    .split => |axis| {
                        for (o.outputs, 0..) |t, i| {
                            const v = self.view(w, t, u);
                            lm[i] = v.data;
                            ls[i] = v.shape;
                        }
                        layout.split(axis, x.data, x.shape, lm[0..o.outputs.len], ls[0..o.outputs.len]);
                    },
                }
            }
        }
    }
};

fn copyIn(d: prog.TensorDesc, src: []const u8, dst: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const ps = d.paddedShape();
    const s = d.shape;
    const pd = d.padding;
    var o: usize = 0;
    for (0..s[0]) |n| for (0..s[1]) |h| for (0..s[2]) |w| {
        const i = (((n + pd[0][0]) * ps[1] + h + pd[1][0]) * ps[2] + w + pd[2][0]) * ps[3] + pd[3][0];
        @memcpy(dst[o..][0..s[3]], src[i..][0..s[3]]);
        o += s[3];
    };
}

fn copyOut(d: prog.TensorDesc, src: []const u8, dst: []u8) void {
    @setRuntimeSafety(kernel_safety);
    const ps = d.paddedShape();
    const s = d.shape;
    const pd = d.padding;
    @memset(dst, @truncate(@as(u32, @bitCast(d.zero_point))));
    var o: usize = 0;
    for (0..s[0]) |n| for (0..s[1]) |h| for (0..s[2]) |w| {
        const i = (((n + pd[0][0]) * ps[1] + h + pd[1][0]) * ps[2] + w + pd[2][0]) * ps[3] + pd[3][0];
        @memcpy(dst[i..][0..s[3]], src[o..][0..s[3]]);
        o += s[3];
    };
}

test {
    std.testing.refAllDecls(@This());
    _ = prog;
    _ = timing;
    _ = @import("ops/requant.zig");
    _ = lut;
    _ = pad_lut;
    _ = layout;
}
