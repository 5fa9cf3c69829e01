/**
 * The server's typed errors: each carries its HTTP status.
 *
 * @module
 */

/**
 * An error answered with an HTTP status and a JSON body `{"error": message}`.
 *
 * @example
 * ```ts
 * throw new HttpError(400, "input 'x': datatype must be FP32, got INT8");
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;
  /**
   * @example
   * ```ts
   * new HttpError(503, "queue full", { "Retry-After": "1" });
   * ```
   */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}
