//! Builds libaxr.so (the native library of @axelera/runtime, ffi/src) and its tests.
//!
//!   zig build                          -> zig-out/lib/libaxr.so, and the same library as
//!                                         libaxruntime.so (soname libaxruntime.so.1, the
//!                                         vendor's name), zig-out/include/axruntime/*.h(pp)
//!                                         and zig-out/lib/pkgconfig/axruntime.pc (docs/c.md)
//!   zig build examples                 examples/c (C and C++17) -> zig-out/bin/axr-classify-*
//!   zig build -Doptimize=ReleaseSafe   (what scripts/env.sh uses)
//!   zig build -Dstrip -Dtarget=aarch64-linux-gnu   a packaged library (scripts/pack.ts)
//!   zig build test                     all Zig tests of ffi/src (leak-checked), the
//!                                      cross-process reservation test and the check that
//!                                      libaxr.so exports every function of the C header

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
    // One library, two names: libaxruntime.so.1.0.0 (+ .so.1, .so) for C/C++ applications
    // (-laxruntime, as with the vendor's library) and a copy as libaxr.so (libaxr.dylib
    // on macOS) for the TypeScript layer.
    const lib = b.addLibrary(.{
        .name = "axruntime",
        .linkage = .dynamic,
        .root_module = lib_mod,
        .version = .{ .major = 1, .minor = 0, .patch = 0 },
    });
    const install_lib = b.addInstallArtifact(lib, .{});
    b.getInstallStep().dependOn(&install_lib.step);
    const axr_name = b.fmt("{s}axr{s}", .{ target.result.libPrefix(), target.result.dynamicLibSuffix() });
    b.getInstallStep().dependOn(&b.addInstallLibFile(lib.getEmittedBin(), axr_name).step);
    const install_headers = b.addInstallDirectory(.{ .source_dir = b.path("include"), .install_dir = .header, .install_subdir = "" });
    b.getInstallStep().dependOn(&install_headers.step);
    const pc = b.addWriteFiles().add("axruntime.pc", b.fmt(
        \\prefix={s}
        \\libdir=${{prefix}}/lib
        \\includedir=${{prefix}}/include
        \\
        \\Name: axruntime
        \\Description: Axelera Metis runtime C ABI (libaxruntime), emulated Metis device of @axelera/runtime
        \\Version: 1.0.0
        \\Libs: -L${{libdir}} -laxruntime
        \\Cflags: -I${{includedir}}
        \\
    , .{b.install_prefix}));
    b.getInstallStep().dependOn(&b.addInstallFile(pc, "lib/pkgconfig/axruntime.pc").step);

    // examples/c: built as an application would be, against the installed headers and
    // -laxruntime (found beside the binary at run time through the rpath $ORIGIN/../lib).
    const examples = b.step("examples", "Build the C and C++17 examples of examples/c against libaxruntime");
    inline for (.{ .{ "axr-classify-c", "examples/c/classify.c", false }, .{ "axr-classify-cpp", "examples/c/classify.cpp", true } }) |e| {
        const exe = b.addExecutable(.{
            .name = e[0],
            .root_module = b.createModule(.{ .target = target, .optimize = optimize, .link_libc = true, .link_libcpp = e[2] }),
        });
        const flags: []const []const u8 = if (e[2]) &.{ "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic" } else &.{ "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic" };
        exe.root_module.addCSourceFile(.{ .file = b.path(e[1]), .flags = flags });
        exe.root_module.addIncludePath(.{ .cwd_relative = b.getInstallPath(.header, "") });
        exe.root_module.addLibraryPath(.{ .cwd_relative = b.getInstallPath(.lib, "") });
        exe.root_module.linkSystemLibrary("axruntime", .{ .use_pkg_config = .no });
        exe.root_module.addRPathSpecial("$ORIGIN/../lib");
        exe.step.dependOn(&install_lib.step);
        exe.step.dependOn(&install_headers.step);
        examples.dependOn(&b.addInstallArtifact(exe, .{}).step);
    }

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

    // The victim of the state-directory swap race test (state_dir_test.zig).
    const victim = b.addExecutable(.{
        .name = "axr-test-state-victim",
        .root_module = b.createModule(.{
            .root_source_file = b.path("ffi/src/test_state_victim.zig"),
            .target = target,
            .optimize = optimize,
            .link_libc = true,
        }),
    });

    const options = b.addOptions();
    options.addOptionPath("holder_exe", holder.getEmittedBin());
    options.addOptionPath("victim_exe", victim.getEmittedBin());
    options.addOptionPath("lib_path", lib.getEmittedBin());
    options.addOptionPath("header_path", b.path("include/axruntime/axruntime.h"));

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
