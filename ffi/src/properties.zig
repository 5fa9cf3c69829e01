//! Properties: an ordered string map parsed from "k=v;k=v" or "k=v\nk=v" (';' and
//! newlines both separate entries, as vendor code writes either). Keys and values are
//! trimmed of spaces, tabs and CR; empty segments (also trailing separators) are
//! skipped; a segment without '=', with an empty key, or repeating a key of the same
//! string is an error naming it. Keys cannot contain ';', '=' or a newline; values
//! cannot contain ';' or a newline. axr_set_property replaces an existing value.

const std = @import("std");
const errors = @import("errors.zig");
const object = @import("object.zig");
const alloc = @import("alloc.zig");

const Error = errors.Error;
const Diag = errors.Diag;

pub const Entry = struct { key: [:0]u8, value: [:0]u8 };

/// The property map (no handle; `Properties` wraps it in one).
pub const Map = struct {
    entries: std.ArrayListUnmanaged(Entry) = .empty,

    pub fn deinit(self: *Map, gpa: std.mem.Allocator) void {
        for (self.entries.items) |e| {
            gpa.free(e.key);
            gpa.free(e.value);
        }
        self.entries.deinit(gpa);
        self.* = undefined;
    }

    fn index(self: *const Map, key: []const u8) ?usize {
        for (self.entries.items, 0..) |e, i| if (std.mem.eql(u8, e.key, key)) return i;
        return null;
    }

    /// The value of `key`, or null.
    pub fn get(self: *const Map, key: []const u8) ?[:0]const u8 {
        const i = self.index(key) orelse return null;
        return self.entries.items[i].value;
    }

    /// Sets `key` (validated) to `value` (validated), replacing an existing value.
    pub fn set(self: *Map, gpa: std.mem.Allocator, key: []const u8, value: []const u8, diag: *Diag) Error!void {
        try checkKey(key, diag);
        if (std.mem.indexOfAny(u8, value, ";\n") != null)
            return diag.fail(error.InvalidArgument, "property '{s}': value must not contain ';' or a newline", .{clip(key)});
        const v = try gpa.dupeZ(u8, value);
        errdefer gpa.free(v);
        if (self.index(key)) |i| {
            gpa.free(self.entries.items[i].value);
            self.entries.items[i].value = v;
            return;
        }
        const k = try gpa.dupeZ(u8, key);
        errdefer gpa.free(k);
        try self.entries.append(gpa, .{ .key = k, .value = v });
    }

    /// Removes `key` (no-op when absent).
    pub fn del(self: *Map, gpa: std.mem.Allocator, key: []const u8) void {
        const i = self.index(key) orelse return;
        const e = self.entries.orderedRemove(i);
        gpa.free(e.key);
        gpa.free(e.value);
    }

    /// Parses "k=v;k=v" (or newline-separated) into the map (merging with what it
    /// holds; a key given twice in `text` is an error). On error the map may hold the
    /// segments before the bad one; callers that need all-or-nothing parse into a
    /// fresh map.
    pub fn parse(self: *Map, gpa: std.mem.Allocator, text: []const u8, diag: *Diag) Error!void {
        const first_new = self.entries.items.len;
        var it = std.mem.splitAny(u8, text, ";\n");
        while (it.next()) |seg_raw| {
            const seg = trim(seg_raw);
            if (seg.len == 0) continue;
            const eq = std.mem.indexOfScalar(u8, seg, '=') orelse
                return diag.fail(error.InvalidArgument, "property '{s}' has no '=' (expected key=value)", .{clip(seg)});
            const key = trim(seg[0..eq]);
            const value = trim(seg[eq + 1 ..]);
            if (key.len == 0) return diag.fail(error.InvalidArgument, "property '{s}' has an empty key", .{clip(seg)});
            if (self.index(key)) |i| if (i >= first_new)
                return diag.fail(error.InvalidArgument, "property '{s}' is given twice", .{clip(key)});
            try self.set(gpa, key, value, diag);
        }
    }

    /// The keys joined with ';' (allocated, NUL-terminated).
    pub fn listKeys(self: *const Map, gpa: std.mem.Allocator) Error![:0]u8 {
        var out: std.ArrayListUnmanaged(u8) = .empty;
        errdefer out.deinit(gpa);
        for (self.entries.items, 0..) |e, i| {
            if (i > 0) try out.append(gpa, ';');
            try out.appendSlice(gpa, e.key);
        }
        return out.toOwnedSliceSentinel(gpa, 0);
    }
};

fn trim(s: []const u8) []const u8 {
    return std.mem.trim(u8, s, " \t\r\n");
}

/// At most 64 bytes of `s`, for messages.
pub fn clip(s: []const u8) []const u8 {
    return s[0..@min(s.len, 64)];
}

fn checkKey(key: []const u8, diag: *Diag) Error!void {
    if (key.len == 0) return diag.fail(error.InvalidArgument, "property key is empty", .{});
    for (key) |c| if (c == ';' or c == '=' or c == '\n' or c == 0)
        return diag.fail(error.InvalidArgument, "property key '{s}' contains ';', '=' or a newline", .{clip(key)});
}

