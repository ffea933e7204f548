/**
 * A Gmail API v1 stand-in on 127.0.0.1:0, following the documented wire format (see
 * /work/shared/recipes/GMAIL-API.md): messages.list (newest first, pages, labelIds, a q subset),
 * messages.get format=raw (streamed, base64url `raw`), batchModify, batchDelete, modify, trash,
 * delete; bearer tokens that expire; Google's error shapes; and a token endpoint for the JWT
 * bearer grant that checks the RS256 signature and claims of a test service account.
 * Faults are queued per operation; counters say what the gateway asked for, and a meter when
 * (and how many at once) per user.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RequestMeter } from './request-meter.js';

export const FULL_SCOPE = 'https://mail.google.com/';
export const MODIFY_SCOPE = 'https://www.googleapis.com/auth/gmail.modify';
export const READONLY_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';

export type StandinOp = 'list' | 'get' | 'batchModify' | 'batchDelete' | 'modify' | 'trash' | 'delete' | 'token';

export interface StandinMessage {
  readonly id: string;
  readonly raw: Buffer;
  readonly internalDate: number;
  readonly labels: Set<string>;
}

/** What a fault answers instead of the real thing. */
export interface FaultReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface ServiceAccountKey {
  readonly type: 'service_account';
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id: string;
  readonly client_id: string;
  readonly token_uri: string;
}

interface IssuedToken {
  readonly user: string;
  readonly expiresAt: number;
  readonly scopes: readonly string[];
}

export interface GmailStandin {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  /** The key file a serviceAccount tenant reads (its public half checks assertions). */
  readonly serviceAccountKey: ServiceAccountKey;
  /** Requests per operation (faults included). */
  readonly counts: Record<StandinOp, number>;
  /** messages.get: octets of JSON written, and answers the gateway closed before their end. */
  readonly traffic: { getOctets: number; cutGets: number };
  /** Every API request (faults included; not the token endpoint) by the user its token names, with times and in-flight peaks. */
  readonly meter: RequestMeter;
  /** Users a service-account assertion may name in `sub` (others get invalid_grant). */
  readonly domainUsers: Set<string>;
  /** Scopes the domain's administrator granted the service account (others: unauthorized_client). */
  grantedScopes: Set<string>;
  /** Lifetime of tokens the token endpoint issues, in seconds. */
  tokenTtlSec: number;
  /** Delay before every messages.get answer (a slow backend). */
  getDelayMs: number;
  /** Delay before messages.get answers of these users, instead of getDelayMs. */
  readonly getDelayFor: Map<string, number>;
  /** messages.get answers of `user` wait (before their headers) until the returned function is called. */
  holdGets(user: string): () => void;
  /** A token for passthrough logins (as if the client got it from Google). */
  issueToken(user: string, opts?: { ttlSec?: number; scopes?: readonly string[] }): string;
  revokeToken(token: string): void;
  /** Adds a message (newest so far, unless internalDate says otherwise); returns its id. */
  add(user: string, raw: Buffer, opts?: { labels?: readonly string[]; internalDate?: number }): string;
  /** Every message of the user, oldest first, whatever its labels. */
  messages(user: string): StandinMessage[];
  /** Messages with INBOX and without TRASH, oldest first. */
  inbox(user: string): StandinMessage[];
  remove(user: string, id: string): void;
  clear(user: string): void;
  /** The next `times` requests of `op` get this answer. */
  fault(op: StandinOp, reply: FaultReply, times?: number): void;
  /** Changes (batch or single) naming a matching id are refused with 400 invalidArgument. */
  refuseChanges(pred: ((id: string) => boolean) | undefined): void;
  resetCounts(): void;
  close(): Promise<void>;
}

const OPS: readonly StandinOp[] = ['list', 'get', 'batchModify', 'batchDelete', 'modify', 'trash', 'delete', 'token'];

export function gmailError(status: number, reason: string, message = reason): FaultReply {
  const domain = reason.endsWith('RateLimitExceeded') || reason === 'rateLimitExceeded' ? 'usageLimits' : 'global';
  return { status, body: { error: { code: status, message, errors: [{ domain, reason, message }] } } };
}

export interface GmailStandinOptions {
  /**
   * Checks bearer tokens somewhere else (an identity provider's introspection) instead of the
   * stand-in's own list: the user a token is for, or undefined when it is not active.
   * Such tokens carry the full mail scope.
   */
  readonly verifyToken?: (token: string) => Promise<string | undefined>;
}

