//! The helper threads of a Runner (exec.zig) that split one op of a run on one core:
//! the caller describes the op's parts (output rows of a conv, Add/Mul or pool; cache-line
//! chunks of a table op), runs part 0 itself and waits for the helpers to finish theirs.
//! The helpers start with the Runner, sleep on a condition variable between ops, and are
//! joined when it is freed.

const std = @import("std");
const kernels = @import("ops/kernels.zig");

/// The helpers' thread name.
pub const thread_name = "axr-host";

/// At most this many parts (the caller and max_parts - 1 helpers).
pub const max_parts: u32 = 8;

/// One part of an op: its kernel's arguments.
pub const Part = union(enum) {
    conv: kernels.ConvArgs,
    table: kernels.TableArgs,
    binary: kernels.BinaryArgs,
    pool: kernels.PoolArgs,

    fn run(p: *const Part, k: *const kernels.Table) void {
        switch (p.*) {
            .conv => |*a| k.conv(a),
            .table => |*a| k.table(a),
            .binary => |*a| k.binary(a),
            .pool => |*a| k.pool(a),
        }
    }
};

pub const Pool = struct {
    mutex: std.Thread.Mutex = .{},
    work: std.Thread.Condition = .{},
    done: std.Thread.Condition = .{},
    /// bumped for every op handed out
    gen: u64 = 0,
    /// helpers still running a part of this generation
    pending: u32 = 0,
    quit: bool = false,
    /// parts of this generation (part 0 runs on the caller, i on helper i)
    n_parts: u32 = 0,
    /// helper threads
    n: u32 = 0,
    threads: [max_parts - 1]std.Thread = undefined,
    k: *const kernels.Table = undefined,
    parts: [max_parts]Part = undefined,

    /// Starts up to `n` helpers (fewer if the system refuses threads, but at least one).
    ///
    /// Example: `const pl = try Pool.start(gpa, 1); defer pl.stop(gpa);`
    pub fn start(gpa: std.mem.Allocator, n: u32) !*Pool {
        std.debug.assert(n >= 1 and n < max_parts);
        const pl = try gpa.create(Pool);
        pl.* = .{};
        errdefer gpa.destroy(pl);
        while (pl.n < n) : (pl.n += 1) {
            // the default stack (16 MiB reserved, touched pages only): the kernels run here
            // as on the calling thread, and Debug builds' frames are large
            pl.threads[pl.n] = std.Thread.spawn(.{}, loop, .{ pl, pl.n + 1 }) catch |e| {
                if (pl.n == 0) return e;
                break;
            };
            // named for `top -H`, /proc/<pid>/task/*/comm and the tests
            pl.threads[pl.n].setName(thread_name) catch {};
        }
        return pl;
    }

    /// Stops and joins the helpers, then frees the pool.
    pub fn stop(pl: *Pool, gpa: std.mem.Allocator) void {
        pl.mutex.lock();
        pl.quit = true;
        pl.work.broadcast();
        pl.mutex.unlock();
        for (pl.threads[0..pl.n]) |t| t.join();
        gpa.destroy(pl);
    }

    fn loop(pl: *Pool, idx: u32) void {
        var seen: u64 = 0;
        while (true) {
            pl.mutex.lock();
            while (pl.gen == seen and !pl.quit) pl.work.wait(&pl.mutex);
            if (pl.quit) {
                pl.mutex.unlock();
                return;
            }
            seen = pl.gen;
            const mine = idx < pl.n_parts;
            pl.mutex.unlock();
            if (!mine) continue;
            pl.parts[idx].run(pl.k);
            pl.mutex.lock();
            pl.pending -= 1;
            if (pl.pending == 0) pl.done.signal();
            pl.mutex.unlock();
        }
    }

    /// Runs `parts` (at most n + 1) with the kernels `k`: part 0 on this thread, the others
    /// on the helpers; returns when all are done.
    pub fn run(pl: *Pool, k: *const kernels.Table, parts: []const Part) void {
        std.debug.assert(parts.len >= 1 and parts.len <= pl.n + 1);
        if (parts.len == 1) return parts[0].run(k);
        pl.mutex.lock();
        pl.k = k;
        @memcpy(pl.parts[0..parts.len], parts);
        pl.n_parts = @intCast(parts.len);
        pl.pending = pl.n_parts - 1;
        pl.gen += 1;
        pl.work.broadcast();
        pl.mutex.unlock();
        pl.parts[0].run(k);
        pl.mutex.lock();
        while (pl.pending > 0) pl.done.wait(&pl.mutex);
        pl.mutex.unlock();
    }
};

test "pool: parts run on the helpers, every part once, start and stop cleanly" {
    const gpa = std.testing.allocator;
    var t: [256]u8 = undefined;
    for (&t, 0..) |*e, i| e.* = @truncate(i *% 7 +% 3);
    var x: [4096]u8 = undefined;
    for (&x, 0..) |*e, i| e.* = @truncate(i *% 13);
    var y = [_]u8{0} ** 4096;
    const k = kernels.make();
    for ([_]u32{ 1, 2, 3, 7 }) |n| {
        const pl = try Pool.start(gpa, n);
        defer pl.stop(gpa);
        for (0..20) |_| {
            @memset(&y, 0);
            var parts: [max_parts]Part = undefined;
            const np = pl.n + 1;
            for (0..np) |i| {
                const lo = x.len * i / np;
                const hi = x.len * (i + 1) / np;
                parts[i] = .{ .table = .{ .t = &t, .x = x[lo..hi], .y = y[lo..hi] } };
            }
            pl.run(&k, parts[0..np]);
            for (x, y) |a, b| try std.testing.expectEqual(t[a], b);
        }
    }
}
