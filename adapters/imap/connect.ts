/** Opens one imapflow connection for a POP3 session and classifies its failures. */
import { readFileSync } from 'node:fs';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { ImapTenantConfig } from '../../src/config/schema.js';
import { StoreError } from '../../src/errors.js';
import type { BackendLogin } from '../contract.js';

/** What imapflow attaches to the errors it throws (its own types do not name these fields). */
interface ImapFlowFailure {
  readonly code?: string;
  readonly authenticationFailed?: boolean;
  readonly serverResponseCode?: string;
  readonly responseStatus?: string;
  readonly message?: string;
}

export function readCa(cfg: ImapTenantConfig): Buffer | undefined {
  return cfg.ca === undefined ? undefined : readFileSync(cfg.ca);
}

export function imapOptions(cfg: ImapTenantConfig, login: BackendLogin, ca: Buffer | undefined): ImapFlowOptions {
  const implicit = cfg.tls === 'implicit';
  return {
    host: cfg.host,
    port: cfg.port ?? (implicit ? 993 : 143),
    secure: implicit,
    // STARTTLS is required when configured (never silently skipped); `none` is loopback only.
    doSTARTTLS: cfg.tls === 'starttls' ? true : cfg.tls === 'none' ? false : undefined,
    servername: cfg.servername,
    tls: { rejectUnauthorized: true, ...(ca && { ca }), ...(cfg.servername && { servername: cfg.servername }) },
    auth: login.accessToken !== undefined ? { user: login.user, accessToken: login.accessToken } : { user: login.user, pass: login.password ?? '' },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: cfg.connectTimeoutMs,
    greetingTimeout: cfg.connectTimeoutMs,
    socketTimeout: cfg.commandTimeoutMs,
    clientInfo: { name: 'popgate' },
  };
}

/**
 * A refused login has a tagged NO from the server; a connection that died during LOGIN is
 * flagged `authenticationFailed` by imapflow too, but it is an outage, not a wrong password.
 */
export function classifyImapError(err: unknown, doing: string, refusedMeans: 'PERMANENT' | 'TEMPORARY' = 'TEMPORARY'): StoreError {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as ImapFlowFailure;
  const detail = `imap: ${doing}: ${e.code ?? e.serverResponseCode ?? ''} ${e.message ?? String(err)}`.trim();
  if (e.serverResponseCode === 'UNAVAILABLE') return new StoreError('TEMPORARY', detail, { cause: err });
  if (e.authenticationFailed !== true && e.responseStatus === 'NO') return new StoreError(refusedMeans, detail, { cause: err });
  if (e.authenticationFailed === true && (e.responseStatus === 'NO' || e.responseStatus === 'BAD' || e.serverResponseCode !== undefined)) {
    return new StoreError('AUTH_FAILED', detail, { cause: err });
  }
  return new StoreError('TEMPORARY', detail, { cause: err });
}

export async function connectImap(cfg: ImapTenantConfig, login: BackendLogin, ca: Buffer | undefined): Promise<ImapFlow> {
  const client = new ImapFlow(imapOptions(cfg, login, ca));
  // An 'error' event without a listener would crash the process; failures surface through the calls.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.close();
    throw classifyImapError(err, 'login');
  }
  return client;
}
