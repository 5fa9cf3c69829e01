/**
 * The model repository: every directory under the root holding a model.json, loaded
 * on demand into instances fed by a {@link Scheduler}. Names are plain directory names:
 * nothing outside the root is reachable.
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type Connection,
  type Context,
  type Model,
  type ModelInstance,
  type ModelSignature,
  modelSignature,
} from "../mod.ts";
import { HttpError } from "./errors.ts";
import { type RawSignature, rawSignature } from "./raw.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A loaded model. */
export interface LoadedModel {
  name: string;
  model: Model;
  signature: ModelSignature;
  /** The device tensors, for requests with `parameters.raw`. */
  raw: RawSignature;
  scheduler: Scheduler;
  instances: ModelInstance[];
  release(): void;
}

/** Options of a {@link Repository}. */
export interface RepositoryOptions extends SchedulerOptions {
  /** Instances per model. */
  instances: number;
}

/**
 * The models under one directory.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 2, maxQueue: 64, timeoutMs: 10_000 });
 * repo.loadAll();
 * ```
 */
export class Repository {
  readonly root: string;
  readonly #ctx: Context;
  readonly #conn: Connection;
  readonly #opts: RepositoryOptions;
  readonly #loaded = new Map<string, LoadedModel>();
  readonly #failed = new Map<string, string>();

  /**
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
   * ```
   */
  constructor(root: string, ctx: Context, conn: Connection, opts: RepositoryOptions) {
    this.root = root;
    this.#ctx = ctx;
    this.#conn = conn;
    this.#opts = opts;
  }

  /**
   * Names of the model directories under the root: directories, or symbolic links to
   * directories (the usual layout of a mounted volume), holding a model.json.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
   * repo.names(); // ["keras", "ops", "tiny", "uint8"]
   * ```
   */
  names(): string[] {
    const isDir = (d: { name: string; isDirectory(): boolean; isSymbolicLink(): boolean }) => {
      if (d.isDirectory()) return true;
      if (!d.isSymbolicLink()) return false;
      try {
        return statSync(join(this.root, d.name)).isDirectory();
      } catch {
        return false; // a dangling link
      }
    };
    return readdirSync(this.root, { withFileTypes: true })
      .filter((d) => NAME.test(d.name) && isDir(d) && existsSync(join(this.root, d.name, "model.json")))
      .map((d) => d.name).sort();
  }

  /**
   * Loads every model; failures are recorded (see {@link index}) and returned as
   * [name, reason] pairs.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
   * for (const [name, why] of repo.loadAll()) console.error(`${name}: ${why}`);
   * ```
   */
  loadAll(): [string, string][] {
    const failed: [string, string][] = [];
    for (const n of this.names()) {
      try {
        this.load(n);
      } catch {
        failed.push([n, this.#failed.get(n) ?? "unknown error"]);
      }
    }
    return failed;
  }

  /** The repository index of the v2 model repository extension. @example `repo.index()` */
  index(): { name: string; version: string; state: string; reason: string }[] {
    return this.names().map((name) => ({
      name,
      version: "1",
      state: this.#loaded.has(name) ? "READY" : "UNAVAILABLE",
      reason: this.#loaded.has(name) ? "" : (this.#failed.get(name) ?? "unloaded"),
    }));
  }

  /** A loaded model, or undefined. @example `repo.get("tiny")` */
  get(name: string): LoadedModel | undefined {
    return this.#loaded.get(name);
  }

  /** Every loaded model. @example `repo.loaded()` */
  loaded(): LoadedModel[] {
    return [...this.#loaded.values()];
  }

  /**
   * Loads (or keeps) one model; 400 for a name that is not a model directory under the root.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
   * repo.load("tiny");
   * ```
   */
  load(name: string): LoadedModel {
    const have = this.#loaded.get(name);
    if (have) return have;
    if (!NAME.test(name) || !this.names().includes(name)) {
      throw new HttpError(400, `unknown model '${name}': no such model directory in the repository`);
    }
    try {
      const model = this.#ctx.loadModel(join(this.root, name, "model.json"));
      const signature = modelSignature(model);
      const instances = Array.from({ length: this.#opts.instances }, () => this.#conn.loadModelInstance(model));
      const scheduler = new Scheduler(instances, this.#opts);
      const lm: LoadedModel = {
        name,
        model,
        signature,
        raw: rawSignature(model),
        scheduler,
        instances,
        release: () => {
          instances.forEach((i) => i.release());
          model.release();
        },
      };
      this.#loaded.set(name, lm);
      this.#failed.delete(name);
      return lm;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.#failed.set(name, msg);
      throw new HttpError(400, `model '${name}' failed to load: ${msg}`);
    }
  }

  /**
   * Unloads one model after its queued requests finish.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
   * repo.load("tiny");
   * await repo.unload("tiny");
   * ```
   */
  async unload(name: string): Promise<void> {
    const lm = this.#loaded.get(name);
    if (!lm) {
      if (!NAME.test(name) || !this.names().includes(name)) throw new HttpError(400, `unknown model '${name}'`);
      return;
    }
    this.#loaded.delete(name);
    await lm.scheduler.drain();
    lm.release();
  }

  /** Unloads everything, waiting for in-flight work. @example `await repo.close()` */
  async close(): Promise<void> {
    await Promise.all([...this.#loaded.keys()].map((n) => this.unload(n)));
  }
}
