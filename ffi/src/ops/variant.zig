//! Root of one per-CPU-level kernel object (build.zig `cpu_variants`): the kernels of
//! ops/kernels.zig compiled for that level's CPU, exported as the table
//! `axr_kernels_<level>` (hidden: used by cpu.zig inside the library only).

const kernels = @import("kernels.zig");
const level = @import("variant_options").level;

const table: kernels.Table = kernels.make();

comptime {
    @export(&table, .{ .name = "axr_kernels_" ++ level, .visibility = .hidden });
}