/// The axrProperties handle.
pub const Properties = struct {
    hdr: object.Header,
    map: Map = .{},
    list_buf: ?[:0]u8 = null,

    pub const kind: object.Kind = .properties;

    /// Creates an empty property set owned by `owner` (context or model).
    pub fn create(ctx: *object.Header, owner: *object.Header) Error!*Properties {
        const gpa = alloc.gpa();
        const p = try gpa.create(Properties);
        p.* = .{ .hdr = .{ .kind = kind, .ctx = ctx, .destroy_fn = destroyFn } };
        object.register(&p.hdr) catch |e| {
            gpa.destroy(p);
            return e;
        };
        owner.adopt(&p.hdr);
        return p;
    }

    fn destroyFn(h: *object.Header) void {
        const p: *Properties = @fieldParentPtr("hdr", h);
        const gpa = alloc.gpa();
        p.map.deinit(gpa);
        if (p.list_buf) |b| gpa.free(b);
        gpa.destroy(p);
    }

    /// axr_list_properties: the keys, valid until the next call on this object.
    pub fn list(self: *Properties) Error![:0]const u8 {
        const gpa = alloc.gpa();
        const s = try self.map.listKeys(gpa);
        if (self.list_buf) |b| gpa.free(b);
        self.list_buf = s;
        return s;
    }
};

// ---- tests --------------------------------------------------------------------

const testing = std.testing;

fn parsed(text: []const u8) !Map {
    var m = Map{};
    errdefer m.deinit(testing.allocator);
    var d = Diag{};
    try m.parse(testing.allocator, text, &d);
    return m;
}

test "parse: spaces, empty segments, trailing separators" {
    var m = try parsed("  a = 3 ;; b=2; ; ;c= x y ;");
    defer m.deinit(testing.allocator);
    try testing.expectEqualStrings("3", m.get("a").?);
    try testing.expectEqualStrings("2", m.get("b").?);
    try testing.expectEqualStrings("x y", m.get("c").?);
    try testing.expect(m.get("d") == null);
    const keys = try m.listKeys(testing.allocator);
    defer testing.allocator.free(keys);
    try testing.expectEqualStrings("a;b;c", keys);
}

test "parse: newlines as separators, as vendor code writes them" {
    var m = try parsed("input_dmabuf=0\nnum_sub_devices=1\r\naipu_cores = 1\ndouble_buffer=0\n\n");
    defer m.deinit(testing.allocator);
    const keys = try m.listKeys(testing.allocator);
    defer testing.allocator.free(keys);
    try testing.expectEqualStrings("input_dmabuf;num_sub_devices;aipu_cores;double_buffer", keys);
    try testing.expectEqualStrings("1", m.get("num_sub_devices").?);
    try testing.expectEqualStrings("1", m.get("aipu_cores").?);
    var m2 = try parsed("a=1\n;b=2;\n");
    defer m2.deinit(testing.allocator);
    try testing.expectEqualStrings("2", m2.get("b").?);
}

test "parse: a key given twice is an error naming it; a later string may replace it" {
    var m = Map{};
    defer m.deinit(testing.allocator);
    var d = Diag{};
    try testing.expectError(error.InvalidArgument, m.parse(testing.allocator, "aipu_cores=1;x=2;aipu_cores = 2", &d));
    try testing.expectEqualStrings("property 'aipu_cores' is given twice", d.message());
    try testing.expectError(error.InvalidArgument, m.parse(testing.allocator, "k=1\nk=1", &d));
    var m2 = try parsed("a=1");
    defer m2.deinit(testing.allocator);
    try m2.parse(testing.allocator, "a=2", &d);
    try testing.expectEqualStrings("2", m2.get("a").?);
}

test "parse: empty string and empty value" {
    var m = try parsed("");
    defer m.deinit(testing.allocator);
    try testing.expectEqual(@as(usize, 0), m.entries.items.len);
    var d = Diag{};
    try m.parse(testing.allocator, "k=", &d);
    try testing.expectEqualStrings("", m.get("k").?);
    try m.parse(testing.allocator, "x=a=b", &d);
    try testing.expectEqualStrings("a=b", m.get("x").?);
}

test "parse: missing '=' and empty key are errors naming the segment" {
    var m = Map{};
    defer m.deinit(testing.allocator);
    var d = Diag{};
    try testing.expectError(error.InvalidArgument, m.parse(testing.allocator, "a=1;oops;b=2", &d));
    try testing.expect(std.mem.indexOf(u8, d.message(), "'oops'") != null);
    try testing.expectError(error.InvalidArgument, m.parse(testing.allocator, "=5", &d));
    try testing.expect(std.mem.indexOf(u8, d.message(), "empty key") != null);
}

test "parse: huge strings" {
    const n = 1 << 20;
    const text = try testing.allocator.alloc(u8, n + 4);
    defer testing.allocator.free(text);
    @memcpy(text[0..4], "big=");
    @memset(text[4..], 'v');
    var m = try parsed(text);
    defer m.deinit(testing.allocator);
    try testing.expectEqual(@as(usize, n), m.get("big").?.len);
    // many keys
    var many: std.ArrayListUnmanaged(u8) = .empty;
    defer many.deinit(testing.allocator);
    for (0..2000) |i| try many.writer(testing.allocator).print("k{d}={d};", .{ i, i });
    var m2 = try parsed(many.items);
    defer m2.deinit(testing.allocator);
    try testing.expectEqualStrings("1999", m2.get("k1999").?);
}

test "set/del validate keys and values" {
    var m = Map{};
    defer m.deinit(testing.allocator);
    var d = Diag{};
    try testing.expectError(error.InvalidArgument, m.set(testing.allocator, "a;b", "1", &d));
    try testing.expectError(error.InvalidArgument, m.set(testing.allocator, "", "1", &d));
    try testing.expectError(error.InvalidArgument, m.set(testing.allocator, "a", "1;2", &d));
    try testing.expectError(error.InvalidArgument, m.set(testing.allocator, "a", "1\n2", &d));
    try testing.expectError(error.InvalidArgument, m.set(testing.allocator, "a\nb", "1", &d));
    try m.set(testing.allocator, "a", "1", &d);
    try m.set(testing.allocator, "a", "2", &d);
    try testing.expectEqualStrings("2", m.get("a").?);
    m.del(testing.allocator, "a");
    m.del(testing.allocator, "a");
    try testing.expect(m.get("a") == null);
}
