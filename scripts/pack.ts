/**
 * `deno task pack`: the packages as they would be published, from this checkout.
 *
 *   dist/jsr/   exactly the file set `deno publish` uploads: the sources, the WASM kernels
 *               (committed as a TS module), `native/<platform>/` prebuilt stripped libraries and
 *               `ffi/library_hashes.ts` filled with their sha256 (the JSR route checks downloads
 *               against it). Publish: `cd dist/jsr && deno publish`.
 *   dist/npm/   npm tarballs: `axelera-runtime-<v>.tgz` (JavaScript built by `bun build`: Deno
 *               refuses .ts in node_modules) naming one package per platform as
 *               optionalDependencies, and those packages (`os`/`cpu`/`libc` fields, the library
 *               alone), versions in lockstep with deno.json. Publish: `npm publish <tarball>
 *               --access public` for each, platform packages first.
 *
 * Options: --out DIR (default dist), --platforms linux-x86_64-gnu,linux-aarch64-gnu (default: every platform of
 * ffi/platform.ts that has `prebuilt`), --skip-native (reuse build/pack/ from a previous run).
 * The libraries are built with `zig build -Doptimize=ReleaseSafe -Dstrip -Dtarget=...` into
 * build/pack/<platform>/ (zig's global cache keeps rebuilds short). A Linux platform that fails
 * to build fails the pack; any other is skipped with its error.
 */
import { nativePlatforms } from "../ffi/platform.ts";
import { sha256Hex } from "../ffi/library_cache.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const MiB = 1024 * 1024;
const JSR_LIMIT = 20 * MiB; // per file and per package
/** tsc that writes the npm package's declarations (installed into .tools/typescript on first use). */
const TYPESCRIPT_VERSION = "5.9.3";

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

function run(cmd: string, args: string[], cwd = root): string {
  const out = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text}`);
  return text;
}

function log(msg: string): void {
  console.error(`[pack] ${msg}`);
}

function copy(from: string, to: string): void {
  Deno.mkdirSync(to.replace(/\/[^/]*$/, ""), { recursive: true });
  Deno.copyFileSync(from, to);
}

/**
 * The TypeScript declarations of mod.ts into `out` (one `.d.ts` per source, relative imports
 * ending in `.js` as npm consumers resolve them), emitted by tsc (pinned, installed on first use
 * into .tools/typescript). The sources are type-checked with Deno's and Node's types, and the
 * emitted files must not name either: a Bun or Deno user of the npm package has neither, or not
 * both.
 */
function declarations(out: string): void {
  const prefix = `${root}/.tools/typescript`;
  const tsc = `${prefix}/node_modules/typescript/lib/tsc.js`;
  let have = "";
  try {
    have = JSON.parse(Deno.readTextFileSync(`${prefix}/node_modules/typescript/package.json`)).version;
  } catch { /* not installed yet */ }
  if (have !== TYPESCRIPT_VERSION) {
    log(`installing typescript ${TYPESCRIPT_VERSION} from npm into .tools/typescript`);
    run("npm", [
      "install",
      "--silent",
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--prefix",
      prefix,
      `typescript@${TYPESCRIPT_VERSION}`,
    ]);
  }
  const tmp = Deno.makeTempDirSync({ prefix: "axr-pack-types-" });
  try {
    Deno.writeTextFileSync(`${tmp}/deno.d.ts`, run(Deno.execPath(), ["types"]));
    Deno.writeTextFileSync(
      `${tmp}/tsconfig.json`,
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "bundler",
          lib: ["ESNext", "DOM"],
          types: ["node"],
          typeRoots: [`${root}/node_modules/@types`],
          strict: true,
          skipLibCheck: true,
          declaration: true,
          emitDeclarationOnly: true,
          allowImportingTsExtensions: true,
          rootDir: root,
          outDir: `${tmp}/out`,
        },
        files: [`${root}/mod.ts`, `${tmp}/deno.d.ts`],
      }),
    );
    run("bun", [tsc, "-p", `${tmp}/tsconfig.json`]);
    for (const f of walk(`${tmp}/out`)) {
      const text = Deno.readTextFileSync(f).replace(/(["'])(\.{1,2}\/[^"'\n]+)\.ts\1/g, "$1$2.js$1");
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      const foreign = /\bDeno\.|\bNodeJS\.|\bBuffer\b|["']node:/.exec(code);
      if (foreign) throw new Error(`${f}: the public declarations name ${foreign[0]} (a runtime's own types)`);
      const to = `${out}/${f.slice(`${tmp}/out/`.length)}`;
      Deno.mkdirSync(to.replace(/\/[^/]*$/, ""), { recursive: true });
      Deno.writeTextFileSync(to, text);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  log(`${out}: declarations of mod.ts`);
}

