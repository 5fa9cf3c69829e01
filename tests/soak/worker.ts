/**
 * Worker of tests/soak/main.ts: its own Context and a connection to one sub-device;
 * runs `runAsync` jobs on request and posts each result back with its job id.
 *
 * @module
 */
import * as axr from "../../mod.ts";

interface Start {
  model: string;
  inputs: Int8Array[][];
}
interface Job {
  id: number;
  input: number;
}

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
};
let inst: axr.ModelInstance | undefined;
let ctx: axr.Context | undefined;
let inputs: Int8Array[][] = [];
let sizes: number[] = [];

self.onmessage = async (e: MessageEvent) => {
  const msg = e.data as { start?: Start; job?: Job; stop?: true };
  try {
    if (msg.start) {
      ctx = new axr.Context();
      const model = ctx.loadModel(msg.start.model);
      const conn = ctx.deviceConnect(0, 1);
      inst = conn.loadModelInstance(model);
      inputs = msg.start.inputs;
      sizes = model.outputs().map((t) => t.size);
      self.postMessage({ ready: true });
    } else if (msg.job) {
      const outs = sizes.map((n) => new Int8Array(n));
      await inst!.runAsync(inputs[msg.job.input], outs);
      self.postMessage({ done: msg.job.id, outputs: outs });
    } else if (msg.stop) {
      ctx?.release();
      self.postMessage({ stopped: true });
    }
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
