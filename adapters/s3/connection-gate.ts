/**
 * At most `maxSockets` HTTP exchanges of a tenant in flight at once, counted from the request to
 * the end of its response body. A RETR holds its exchange for as long as the POP3 client takes
 * to read the message, so a full pool is a normal state under load, not a fault of one request.
 *
 * Node's own agent queue would make a request that finds no free socket wait silently: the SDK
 * then reports a connect timeout and retries it, so the session hangs for maxAttempts x
 * connectTimeoutMs. Here the request waits up to `waitMs` for a free slot and then fails with
 * {@link ConnectionsBusyError}, which the SDK does not retry and errors.ts reports clearly.
 * The agent keeps the same maxSockets, so it never queues what this gate let through.
 */
import { finished, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';

export class ConnectionsBusyError extends Error {
  override readonly name = 'S3ConnectionsBusy';
  constructor(
    readonly maxSockets: number,
    waitedMs: number,
  ) {
    super(`all ${maxSockets} connections to the S3 endpoint stayed in use for ${waitedMs} ms (the tenant's maxSockets)`);
  }
}

class Gate {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly size: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves with the function that gives the slot back (call it once). */
  async acquire(): Promise<() => void> {
    if (this.inUse < this.size) {
      this.inUse++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const granted = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(granted), 1);
        reject(new ConnectionsBusyError(this.size, this.waitMs));
      }, this.waitMs);
      this.waiting.push(granted);
    });
    // The slot was handed over by a release(): inUse already counts it.
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.inUse--;
    };
  }
}

function isReadable(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).on === 'function' && typeof (body as Readable).read === 'function';
}

/**
 * Adds the gate as the innermost middleware (deserialize step, low priority): it runs once per
 * attempt, after the retry strategy's back-off, so a request sleeping before a retry holds no slot.
 */
export function addConnectionGate(client: S3Client, maxSockets: number, waitMs: number): void {
  const gate = new Gate(maxSockets, waitMs);
  const middleware = <A, R extends { readonly response: unknown }>(next: (args: A) => Promise<R>): ((args: A) => Promise<R>) => {
    return async (args) => {
      const release = await gate.acquire();
      let out: R;
      try {
        out = await next(args);
      } catch (err) {
        release();
        throw err;
      }
      const body = (out.response as { body?: unknown }).body;
      // The exchange (and its socket) lasts until the body is read to the end or destroyed.
      if (isReadable(body)) finished(body, () => release());
      else release();
      return out;
    };
  };
  client.middlewareStack.add(middleware, { step: 'deserialize', priority: 'low', name: 'popgateConnectionGate', override: true });
}
