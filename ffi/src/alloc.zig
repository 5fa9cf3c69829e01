//! The library's allocator: the leak-checking testing allocator in tests, a
//! GeneralPurposeAllocator in Debug builds, the C allocator in release builds.

const std = @import("std");
const builtin = @import("builtin");

var debug_gpa: std.heap.GeneralPurposeAllocator(.{}) = .init;

/// The allocator every object of the library uses.
pub fn gpa() std.mem.Allocator {
    if (builtin.is_test) return std.testing.allocator;
    if (builtin.mode == .Debug) return debug_gpa.allocator();
    return std.heap.c_allocator;
}
