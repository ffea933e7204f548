/**
 * A reference implementation of adapters/rest/openapi.yaml: real HTTP on 127.0.0.1:0, mailboxes
 * in memory, and faults a test can switch on (refused credentials, throttling with Retry-After,
 * 5xx, per-id deletion failures, a store that ignores Range). test/rest/openapi.test.ts checks
 * every answer it gives against the document; the README's curl examples run against it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredMessage {
  readonly id: string;
  readonly raw: Buffer;
  readonly received: Date;
}

/**
 * Who may call: one token, one basic account, each mailbox's own user and password, or bearer
 * tokens an identity provider vouches for (`verify` gives the user a token is for, undefined when
 * it is not active; that user may read the mailbox of the same name).
 */
export type StoreAuth =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'verified'; readonly verify: (token: string) => Promise<string | undefined> }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'passthrough'; readonly passwords: Record<string, string> };

export type Operation = 'list' | 'get' | 'delete' | 'move';

export interface RestStoreOptions {
  readonly auth: StoreAuth;
  /** Give `size` in listings (CRLF octets); without it the gateway must count. */
  readonly sizes?: boolean;
  /** Give ETags (and honour If-Match). */
  readonly etags?: boolean;
  /** The store's own page cap, whatever `limit` asks. */
  readonly maxPage?: number;
}

/** One answer as sent, for checking against the document. */
export interface RecordedResponse {
  readonly op: Operation;
  readonly status: number;
  readonly headers: Record<string, string | number | string[] | undefined>;
  readonly json: unknown;
}

interface Fault {
  readonly op: Operation | undefined;
  readonly status: number;
  readonly retryAfter: string | undefined;
  left: number;
}

/** Bare LF -> CRLF octet count (what `size` must say). */
export function crlfOctets(raw: Buffer): number {
  let n = raw.length;
  for (let i = 0; i < raw.length; i++) if (raw[i] === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) n++;
  return n;
}

export function etagOf(raw: Buffer): string {
  return `"${createHash('sha256').update(raw).digest('hex').slice(0, 20)}"`;
}

const CHUNK = 64 * 1024;

export class RestStoreServer {
  readonly mailboxes = new Map<string, StoredMessage[]>();
  readonly responses: RecordedResponse[] = [];
  /** Requests by operation, counted as they arrive. */
  readonly calls: Record<Operation, number> = { list: 0, get: 0, delete: 0, move: 0 };
  /** Headers of every request, in order (for checking what the adapter sent). */
  readonly requests: { op: Operation; headers: IncomingMessage['headers']; url: string }[] = [];
  /** Message octets the server has handed to its sockets (what a slow reader holds back). */
  bytesOut = 0;
  ignoreRange = false;
  /** Ids whose deletion or move answers `error` with this reason. */
  readonly refuse = new Map<string, string>();
  private faults: Fault[] = [];
  private clock = Date.UTC(2024, 0, 1);
  private idCounter = 0;
  private server!: Server;
  port = 0;

  constructor(public opts: RestStoreOptions) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the mailbox hold exactly these messages (ids `m1`, `m2`, ... unless given). */
  seed(mailbox: string, messages: readonly (Buffer | { raw: Buffer; id?: string; received?: Date })[]): StoredMessage[] {
    const stored = messages.map((m) => {
      const x = Buffer.isBuffer(m) ? { raw: m } : m;
      return { id: x.id ?? `m${++this.idCounter}`, raw: x.raw, received: x.received ?? new Date((this.clock += 1000)) };
    });
    this.mailboxes.set(mailbox, stored);
    return stored;
  }

  add(mailbox: string, raw: Buffer): StoredMessage {
    const m = { id: `m${++this.idCounter}`, raw, received: new Date((this.clock += 1000)) };
    this.box(mailbox).push(m);
    return m;
  }

  remove(mailbox: string, id: string): void {
    this.mailboxes.set(
      mailbox,
      this.box(mailbox).filter((m) => m.id !== id),
    );
  }

