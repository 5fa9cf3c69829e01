// What a new user does, outside the checkout: `deno task pack`; the JSR route (dist/jsr served
// on 127.0.0.1, mod.ts imported by http URL under Deno with a clean DENO_DIR and the minimum
// permissions); the npm route (the tarballs installed with bun into a fresh project, offline, the
// same script under Bun and under Deno with --allow-ffi --allow-read, type-checked by tsc and by
// `deno check` against the package's declarations alone); `bun build --compile` of
// that script, moved to an empty directory without node_modules. All four print the same bytes.
// Then bad input: a download whose sha256 does not match is refused (both hashes named, nothing
// cached), a corrupt cache entry is replaced, Node gets UnsupportedRuntimeError.
//
// Deno only: it drives bun itself (under bun test it is skipped).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { isBun, removeDir, root, tempDir } from "./cli_helpers.ts";

const D = (globalThis as { Deno?: typeof Deno }).Deno;
const tiny = join(root, "tests", "fixtures", "tiny");

/** The user's script: the same file on every route. */
const APP = `import * as axr from "@axelera/runtime";
using ctx = new axr.Context();
const model = ctx.loadModel("model/model.json");
using conn = ctx.deviceConnect();
const inst = conn.loadModelInstance(model);
const x = new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i) * 3);
const out = inst.infer(x);
const [input] = model.inputs();
console.log(JSON.stringify({ input: input.shape, out: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)])) }));
console.error("library source: " + axr.libraryInfo().source);
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    NO_COLOR: "1",
    AXR_EMU_STATE_DIR: process.env.AXR_EMU_STATE_DIR ?? join(work, "state"),
  };
  const out = await new D!.Command(cmd, {
    args,
    cwd,
    env: { ...base, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function copyModel(dir: string): void {
  mkdirSync(join(dir, "model"), { recursive: true });
  for (const f of ["model.json", "manifest.json", "program.axp"]) {
    writeFileSync(join(dir, "model", f), readFileSync(join(tiny, f)));
  }
}

/** A new user's app directory `name` under `work`: the tiny model and app.ts, nothing else yet. */
function newApp(name: string): string {
  const app = join(work, name);
  copyModel(app);
  writeFileSync(join(app, "app.ts"), APP);
  return app;
}

/** A new user's app that imports "@axelera/runtime" from `route` of the local server (the JSR route). */
function jsrApp(name: string, route: string): { app: string; host: string } {
  const app = newApp(name);
  const host = `127.0.0.1:${server!.port}`;
  writeFileSync(
    join(app, "deno.json"),
    JSON.stringify({ imports: { "@axelera/runtime": `http://${host}/${route}/mod.ts` } }),
  );
  return { app, host };
}

/** A static file server for `roots` (URL prefix -> directory), `.ts` as application/typescript. */
function serve(roots: Record<string, string>): { port: number; close: () => Promise<void> } {
  const server = D!.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const prefix = Object.keys(roots).find((p) => path.startsWith(p + "/"));
    if (!prefix || path.includes("..")) return new Response("not found", { status: 404 });
    const file = join(roots[prefix], path.slice(prefix.length));
    if (!existsSync(file)) return new Response("not found", { status: 404 });
    const type = file.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
    return new Response(readFileSync(file), { headers: { "content-type": type } });
  });
  return { port: (server.addr as Deno.NetAddr).port, close: () => server.shutdown() };
}

let work = "";
let dist = "";
let server: { port: number; close: () => Promise<void> } | undefined;
const outputs: Record<string, string> = {};

