//! Errors as values inside the library, turned into `axrResult` + a message only at the
//! C boundary (exports.zig). Internal functions return `Error!T` and describe the
//! failure in a `Diag` that the boundary copies into the object's last error.

const std = @import("std");
const abi = @import("abi.zig");
const Result = abi.Result;

/// Every failure the library reports; one per axrResult (plus OutOfMemory).
pub const Error = error{
    RuntimeError,
    ValueError,
    InvalidArgument,
    ConnectionError,
    DeviceInUse,
    IncompatibleDevice,
    InvalidConfiguration,
    NotImplemented,
    InternalError,
    Pending,
    UnknownError,
    OutOfMemory,
};

/// The axrResult of an error (anything unexpected is INTERNAL_ERROR).
pub fn toResult(e: anyerror) Result {
    return switch (e) {
        error.RuntimeError => .runtime_error,
        error.ValueError => .value_error,
        error.InvalidArgument => .invalid_argument,
        error.ConnectionError => .connection_error,
        error.DeviceInUse => .device_in_use,
        error.IncompatibleDevice => .incompatible_device,
        error.InvalidConfiguration => .invalid_configuration,
        error.NotImplemented => .not_implemented,
        error.Pending => .pending_error,
        error.UnknownError => .unknown_error,
        error.OutOfMemory => .runtime_error,
        else => .internal_error,
    };
}

/// A failure message (fixed buffer, no allocation, truncated at 1023 bytes).
pub const Diag = struct {
    buf: [1024]u8 = undefined,
    len: usize = 0,

    /// Formats the message.
    pub fn set(self: *Diag, comptime fmt: []const u8, args: anytype) void {
        var fbs = std.io.fixedBufferStream(self.buf[0 .. self.buf.len - 1]);
        std.fmt.format(fbs.writer(), fmt, args) catch {};
        self.len = fbs.pos;
    }

    /// Formats the message and returns `e`: `return diag.fail(error.X, "...", .{})`.
    pub fn fail(self: *Diag, e: Error, comptime fmt: []const u8, args: anytype) Error {
        self.set(fmt, args);
        return e;
    }

    /// The message (empty when none was set).
    pub fn message(self: *const Diag) []const u8 {
        return self.buf[0..self.len];
    }

    /// The message, or a default text for `e` when none was set.
    pub fn messageOr(self: *const Diag, e: anyerror) []const u8 {
        if (self.len > 0) return self.message();
        return switch (e) {
            error.OutOfMemory => "out of memory",
            else => @errorName(e),
        };
    }
};

/// axr_error_string: a static text per result code.
pub fn resultString(r: Result) [:0]const u8 {
    return switch (r) {
        .success => "Success",
        .runtime_error => "Runtime error",
        .value_error => "Value error",
        .invalid_argument => "Invalid argument",
        .connection_error => "Connection error",
        .device_in_use => "Device in use",
        .incompatible_device => "Incompatible device",
        .invalid_configuration => "Invalid configuration",
        .not_implemented => "Not implemented",
        .internal_error => "Internal error",
        .pending_error => "Pending",
        .unknown_error => "Unknown error",
        _ => "Unknown result code",
    };
}

test "every error maps to its result" {
    try std.testing.expectEqual(Result.device_in_use, toResult(error.DeviceInUse));
    try std.testing.expectEqual(Result.pending_error, toResult(error.Pending));
    try std.testing.expectEqual(Result.internal_error, toResult(error.FileNotFound));
    try std.testing.expectEqualStrings("Device in use", resultString(.device_in_use));
    try std.testing.expectEqualStrings("Unknown result code", resultString(@enumFromInt(99)));
    try std.testing.expectEqualStrings("Unknown result code", resultString(@enumFromInt(-1)));
}

test "diag truncates long messages" {
    var d = Diag{};
    const long = "x" ** 3000;
    try std.testing.expectError(error.ValueError, @as(Error!void, d.fail(error.ValueError, "{s}", .{long})));
    try std.testing.expectEqual(@as(usize, 1023), d.message().len);
}
