/**
 * One HTTP client per tenant: an undici Pool for the store's origin (keep-alive, at most
 * maxSockets connections, shared by all sessions) and the retry loop every request goes through.
 * A Pool takes a path, not a URL: no URL is built and parsed per request (undici's top-level
 * request() does both).
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import { HttpStatusError, isRetryableStatus } from './errors.js';
import { REST_ERROR_BODY_MAX, REST_KEEP_ALIVE_MS } from './limits.js';
import { nextWaitMs } from './retry.js';
import type { SessionAuth } from './secret.js';

export interface RestRequest {
  readonly method: 'GET' | 'POST';
  /** Appended to the base URL: already percent-encoded. */
  readonly path: string;
  /** Every header but Authorization. */
  readonly headers: Record<string, string>;
  /** Where the Authorization header comes from (asked again for each attempt). */
  readonly auth: SessionAuth;
  readonly body?: string;
  /**
   * Ends the request early. Optional: undici's abort listener costs about as much as the rest of
   * a small request's JavaScript, so read-ahead (bounded, and dropped when unused) goes without.
   */
  readonly signal?: AbortSignal;
  /** Statuses that are an answer, not a failure (200, or 200 and 206 for a range). */
  readonly ok: readonly number[];
}

export interface RestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Streams at the reader's pace: undici stops reading the socket while it is not consumed. */
  readonly body: Dispatcher.ResponseData['body'];
}

export interface RestClientOptions {
  readonly baseUrl: string;
  readonly maxSockets: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  /** How long a body may be quiet: as long as a POP3 client may be, plus a margin. */
  readonly bodyIdleMs: number;
}

/** The store's error body (openapi.yaml `Error`), when it sent one. */
async function errorOf(body: Readable): Promise<{ code?: string; message: string }> {
  const chunks: Buffer[] = [];
  let held = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    held += chunk.length;
    if (held >= REST_ERROR_BODY_MAX) break;
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, REST_ERROR_BODY_MAX);
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
    return { ...(typeof parsed.code === 'string' && { code: parsed.code }), message: typeof parsed.message === 'string' ? parsed.message : text };
  } catch {
    return { message: text };
  }
}

/** For a token source when the request has no signal of its own (read-ahead): one shared, never aborted. */
const NEVER_ABORTED = new AbortController().signal;

export class RestClient {
  private readonly pool: Pool;
  /** The base URL's path (no trailing slash), put before every request's path. */
  private readonly prefix: string;

  constructor(private readonly opts: RestClientOptions) {
    const base = new URL(opts.baseUrl);
    this.prefix = base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(base.origin, {
      connections: opts.maxSockets,
      keepAliveTimeout: REST_KEEP_ALIVE_MS,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.bodyIdleMs,
      connect: { timeout: opts.requestTimeoutMs },
    });
  }

  /**
   * Sends the request, again after 429, 408, 5xx and transport failures (up to maxAttempts,
   * waiting what Retry-After asks or a jittered back-off), and once more after a 401 when the
   * session's credentials can be renewed (a grant's token that expired early).
   * @throws HttpStatusError for any other status, or once the attempts are spent; StoreError when
   *   the session's credentials cannot be had
   */
  async send(req: RestRequest): Promise<RestResponse> {
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.opts.maxAttempts;
      const authorization = await req.auth.header(req.signal ?? NEVER_ABORTED);
      let res;
      try {
        res = await this.pool.request({
          path: this.prefix + req.path,
          method: req.method,
          headers: { ...req.headers, authorization },
          body: req.body ?? null,
          ...(req.signal !== undefined && { signal: req.signal }),
        });
      } catch (err) {
        // Refused, reset or timed-out connections; an abort is the session ending: never retried.
        if (last || req.signal?.aborted === true) throw err;
        await sleep(nextWaitMs(attempt, undefined), undefined, { signal: req.signal });
        continue;
      }
      if (req.ok.includes(res.statusCode)) return { status: res.statusCode, headers: res.headers, body: res.body };
      const error = await errorOf(res.body).catch((): { code?: string; message: string } => ({ message: '(unreadable error body)' }));
      res.body.destroy();
      if (res.statusCode === 401 && !renewed && req.auth.refused(authorization)) {
        renewed = true;
        attempt--;
        continue;
      }
      const wait = isRetryableStatus(res.statusCode) && !last ? nextWaitMs(attempt, res.headers['retry-after']) : undefined;
      if (wait === undefined) throw new HttpStatusError(res.statusCode, error.code, error.message, attempt);
      await sleep(wait, undefined, { signal: req.signal });
    }
  }

  /** The body of a JSON answer. */
  async json<T>(req: RestRequest): Promise<T> {
    const res = await this.send(req);
    return (await res.body.json()) as T;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
