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
//!
//! CPU (docs/emulator.md, "CPU levels"): without -Dcpu the library is built for the
//! architecture's baseline, so it runs on every CPU of the architecture:
//!   x86_64   x86-64-v2 (SSE4.2, POPCNT): compiler_rt, memset and the rest of the library
//!   aarch64  generic (NEON)
//! and the hot kernels (ffi/src/ops/kernels.zig) are compiled again once per CPU level
//! into objects of their own (ffi/src/ops/variant.zig, symbol `axr_kernels_<level>`),
//! linked into the same libaxr.so; ffi/src/cpu.zig picks one per process (cpuid /
//! getauxval, or AXR_CPU=<level> to force a lower one):
//!   x86_64   avx2 (x86-64-v3), avx512 (x86-64-v4), vnni (+avx512vnni),
//!            vbmi (+avx512vnni +avx512vbmi)
//!   aarch64  dotprod (generic +dotprod)
//! Options:
//!   -Dtarget=aarch64-linux-gnu    cross build (the levels of that architecture)
//!   -Dcpu=native                  the whole library for this machine's CPU (not portable;
//!                                 the bench compares against it)
//!   -Dcpu-variants=false          no per-level objects: the library's own level only
//!   zig build test -Dtarget=aarch64-linux-gnu -fqemu --glibc-runtimes /usr
//!                                 the tests of an aarch64 build under qemu-user
//!                                 (scripts/test.d/aarch64.sh installs what it needs)

const std = @import("std");

/// One per-level kernel object: level name (cpu.zig), CPU model and added features.
const Variant = struct { level: []const u8, model: *const std.Target.Cpu.Model, add: []const std.Target.x86.Feature = &.{}, add_arm: []const std.Target.aarch64.Feature = &.{} };

const x86_variants = [_]Variant{
    .{ .level = "avx2", .model = &std.Target.x86.cpu.x86_64_v3 },
    .{ .level = "avx512", .model = &std.Target.x86.cpu.x86_64_v4 },
    .{ .level = "vnni", .model = &std.Target.x86.cpu.x86_64_v4, .add = &.{.avx512vnni} },
    .{ .level = "vbmi", .model = &std.Target.x86.cpu.x86_64_v4, .add = &.{ .avx512vnni, .avx512vbmi } },
};
const arm_variants = [_]Variant{
    .{ .level = "dotprod", .model = &std.Target.aarch64.cpu.generic, .add_arm = &.{.dotprod} },
};

pub fn build(b: *std.Build) void {
    var query = b.standardTargetOptionsQueryOnly(.{});
    // No -Dcpu: the architecture's baseline, not the building machine's CPU.
    if (query.cpu_model == .determined_by_arch_os) {
        const a = query.cpu_arch orelse @import("builtin").cpu.arch;
        switch (a) {
            .x86_64 => query.cpu_model = .{ .explicit = &std.Target.x86.cpu.x86_64_v2 },
            .aarch64 => query.cpu_model = .{ .explicit = &std.Target.aarch64.cpu.generic },
            else => {},
        }
    }
    const target = b.resolveTargetQuery(query);
    const optimize = b.standardOptimizeOption(.{});
    // -Dstrip: no debug info in libaxr (the packaged libraries: deno task pack)
    const strip = b.option(bool, "strip", "Strip debug info from the library (packaging)");
    const with_variants = b.option(bool, "cpu-variants", "compile the hot kernels once per CPU level into the library (default true)") orelse true;

    // the per-level kernel objects
    const variants: []const Variant = if (!with_variants) &.{} else switch (target.result.cpu.arch) {
        .x86_64 => &x86_variants,
        .aarch64 => &arm_variants,
        else => &.{},
    };
    const cpu_options = b.addOptions();
    cpu_options.addOption(bool, "variants", variants.len > 0);
    var objs = std.ArrayList(*std.Build.Step.Compile).init(b.allocator);
    for (variants) |v| {
        var vq = query;
        vq.cpu_model = .{ .explicit = v.model };
        vq.cpu_features_add = .empty;
        for (v.add) |f| vq.cpu_features_add.addFeature(@intFromEnum(f));
        for (v.add_arm) |f| vq.cpu_features_add.addFeature(@intFromEnum(f));
        vq.cpu_features_sub = .empty;
        const vopt = b.addOptions();
        vopt.addOption([]const u8, "level", v.level);
        const vmod = b.createModule(.{
            .root_source_file = b.path("ffi/src/ops/variant.zig"),
            .target = b.resolveTargetQuery(vq),
            .optimize = optimize,
            .pic = true,
            .strip = strip,
        });
        vmod.addOptions("variant_options", vopt);
        const obj = b.addObject(.{ .name = b.fmt("axr-kernels-{s}", .{v.level}), .root_module = vmod });
        objs.append(obj) catch @panic("OOM");
    }

    const lib_mod = b.createModule(.{
        .root_source_file = b.path("ffi/src/exports.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = strip,
    });
    lib_mod.addOptions("cpu_options", cpu_options);
    for (objs.items) |o| lib_mod.addObject(o);
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

    // It reaches the state directory through devices.zig, which names the CPU levels.
    victim.root_module.addOptions("cpu_options", cpu_options);
    for (objs.items) |o| victim.root_module.addObject(o);

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
    test_mod.addOptions("cpu_options", cpu_options);
    for (objs.items) |o| test_mod.addObject(o);
    const tests = b.addTest(.{ .root_module = test_mod });
    const run_tests = b.addRunArtifact(tests);
    // fixtures are found relative to the repository root, wherever `zig build` runs
    run_tests.setCwd(b.path("."));
    const test_step = b.step("test", "Run the Zig tests of ffi/src");
    test_step.dependOn(&run_tests.step);

    // The fit of the timing model's constants (ffi/src/timing_fit.zig), run by
    // `deno task timing --fit` as `zig build timing-fit -- NAME:PROGRAM:PCIE:M2:FIT ...`;
    // it only reads programs, so it needs no per-level kernels.
    const fit_cpu = b.addOptions();
    fit_cpu.addOption(bool, "variants", false);
    const fit = b.addExecutable(.{
        .name = "axr-timing-fit",
        .root_module = b.createModule(.{
            .root_source_file = b.path("ffi/src/timing_fit.zig"),
            .target = target,
            .optimize = .ReleaseSafe,
            .link_libc = true,
        }),
    });
    fit.root_module.addOptions("cpu_options", fit_cpu);
    const run_fit = b.addRunArtifact(fit);
    if (b.args) |a| run_fit.addArgs(a);
    run_fit.setCwd(b.path("."));
    b.step("timing-fit", "Fit the timing model's constants on compiled networks (deno task timing --fit)").dependOn(&run_fit.step);
}
