/**
 * The REST workloads of `npm run bench`: a generated mailbox (the Maildir generator, LF line
 * ends) seeded into the REST reference store (test/helpers/rest-store.ts, bearer auth, listing
 * with sizes and ETags) running in a child process of its own (bench/lib/rest-store-child.ts),
 * served by a popgate child with a `rest` tenant (deleteMode keep). Measured with the same POP3
 * clients as the other workloads: the first session after start on its own (snapshot listing,
 * a fresh JIT and connection pool), then the median of `runs` warm sessions.
 *
 * Reference (e): undici in the driver process downloading the same messages straight from the
 * store (every listing page, then a GET per message with as many requests in flight as the
 * pipelined client has RETRs); one unmeasured round, then the median of `runs`. Its MB/s counts
 * stored (LF) octets; the ratio popgate/direct compares session times (the same messages).
 *
 * Optionally one big message (25 MB) in a mailbox of its own (user `<user>-big`), RETRed by the
 * raw client while popgate's VmRSS is sampled: what a single large message costs in memory.
 *
 * The sessions, (e)'s timing and the tables are shared with the Gmail workloads
 * (bench/lib/http-store-bench.ts); this file has the store child, the tenant and (e)'s requests.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import {
  check,
  runStoreWorkload,
  startJsonChild,
  storeBigLine,
  storeTable,
  type BackendChild,
  type StoreBenchClient,
  type StoreBenchOptions,
  type StoreBenchResult,
  type StoreRow,
} from './http-store-bench.js';

/** dist/bench/lib/rest-store-child.js, next to this file. */
const STORE_CHILD = fileURLToPath(new URL('./rest-store-child.js', import.meta.url));

export type RestBenchClient = StoreBenchClient;
export type RestBenchOptions = StoreBenchOptions;
export type RestRow = StoreRow;
export type RestBenchResult = StoreBenchResult;

type StoreChild = BackendChild<{ port: number }>;

interface ListPage {
  readonly items: readonly { readonly id: string }[];
  readonly nextCursor?: string | null;
}

export async function runRestWorkload(o: RestBenchOptions): Promise<RestBenchResult> {
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(o.dir, 'store-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const baseUrl = (store: StoreChild): string => `http://127.0.0.1:${store.info.port}`;
  return runStoreWorkload<StoreChild>(o, {
    who: '(r) popgate->rest',
    popgateDir: 'popgate-r',
    backendName: 'the REST store child',
    account: (mailbox) => mailbox,
    startBackend(maildirs) {
      const args = ['--token-file', tokenFile];
      for (const [name, path] of Object.entries(maildirs)) args.push('--mailbox', `${name}=${path}`);
      return startJsonChild<{ port: number }>(STORE_CHILD, args, 'the REST store child');
    },
    popgateBackend: (store, users) => ({ adapter: 'rest', baseUrl: baseUrl(store), tokenFile, users }),
    async direct(store, mailbox, inFlight) {
      const pool = new Pool(baseUrl(store), { connections: inFlight });
      const headers = { authorization: `Bearer ${token}` };
      const base = `/mailboxes/${encodeURIComponent(mailbox)}/messages`;
      return {
        label: `undici ${inFlight} in flight`,
        async list() {
          const ids: string[] = [];
          let cursor: string | undefined;
          do {
            const res = await pool.request({
              method: 'GET',
              path: `${base}?limit=1000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
              headers,
            });
            check(res.statusCode === 200, `(e) direct: listing answered ${res.statusCode}`);
            const page = (await res.body.json()) as ListPage;
            for (const item of page.items) ids.push(item.id);
            cursor = page.nextCursor ?? undefined;
          } while (cursor !== undefined);
          return ids;
        },
        async read(id) {
          const res = await pool.request({ method: 'GET', path: `${base}/${encodeURIComponent(id)}`, headers });
          check(res.statusCode === 200, `(e) direct: GET ${id} answered ${res.statusCode}`);
          let bytes = 0;
          for await (const chunk of res.body as AsyncIterable<Buffer>) bytes += chunk.length;
          return bytes;
        },
        async bytes(id) {
          const res = await pool.request({ method: 'GET', path: `${base}/${encodeURIComponent(id)}`, headers });
          check(res.statusCode === 200, `(f) relay: GET ${id} answered ${res.statusCode}`);
          return Buffer.from(await res.body.arrayBuffer());
        },
        close: () => pool.close(),
      };
    },
  });
}

type TableFn = Parameters<typeof storeTable>[1];

export function restTable(r: RestBenchResult, table: TableFn, targetCell: (row: RestRow) => string): string {
  return storeTable(r, table, targetCell, 'store CPU s');
}

export function restBigLine(r: RestBenchResult): string | undefined {
  return storeBigLine(r, 'store');
}