export async function startGmailStandin(opts: GmailStandinOptions = {}): Promise<GmailStandin> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const verifyKey: KeyObject = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const mailboxes = new Map<string, StandinMessage[]>();
  const tokens = new Map<string, IssuedToken>();
  const faults = new Map<StandinOp, FaultReply[]>();
  const counts = Object.fromEntries(OPS.map((o) => [o, 0])) as Record<StandinOp, number>;
  let refuse: ((id: string) => boolean) | undefined;
  const holds = new Map<string, Promise<void>>();
  let nextId = 0x18c0000000000000n;
  let clock = Date.UTC(2024, 0, 1);

  const issuedFor = async (token: string): Promise<IssuedToken | undefined> => {
    if (opts.verifyToken === undefined) return tokens.get(token);
    const user = await opts.verifyToken(token);
    return user === undefined ? undefined : { user, expiresAt: Infinity, scopes: [FULL_SCOPE] };
  };

  const box = (user: string): StandinMessage[] => {
    let b = mailboxes.get(user);
    if (b === undefined) mailboxes.set(user, (b = []));
    return b;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, gmailError(500, 'backendError', String(err)));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    if (url.pathname === '/token') return token(res, body);
    const m = /^\/gmail\/v1\/users\/([^/]+)\/messages(?:\/([^/]+?))?(?:\/(trash|modify))?$/.exec(url.pathname);
    if (m === null) return send(res, gmailError(404, 'notFound', 'no such method'));
    const [, userId, idOrVerb, action] = m as unknown as [string, string, string | undefined, string | undefined];
    const op: StandinOp | undefined =
      idOrVerb === undefined
        ? req.method === 'GET'
          ? 'list'
          : undefined
        : idOrVerb === 'batchModify' || idOrVerb === 'batchDelete'
          ? idOrVerb
          : action === 'trash' || action === 'modify'
            ? action
            : req.method === 'DELETE'
              ? 'delete'
              : 'get';
    if (op === undefined) return send(res, gmailError(400, 'badRequest'));
    counts[op]++;
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const issued = auth === null ? undefined : await issuedFor(auth[1] as string);
    // In flight until the answer is handed to the socket (the gateway frees its place only after reading all of it).
    const done = standin.meter.begin(issued?.user ?? '(no token)', op, arrived);
    res.once('finish', done).once('close', done);
    const fault = faults.get(op)?.shift();
    if (fault !== undefined) return send(res, fault);
    if (issued === undefined || issued.expiresAt <= Date.now()) {
      res.setHeader('www-authenticate', 'Bearer realm="https://accounts.google.com/", error="invalid_token"');
      return send(res, {
        status: 401,
        body: {
          error: {
            code: 401,
            message: 'Invalid Credentials',
            errors: [{ domain: 'global', reason: 'authError', message: 'Invalid Credentials', locationType: 'header', location: 'Authorization' }],
          },
        },
      });
    }
    const user = decodeURIComponent(userId);
    if (user !== 'me' && user !== issued.user) return send(res, gmailError(403, 'forbidden', 'Delegation denied'));
    const mine = box(issued.user);
    const writes = op !== 'list' && op !== 'get';
    if (writes && !issued.scopes.some((s) => s === FULL_SCOPE || s === MODIFY_SCOPE))
      return send(res, gmailError(403, 'insufficientPermissions', 'Insufficient Permission'));
    if ((op === 'batchDelete' || op === 'delete') && !issued.scopes.includes(FULL_SCOPE))
      return send(res, gmailError(403, 'insufficientPermissions', 'Insufficient Permission'));
    switch (op) {
      case 'list':
        return list(res, mine, url.searchParams);
      case 'get':
        return get(res, issued.user, mine, idOrVerb as string, url.searchParams);
      case 'batchModify':
      case 'batchDelete': {
        const parsed = JSON.parse(body.toString('utf8') || '{}') as { ids?: string[]; addLabelIds?: string[]; removeLabelIds?: string[] };
        const ids = parsed.ids ?? [];
        if (ids.length === 0 || ids.length > 1000) return send(res, gmailError(400, 'invalidArgument', 'ids: 1 to 1000'));
        if (refuse !== undefined && ids.some(refuse)) return send(res, gmailError(400, 'invalidArgument', 'Invalid id value'));
        for (const id of ids) {
          const i = mine.findIndex((x) => x.id === id);
          if (i < 0) continue;
          if (op === 'batchDelete') mine.splice(i, 1);
          else relabel(mine[i] as StandinMessage, parsed.addLabelIds, parsed.removeLabelIds);
        }
        res.writeHead(204).end();
        return;
      }
      default: {
        const id = idOrVerb as string;
        if (refuse?.(id) === true) return send(res, gmailError(400, 'invalidArgument', 'Invalid id value'));
        const i = mine.findIndex((x) => x.id === id);
        if (i < 0) return send(res, gmailError(404, 'notFound', 'Requested entity was not found.'));
        const msg = mine[i] as StandinMessage;
        if (op === 'delete') {
          mine.splice(i, 1);
          res.writeHead(204).end();
          return;
        }
        if (op === 'trash') relabel(msg, ['TRASH'], ['INBOX']);
        else {
          const parsed = JSON.parse(body.toString('utf8') || '{}') as { addLabelIds?: string[]; removeLabelIds?: string[] };
          relabel(msg, parsed.addLabelIds, parsed.removeLabelIds);
        }
        return send(res, { status: 200, body: { id: msg.id, threadId: msg.id, labelIds: [...msg.labels] } });
      }
    }
  }

  function list(res: ServerResponse, mine: StandinMessage[], params: URLSearchParams): void {
    const max = Math.min(Number(params.get('maxResults') ?? '100'), 500);
    const labelIds = params.getAll('labelIds');
    const spamTrash = params.get('includeSpamTrash') === 'true';
    let filter: (m: StandinMessage) => boolean;
    try {
      filter = queryFilter(params.get('q') ?? '');
    } catch (err) {
      return send(res, gmailError(400, 'invalidArgument', (err as Error).message));
    }
    // Newest first, as Gmail's web UI shows them (the API does not promise an order).
    const matching = mine
      .filter((m) => (spamTrash || (!m.labels.has('TRASH') && !m.labels.has('SPAM'))) && labelIds.every((l) => m.labels.has(l)) && filter(m))
      .sort((a, b) => b.internalDate - a.internalDate);
    const offset = Number(/^p(\d+)$/.exec(params.get('pageToken') ?? 'p0')?.[1] ?? 'NaN');
    if (!Number.isInteger(offset)) return send(res, gmailError(400, 'invalidArgument', 'Invalid pageToken'));
    const page = matching.slice(offset, offset + max);
    const out: Record<string, unknown> = { resultSizeEstimate: matching.length };
    // Google omits an empty `messages`.
    if (page.length > 0) out.messages = page.map((m) => ({ id: m.id, threadId: m.id }));
    if (offset + max < matching.length) out.nextPageToken = `p${offset + max}`;
    send(res, { status: 200, body: out });
  }

  async function get(res: ServerResponse, user: string, mine: StandinMessage[], id: string, params: URLSearchParams): Promise<void> {
    await holds.get(user);
    const delay = standin.getDelayFor.get(user) ?? standin.getDelayMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const msg = mine.find((x) => x.id === id);
    if (msg === undefined) return send(res, gmailError(404, 'notFound', 'Requested entity was not found.'));
    if (params.get('format') !== 'raw') return send(res, gmailError(400, 'invalidArgument', 'the stand-in serves format=raw only'));
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    const head = `{\n  "id": "${msg.id}",\n  "threadId": "${msg.id}",\n  "labelIds": ${JSON.stringify([...msg.labels])},\n  "snippet": "",\n  "raw": "`;
    const tail = `",\n  "sizeEstimate": ${msg.raw.length + 37},\n  "historyId": "1234567",\n  "internalDate": "${msg.internalDate}"\n}\n`;
    res.write(head);
    res.once('close', () => {
      if (!res.writableFinished) standin.traffic.cutGets++;
    });
    // base64url in 48 KiB slices (a multiple of 3: no padding until the end), with back-pressure.
    const SLICE = 48 * 1024;
    for (let at = 0; at < msg.raw.length; at += SLICE) {
      if (res.destroyed) return;
      const text = msg.raw.subarray(at, at + SLICE).toString('base64url');
      standin.traffic.getOctets += text.length;
      const more = res.write(text);
      if (!more) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go).off('close', go);
            resolve();
          };
          res.on('drain', go).on('close', go);
        });
      }
    }
    res.end(tail);
  }

  function token(res: ServerResponse, body: Buffer): void {
    counts.token++;
    const fault = faults.get('token')?.shift();
    if (fault !== undefined) return send(res, fault);
    const form = new URLSearchParams(body.toString('utf8'));
    const oauthError = (error: string, description: string, status = 400): void => send(res, { status, body: { error, error_description: description } });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return oauthError('unsupported_grant_type', 'Invalid grant_type');
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return oauthError('invalid_request', 'Invalid JWT');
    const [h, c, s] = parts as [string, string, string];
    let header: { alg?: string };
    let claims: { iss?: string; scope?: string; aud?: string; iat?: number; exp?: number; sub?: string };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return oauthError('invalid_request', 'Invalid JWT');
    }
    if (header.alg !== 'RS256' || !verify('RSA-SHA256', Buffer.from(`${h}.${c}`), verifyKey, Buffer.from(s, 'base64url')))
      return oauthError('invalid_grant', 'Invalid JWT Signature.');
    const now = Date.now() / 1000;
    if (claims.iss !== key.client_email) return oauthError('invalid_client', 'The OAuth client was not found.', 401);
    if (claims.aud !== tokenUrl) return oauthError('invalid_grant', 'Invalid JWT: aud');
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.iat > now + 60 || claims.exp < now || claims.exp - claims.iat > 3600) {
      return oauthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    if (claims.sub === undefined || !standin.domainUsers.has(claims.sub)) return oauthError('invalid_grant', 'Invalid email or User ID');
    const scopes = (claims.scope ?? '').split(' ').filter((x) => x !== '');
    if (scopes.length === 0 || scopes.some((x) => !standin.grantedScopes.has(x)))
      return oauthError('unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method.', 401);
    const access = standin.issueToken(claims.sub, { ttlSec: standin.tokenTtlSec, scopes });
    send(res, { status: 200, body: { access_token: access, expires_in: standin.tokenTtlSec, token_type: 'Bearer' } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenUrl = `${baseUrl}/token`;
  const key: ServiceAccountKey = {
    type: 'service_account',
    client_email: 'popgate@test-project.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    private_key_id: randomBytes(20).toString('hex'),
    client_id: '100000000000000000001',
    token_uri: tokenUrl,
  };

  const standin: GmailStandin = {
    baseUrl,
    tokenUrl,
    serviceAccountKey: key,
    counts,
    traffic: { getOctets: 0, cutGets: 0 },
    meter: new RequestMeter(),
    domainUsers: new Set(),
    grantedScopes: new Set([FULL_SCOPE, MODIFY_SCOPE, READONLY_SCOPE]),
    tokenTtlSec: 3600,
    getDelayMs: 0,
    getDelayFor: new Map(),
    issueToken(user, opts = {}) {
      const t = `ya29.${randomBytes(18).toString('base64url')}`;
      tokens.set(t, { user, expiresAt: Date.now() + (opts.ttlSec ?? 3600) * 1000, scopes: opts.scopes ?? [FULL_SCOPE] });
      return t;
    },
    revokeToken: (t) => void tokens.delete(t),
    holdGets(user) {
      let release!: () => void;
      holds.set(user, new Promise<void>((resolve) => (release = resolve)));
      return () => {
        holds.delete(user);
        release();
      };
    },
    add(user, raw, opts = {}) {
      const id = (nextId++).toString(16);
      clock = Math.max(clock + 1000, opts.internalDate ?? 0);
      box(user).push({ id, raw, internalDate: opts.internalDate ?? clock, labels: new Set(opts.labels ?? ['INBOX', 'UNREAD']) });
      return id;
    },
    messages: (user) => [...box(user)].sort((a, b) => a.internalDate - b.internalDate),
    inbox: (user) => standin.messages(user).filter((m) => m.labels.has('INBOX') && !m.labels.has('TRASH')),
    remove(user, id) {
      const b = box(user);
      const i = b.findIndex((m) => m.id === id);
      if (i >= 0) b.splice(i, 1);
    },
    clear: (user) => void mailboxes.set(user, []),
    fault(op, reply, times = 1) {
      const q = faults.get(op) ?? [];
      for (let i = 0; i < times; i++) q.push(reply);
      faults.set(op, q);
    },
    refuseChanges(pred) {
      refuse = pred;
    },
    resetCounts() {
      for (const o of OPS) counts[o] = 0;
      standin.traffic.getOctets = 0;
      standin.traffic.cutGets = 0;
      standin.meter.reset();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standin;
}

function relabel(m: StandinMessage, add: readonly string[] = [], remove: readonly string[] = []): void {
  for (const l of add) m.labels.add(l);
  for (const l of remove) m.labels.delete(l);
}

/** The q operators the gateway may send: after:/before: (epoch seconds), newer_than:Nd, label:, in:, is:unread. */
function queryFilter(q: string): (m: StandinMessage) => boolean {
  const tests: ((m: StandinMessage) => boolean)[] = [];
  for (const term of q.split(/\s+/).filter((t) => t !== '')) {
    const [op, arg = ''] = term.split(':', 2) as [string, string | undefined];
    const n = Number(arg);
    if ((op === 'after' || op === 'before') && /^\d+$/.test(arg))
      tests.push(op === 'after' ? (m) => m.internalDate >= n * 1000 : (m) => m.internalDate < n * 1000);
    else if (op === 'newer_than' && /^\d+d$/.test(arg)) tests.push((m) => m.internalDate >= Date.now() - Number(arg.slice(0, -1)) * 86_400_000);
    else if (op === 'label' || op === 'in') tests.push((m) => m.labels.has(arg.toUpperCase()));
    else if (op === 'is' && arg === 'unread') tests.push((m) => m.labels.has('UNREAD'));
    else throw new Error(`the stand-in does not know the query term ${term}`);
  }
  return (m) => tests.every((t) => t(m));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: FaultReply): void {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...(text !== '' && { 'content-type': 'application/json; charset=UTF-8' }), ...reply.headers });
  res.end(text);
}
