/**
 * Requests to the Gmail API for one tenant: one undici Agent (keep-alive, `maxSockets`
 * connections), the user's quota units paced, at most `maxInFlightPerUser` requests of a user
 * in flight, the bearer token from the tenant's TokenSource (renewed once on a 401 when it can
 * be), and retries of throttling, 5xx and network errors with capped, jittered back-off.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { StoreError, type BackendLogin } from '../contract.js';
import { KeyedGate } from '../shared/keyed-gate.js';
import { DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_CAP_MS, parseRetryAfter, retryDelayMs, sleepUnlessAborted, type RetryPolicy } from '../shared/retry-policy.js';
import type { TokenSource } from '../shared/token-source.js';
import { UnitPacer } from '../shared/unit-pacer.js';
import type { GmailTenantConfig } from './config.js';
import { GmailHttpError, isRetryable, reasonOf } from './errors.js';
import { GMAIL_ERROR_BODY_MAX, GMAIL_KEEP_ALIVE_MS, GMAIL_UNITS } from './limits.js';

export type GmailOp = keyof typeof GMAIL_UNITS;

export interface GmailRequest {
  readonly op: GmailOp;
  /** Under /gmail/v1/users/me/messages. */
  readonly path: string;
  readonly method?: 'GET' | 'POST' | 'DELETE';
  readonly query?: URLSearchParams;
  readonly json?: unknown;
}

/** A successful answer whose body is still to be read; release() frees the user's place. */
export interface GmailBody {
  readonly body: Readable;
  readonly release: () => void;
}

/** The tenant's connections to Google (the API and the token endpoint share them). */
export function createGmailAgent(cfg: GmailTenantConfig): Agent {
  return new Agent({
    connections: cfg.maxSockets,
    keepAliveTimeout: GMAIL_KEEP_ALIVE_MS,
    headersTimeout: cfg.requestTimeoutMs,
    bodyTimeout: cfg.requestTimeoutMs,
  });
}

export class GmailClient {
  private readonly gate: KeyedGate;
  private readonly pacer: UnitPacer;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly cfg: GmailTenantConfig,
    private readonly dispatcher: Dispatcher,
    readonly tokens: TokenSource,
    private readonly logger: Logger,
  ) {
    this.gate = new KeyedGate(cfg.maxInFlightPerUser);
    this.pacer = new UnitPacer(cfg.unitsPerSecond);
    this.policy = { attempts: cfg.maxAttempts, baseMs: DEFAULT_RETRY_BASE_MS, capMs: DEFAULT_RETRY_CAP_MS };
  }

  /** The answer's JSON (undefined for an empty body). */
  async json<T>(login: BackendLogin, req: GmailRequest, signal: AbortSignal): Promise<T | undefined> {
    const res = await this.send(login, req, signal);
    try {
      const text = await (res.body as Dispatcher.ResponseData['body']).text();
      return text.trim() === '' ? undefined : (JSON.parse(text) as T);
    } finally {
      res.release();
    }
  }

  /** A streamed answer: the user's place is held until the body is consumed or destroyed. */
  async open(login: BackendLogin, req: GmailRequest, signal: AbortSignal): Promise<GmailBody> {
    const res = await this.send(login, req, signal);
    res.body.once('close', res.release);
    return res;
  }

  /** Requests a user has in flight (for tests). */
  inFlight(user: string): number {
    return this.gate.held(user);
  }

  private async send(login: BackendLogin, req: GmailRequest, signal: AbortSignal): Promise<GmailBody> {
    const url = `${this.cfg.baseUrl}/gmail/v1/users/me/messages${req.path}${req.query === undefined ? '' : `?${req.query.toString()}`}`;
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      await this.pacer.take(login.user, GMAIL_UNITS[req.op], signal);
      const release = await this.gate.acquire(login.user, signal);
      let token: string;
      let res: Dispatcher.ResponseData;
      try {
        token = await this.tokens.accessToken(login, signal);
        res = await request(url, {
          method: req.method ?? 'GET',
          dispatcher: this.dispatcher,
          headers: { authorization: `Bearer ${token}`, ...(req.json !== undefined && { 'content-type': 'application/json' }) },
          ...(req.json !== undefined && { body: JSON.stringify(req.json) }),
          signal,
        });
      } catch (err) {
        release();
        if (err instanceof StoreError || signal.aborted) throw err;
        const wait = retryDelayMs(this.policy, attempt);
        if (wait === undefined) throw new StoreError('TEMPORARY', `gmail: ${req.op}: ${(err as Error).message} (after ${attempt} attempts)`, { cause: err });
        this.logger.debug({ op: req.op, attempt, wait, err: (err as Error).message }, 'gmail: request failed; retrying');
        await sleepUnlessAborted(wait, signal);
        continue;
      }
      if (res.statusCode < 300) return { body: res.body, release };
      const text = await errorText(res.body);
      release();
      const { reason, message } = reasonOf(res.statusCode, text);
      if (res.statusCode === 401 && this.tokens.renewable && !renewed) {
        // Revoked or expired early: one fresh token, then a 401 is final.
        renewed = true;
        this.tokens.invalidate(login, token);
        attempt--;
        continue;
      }
      const wait = isRetryable(res.statusCode, reason) ? retryDelayMs(this.policy, attempt, parseRetryAfter(res.headers['retry-after'])) : undefined;
      if (wait === undefined) throw new GmailHttpError(res.statusCode, reason, message, attempt);
      this.logger.debug({ op: req.op, attempt, wait, status: res.statusCode, reason }, 'gmail: throttled or failed; retrying');
      await sleepUnlessAborted(wait, signal);
    }
  }
}

/** The start of an error answer (its reason is there); the rest is dropped, not buffered. */
async function errorText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let held = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    if (held < GMAIL_ERROR_BODY_MAX) {
      chunks.push(c);
      held += c.length;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
