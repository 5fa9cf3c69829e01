//! The header of every object: a kind and magic tag, the owning context, the
//! parent/children tree (destroying a parent destroys its children first) and the
//! object's last error.
//!
//! Handles given to C are not addresses: each object gets a fresh handle value (never
//! reused in the life of the process) that a global registry maps to its header. So
//! every export rejects a value that is not a live handle of the expected kind (NULL,
//! destroyed, or of another kind) without dereferencing it, and a stale handle can never
//! reach a newer object that happens to live at the same address (as happens when a
//! garbage collector's finalizer destroys a handle long after its context is gone).

const std = @import("std");
const abi = @import("abi.zig");
const alloc = @import("alloc.zig");

pub const Kind = enum(u32) { context, connection, model, instance, properties };

/// "AXR1" while live; overwritten on destroy.
pub const magic_live: u32 = 0x31525841;
pub const magic_dead: u32 = 0xdeadbeef;

pub const Header = struct {
    magic: u32 = magic_live,
    kind: Kind,
    /// The context header (itself for a context).
    ctx: *Header,
    parent: ?*Header = null,
    first_child: ?*Header = null,
    next: ?*Header = null,
    prev: ?*Header = null,
    /// Guards the children list and the last error.
    lock: std.Thread.Mutex = .{},
    err_code: abi.Result = .success,
    err_buf: [1024]u8 = [_]u8{0} ** 1024,
    /// Frees the object (children are already gone).
    destroy_fn: *const fn (*Header) void,
    /// The value C sees (0 until registered).
    handle: usize = 0,

    /// Records the last error of this object.
    pub fn setError(self: *Header, code: abi.Result, msg: []const u8) void {
        self.lock.lock();
        defer self.lock.unlock();
        self.err_code = code;
        abi.setCString(&self.err_buf, msg);
    }

    /// Appends `child` to this object's children (child.parent must be null).
    pub fn adopt(self: *Header, child: *Header) void {
        std.debug.assert(child.parent == null and child.next == null and child.prev == null);
        self.lock.lock();
        defer self.lock.unlock();
        child.parent = self;
        child.next = self.first_child;
        if (self.first_child) |f| f.prev = child;
        self.first_child = child;
    }

    fn unlinkLocked(self: *Header, child: *Header) void {
        std.debug.assert(child.parent == self);
        if (child.prev) |p| p.next = child.next else self.first_child = child.next;
        if (child.next) |n| n.prev = child.prev;
        child.prev = null;
        child.next = null;
        child.parent = null;
    }

    /// Number of children (for tests and logs).
    pub fn childCount(self: *Header) usize {
        self.lock.lock();
        defer self.lock.unlock();
        var n: usize = 0;
        var c = self.first_child;
        while (c) |h| : (c = h.next) n += 1;
        return n;
    }
};

// ---- registry of live handles -------------------------------------------------

/// Handle values: base + 16 * n, n = 1, 2, ... (non-NULL, aligned, below 2^53 so that
/// JavaScript numbers hold them exactly, and far from real heap addresses).
const handle_base: usize = 0x1a5_8000_0000;

var registry_lock: std.Thread.Mutex = .{};
var registry: std.AutoHashMapUnmanaged(usize, *Header) = .empty;
var next_id: usize = 0;

/// Makes `h` a live object with a fresh handle. Fails only when out of memory.
pub fn register(h: *Header) error{OutOfMemory}!void {
    std.debug.assert(h.handle == 0 and h.magic == magic_live);
    registry_lock.lock();
    defer registry_lock.unlock();
    const handle = handle_base + 16 * (next_id + 1);
    try registry.put(std.heap.c_allocator, handle, h);
    next_id += 1;
    h.handle = handle;
}

fn unregister(h: *Header) void {
    registry_lock.lock();
    defer registry_lock.unlock();
    _ = registry.remove(h.handle);
    if (registry.count() == 0) {
        registry.deinit(std.heap.c_allocator);
        registry = .empty;
    }
}