  /** The next `count` requests (of `op`, or any) answer `status`, with Retry-After when given. */
  fail(status: number, opts: { op?: Operation; count?: number; retryAfter?: string } = {}): void {
    this.faults.push({ op: opts.op, status, retryAfter: opts.retryAfter, left: opts.count ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
    this.refuse.clear();
    this.ignoreRange = false;
  }

  private box(name: string): StoredMessage[] {
    let b = this.mailboxes.get(name);
    if (b === undefined) this.mailboxes.set(name, (b = []));
    return b;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const m = /^\/mailboxes\/([^/]+)\/messages(?:\/([^/]+)|:(delete|move))?$/.exec(url.pathname);
    const op: Operation | undefined = m === null ? undefined : m[2] !== undefined ? 'get' : m[3] === 'delete' ? 'delete' : m[3] === 'move' ? 'move' : 'list';
    const method = op === 'delete' || op === 'move' ? 'POST' : 'GET';
    if (m === null || op === undefined || req.method !== method) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'not_found', message: 'no such route' }));
      return;
    }
    this.calls[op]++;
    this.requests.push({ op, headers: req.headers, url: req.url ?? '' });
    const mailbox = decodeURIComponent(m[1] as string);
    const body = method === 'POST' ? await readBody(req) : undefined;
    const fault = this.faults.find((f) => f.left > 0 && (f.op === undefined || f.op === op));
    if (fault !== undefined) {
      fault.left--;
      const code = fault.status === 429 ? 'throttled' : fault.status === 401 ? 'unauthorized' : 'unavailable';
      return this.error(res, op, fault.status, code, `injected ${fault.status}`, fault.retryAfter);
    }
    if (!(await this.authorized(req.headers.authorization, mailbox))) return this.error(res, op, 401, 'unauthorized', 'credentials refused');
    const messages = this.mailboxes.get(mailbox);
    if (messages === undefined && op !== 'move' && op !== 'delete') return this.error(res, op, 404, 'not_found', 'no such mailbox');
    if (op === 'list') return this.list(res, messages ?? [], url.searchParams);
    if (op === 'get') return this.get(req, res, messages ?? [], decodeURIComponent(m[2] as string));
    return this.batch(res, op, mailbox, body as Buffer);
  }

  private async authorized(header: string | undefined, mailbox: string): Promise<boolean> {
    const a = this.opts.auth;
    if (a.kind === 'bearer') return header === `Bearer ${a.token}`;
    if (a.kind === 'verified') return header?.startsWith('Bearer ') === true && (await a.verify(header.slice('Bearer '.length))) === mailbox;
    if (header === undefined || !header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (a.kind === 'basic') return user === a.user && password === a.password;
    // Passthrough: the mailbox's own user, with its password.
    return user === mailbox && a.passwords[user] !== undefined && a.passwords[user] === password;
  }

  private list(res: ServerResponse, messages: readonly StoredMessage[], q: URLSearchParams): void {
    const limit = Math.min(Number(q.get('limit') ?? 1000) || 1000, this.opts.maxPage ?? 10_000);
    const start = q.has('cursor') ? Number(Buffer.from(q.get('cursor') as string, 'base64url').toString()) : 0;
    const page = messages.slice(start, start + limit);
    const items = page.map((msg) => ({
      id: msg.id,
      ...(this.opts.sizes === true && { size: crlfOctets(msg.raw) }),
      received: msg.received.toISOString(),
      ...(this.opts.etags === true && { etag: etagOf(msg.raw) }),
    }));
    const end = start + page.length;
    const nextCursor = end < messages.length ? Buffer.from(String(end)).toString('base64url') : null;
    this.json(res, 'list', 200, { items, nextCursor });
  }

  private get(req: IncomingMessage, res: ServerResponse, messages: readonly StoredMessage[], id: string): void {
    const msg = messages.find((x) => x.id === id);
    if (msg === undefined) return this.error(res, 'get', 404, 'not_found', 'no such message');
    const etag = etagOf(msg.raw);
    const ifMatch = req.headers['if-match'];
    if (this.opts.etags === true && ifMatch !== undefined && ifMatch !== etag) return this.error(res, 'get', 412, 'precondition_failed', 'the message changed');
    let from = 0;
    let to = msg.raw.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range !== null && !this.ignoreRange) {
      from = Number(range[1]);
      if (from >= msg.raw.length) return this.error(res, 'get', 416, 'range_not_satisfiable', 'the range starts past the end');
      if (range[2] !== '') to = Math.min(Number(range[2]), to);
      status = 206;
    }
    const headers: Record<string, string | number> = { 'content-type': 'message/rfc822', 'content-length': to - from + 1, 'accept-ranges': 'bytes' };
    if (this.opts.etags === true) headers.etag = etag;
    if (status === 206) headers['content-range'] = `bytes ${from}-${to}/${msg.raw.length}`;
    res.writeHead(status, headers);
    this.responses.push({ op: 'get', status, headers, json: undefined });
    // Written a chunk at a time, waiting for 'drain': a reader that stops stops the store.
    let at = from;
    const pump = (): void => {
      while (at <= to) {
        const piece = msg.raw.subarray(at, Math.min(at + CHUNK, to + 1));
        at += piece.length;
        this.bytesOut += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }

  private batch(res: ServerResponse, op: 'delete' | 'move', mailbox: string, raw: Buffer): void {
    let body: { ids?: unknown; destination?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return this.error(res, op, 400, 'bad_request', 'not JSON');
    }
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || !ids.every((i) => typeof i === 'string' && i !== '')) {
      return this.error(res, op, 400, 'bad_request', 'ids must be 1-1000 strings');
    }
    if (op === 'move' && (typeof body.destination !== 'string' || body.destination === ''))
      return this.error(res, op, 400, 'bad_request', 'destination missing');
    const results = (ids as string[]).map((id) => {
      const box = this.box(mailbox);
      const msg = box.find((x) => x.id === id);
      if (msg === undefined) return { id, status: 'not_found' };
      const reason = this.refuse.get(id);
      if (reason !== undefined) return { id, status: 'error', reason };
      this.remove(mailbox, id);
      if (op === 'move') this.box(body.destination as string).push(msg);
      return { id, status: op === 'move' ? 'moved' : 'deleted' };
    });
    this.json(res, op, 200, { results });
  }

  private json(res: ServerResponse, op: Operation, status: number, value: unknown, extra: Record<string, string> = {}): void {
    const headers = { 'content-type': 'application/json', ...extra };
    this.responses.push({ op, status, headers, json: value });
    res.writeHead(status, headers).end(JSON.stringify(value));
  }

  private error(res: ServerResponse, op: Operation, status: number, code: string, message: string, retryAfter?: string): void {
    this.json(res, op, status, { code, message }, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function startRestStore(opts: RestStoreOptions): Promise<RestStoreServer> {
  const s = new RestStoreServer(opts);
  await s.start();
  return s;
}
