//! Builds libaxr.so (the native library of @axelera/runtime, ffi/src) and its tests.
//!
//!   zig build                          -> zig-out/lib/libaxr.so
//!   zig build -Doptimize=ReleaseSafe   (what scripts/env.sh uses)
//!   zig build -Dstrip -Dtarget=aarch64-linux-gnu   a packaged library (scripts/pack.ts)
//!   zig build test                     all Zig tests of ffi/src (leak-checked), the
//!                                      cross-process reservation test and the check that
//!                                      libaxr.so exports every function of include/axruntime.h

const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    // -Dstrip: no debug info in libaxr (the packaged libraries: deno task pack)
    const strip = b.option(bool, "strip", "Strip debug info from the library (packaging)");

    const lib_mod = b.createModule(.{
        .root_source_file = b.path("ffi/src/exports.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = strip,
    });
    const lib = b.addLibrary(.{ .name = "axr", .linkage = .dynamic, .root_module = lib_mod });
    b.installArtifact(lib);

    // A helper process for the reservation test: reserves sub-devices and waits.
    const holder = b.addExecutable(.{
        .name = "axr-test-holder",
        .root_module = b.createModule(.{
            .root_source_file = b.path("ffi/src/test_holder.zig"),
            .target = target,
            .optimize = optimize,
            .link_libc = true,
        }),
    });

    const options = b.addOptions();
    options.addOptionPath("holder_exe", holder.getEmittedBin());
    options.addOptionPath("lib_path", lib.getEmittedBin());
    options.addOptionPath("header_path", b.path("include/axruntime.h"));

    const test_mod = b.createModule(.{
        .root_source_file = b.path("ffi/src/tests.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    test_mod.addOptions("build_options", options);
    const tests = b.addTest(.{ .root_module = test_mod });
    const run_tests = b.addRunArtifact(tests);
    // fixtures are found relative to the repository root, wherever `zig build` runs
    run_tests.setCwd(b.path("."));
    const test_step = b.step("test", "Run the Zig tests of ffi/src");
    test_step.dependOn(&run_tests.step);
}
