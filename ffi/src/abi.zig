//! The extern types of include/axruntime/axruntime.h, byte for byte (LP64). The comptime blocks
//! below assert every size and offset that the header documents, so a drift between
//! this file, the header and ffi/structs.ts fails the build.

const std = @import("std");

pub const api_version: c_uint = 1;
pub const max_dims = 8;
pub const name_size = 256;

/// axrResult
pub const Result = enum(c_int) {
    success = 0,
    runtime_error = 1,
    value_error = 2,
    invalid_argument = 3,
    connection_error = 4,
    device_in_use = 5,
    incompatible_device = 6,
    invalid_configuration = 7,
    not_implemented = 8,
    internal_error = 9,
    pending_error = 10,
    unknown_error = 11,
    _,
};

/// axrLogLevel
pub const LogLevel = enum(c_int) {
    trace = 0,
    log = 1,
    debug = 2,
    info = 3,
    fixme = 4,
    warning = 5,
    @"error" = 6,
    _,
};

/// axrBoardType
pub const BoardType = enum(c_int) {
    alpha_pcie = 0,
    alpha_m2 = 1,
    pcie = 2,
    m2 = 3,
    devboard = 4,
    sbc = 5,
    unknown = 6,
    _,
};

/// axrTensorType
pub const TensorType = enum(c_int) { unsigned = 0, signed = 1, float = 2, _ };

/// axrArgument (32 bytes)
pub const Argument = extern struct {
    ptr: ?*anyopaque,
    fd: c_int,
    offset: usize,
    size: usize,
};

/// axrTensorInfo (488 bytes)
pub const TensorInfo = extern struct {
    dims: [max_dims]usize,
    ndims: usize,
    bits: usize,
    type: c_int,
    name: [name_size]u8,
    padding: [max_dims][2]usize,
    scale: f64,
    zero_point: c_int,

    pub const zero: TensorInfo = std.mem.zeroes(TensorInfo);
};

/// axrDeviceInfo (1568 bytes)
pub const DeviceInfo = extern struct {
    name: [name_size]u8,
    subdevice_count: usize,
    max_memory: usize,
    in_use: c_int,
    in_use_by: [name_size]u8,
    board_type: BoardType,
    firmware_version: [name_size]u8,
    board_revision: c_int,
    flashed_firmware_version: [name_size]u8,
    board_controller_firmware_version: [name_size]u8,
    board_controller_board_type: [name_size]u8,
};

/// axr_logger_fn
pub const LoggerFn = *const fn (arg: ?*anyopaque, level: LogLevel, msg: [*:0]const u8) callconv(.c) void;

/// Copies `s` into a fixed C string buffer, truncating, always NUL-terminated.
pub fn setCString(buf: []u8, s: []const u8) void {
    std.debug.assert(buf.len > 0);
    const n = @min(s.len, buf.len - 1);
    @memcpy(buf[0..n], s[0..n]);
    @memset(buf[n..], 0);
}

/// The string in a fixed C string buffer (up to the first NUL or the end).
pub fn getCString(buf: []const u8) []const u8 {
    const n = std.mem.indexOfScalar(u8, buf, 0) orelse buf.len;
    return buf[0..n];
}

comptime {
    const assert = std.debug.assert;
    assert(@sizeOf(usize) == 8 and @sizeOf(c_int) == 4);
    assert(@sizeOf(Result) == 4 and @sizeOf(LogLevel) == 4 and @sizeOf(BoardType) == 4);
    assert(@sizeOf(Argument) == 32);
    assert(@offsetOf(Argument, "ptr") == 0);
    assert(@offsetOf(Argument, "fd") == 8);
    assert(@offsetOf(Argument, "offset") == 16);
    assert(@offsetOf(Argument, "size") == 24);
    assert(@sizeOf(TensorInfo) == 488);
    assert(@offsetOf(TensorInfo, "dims") == 0);
    assert(@offsetOf(TensorInfo, "ndims") == 64);
    assert(@offsetOf(TensorInfo, "bits") == 72);
    assert(@offsetOf(TensorInfo, "type") == 80);
    assert(@offsetOf(TensorInfo, "name") == 84);
    assert(@offsetOf(TensorInfo, "padding") == 344);
    assert(@offsetOf(TensorInfo, "scale") == 472);
    assert(@offsetOf(TensorInfo, "zero_point") == 480);
    assert(@sizeOf(DeviceInfo) == 1568);
    assert(@offsetOf(DeviceInfo, "name") == 0);
    assert(@offsetOf(DeviceInfo, "subdevice_count") == 256);
    assert(@offsetOf(DeviceInfo, "max_memory") == 264);
    assert(@offsetOf(DeviceInfo, "in_use") == 272);
    assert(@offsetOf(DeviceInfo, "in_use_by") == 276);
    assert(@offsetOf(DeviceInfo, "board_type") == 532);
    assert(@offsetOf(DeviceInfo, "firmware_version") == 536);
    assert(@offsetOf(DeviceInfo, "board_revision") == 792);
    assert(@offsetOf(DeviceInfo, "flashed_firmware_version") == 796);
    assert(@offsetOf(DeviceInfo, "board_controller_firmware_version") == 1052);
    assert(@offsetOf(DeviceInfo, "board_controller_board_type") == 1308);
}

test "C string helpers truncate and terminate" {
    var buf: [4]u8 = undefined;
    setCString(&buf, "abcdef");
    try std.testing.expectEqualStrings("abc", getCString(&buf));
    setCString(&buf, "");
    try std.testing.expectEqualStrings("", getCString(&buf));
}