/// The handle C sees for an object.
pub fn handleOf(h: *Header) *anyopaque {
    std.debug.assert(h.handle != 0);
    return @ptrFromInt(h.handle);
}

/// The header behind a handle, if it is a live handle.
pub fn lookup(ptr: ?*const anyopaque) ?*Header {
    const p = ptr orelse return null;
    registry_lock.lock();
    defer registry_lock.unlock();
    const h = registry.get(@intFromPtr(p)) orelse return null;
    std.debug.assert(h.magic == magic_live and h.handle == @intFromPtr(p));
    return h;
}

/// The object of type T (which has `hdr: Header` and `const kind: Kind`) behind a handle.
pub fn cast(comptime T: type, ptr: ?*const anyopaque) ?*T {
    const h = lookup(ptr) orelse return null;
    if (h.kind != T.kind) return null;
    return @alignCast(@fieldParentPtr("hdr", h));
}

/// Number of live handles (for tests).
pub fn liveCount() usize {
    registry_lock.lock();
    defer registry_lock.unlock();
    return registry.count();
}

/// Destroys `h`: detaches it from its parent, destroys its children (depth first), then
/// the object itself.
pub fn destroy(h: *Header) void {
    if (h.parent) |p| {
        p.lock.lock();
        p.unlinkLocked(h);
        p.lock.unlock();
    }
    destroyTree(h);
}

fn destroyTree(h: *Header) void {
    unregister(h);
    while (true) {
        h.lock.lock();
        const c = h.first_child;
        if (c) |child| h.unlinkLocked(child);
        h.lock.unlock();
        destroyTree(c orelse break);
    }
    h.magic = magic_dead;
    h.destroy_fn(h);
}

// ---- tests --------------------------------------------------------------------

const TestObj = struct {
    hdr: Header,
    id: u32,
    const kind: Kind = .properties;
    var destroyed: u32 = 0;

    fn create(ctx: ?*Header, id: u32) !*TestObj {
        const o = try alloc.gpa().create(TestObj);
        o.* = .{ .hdr = .{ .kind = kind, .ctx = undefined, .destroy_fn = destroyFn }, .id = id };
        o.hdr.ctx = ctx orelse &o.hdr;
        try register(&o.hdr);
        return o;
    }
    fn destroyFn(h: *Header) void {
        const o: *TestObj = @fieldParentPtr("hdr", h);
        destroyed += 1;
        alloc.gpa().destroy(o);
    }
};

test "destroying a parent destroys its children; a child leaves its parent" {
    TestObj.destroyed = 0;
    const root = try TestObj.create(null, 0);
    const hroot = handleOf(&root.hdr);
    const a = try TestObj.create(&root.hdr, 1);
    const b = try TestObj.create(&root.hdr, 2);
    const c = try TestObj.create(&root.hdr, 3);
    root.hdr.adopt(&a.hdr);
    root.hdr.adopt(&b.hdr);
    a.hdr.adopt(&c.hdr);
    try std.testing.expectEqual(@as(usize, 2), root.hdr.childCount());
    try std.testing.expect(cast(TestObj, handleOf(&b.hdr)) == b);
    try std.testing.expect(cast(TestObj, b) == null); // an address is not a handle
    const hb = handleOf(&b.hdr);
    destroy(&b.hdr);
    try std.testing.expectEqual(@as(u32, 1), TestObj.destroyed);
    try std.testing.expect(cast(TestObj, hb) == null);
    // handles are never reused
    const d = try TestObj.create(&root.hdr, 4);
    root.hdr.adopt(&d.hdr);
    try std.testing.expect(handleOf(&d.hdr) != hb);
    try std.testing.expectEqual(@as(usize, 2), root.hdr.childCount());
    const hc = handleOf(&c.hdr);
    destroy(&root.hdr);
    try std.testing.expectEqual(@as(u32, 5), TestObj.destroyed);
    try std.testing.expect(lookup(hroot) == null);
    try std.testing.expect(lookup(hc) == null);
    try std.testing.expect(lookup(null) == null);
}
