/**
 * A small HTTP proxy between the gateway and s3rver, on 127.0.0.1:0, for what s3rver cannot
 * do itself. It records every request (method, path, query, Range, headers, time; the body of
 * DeleteObjects requests), counts the body octets it passed back, and, on demand:
 *  - answers the next N matching requests itself with an S3 error in S3's documented format
 *    (`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>...`):
 *    503 SlowDown, 403 InvalidObjectState, 301 PermanentRedirect ...;
 *  - refuses some keys of a DeleteObjects request the way S3 reports per-key failures: the
 *    refused keys are taken out of the request before s3rver sees it (so they really stay), and
 *    `<Error><Key>..</Key><Code>AccessDenied</Code>..</Error>` entries are added to its answer;
 *  - ignores Range (answers 200 with the whole object, as some S3-compatible servers and caches do);
 *  - stalls the bodies of matching GETs after their headers (a connection held open) until released.
 * Everything else is passed through unchanged, bodies streamed with back-pressure.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  /** Decoded path without the query (`/mail/inbound/alice/x`). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly range: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly at: number;
  /** For DeleteObjects: the keys asked for, and the request body as received. */
  readonly deleteKeys?: readonly string[];
  readonly body?: Buffer;
  /** The error code the proxy answered itself instead of forwarding. */
  readonly injected?: string;
}

/** An S3 error answer the proxy gives instead of forwarding. */
export interface InjectedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Record<string, string>;
  /** Extra elements inside `<Error>` (e.g. `<Endpoint>` of a PermanentRedirect). */
  readonly extra?: string;
}

export interface S3Proxy {
  readonly port: number;
  readonly endpoint: string;
  readonly requests: ProxiedRequest[];
  /** Body octets passed back to the gateway since the last clear(). */
  readonly bytesOut: number;
  /** The next `n` requests that `match` answer 503 SlowDown. */
  slowDown(n: number, match?: (r: ProxiedRequest) => boolean): void;
  /** The next `n` requests that `match` get this error answer. */
  fail(n: number, error: InjectedError, match?: (r: ProxiedRequest) => boolean): void;
  /** DeleteObjects refuses keys for which `refuse` is true (with `code` per key; AccessDenied by default). */
  refuseDeletes(refuse: ((key: string) => boolean) | undefined, code?: string): void;
  /** Strips the Range header from requests, so s3rver answers 200 with the whole object. */
  ignoreRange(on: boolean): void;
  /** GETs that `match` get their headers, then no body until stall(undefined). */
  stall(match: ((r: ProxiedRequest) => boolean) | undefined): void;
  /** Forgets the recorded requests and the octet count. */
  clear(): void;
  stop(): Promise<void>;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xmlUnescape = (s: string): string =>
  s.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-f]+));/gi, (m, name: string, dec?: string, hex?: string) => {
    if (dec !== undefined) return String.fromCodePoint(Number(dec));
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[name.toLowerCase()] ?? m;
  });

function s3Error(res: ServerResponse, e: InjectedError): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message>${e.extra ?? ''}<RequestId>popgate-test-proxy</RequestId><HostId>popgate-test-proxy</HostId></Error>`;
  res.writeHead(e.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...e.headers });
  res.end(body);
}

const SLOW_DOWN: InjectedError = { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startS3Proxy(upstreamPort: number): Promise<S3Proxy> {
  const requests: ProxiedRequest[] = [];
  let bytesOut = 0;
  let failing: { left: number; error: InjectedError; match: (r: ProxiedRequest) => boolean } | undefined;
  let refuse: { test: (key: string) => boolean; code: string } | undefined;
  let noRange = false;
  let stalling: ((r: ProxiedRequest) => boolean) | undefined;
  const stalled: (() => void)[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, body: Buffer, rewrite?: (answer: string) => string): void => {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    if (noRange) delete headers.range;
    const up = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
      if (rewrite === undefined) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // The count starts with the pipe: a 'data' listener alone would let a stalled body flow away.
        const send = (): void => {
          answer.on('data', (c: Buffer) => (bytesOut += c.length));
          answer.pipe(res);
        };
        if (req.method === 'GET' && stalling?.(record)) {
          // The headers go now (writeHead alone would hold them until the first body octet).
          res.flushHeaders();
          stalled.push(send);
        } else {
          send();
        }
        return;
      }
      void readAll(answer).then((raw) => {
        const text = rewrite(raw.toString('utf8'));
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) });
        res.end(text);
      });
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const body = await readAll(req);
      const isDelete = req.method === 'POST' && url.searchParams.has('delete');
      const deleteKeys = isDelete ? [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlUnescape(m[1] as string)) : undefined;
      const record: ProxiedRequest = {
        method: req.method ?? '',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        range: req.headers.range,
        headers: req.headers,
        at: Date.now(),
        ...(deleteKeys && { deleteKeys, body }),
      };
      if (failing !== undefined && failing.left > 0 && failing.match(record)) {
        failing.left--;
        requests.push({ ...record, injected: failing.error.code });
        s3Error(res, failing.error);
        return;
      }
      requests.push(record);
      if (deleteKeys === undefined || refuse === undefined) return forward(req, res, record, body);
      const { test, code } = refuse;
      const refused = deleteKeys.filter(test);
      if (refused.length === 0) return forward(req, res, record, body);
      const refusedSet = new Set(refused);
      const kept = body
        .toString('utf8')
        .replace(/<Object>\s*<Key>([^<]*)<\/Key>[\s\S]*?<\/Object>/g, (obj, key: string) => (refusedSet.has(xmlUnescape(key)) ? '' : obj));
      const errors = refused
        .map((k) => `<Error><Key>${xmlEscape(k)}</Key><Code>${code}</Code><Message>${code === 'AccessDenied' ? 'Access Denied' : code}</Message></Error>`)
        .join('');
      if (refused.length === deleteKeys.length) {
        // Nothing left for s3rver (it refuses an empty <Delete>): answer as S3 would.
        const result = `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${errors}</DeleteResult>`;
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(result) });
        res.end(result);
        return;
      }
      forward(req, res, record, Buffer.from(kept, 'utf8'), (answer) => answer.replace(/<\/DeleteResult>/, `${errors}</DeleteResult>`));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    get bytesOut() {
      return bytesOut;
    },
    slowDown(n, match = () => true) {
      failing = { left: n, error: SLOW_DOWN, match };
    },
    fail(n, error, match = () => true) {
      failing = { left: n, error, match };
    },
    refuseDeletes(test, code = 'AccessDenied') {
      refuse = test === undefined ? undefined : { test, code };
    },
    ignoreRange(on) {
      noRange = on;
    },
    stall(match) {
      stalling = match;
      if (match === undefined) for (const send of stalled.splice(0)) send();
    },
    clear() {
      requests.length = 0;
      bytesOut = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