describe("packages as a new user meets them", { skip: isBun || !D }, () => {
  before(async () => {
    work = tempDir("axr-pack-test-");
    mkdirSync(join(work, "state"));
    dist = join(work, "dist");
    const r = await run(
      D!.execPath(),
      [
        "run",
        "-A",
        join(root, "scripts", "pack.ts"),
        "--out",
        dist,
        "--platforms",
        "linux-x86_64-gnu,linux-aarch64-gnu",
      ],
      root,
      { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "/tmp", ".cache") },
    );
    ok(r, "deno task pack");
    // A copy of the JSR package whose x86-64 library was altered after its hash was published.
    const bad = join(work, "jsr-bad");
    const cp = await run("cp", ["-r", join(dist, "jsr"), bad], work);
    ok(cp, "cp");
    const lib = join(bad, "native", "linux-x86_64-gnu", "libaxr.so");
    const bytes = readFileSync(lib);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(lib, bytes);
    server = serve({ "/good": join(dist, "jsr"), "/bad": bad });
  });
  after(async () => {
    await server?.close();
    removeDir(work);
  });

  test("dist/jsr is exactly what deno publish uploads, with the hash table filled", async () => {
    const r = await run(D!.execPath(), ["publish", "--dry-run", "--allow-dirty"], join(dist, "jsr"));
    const text = ok(r, "deno publish --dry-run") + r.stderr;
    const listed = new Set([...text.matchAll(/file:\/\/\S*?\/jsr\/(\S+)/g)].map((m) => m[1]));
    const walk = (d: string, pre = ""): string[] =>
      readdirSync(join(d, pre), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(d, join(pre, e.name)) : [join(pre, e.name)]
      );
    const files = walk(join(dist, "jsr")).filter((f) => f !== "deno.json").sort();
    assert.deepEqual([...listed].filter((f) => f !== "deno.json").sort(), files);
    assert.ok(
      files.includes("native/linux-x86_64-gnu/libaxr.so") && files.includes("native/linux-aarch64-gnu/libaxr.so"),
    );
    assert.match(
      readFileSync(join(dist, "jsr", "ffi", "library_hashes.ts"), "utf8"),
      /"linux-x86_64-gnu": "[0-9a-f]{64}"/,
    );
  });

  test("JSR route: mod.ts by http URL, clean DENO_DIR, library downloaded and verified", async () => {
    const { app, host } = jsrApp("jsr-app", "good");
    const denoDir = join(work, "deno-dir-jsr");
    const perms = [`--allow-import=${host}`, `--allow-net=${host}`, "--allow-ffi", "--allow-read", "--allow-write"];
    const r = await run(D!.execPath(), ["run", ...perms, "app.ts"], app, { DENO_DIR: denoDir });
    outputs.jsr = ok(r, "JSR route");
    assert.match(r.stderr, /library source: downloaded, sha256 verified/);
    const cached = readdirSync(join(denoDir, "axr-runtime"));
    assert.equal(cached.length, 1);
    assert.match(cached[0], /^libaxr-[0-9a-f]{64}\.so$/);

    // A corrupt cache entry is replaced, not reused.
    const entry = join(denoDir, "axr-runtime", cached[0]);
    writeFileSync(entry, "not a library");
    const again = await run(D!.execPath(), ["run", ...perms, "app.ts"], app, { DENO_DIR: denoDir });
    assert.equal(ok(again, "JSR route, corrupt cache"), outputs.jsr);
    assert.equal(
      readFileSync(entry).length,
      readFileSync(join(dist, "jsr", "native", "linux-x86_64-gnu", "libaxr.so")).length,
    );

    // Without --allow-net the download is not silently skipped: the error names the flag.
    const noNet = await run(
      D!.execPath(),
      ["run", ...perms.filter((p) => !p.startsWith("--allow-net")), "app.ts"],
      app,
      {
        DENO_DIR: join(work, "deno-dir-nonet"),
      },
    );
    assert.notEqual(noNet.code, 0);
    assert.match(noNet.stderr, /LibraryPermissionError: .*--allow-net=127\.0\.0\.1/);
  });

  test("JSR route: a library whose sha256 does not match is never loaded", async () => {
    const { app, host } = jsrApp("jsr-bad-app", "bad");
    const denoDir = join(work, "deno-dir-bad");
    const r = await run(
      D!.execPath(),
      ["run", `--allow-import=${host}`, `--allow-net=${host}`, "-RW", "--allow-ffi", "app.ts"],
      app,
      {
        DENO_DIR: denoDir,
      },
    );
    assert.notEqual(r.code, 0);
    const m = /LibraryIntegrityError: .* has sha256 ([0-9a-f]{64}), expected ([0-9a-f]{64})/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.notEqual(m[1], m[2]);
    assert.ok(!existsSync(join(denoDir, "axr-runtime")) || readdirSync(join(denoDir, "axr-runtime")).length === 0);
  });

  test("npm route: bun install of the tarballs, the same script under Bun and Deno, then bun build --compile", async () => {
    const app = newApp("npm-app");
    const npm = join(dist, "npm");
    const tgz = (n: string) => `file:${join(npm, n)}`;
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({
        name: "new-user",
        private: true,
        dependencies: { "@axelera/runtime": tgz("axelera-runtime-0.1.0.tgz") },
        // offline: the platform packages that optionalDependencies name come from the local tarballs
        overrides: {
          "@axelera/runtime-linux-x64-gnu": tgz("axelera-runtime-linux-x64-gnu-0.1.0.tgz"),
          "@axelera/runtime-linux-arm64-gnu": tgz("axelera-runtime-linux-arm64-gnu-0.1.0.tgz"),
        },
      }),
    );
    const offline = { BUN_CONFIG_REGISTRY: "http://127.0.0.1:9/", BUN_INSTALL_CACHE_DIR: join(work, "bun-cache") };
    ok(await run("bun", ["install"], app, offline), "bun install");
    assert.ok(existsSync(join(app, "node_modules", "@axelera", "runtime-linux-x64-gnu", "libaxr.so")));
    // (bun 1.4.5 installs an optional dependency overridden by a local tarball whatever its os/cpu
    // fields say; from a registry it honours them. Either way the library of this platform is used.)

    // Types: tsc (the one pack.ts installed) checks the app against the package's declarations
    // alone (no Deno, Node or Bun types), and a wrong use of the API is a type error, not an untyped import.
    const tsc = join(root, ".tools", "typescript", "node_modules", "typescript", "lib", "tsc.js");
    const typecheck = (file: string) => {
      writeFileSync(
        join(app, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: "ES2022",
            module: "ESNext",
            moduleResolution: "bundler",
            lib: ["ESNext", "DOM"],
            types: [],
          },
          files: [file],
        }),
      );
      return run("bun", [tsc, "-p", "tsconfig.json"], app);
    };
    ok(await typecheck("app.ts"), "tsc over app.ts with the npm package's declarations");
    writeFileSync(
      join(app, "wrong.ts"),
      `import * as axr from "@axelera/runtime";\nconst n: number = new axr.Context();\nconsole.log(n);\n`,
    );
    const wrong = await typecheck("wrong.ts");
    assert.notEqual(wrong.code, 0, "tsc accepts a Context where a number is declared");
    assert.match(wrong.stdout, /wrong\.ts\(2,7\): error TS2322: Type 'Context' is not assignable to type 'number'/);
    rmSync(join(app, "wrong.ts"));
    rmSync(join(app, "tsconfig.json"));

    const bunRun = await run("bun", ["app.ts"], app);
    outputs.bun = ok(bunRun, "bun app.ts");
    assert.match(bunRun.stderr, /library source: npm package @axelera\/runtime-linux-x64-gnu/);

    const denoRun = await run(D!.execPath(), ["run", "--allow-ffi", "--allow-read", "app.ts"], app, {
      DENO_DIR: join(work, "deno-dir-npm"),
    });
    outputs.deno = ok(denoRun, "deno run app.ts (npm route)");
    ok(
      await run(D!.execPath(), ["check", "app.ts"], app, { DENO_DIR: join(work, "deno-dir-npm") }),
      "deno check app.ts (npm route: the package's declarations)",
    );
    assert.match(denoRun.stderr, /library source: npm package @axelera\/runtime-linux-x64-gnu/);

    ok(await run("bun", ["build", "--compile", "app.ts", "--outfile", "app"], app), "bun build --compile");
    const empty = join(work, "empty");
    mkdirSync(empty);
    renameSync(join(app, "app"), join(empty, "app"));
    rmSync(join(app, "node_modules"), { recursive: true });
    copyModel(empty);
    const scratch = join(work, "exe-tmp");
    mkdirSync(scratch);
    const exe = await run("./app", [], empty, { TMPDIR: scratch });
    outputs.exe = ok(exe, "the compiled executable");
    assert.match(exe.stderr, /library source: embedded in the executable/);
    assert.equal(readdirSync(join(scratch)).length, 1, "one cache directory for the embedded library");

    assert.ok(outputs.jsr, "the JSR route ran first");
    assert.match(outputs.bun, /^\{"input":\[1,8,8,\d+\],"out":\{"fc":\[/);
    assert.equal(outputs.deno, outputs.bun, "Deno (npm) and Bun print the same bytes");
    assert.equal(outputs.exe, outputs.bun, "the executable prints the same bytes");
    assert.equal(outputs.jsr, outputs.bun, "the JSR route prints the same bytes");
  });

  test("Node.js: a typed error naming the supported runtimes", async (t) => {
    const node = await run("node", ["--version"], work).catch(() => undefined);
    if (!node || node.code !== 0) {
      t.skip("node is not installed");
      return;
    }
    const script = join(work, "node-app.mjs");
    writeFileSync(
      script,
      `const axr = await import(${JSON.stringify(join(dist, "npm", "runtime", "mod.js"))});
try { new axr.Context(); } catch (e) { console.log(e.name + ": " + e.message); process.exit(e instanceof axr.UnsupportedRuntimeError ? 0 : 1); }`,
    );
    const r = await run("node", [script], work);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /UnsupportedRuntimeError: .*Deno 2 or Bun 1\.x.*Node\.js v/);
  });
});
