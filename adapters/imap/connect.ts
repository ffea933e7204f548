/** Opens one imapflow connection for a POP3 session and classifies its failures. */
import { readFileSync } from 'node:fs';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { StoreError, type BackendLogin, type SessionContext } from '../contract.js';
import type { ImapTenantConfig } from './config.js';

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

/**
 * The IMAP ID fields the client is sent as: Dovecot (and other servers honouring these
 * Dovecot/Courier-style keys) use them, from trusted networks, as the client's address and
 * session id, so their logs and brute-force penalties see the POP3 client, not the gateway.
 */
export function clientIdFields(session: Pick<SessionContext, 'remoteAddress' | 'remotePort' | 'sessionId'>): Record<string, string> {
  return {
    'x-originating-ip': session.remoteAddress,
    ...(session.remotePort !== undefined && { 'x-originating-port': String(session.remotePort) }),
    'x-session-ext-id': session.sessionId,
  };
}

function imapOptions(cfg: ImapTenantConfig, login: BackendLogin, ca: Buffer | undefined, idleMs: number, session: SessionContext): ImapFlowOptions {
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
    // The connection is handed over to ImapChannel after the snapshot, which speaks no DEFLATE.
    disableCompression: true,
    connectionTimeout: cfg.connectTimeoutMs,
    greetingTimeout: cfg.connectTimeoutMs,
    // The IMAP side is quiet whenever the POP3 client is (between commands, or not reading a big
    // message): it must outlive the POP3 idle timeout. Slow commands are bounded by withTimeout().
    socketTimeout: idleMs + 60_000,
    // imapflow sends ID before STARTTLS and login when the server offers it (and again after).
    clientInfo: { name: 'popgate', ...(cfg.forwardClientAddress && clientIdFields(session)) },
  };
}

/** RFC 5530 codes that mean "these credentials are not good": anything else is not the user's fault. */
const CREDENTIAL_CODES = new Set(['AUTHENTICATIONFAILED', 'AUTHORIZATIONFAILED', 'EXPIRED', 'PRIVACYREQUIRED']);

/**
 * A refused login has a tagged NO from the server. A connection that died during LOGIN is
 * flagged `authenticationFailed` by imapflow too, but it is an outage, not a wrong password;
 * so is a NO with a code such as [UNAVAILABLE], [LIMIT] or [INUSE].
 */
export function classifyImapError(err: unknown, doing: string, refusedMeans: 'PERMANENT' | 'TEMPORARY' = 'TEMPORARY'): StoreError {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as ImapFlowFailure;
  const detail = `imap: ${doing}: ${e.code ?? e.serverResponseCode ?? ''} ${e.message ?? String(err)}`.trim();
  const refused = e.responseStatus === 'NO' || e.responseStatus === 'BAD';
  if (e.authenticationFailed === true && refused) {
    const code = e.serverResponseCode?.toUpperCase();
    const credentials = code === undefined || CREDENTIAL_CODES.has(code);
    return new StoreError(credentials ? 'AUTH_FAILED' : 'TEMPORARY', detail, { cause: err });
  }
  if (e.responseStatus === 'NO') return new StoreError(refusedMeans, detail, { cause: err });
  return new StoreError('TEMPORARY', detail, { cause: err });
}

export async function connectImap(
  cfg: ImapTenantConfig,
  login: BackendLogin,
  ca: Buffer | undefined,
  idleMs: number,
  session: SessionContext,
): Promise<ImapFlow> {
  const client = new ImapFlow(imapOptions(cfg, login, ca, idleMs, session));
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

/**
 * Bounds one backend command: a server that stops answering fails the call (and the IMAP
 * connection) with TEMPORARY after `ms`, instead of holding the POP3 client forever.
 */
export async function withTimeout<T>(client: ImapFlow, ms: number, doing: string, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      client.close();
      reject(new StoreError('TEMPORARY', `imap: ${doing}: no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([call(), expired]);
  } catch (err) {
    throw classifyImapError(err, doing);
  } finally {
    clearTimeout(timer);
  }
}