/** Files under `dir` (relative to root, or absolute), recursively. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir.startsWith("/") ? dir : `${root}/${dir}`)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...walk(rel));
    else if (e.isFile) out.push(rel);
  }
  return out;
}

const denoJson = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
const version: string = denoJson.version;
const wanted = arg("--platforms")?.split(",") ?? nativePlatforms.filter((p) => p.prebuilt).map((p) => p.key);
for (const k of wanted) if (!nativePlatforms.some((p) => p.key === k)) throw new Error(`unknown platform ${k}`);

// The Bun entry point names every platform package literally (Bun embeds what it resolves).
const bunEntry = Deno.readTextFileSync(`${root}/npm/bun.ts`);
for (const p of nativePlatforms) {
  if (!bunEntry.includes(`"${p.npmPackage}/${p.file}"`)) {
    throw new Error(`npm/bun.ts does not import ${p.npmPackage}/${p.file}`);
  }
}

// 1. The native libraries.
const built: { key: string; path: string; hash: string; size: number }[] = [];
for (const plat of nativePlatforms.filter((p) => wanted.includes(p.key))) {
  const prefix = `${root}/build/pack/${plat.key}`;
  if (!Deno.args.includes("--skip-native")) {
    const t0 = performance.now();
    try {
      run("zig", ["build", "-Doptimize=ReleaseSafe", "-Dstrip", `-Dtarget=${plat.zigTarget}`, "--prefix", prefix]);
      log(`built ${plat.key} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      if (plat.os === "linux") throw e;
      log(`skipped ${plat.key}: ${(e as Error).message.split("\n").find((l) => l.includes("error:")) ?? e}`);
      continue;
    }
  }
  const path = `${prefix}/${plat.zigOut}`;
  const bytes = Deno.readFileSync(path);
  if (bytes.length > JSR_LIMIT) throw new Error(`${path}: ${bytes.length} bytes, over JSR's 20 MiB per file`);
  built.push({ key: plat.key, path, hash: sha256Hex(bytes), size: bytes.length });
}

// 2. dist/jsr: publish.include of deno.json, the libraries, the hash table.
const dist = arg("--out") ?? `${root}/dist`;
try {
  Deno.removeSync(dist, { recursive: true });
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
const jsr = `${dist}/jsr`;
const include: string[] = denoJson.publish.include;
const sources: string[] = [];
for (const inc of include) {
  if (inc.endsWith("/")) sources.push(...walk(inc.slice(0, -1)));
  else if (inc.includes("*")) {
    const [dir, pat] = [inc.slice(0, inc.lastIndexOf("/")), inc.slice(inc.lastIndexOf("/") + 1)];
    const re = new RegExp("^" + pat.replace(/\./g, "\\.").replace(/\*/g, "[^/]*") + "$");
    sources.push(
      ...walk(dir).filter((f) => !f.slice(dir.length + 1).includes("/") && re.test(f.slice(dir.length + 1))),
    );
  } else sources.push(inc);
}
for (const f of sources.filter((f) => !f.endsWith(".test.ts"))) copy(`${root}/${f}`, `${jsr}/${f}`);
for (const b of built) {
  const plat = nativePlatforms.find((p) => p.key === b.key)!;
  copy(b.path, `${jsr}/native/${b.key}/${plat.file}`);
}
const table = built.map((b) => `  "${b.key}": "${b.hash}",`).join("\n");
const hashes = Deno.readTextFileSync(`${root}/ffi/library_hashes.ts`)
  .replace(/= \{\};/, `= {\n${table}\n};`);
