/**
 * A small HTTP proxy between the gateway and s3rver, on 127.0.0.1:0, for what s3rver cannot
 * do itself. It records every request (method, path, query, Range, time) and, on demand:
 *  - answers the next N matching requests with 503 SlowDown, in S3's documented error format
 *    (`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>...`);
 *  - refuses some keys of a DeleteObjects request the way S3 reports per-key failures: the
 *    refused keys are taken out of the request before s3rver sees it (so they really stay), and
 *    `<Error><Key>..</Key><Code>AccessDenied</Code>..</Error>` entries are added to its answer.
 * Everything else is passed through unchanged, bodies streamed.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  /** Decoded path without the query (`/mail/inbound/alice/x`). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly range: string | undefined;
  readonly at: number;
  /** For DeleteObjects: the keys asked for. */
  readonly deleteKeys?: readonly string[];
  /** What the proxy answered itself instead of forwarding. */
  readonly injected?: 'SlowDown';
}

export interface S3Proxy {
  readonly port: number;
  readonly endpoint: string;
  readonly requests: ProxiedRequest[];
  /** The next `n` requests that `match` answer 503 SlowDown. */
  slowDown(n: number, match?: (r: ProxiedRequest) => boolean): void;
  /** DeleteObjects refuses keys for which `refuse` is true (AccessDenied per key). */
  refuseDeletes(refuse: ((key: string) => boolean) | undefined): void;
  /** Forgets the recorded requests. */
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

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>popgate-test-proxy</RequestId><HostId>popgate-test-proxy</HostId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startS3Proxy(upstreamPort: number): Promise<S3Proxy> {
  const requests: ProxiedRequest[] = [];
  let slow: { left: number; match: (r: ProxiedRequest) => boolean } | undefined;
  let refuse: ((key: string) => boolean) | undefined;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, rewrite?: (answer: string) => string): void => {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    const up = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
      if (rewrite === undefined) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
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
        at: Date.now(),
        ...(deleteKeys && { deleteKeys }),
      };
      if (slow !== undefined && slow.left > 0 && slow.match(record)) {
        slow.left--;
        requests.push({ ...record, injected: 'SlowDown' });
        s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
        return;
      }
      requests.push(record);
      if (deleteKeys === undefined || refuse === undefined) return forward(req, res, body);
      const refused = deleteKeys.filter(refuse);
      if (refused.length === 0) return forward(req, res, body);
      const refusedSet = new Set(refused);
      const kept = body
        .toString('utf8')
        .replace(/<Object>\s*<Key>([^<]*)<\/Key>[\s\S]*?<\/Object>/g, (obj, key: string) => (refusedSet.has(xmlUnescape(key)) ? '' : obj));
      const errors = refused.map((k) => `<Error><Key>${xmlEscape(k)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`).join('');
      forward(req, res, Buffer.from(kept, 'utf8'), (answer) => answer.replace(/<\/DeleteResult>/, `${errors}</DeleteResult>`));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    slowDown(n, match = () => true) {
      slow = { left: n, match };
    },
    refuseDeletes(r) {
      refuse = r;
    },
    clear() {
      requests.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
