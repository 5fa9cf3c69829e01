// The `axr` command driven as a user would: child processes of the current runtime
// (deno or bun), checking outputs and exit codes (0 ok, 1 runtime, 2 usage, 3 file).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, root, runAxr, startAxr, tempDir, tinyModel } from "./cli_helpers.ts";
import { parseArgs } from "../cli/args.ts";
import { parseCoreValues } from "../cli/core_values.ts";
import { percentile, summarizeLatencies } from "../cli/latency.ts";
import { runModelSpec } from "../cli/run_model.ts";
import { UsageError } from "../cli/errors.ts";
import { formatOpSummary, TraceRecorder } from "../cli/trace.ts";
import { readInstanceStats } from "../cli/instance_stats.ts";
import { parseBenchRows } from "../cli/plot.ts";

let work = "";
let state = "";
before(() => {
  work = tempDir();
  state = join(work, "state");
  mkdirSync(state);
});
after(() => removeDir(work));

/** A fresh emulator state dir (device configuration and reservations) per test. */
function freshState(name: string): string {
  const dir = join(work, `state-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("axr: help and usage errors", () => {
  test("--help lists every subcommand and the exit codes", () => {
    const r = runAxr(["--help"], { stateDir: state });
    assert.equal(r.code, 0, r.stderr);
    for (const c of ["devices", "run-model", "compile", "bench", "serve"]) {
      assert.match(r.stdout, new RegExp(`^  ${c} `, "m"));
    }
    assert.match(r.stdout, /2 usage error/);
  });

  test("no command: help on stdout, exit 2; unknown command: exit 2 naming it", () => {
    const none = runAxr([], { stateDir: state });
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Usage: axr COMMAND/);
    const bad = runAxr(["frobnicate"], { stateDir: state });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command 'frobnicate'/);
  });

  test("every subcommand has --help (exit 0)", () => {
    for (const c of ["devices", "run-model", "compile", "bench", "serve"]) {
      const r = runAxr([c, "--help"], { stateDir: state });
      assert.equal(r.code, 0, `${c}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`axr ${c}`), c);
    }
    const rm = runAxr(["run-model", "--help"], { stateDir: state });
    for (
      const f of [
        "--seconds",
        "--aipu-cores",
        "--throttle-fps",
        "--[no-]double-buffer",
        "--input-dmabuf",
        "--output-dmabuf",
        "--show-histogram",
        "--trace",
      ]
    ) {
      assert.ok(rm.stdout.includes(f), `run-model --help lacks ${f}`);
    }
    const dv = runAxr(["devices", "--help"], { stateDir: state });
    for (const f of ["--set-clock", "--set-core-clock", "--set-mvm-limitation", "--device"]) {
      assert.ok(dv.stdout.includes(f), f);
    }
  });

  test("bad flags exit 2 with a message naming the flag", () => {
    const cases: [string[], RegExp][] = [
      [["run-model", tinyModel, "--bogus"], /unknown flag --bogus/],
      [["run-model", tinyModel, "--seconds", "soon"], /--seconds needs a number, got 'soon'/],
      [["run-model", tinyModel, "--aipu-cores", "0"], /--aipu-cores must be at least 1/],
      [["run-model", tinyModel, "--seconds"], /--seconds needs a value/],
      [["run-model"], /missing MODEL/],
      [["run-model", tinyModel, "extra"], /unexpected argument 'extra'/],
      [["devices", "--set-core-clock", "0-9:800"], /core 9 does not exist/],
      [["devices", "--set-core-clock", "0-1"], /not a positive integer|CORE:VALUE/],
      [["devices", "--set-mvm-limitation", "150"], /above 100 percent/],
      [["devices", "--set-clock", "fast"], /--set-clock needs an integer/],
      [["bench", "--rows", "x.json"], /--rows only goes with --plot/],
      [["bench", "--filtr", "quantize"], /unknown flag --filtr/], // a typo never runs the whole suite
      [["bench", "--filter"], /--filter needs a value/],
    ];
    for (const [args, msg] of cases) {
      const r = runAxr(args, { stateDir: state });
      assert.equal(r.code, 2, `${args.join(" ")}: code ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(" "));
      assert.equal(r.stdout, "", `${args.join(" ")} printed to stdout`);
    }
  });
});

describe("axr run-model: missing and bad files", () => {
  test("a missing model exits 3 naming the file", () => {
    const r = runAxr(["run-model", join(work, "nope", "model.json"), "--seconds", "0.5"], { stateDir: state });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /model not found: .*nope\/model\.json/);
  });

  test("a corrupt model exits 3 with the library's message", () => {
    const dir = join(work, "corrupt");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "model.json"),
      '{"format": "axr-model", "version": 1, "manifest": "manifest.json", "program": "program.axp"}',
    );
    writeFileSync(join(dir, "manifest.json"), "{ not json");
    writeFileSync(join(dir, "program.axp"), "AXRPROG\0garbage");
    const r = runAxr(["run-model", dir, "--seconds", "0.5"], { stateDir: state });
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /cannot load model .*corrupt\/model\.json: \S+/);
  });
});

describe("axr devices", () => {
  test("lists the default device in axdevice's shape", () => {
    const r = runAxr(["devices"], { stateDir: freshState("list") });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Device 0: metis-\d+:\d+:\d+ board_type=pcie fwver=\S+ clock=800MHz$/m);
    assert.match(r.stdout, /cores: +0:800MHz 1:800MHz 2:800MHz 3:800MHz/);
    assert.match(r.stdout, /mvm utilisation: 0:100% 1:100% 2:100% 3:100%/);
    assert.match(r.stdout, /sub-devices: +4, in use: 0/);
  });

  test("two boards with AXR_EMU_DEVICES, --device by index and by name, --json", () => {
    const st = freshState("two");
    const env = { AXR_EMU_DEVICES: "pcie,m2" };
    const all = runAxr(["devices", "--json"], { stateDir: st, env });
    assert.equal(all.code, 0, all.stderr);
    const devs = JSON.parse(all.stdout);
    assert.equal(devs.length, 2);
    assert.deepEqual(devs.map((d: { boardType: string }) => d.boardType), ["pcie", "m2"]);
    const byIndex = runAxr(["devices", "--device", "1"], { stateDir: st, env });
    assert.equal(byIndex.code, 0, byIndex.stderr);
    assert.match(byIndex.stdout, /^Device 1: .* board_type=m2 /m);
    assert.doesNotMatch(byIndex.stdout, /^Device 0/m);
    const byName = runAxr(["devices", "--device", devs[0].name], { stateDir: st, env });
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, new RegExp(`^Device 0: ${devs[0].name} `, "m"));
    const none = runAxr(["devices", "--device", "7"], { stateDir: st, env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--device 7: no such device/);
  });

  test("--set-clock, --set-core-clock and --set-mvm-limitation change the device (and persist)", () => {
    const st = freshState("set");
    const set = runAxr(["devices", "--device", "0", "--set-clock", "400"], { stateDir: st });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /clock=400MHz/);
    assert.match(set.stdout, /cores: +0:400MHz 1:400MHz 2:400MHz 3:400MHz/);
    const again = runAxr(["devices"], { stateDir: st });
    assert.match(again.stdout, /clock=400MHz/, "a new process sees the configured clock");

    const cores = runAxr(["devices", "--set-core-clock", "0-1:800,2-3:200", "--set-mvm-limitation", "2-3:50"], {
      stateDir: st,
    });
    assert.equal(cores.code, 0, cores.stderr);
    assert.match(cores.stdout, /cores: +0:800MHz 1:800MHz 2:200MHz 3:200MHz/);
    assert.match(cores.stdout, /mvm utilisation: 0:100% 1:100% 2:50% 3:50%/);

    const mvm = runAxr(["devices", "--set-mvm-limitation", "25", "--json"], { stateDir: st });
    assert.equal(mvm.code, 0, mvm.stderr);
    assert.deepEqual(JSON.parse(mvm.stdout)[0].mvmUtilisation, [25, 25, 25, 25]);
  });

  test("a clock the device rejects is a usage error (exit 2) with the library's message", () => {
    const r = runAxr(["devices", "--set-clock", "5000"], { stateDir: freshState("reject") });
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /rejected the configuration/);
  });
});

function num(text: string, label: string): number {
  const m = new RegExp(`^${label}:\\s+([0-9.]+)`, "m").exec(text);
  assert.ok(m, `no '${label}' line in:\n${text}`);
  return Number(m[1]);
}

describe("axr run-model", () => {
  test("runs the tiny model and prints Device, Host and System FPS and latency percentiles", () => {
    const r = runAxr(["run-model", tinyModel, "--seconds", "0.5"], { stateDir: freshState("run") });
    assert.equal(r.code, 0, r.stderr);
    const device = num(r.stdout, "Device FPS"), host = num(r.stdout, "Host FPS"), system = num(r.stdout, "System FPS");
    assert.ok(device > 0 && host > 0 && system > 0, r.stdout);
    // Four cores each at most one inference per modelled device time: the device bound is consistent.
    const m = /^Latency: +p50 ([0-9.]+) ms, p90 ([0-9.]+) ms, p99 ([0-9.]+) ms/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const [p50, p90, p99] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99, r.stdout);
    assert.match(r.stdout, /4 instances \(one per core\), 2 requests in flight each/);
    assert.doesNotMatch(r.stdout, /\r/, "no live progress line when stdout is not a terminal");
  });

  test("--json: frames, rates and modelled device time agree with each other", () => {
    const r = runAxr(["run-model", tinyModel, "--seconds", "0.5", "--aipu-cores", "2", "--json"], {
      stateDir: freshState("json"),
    });
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.instances, 2);
    assert.equal(res.depth, 2);
    assert.ok(res.frames > 0);
    assert.ok(Math.abs(res.systemFps - res.frames / res.seconds) < 1e-6 * res.systemFps);
    assert.equal(res.deviceUs.length, 2);
    for (const u of res.deviceUs) assert.ok(u > 0, "modelled device time per inference");
    const expectDevice = res.deviceUs.reduce((a: number, u: number) => a + 1e6 / u, 0);
    assert.ok(Math.abs(res.deviceFps - expectDevice) < 1e-6 * expectDevice);
    assert.equal(res.latencyMs.count, res.frames);
    assert.ok(res.seconds >= 0.5, "ran at least --seconds");
  });

  test("Card FPS: device FPS with the host transfer of the board type (PCIe, M.2) added", () => {
    const env = { AXR_EMU_DEVICES: "pcie,m2" };
    const card = (dev: string) => {
      const r = runAxr(["run-model", tinyModel, "--seconds", "0.3", "--aipu-cores", "2", "--devices", dev, "--json"], {
        stateDir: freshState(`card${dev}`),
        env,
      });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const [pcie, m2] = [card("0"), card("1")];
    assert.deepEqual(pcie.cards.map((c: { boardType: string }) => c.boardType), ["pcie"]);
    assert.deepEqual(m2.cards.map((c: { boardType: string }) => c.boardType), ["m2"]);
    assert.equal(pcie.cards[0].transferBytes, m2.cards[0].transferBytes);
    assert.ok(pcie.cards[0].transferBytes > 0);
    assert.ok(
      m2.cards[0].transferUs > pcie.cards[0].transferUs && pcie.cards[0].transferUs > 0,
      "M.2 moves bytes slower",
    );
    for (const r of [pcie, m2]) {
      assert.ok(r.cardFps < r.deviceFps, "the transfer costs time");
      const expect = 1 / (1 / r.deviceFps + r.cards[0].transferUs / 1e6);
      assert.ok(Math.abs(r.cardFps - expect) < 1e-6 * expect);
    }
    const t = runAxr(["run-model", tinyModel, "--seconds", "0.2", "--aipu-cores", "1", "--devices", "1"], {
      stateDir: freshState("cardtext"),
      env,
    });
    assert.equal(t.code, 0, t.stderr);
    assert.match(
      t.stdout,
      /\nDevice FPS: [0-9.]+ .*\nCard FPS: +[0-9.]+ \(modelled m2 card: \+[0-9.]+ us host transfer of \d+ bytes per frame\)/,
    );
  });

  test("--no-double-buffer --aipu-cores 1 --show-histogram; --throttle-fps limits the rate", () => {
    const st = freshState("hist");
    const r = runAxr([
      "run-model",
      tinyModel,
      "--seconds",
      "0.5",
      "--aipu-cores",
      "1",
      "--no-double-buffer",
      "--show-histogram",
    ], { stateDir: st });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 instance \(one per core\), 1 request in flight each/);
    assert.match(r.stdout, /Latency histogram:\n( +[0-9.]+ - +[0-9.]+ ms \|#*\s*\| +\d+\n)+/);
    const t = runAxr(
      ["run-model", tinyModel, "--seconds", "1", "--aipu-cores", "1", "--throttle-fps", "20", "--json"],
      { stateDir: st },
    );
    assert.equal(t.code, 0, t.stderr);
    const res = JSON.parse(t.stdout);
    assert.ok(res.frames >= 10 && res.frames <= 22, `throttled to 20 fps for 1 s, got ${res.frames} frames`);
  });

  test("--input-dmabuf --output-dmabuf: file descriptors instead of host buffers", () => {
    const r = runAxr(["run-model", tinyModel, "--seconds", "0.5", "--input-dmabuf", "--output-dmabuf", "--json"], {
      stateDir: freshState("dmabuf"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).frames > 0);
  });

  test("--trace writes valid Chrome trace JSON with device op spans per core and host spans", () => {
    const trace = join(work, "out.trace.json");
    const r = runAxr(["run-model", tinyModel, "--seconds", "0.5", "--aipu-cores", "2", "--trace", trace], {
      stateDir: freshState("trace"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(trace));
    const t = JSON.parse(readFileSync(trace, "utf8"));
    assert.ok(Array.isArray(t.traceEvents));
    for (const e of t.traceEvents) {
      assert.equal(typeof e.name, "string");
      assert.ok(e.ph === "X" || e.ph === "M", `phase ${e.ph}`);
      assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid));
      assert.ok(Number.isFinite(e.ts));
      if (e.ph === "X") assert.ok(Number.isFinite(e.dur) && e.dur >= 0, JSON.stringify(e));
    }
    const device = t.traceEvents.filter((e: { cat?: string }) => e.cat === "device");
    const host = t.traceEvents.filter((e: { cat?: string }) => e.cat === "host");
    assert.ok(device.length > 0, "device spans");
    assert.ok(host.some((e: { name: string }) => e.name === "run"), "host run spans");
    assert.ok(host.some((e: { name: string }) => e.name !== "run"), "the library's own host spans");
    // One track per core: two instances on two cores.
    const coreTracks = new Set(device.map((e: { pid: number; tid: number }) => `${e.pid}/${e.tid}`));
    assert.equal(coreTracks.size, 2);
    const names = t.traceEvents.filter((e: { ph: string; name: string }) => e.ph === "M" && e.name === "thread_name")
      .map((e: { args: { name: string } }) => e.args.name);
    assert.ok(names.includes("core 0") && names.includes("core 1"), names.join(","));
    // Ops on a core never overlap (the core is a queue).
    for (const key of coreTracks) {
      const spans = device.filter((e: { pid: number; tid: number }) => `${e.pid}/${e.tid}` === key)
        .sort((a: { ts: number }, b: { ts: number }) => a.ts - b.ts);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i].ts >= spans[i - 1].ts + spans[i - 1].dur - 1e-6);
    }
    assert.match(r.stdout, /Device time by op:\n +op +count +total us +% device\n/);
    const pct = [...r.stdout.matchAll(/^ +[\w()]+(?: \w+\))? +\d+ +[0-9.]+ +([0-9.]+)%$/gm)].map((m) => Number(m[1]));
    assert.ok(pct.length > 0);
    assert.ok(Math.abs(pct.reduce((a, b) => a + b, 0) - 100) < 0.5, `percentages sum to 100: ${pct}`);
    assert.match(r.stdout, /Trace: .*out\.trace\.json/);
  });

  test("a device held by another process: exit 1 with DeviceInUse", async () => {
    const st = freshState("inuse");
    const holder = await startAxr(["run-model", tinyModel, "--seconds", "4", "--aipu-cores", "4"], {
      stateDir: st,
      marker: "progress:",
    });
    try {
      const r = runAxr(["run-model", tinyModel, "--seconds", "0.5"], { stateDir: st });
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /DeviceInUse/);
      const list = runAxr(["devices"], { stateDir: st });
      assert.match(list.stdout, /in use: 4 by \S+/);
    } finally {
      const done = await holder.done;
      assert.equal(done.code, 0, done.stderr);
    }
  });
});

describe("axr compile and bench", () => {
  test("compile runs the compiler", () => {
    const r = runAxr(["compile", join(work, "missing.onnx")], { stateDir: state });
    assert.equal(r.code, 3, "compiling a missing file exits 3");
    assert.match(r.stderr, /missing\.onnx/);
    const help = runAxr(["compile", "--help"], { stateDir: state });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: axr compile/);
  });

  test("--version prints the package version (deno.json, the one source)", () => {
    const r = runAxr(["--version"], { stateDir: state });
    assert.equal(r.code, 0, r.stderr);
    const want = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).version;
    assert.equal(r.stdout, `axr ${want}\n`);
  });

  test("bench --help shows the runner's flags and runs nothing", () => {
    const r = runAxr(["bench", "--help"], { stateDir: state });
    assert.equal(r.code, 0, r.stderr);
    for (const f of ["--plot", "--rows", "--json", "--filter", "--only-this-runtime"]) {
      assert.ok(r.stdout.includes(f), f);
    }
    assert.doesNotMatch(r.stdout, /ours_ms\s+peer/, "no benchmark table");
  });

  test("bench --plot --rows writes an SVG chart with one bar per row", () => {
    const rows = [
      { bench: "quantize", runtime: "deno", ours_ms: 1.5, peer: "numpy", peer_ms: 6, ratio: 4 },
      { bench: "run_overhead", runtime: "bun", ours_ms: 0.02, peer: "python", peer_ms: 0.01, ratio: 0.5 },
      { bench: "depad<&>", runtime: "bun", ours_ms: 2, peer: "ort", peer_ms: 20, ratio: 10 },
    ];
    const rowsPath = join(work, "rows.json"), svg = join(work, "bench.svg");
    writeFileSync(rowsPath, JSON.stringify(rows));
    const r = runAxr(["bench", "--plot", svg, "--rows", rowsPath], { stateDir: state });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(svg, "utf8");
    assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(text.trim(), /<\/svg>$/);
    const bars = [
      ...text.matchAll(
        /<rect class="bar" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"[^>]*fill="(#[0-9a-f]+)" data-ratio="([0-9.]+)"/g,
      ),
    ];
    assert.equal(bars.length, 3);
    assert.deepEqual(bars.map((b) => Number(b[4])), [4, 0.5, 10]);
    // Log scale: the 10x bar is longer than the 4x bar; faster is green, slower red.
    assert.ok(Number(bars[2][2]) > Number(bars[0][2]));
    assert.notEqual(bars[0][3], bars[1][3]);
    assert.ok(text.includes("depad&lt;&amp;&gt;"), "labels are escaped");
    assert.match(r.stdout, /quantize \(deno\) vs numpy +4\.00x/);
  });

  test("bench --rows with a missing or invalid file exits 3", () => {
    const svg = join(work, "never.svg");
    const missing = runAxr(["bench", "--plot", svg, "--rows", join(work, "none.json")], { stateDir: state });
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /cannot read rows file/);
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify([{ bench: "x" }]));
    const invalid = runAxr(["bench", "--plot", svg, "--rows", bad], { stateDir: state });
    assert.equal(invalid.code, 3);
    assert.match(invalid.stderr, /row 0: needs/);
    assert.ok(!existsSync(svg));
  });
});

describe("cli building blocks", () => {
  test("parseArgs: --flag value, --flag=value, --no-flag, defaults, given()", () => {
    const a = parseArgs(runModelSpec, ["m.json", "--seconds=2.5", "--no-double-buffer", "--aipu-cores", "3"]);
    assert.equal(a.positionals[0], "m.json");
    assert.equal(a.number("seconds"), 2.5);
    assert.equal(a.number("aipu-cores"), 3);
    assert.equal(a.boolean("double-buffer"), false);
    assert.equal(a.boolean("input-dmabuf"), false);
    assert.ok(a.given("seconds") && !a.given("throttle-fps"));
    const d = parseArgs(runModelSpec, ["m.json"]);
    assert.equal(d.number("seconds"), 10);
    assert.equal(d.number("aipu-cores"), 4);
    assert.equal(d.boolean("double-buffer"), true);
    assert.throws(() => parseArgs(runModelSpec, ["m.json", "--aipu-cores", "1.5"]), UsageError);
    assert.throws(() => parseArgs(runModelSpec, ["m.json", "--no-seconds"]), /unknown flag --no-seconds/);
    assert.equal(parseArgs(runModelSpec, ["--help", "--whatever"]).help, true);
  });

  test("parseCoreValues: ranges, single cores, one value for all, errors", () => {
    assert.deepEqual([...parseCoreValues("0-1:800,2-3:400", "--x")], [[0, 800], [1, 800], [2, 400], [3, 400]]);
    assert.deepEqual([...parseCoreValues("2:50", "--x")], [[2, 50]]);
    assert.deepEqual([...parseCoreValues("75", "--x")], [[0, 75], [1, 75], [2, 75], [3, 75]]);
    assert.throws(() => parseCoreValues("0-1:800,1:400", "--x"), /core 1 is given twice/);
    assert.throws(() => parseCoreValues("3-1:800", "--x"), /backwards/);
    assert.throws(() => parseCoreValues("0:-5", "--x"), /not a positive integer/);
  });

  test("parseBenchRows: JSON array, JSON Lines (one or more rows), ratio from the times", () => {
    const row = { bench: "a", runtime: "deno", ours_ms: 2, peer: "p", peer_ms: 6, ratio: 3 };
    assert.deepEqual(parseBenchRows(JSON.stringify([row])), [row]);
    assert.deepEqual(parseBenchRows(JSON.stringify(row) + "\n"), [row]);
    const two = parseBenchRows(`${JSON.stringify(row)}\n${JSON.stringify({ ...row, bench: "b", ratio: undefined })}\n`);
    assert.deepEqual(two.map((r) => [r.bench, r.ratio]), [["a", 3], ["b", 3]]);
    assert.throws(() => parseBenchRows('{"rows": [{"bench": 1}]}'), /row 0/);
  });

  test("percentiles (nearest rank)", () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(s, 50), 50);
    assert.equal(percentile(s, 90), 90);
    assert.equal(percentile(s, 99), 99);
    assert.equal(percentile([7], 99), 7);
    const sum = summarizeLatencies([3, 1, 2]);
    assert.deepEqual([sum.min, sum.p50, sum.max, sum.mean, sum.count], [1, 2, 3, 2, 3]);
  });

  test("TraceRecorder: ops placed by cycles at the core clock, cores queue, summary shares", () => {
    const stats = readInstanceStats(JSON.stringify({
      runs: 1,
      last_device_us: 3,
      clock_mhz: [800, 400, 800, 800],
      mvm_utilisation: [100, 100, 100, 100],
      ops: [
        { name: "c1", op: "Conv", cycles: 800, start_cycle: 0, macs: 10, core: 1 },
        { name: "g1", op: "Gemm", cycles: 400, start_cycle: 800, macs: 5, core: 1 },
      ],
      host: [{ name: "check", start_ns: 5_000_000, dur_ns: 200 }, {
        name: "copy_in",
        start_ns: 5_001_000,
        dur_ns: 500,
      }],
    }))!;
    const rec = new TraceRecorder({ model: "x" });
    rec.addRun({ device: "metis-0:1:0", instance: 0, startUs: 10, endUs: 12, stats });
    rec.addRun({ device: "metis-0:1:0", instance: 0, startUs: 11, endUs: 13, stats });
    const ev = rec.toJSON().traceEvents.filter((e) => e.cat === "device");
    // 400 MHz: 800 cycles = 2 us, then 400 cycles = 1 us; the 2nd run waits for the core.
    assert.deepEqual(ev.map((e) => [e.name, e.ts, e.dur]), [["Conv", 10, 2], ["Gemm", 12, 1], ["Conv", 13, 2], [
      "Gemm",
      15,
      1,
    ]]);
    // Ops starting after cycle 0 leave the run's fixed cost in front of them.
    const rec2 = new TraceRecorder();
    rec2.addRun({
      device: "d",
      instance: 0,
      startUs: 0,
      endUs: 1,
      stats: { ...stats, ops: stats.ops.map((o) => ({ ...o, startCycle: o.startCycle + 200 })) },
    });
    const ev2 = rec2.toJSON().traceEvents.filter((e) => e.cat === "device");
    assert.deepEqual(ev2.map((e) => [e.name, e.ts, e.dur]), [["(run overhead)", 0, 0.5], ["Conv", 0.5, 2], [
      "Gemm",
      2.5,
      1,
    ]]);
    assert.ok(Math.abs(rec2.opSummary().reduce((a, r) => a + r.percent, 0) - 100) < 1e-9);
    const host = rec.toJSON().traceEvents.filter((e) => e.cat === "host" && e.name === "copy_in");
    assert.deepEqual(host.map((e) => [e.ts, e.dur]), [[11, 0.5], [12, 0.5]]);
    const rows = rec.opSummary();
    assert.deepEqual(rows.map((r) => [r.op, r.count, r.totalUs]), [["Conv", 2, 4], ["Gemm", 2, 2]]);
    assert.ok(Math.abs(rows[0].percent - 200 / 3) < 1e-9);
    assert.match(formatOpSummary(rows), /Conv +2 +4\.0 +66\.7%/);
  });
});
