/**
 * Access tokens minted for a Google service account with domain-wide delegation: an RS256 JWT
 * assertion (`sub` = the user to act as) exchanged at the token endpoint (RFC 7523 bearer
 * grant). One token per user, cached until shortly before it expires; concurrent sessions of a
 * user wait for the same request. IMAP to Gmail (XOAUTH2) could mint its tokens here as well.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { LRUCache } from 'lru-cache';
import { request, type Dispatcher } from 'undici';
import { StoreError, type BackendLogin } from '../contract.js';
import { loggableName } from './log-text.js';
import type { TokenSource } from './token-source.js';

export interface ServiceAccount {
  readonly clientEmail: string;
  readonly clientId: string;
  readonly keyId: string | undefined;
  readonly privateKey: KeyObject;
}

/** An assertion may live at most one hour (Google refuses longer). */
const ASSERTION_LIFETIME_S = 3600;
/** Users whose tokens are cached (a token is ~250 bytes). */
const CACHED_USERS = 10_000;
/** The token endpoint's answer is awaited at most this long. */
const TOKEN_TIMEOUT_MS = 15_000;

/** The key file's problem, worded for a config error; or the account. */
export function readServiceAccountKey(path: string): ServiceAccount | string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return `cannot read the key file ${path}: ${(err as Error).message}`;
  }
  if (parsed.type !== 'service_account') return `${path} is not a service account key (type: ${String(parsed.type)})`;
  if (typeof parsed.client_email !== 'string' || typeof parsed.private_key !== 'string') return `${path} has no client_email or private_key`;
  try {
    const privateKey = createPrivateKey(parsed.private_key);
    if (privateKey.asymmetricKeyType !== 'rsa') return `${path}: the private key is not an RSA key`;
    return {
      clientEmail: parsed.client_email,
      clientId: typeof parsed.client_id === 'string' ? parsed.client_id : '',
      keyId: typeof parsed.private_key_id === 'string' ? parsed.private_key_id : undefined,
      privateKey,
    };
  } catch (err) {
    return `${path}: the private key cannot be read: ${(err as Error).message}`;
  }
}

interface Cached {
  readonly token: string;
  readonly refreshAt: number;
}

export class ServiceAccountTokens implements TokenSource {
  readonly renewable = true;
  private readonly cache = new LRUCache<string, Cached>({ max: CACHED_USERS });
  private readonly minting = new Map<string, Promise<string>>();

  constructor(
    private readonly account: ServiceAccount,
    private readonly tokenUrl: string,
    private readonly scope: string,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {}

  async accessToken(login: BackendLogin, signal: AbortSignal): Promise<string> {
    const sub = login.user;
    const cached = this.cache.get(sub);
    if (cached !== undefined && Date.now() < cached.refreshAt) return cached.token;
    let pending = this.minting.get(sub);
    if (pending === undefined) {
      // Not tied to one session's signal: other sessions of the user wait for the same token.
      pending = this.mint(sub).finally(() => this.minting.delete(sub));
      this.minting.set(sub, pending);
    }
    return await abortable(pending, signal);
  }

  invalidate(login: BackendLogin, token: string): void {
    if (this.cache.get(login.user)?.token === token) this.cache.delete(login.user);
  }

  /** Tokens minted so far (for tests). */
  get cachedUsers(): number {
    return this.cache.size;
  }

  private assertion(sub: string): string {
    const iat = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(this.account.keyId !== undefined && { kid: this.account.keyId }) };
    const claims = { iss: this.account.clientEmail, scope: this.scope, aud: this.tokenUrl, iat, exp: iat + ASSERTION_LIFETIME_S, sub };
    const signed = `${b64(header)}.${b64(claims)}`;
    return `${signed}.${createSign('RSA-SHA256').update(signed).sign(this.account.privateKey).toString('base64url')}`;
  }

  private async mint(sub: string): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: this.assertion(sub) }).toString();
    let status: number;
    let answer: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    try {
      const res = await request(this.tokenUrl, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
      status = res.statusCode;
      const text = await res.body.text();
      answer = text === '' ? {} : (JSON.parse(text) as typeof answer);
    } catch (err) {
      throw new StoreError('TEMPORARY', `gmail: the token endpoint cannot be reached: ${(err as Error).message}`, { cause: err });
    }
    if (status === 200 && typeof answer.access_token === 'string') {
      const lifetimeMs = (typeof answer.expires_in === 'number' ? answer.expires_in : 3600) * 1000;
      // Renewed before it runs out: a request sent with a token about to expire earns a 401.
      this.cache.set(sub, { token: answer.access_token, refreshAt: Date.now() + lifetimeMs - Math.min(300_000, lifetimeMs / 4) });
      return answer.access_token;
    }
    const error = typeof answer.error === 'string' ? answer.error : `HTTP ${status}`;
    const detail = `${error}${typeof answer.error_description === 'string' ? `: ${answer.error_description}` : ''}`;
    if (status >= 500 || status === 429) throw new StoreError('TEMPORARY', `gmail: the token endpoint failed: ${detail}`);
    this.logger.error({ user: loggableName(sub), err: detail, clientId: this.account.clientId }, this.hint(error));
    throw new StoreError('PERMANENT', `gmail: Google refused the service account's token request: ${detail}`);
  }

  private hint(error: string): string {
    switch (error) {
      case 'unauthorized_client':
        return `gmail: the service account may not act for users of this domain: in the Google Admin console (Security > API controls > Domain-wide delegation) grant client id ${this.account.clientId} the scope ${this.scope}`;
      case 'invalid_client':
        return 'gmail: Google does not know the service account (deleted or disabled): create a new key and point serviceAccountKey at it';
      default:
        return "gmail: Google refused the service account's assertion (invalid_grant): check that the user exists in the Workspace domain, that the key is not deleted or disabled, and that this server's clock is right";
    }
  }
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
