//! Root of `zig build test`: every Zig test of ffi/src (this library's files and the
//! executor's), plus the C ABI tests in the *_test.zig files.

test {
    _ = @import("abi.zig");
    _ = @import("errors.zig");
    _ = @import("object.zig");
    _ = @import("properties.zig");
    _ = @import("log.zig");
    _ = @import("devices.zig");
    _ = @import("reservation.zig");
    _ = @import("config.zig");
    _ = @import("context.zig");
    _ = @import("connection.zig");
    _ = @import("exports.zig");
    _ = @import("exports_test.zig");
    _ = @import("model.zig");
    _ = @import("model_dir.zig");
    _ = @import("instance.zig");
    _ = @import("instance_limit_test.zig");
    _ = @import("model_test.zig");
    _ = @import("reservation_test.zig");
    _ = @import("state_dir_test.zig");
    _ = @import("abi_exports_test.zig");
    _ = @import("program.zig");
    _ = @import("program_test.zig");
    _ = @import("exec.zig");
    _ = @import("host_pool.zig");
    _ = @import("exec_test.zig");
    _ = @import("exec_ops_test.zig");
    _ = @import("timing.zig");
    _ = @import("cpu.zig");
}
