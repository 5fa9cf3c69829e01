/**
 * The lifetime of native objects: every public object (Context, Connection,
 * Model, ModelInstance) owns a {@link NativeNode}: its native handle, the nodes
 * to release before it (its children), and whether it is released. Nodes hold
 * no reference to the public objects, so a forgotten object can be collected:
 * a FinalizationRegistry then frees its handle natively (the node is what is
 * registered, not the object).
 *
 * @module
 */
import { native, type NativeStatus, type UnsafePointer } from "../ffi/native.ts";
import { errorFromStatus, ReleasedError } from "./errors.ts";

/** The native side of one public object. */
export interface NativeNode {
  /** "Context", "Connection", "Model", "ModelInstance". */
  readonly kind: string;
  /** The native handle. */
  readonly handle: UnsafePointer;
  /** Set once released: no new call may use the handle. */
  released: boolean;
  /** Set once the handle has been destroyed natively. */
  destroyed: boolean;
  /** Native calls in flight on other threads (the destroy waits for them). */
  busy: number;
  /** Why it was released, for error messages. */
  reason: string;
  /** Nodes released first when this one is (children and dependents). */
  readonly children: Set<NativeNode>;
  /** Nodes whose `children` hold this one. */
  readonly parents: NativeNode[];
  /** Called after the handle is destroyed (e.g. closes a logger callback). */
  onRelease?: () => void;
}

/**
 * Releases `node` and, first, everything under it. Idempotent. The native
 * destroy of a node waits while it is busy (a runAsync in flight on another
 * thread) or while a child waits; it happens when the last one settles.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * const ctx = new Context();
 * releaseNode(ctx.node, "released"); // what ctx.release() does
 * ```
 */
export function releaseNode(node: NativeNode, reason: string): void {
  if (node.released) return;
  node.released = true; // first: a re-entrant call stops here
  node.reason = reason;
  // Children name the object the user released: "its Context was released".
  const childReason = reason.startsWith("its ") ? reason : `its ${node.kind} was ${reason}`;
  for (const c of [...node.children]) releaseNode(c, childReason);
  destroyWhenIdle(node);
}

function destroyWhenIdle(node: NativeNode): void {
  if (node.destroyed || node.busy > 0) return;
  for (const c of node.children) if (!c.destroyed) return; // a child still waits
  node.destroyed = true;
  try {
    native().destroy(node.handle);
  } finally {
    node.children.clear();
    for (const p of node.parents) {
      p.children.delete(node);
      if (p.released) destroyWhenIdle(p);
    }
    node.onRelease?.();
  }
}

/**
 * Marks `node` busy (a native call in flight off the JS thread): its native
 * destroy waits for {@link leaveBusy}.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model);
 * enterBusy(inst.node);
 * try {
 *   await inst.runAsync([new Int8Array(model.inputs()[0].size)], [new Int8Array(model.outputs()[0].size)]);
 * } finally {
 *   leaveBusy(inst.node);
 * }
 * ```
 */
export function enterBusy(node: NativeNode): void {
  node.busy++;
}

/**
 * Ends what {@link enterBusy} began; runs a release that waited.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model);
 * leaveBusy(inst.node);
 * ```
 */
export function leaveBusy(node: NativeNode): void {
  node.busy--;
  if (node.busy === 0 && node.released) destroyWhenIdle(node);
}

const finalizer = new FinalizationRegistry<NativeNode>((node) => {
  // A parent finalized first has already released it (its children set held the node).
  try {
    releaseNode(node, "garbage collected");
  } catch { /* never throw from a finalizer */ }
});

/**
 * The base of every public object: `context`, `release()`, `Symbol.dispose`,
 * and the released-object check.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context(); // released at the end of the scope
 * ```
 */
export abstract class AxrObject {
  /** @internal The native node. */
  readonly node: NativeNode;
  /** Strong references: a parent must outlive its children (finalization order). */
  readonly #owners: readonly AxrObject[];

  /**
   * @internal Wraps `handle`, released before each of `parents`.
   */
  protected constructor(kind: string, handle: UnsafePointer, parents: readonly AxrObject[]) {
    this.#owners = parents;
    this.node = {
      kind,
      handle,
      released: false,
      destroyed: false,
      busy: 0,
      reason: "",
      children: new Set(),
      parents: [],
    };
    for (const p of parents) {
      p.node.children.add(this.node);
      this.node.parents.push(p.node);
    }
    finalizer.register(this, this.node, this);
  }

  /** True once released (directly, through a parent, or by the garbage collector). */
  get released(): boolean {
    return this.node.released;
  }

  /**
   * Releases the native object and everything created from it. Idempotent:
   * a second call does nothing. Any later call on it throws {@link ReleasedError}.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * const ctx = new Context();
   * ctx.release();
   * ctx.release(); // no-op
   * ```
   */
  release(): void {
    if (this.node.released) return;
    finalizer.unregister(this);
    releaseNode(this.node, "released");
  }

  /**
   * Same as {@link release}, for `using`.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * { using ctx = new Context(); }
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }

  /**
   * @internal The live handle for `method`, or {@link ReleasedError}.
   */
  protected handleFor(method: string): UnsafePointer {
    const n = this.node;
    if (n.released) {
      throw new ReleasedError(
        `${n.kind}.${method}(): this ${n.kind} was released (${n.reason}); create a new one`,
        3,
        `${n.kind} released`,
      );
    }
    return n.handle;
  }

  /**
   * @internal Throws the typed error of a failed native call.
   */
  protected fail(method: string, status: NativeStatus): never {
    throw errorFromStatus(`${this.node.kind}.${method}()`, status);
  }
}