if (!hashes.includes(built[0]?.hash ?? "-")) throw new Error("ffi/library_hashes.ts: cannot fill the table");
Deno.writeTextFileSync(`${jsr}/ffi/library_hashes.ts`, hashes);
const jsrConfig = {
  name: denoJson.name,
  version,
  license: denoJson.license,
  exports: denoJson.exports,
  publish: { include: [...include, "native/"], exclude: denoJson.publish.exclude },
};
Deno.writeTextFileSync(`${jsr}/deno.json`, JSON.stringify(jsrConfig, null, 2) + "\n");
let jsrTotal = 0;
const jsrFiles = walk(jsr);
for (const f of jsrFiles) jsrTotal += Deno.statSync(f).size;
if (jsrTotal > JSR_LIMIT) throw new Error(`${jsr} holds ${jsrTotal} bytes, over JSR's 20 MiB per package`);
log(`${jsr}: ${jsrFiles.length} files, ${(jsrTotal / MiB).toFixed(2)} MiB`);

// 3. dist/npm: the JavaScript package and one package per platform.
const npm = `${dist}/npm`;
const pkgDir = `${npm}/runtime`;
Deno.mkdirSync(pkgDir, { recursive: true });
run("bun", ["build", "mod.ts", "--target=node", "--format=esm", "--outfile", `${pkgDir}/mod.js`]);
run("bun", [
  "build",
  "npm/bun.ts",
  "--target=node",
  "--format=esm",
  ...nativePlatforms.flatMap((p) => ["--external", p.npmPackage]),
  "--outfile",
  `${pkgDir}/bun.js`,
]);
declarations(`${pkgDir}/types`);
copy(`${root}/README.md`, `${pkgDir}/README.md`);
copy(`${root}/LICENSE`, `${pkgDir}/LICENSE`);
const npmName = (s: string) => s.replace(/^@/, "").replace("/", "-");
const common = { version, license: denoJson.license };
Deno.writeTextFileSync(
  `${pkgDir}/package.json`,
  JSON.stringify(
    {
      name: denoJson.name,
      ...common,
      description: "Runtime for Axelera Metis AI accelerators, for Deno and Bun (emulated device included)",
      type: "module",
      main: "./mod.js",
      types: "./types/mod.d.ts",
      exports: { ".": { types: "./types/mod.d.ts", bun: "./bun.js", default: "./mod.js" } },
      files: ["mod.js", "bun.js", "types/", "README.md", "LICENSE"],
      engines: { bun: ">=1.1" },
      optionalDependencies: Object.fromEntries(
        nativePlatforms.filter((p) => built.some((b) => b.key === p.key)).map((p) => [p.npmPackage, version]),
      ),
    },
    null,
    2,
  ) + "\n",
);
const tarballs: string[] = [];
for (const b of built) {
  const plat = nativePlatforms.find((p) => p.key === b.key)!;
  const dir = `${npm}/${b.key}`;
  copy(b.path, `${dir}/${plat.file}`);
  copy(`${root}/LICENSE`, `${dir}/LICENSE`);
  Deno.writeTextFileSync(
    `${dir}/package.json`,
    JSON.stringify(
      {
        name: plat.npmPackage,
        ...common,
        description: `The native library of @axelera/runtime for ${b.key}`,
        os: [plat.os],
        cpu: [plat.cpu],
        ...(plat.libc ? { libc: [plat.libc] } : {}),
        files: [plat.file, "LICENSE"],
      },
      null,
      2,
    ) + "\n",
  );
  run("npm", ["pack", "--silent", "--pack-destination", npm], dir);
  tarballs.push(`${npmName(plat.npmPackage)}-${version}.tgz`);
}
run("npm", ["pack", "--silent", "--pack-destination", npm], pkgDir);
tarballs.push(`${npmName(denoJson.name)}-${version}.tgz`);
for (const t of tarballs) {
  const size = Deno.statSync(`${npm}/${t}`).size;
  log(`${npm}/${t}: ${(size / MiB).toFixed(2)} MiB`);
}
console.log(
  JSON.stringify({ version, platforms: built.map(({ key, hash, size }) => ({ key, hash, size })), tarballs }),
);
