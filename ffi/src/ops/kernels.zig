//! The hot kernels behind one table of C-ABI function pointers, so the same source is
//! compiled once per CPU level (ops/variant.zig, build.zig) and chosen at run time
//! (cpu.zig). Each kernel takes a pointer to an argument struct; these structs and the
//! op parameters they point to are plain Zig structs whose layout does not depend on the
//! CPU features, which `signature` checks: every table carries the signature of the
//! compilation that built it, and a table whose signature differs is never used.

const std = @import("std");
const conv = @import("conv.zig");
const eltwise = @import("eltwise.zig");
const pool = @import("pool.zig");
const lut = @import("lut.zig");

pub const ConvArgs = struct {
    p: *const conv.ConvParams,
    x: conv.In,
    y: []u8,
    oh: u32,
    ow: u32,
    /// output rows [row0, row1) of every image (all rows: 0, oh)
    row0: u32,
    row1: u32,
    xp: []i16,
    acc: []i32,
};

pub const BinaryArgs = struct {
    p: *const eltwise.BinaryParams,
    a: []const u8,
    as_: [4]u32,
    b: []const u8,
    bs: [4]u32,
    y: []u8,
    ys: [4]u32,
    /// rows [row0, row1) of axis 1 of every image (all rows: 0, ys[1])
    row0: u32,
    row1: u32,
};

pub const ConcatArgs = struct {
    p: *const eltwise.ConcatParams,
    xs: []const []const u8,
    shapes: []const [4]u32,
    y: []u8,
    ys: [4]u32,
};

pub const PoolArgs = struct {
    p: *const pool.PoolParams,
    x: []const u8,
    xs: [4]u32,
    y: []u8,
    oh: u32,
    ow: u32,
    /// output rows [row0, row1) of every image (all rows: 0, oh)
    row0: u32,
    row1: u32,
};

pub const TableArgs = struct {
    t: *const [256]u8,
    x: []const u8,
    y: []u8,
};

pub const Table = extern struct {
    /// `signature` of the compilation that built the table
    sig: u64,
    /// the conv packing this table's kernels expect (ConvParams.vnni)
    vnni: bool,
    conv: *const fn (*const ConvArgs) callconv(.c) void,
    binary: *const fn (*const BinaryArgs) callconv(.c) void,
    concat: *const fn (*const ConcatArgs) callconv(.c) void,
    pool: *const fn (*const PoolArgs) callconv(.c) void,
    table: *const fn (*const TableArgs) callconv(.c) void,
};

fn mix(comptime h: u64, comptime v: u64) u64 {
    return (h ^ v) *% 0x100000001b3;
}

fn layoutOf(comptime T: type, comptime h0: u64) u64 {
    var h = mix(h0, @sizeOf(T));
    h = mix(h, @alignOf(T));
    switch (@typeInfo(T)) {
        .@"struct" => |s| for (s.fields) |f| {
            h = mix(h, @offsetOf(T, f.name));
            h = mix(h, @sizeOf(f.type));
        },
        else => {},
    }
    return h;
}

/// A hash of the layout of every struct a kernel reads through a pointer, and of the conv
/// packing constants.
pub const signature: u64 = blk: {
    @setEvalBranchQuota(20000);
    var h: u64 = 0xcbf29ce484222325;
    for (.{ ConvArgs, conv.ConvParams, conv.In, BinaryArgs, eltwise.BinaryParams, ConcatArgs, eltwise.ConcatParams, PoolArgs, pool.PoolParams, TableArgs }) |T| h = layoutOf(T, h);
    h = mix(h, conv.vl);
    break :blk h;
};

fn convK(a: *const ConvArgs) callconv(.c) void {
    conv.run(a.p, a.x, a.y, a.oh, a.ow, a.row0, a.row1, a.xp, a.acc);
}
fn binaryK(a: *const BinaryArgs) callconv(.c) void {
    eltwise.binary(a.p, a.a, a.as_, a.b, a.bs, a.y, a.ys, a.row0, a.row1);
}
fn concatK(a: *const ConcatArgs) callconv(.c) void {
    eltwise.concat(a.p, a.xs, a.shapes, a.y, a.ys);
}
fn poolK(a: *const PoolArgs) callconv(.c) void {
    pool.run(a.p, a.x, a.xs, a.y, a.oh, a.ow, a.row0, a.row1);
}
fn tableK(a: *const TableArgs) callconv(.c) void {
    lut.apply(a.t, a.x, a.y);
}

/// This compilation's kernels.
pub fn make() Table {
    return .{
        .sig = signature,
        .vnni = conv.has_vnni,
        .conv = &convK,
        .binary = &binaryK,
        .concat = &concatK,
        .pool = &poolK,
        .table = &tableK,
    };
}
