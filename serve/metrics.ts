/**
 * Server metrics in the Prometheus text format: requests by model and status, a
 * latency histogram, queue depth, device FPS and modelled utilisation (inst.stats()).
 *
 * @module
 */
import type { Repository } from "./repository.ts";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Counters of one server.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * import { Repository } from "./repository.ts";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
 * const m = new Metrics();
 * m.observe("tiny", 200, 0.003);
 * console.log(m.render(repo));
 * ```
 */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #hist = new Map<string, { buckets: number[]; sum: number; count: number }>();

  /** Records one infer request. @example `m.observe("tiny", 200, 0.002)` */
  observe(model: string, status: number, seconds: number): void {
    const k = `${model}\u0000${status}`;
    this.#requests.set(k, (this.#requests.get(k) ?? 0) + 1);
    if (status !== 200) return;
    let h = this.#hist.get(model);
    if (!h) this.#hist.set(model, h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 });
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]++;
    });
    h.sum += seconds;
    h.count++;
  }

  /** The text exposition. @example `m.render(repo)` */
  render(repo: Repository): string {
    const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const l: string[] = [];
    l.push(
      "# HELP axr_serve_requests_total Inference requests by model and HTTP status.",
      "# TYPE axr_serve_requests_total counter",
    );
    for (const [k, v] of this.#requests) {
      const [m, s] = k.split("\u0000");
      l.push(`axr_serve_requests_total{model="${esc(m)}",status="${s}"} ${v}`);
    }
    l.push(
      "# HELP axr_serve_request_seconds Latency of successful inference requests.",
      "# TYPE axr_serve_request_seconds histogram",
    );
    for (const [m, h] of this.#hist) {
      BUCKETS.forEach((b, i) =>
        l.push(`axr_serve_request_seconds_bucket{model="${esc(m)}",le="${b}"} ${h.buckets[i]}`)
      );
      l.push(`axr_serve_request_seconds_bucket{model="${esc(m)}",le="+Inf"} ${h.count}`);
      l.push(
        `axr_serve_request_seconds_sum{model="${esc(m)}"} ${h.sum}`,
        `axr_serve_request_seconds_count{model="${esc(m)}"} ${h.count}`,
      );
    }
    l.push("# HELP axr_serve_queue_depth Requests waiting per model.", "# TYPE axr_serve_queue_depth gauge");
    for (const lm of repo.loaded()) l.push(`axr_serve_queue_depth{model="${esc(lm.name)}"} ${lm.scheduler.queueDepth}`);
    l.push("# HELP axr_serve_in_flight Requests running per model.", "# TYPE axr_serve_in_flight gauge");
    for (const lm of repo.loaded()) l.push(`axr_serve_in_flight{model="${esc(lm.name)}"} ${lm.scheduler.inFlight}`);
    // One pass over the instances' stats, then each family's samples under its own
    // HELP/TYPE lines (the text format wants a family's samples together, after its TYPE).
    const fps: string[] = [], mvm: string[] = [];
    for (const lm of repo.loaded()) {
      lm.instances.forEach((inst, i) => {
        let s;
        try {
          s = inst.stats();
        } catch {
          return; // an instance released under us (unload): no figures for it
        }
        if (!s || s.runs === 0) return;
        const labels = `model="${esc(lm.name)}",instance="${i}"`;
        if (s.lastDeviceUs > 0) fps.push(`axr_serve_device_fps{${labels}} ${1e6 / s.lastDeviceUs}`);
        s.mvmUtilisation?.forEach((u, c) => mvm.push(`axr_serve_mvm_utilisation{${labels},core="${c}"} ${u}`));
      });
    }
    l.push(
      "# HELP axr_serve_device_fps Modelled device frames per second of the last run (1e6 / lastDeviceUs).",
      "# TYPE axr_serve_device_fps gauge",
      ...fps,
      "# HELP axr_serve_mvm_utilisation Modelled MVM utilisation of the last run (percent, per core).",
      "# TYPE axr_serve_mvm_utilisation gauge",
      ...mvm,
    );
    return l.join("\n") + "\n";
  }
}
