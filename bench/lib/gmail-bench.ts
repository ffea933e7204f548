/**
 * The Gmail workloads of `npm run bench`: a generated mailbox (the Maildir generator, LF line
 * ends) added to the INBOX of `<user>@example.com` in the Gmail API stand-in
 * (test/helpers/gmail-standin.ts) running in a child process of its own
 * (bench/lib/gmail-standin-child.ts), served by a popgate child with a `gmail` tenant
 * (`auth: serviceAccount` with the stand-in's key, `userName: '{local}@{domain}'`, deleteMode
 * keep). The first session after start is reported on its own: no size is cached, so its STAT
 * reads every message once (messages.get format=raw); then the median of `runs` warm sessions.
 *
 * Pacing: the adapter's default `unitsPerSecond: 250` (Gmail's per-user quota) allows 50
 * messages.get a second, so the sessions would measure the pacer only; the tenant lifts it
 * (GMAIL_BENCH_SETTINGS). `maxInFlightPerUser` stays at its default, 8: as many requests as (e)
 * has in flight with the default pipeline.
 *
 * Reference (e): undici in the driver process, straight from the stand-in: an access token
 * minted once beforehand as the adapter mints it (the adapter's ServiceAccountTokens: an RS256
 * JWT assertion traded at the stand-in's token endpoint), every messages.list page, then
 * messages.get format=raw per message with as many requests in flight as the pipelined client
 * has RETRs, each answer parsed as JSON and `raw` decoded from base64url; one unmeasured round,
 * then the median of `runs`. Its MB/s counts stored (LF) octets.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Agent, Pool } from 'undici';
import { readServiceAccountKey, ServiceAccountTokens } from '../../adapters/shared/google-service-account.js';
import { GMAIL_LIST_PAGE } from '../../adapters/gmail/limits.js';
import {
  check,
  runStoreWorkload,
  startJsonChild,
  storeBigLine,
  storeTable,
  type BackendChild,
  type StoreBenchOptions,
  type StoreBenchResult,
  type StoreRow,
} from './http-store-bench.js';

/** dist/bench/lib/gmail-standin-child.js, next to this file. */
const STANDIN_CHILD = fileURLToPath(new URL('./gmail-standin-child.js', import.meta.url));

/** The domain of the bench's Google users (POP3 login `alice@example.com`). */
const DOMAIN = 'example.com';
/** The scope a deleteMode keep tenant asks for. */
const READONLY_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';

/** Gmail tenant settings over the adapter's defaults. */
export const GMAIL_BENCH_SETTINGS = { unitsPerSecond: 1_000_000 } as const;

export const GMAIL_SETTINGS_NOTE =
  'gmail tenant: unitsPerSecond 1000000 (default 250, i.e. 50 messages.get/s, would measure only the pacer); maxInFlightPerUser 8 (default)';

interface StandinInfo {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly keyFile: string;
  readonly messages: number;
}

type StandinChild = BackendChild<StandinInfo>;

interface ListPage {
  readonly messages?: readonly { readonly id: string }[];
  readonly nextPageToken?: string;
}

/** An access token for `user` from the stand-in's token endpoint, minted as the adapter does. */
async function accessToken(info: StandinInfo, user: string): Promise<string> {
  const account = readServiceAccountKey(info.keyFile);
  if (typeof account === 'string') throw new Error(`(e) direct: ${account}`);
  const agent = new Agent({ connections: 1 });
  try {
    const tokens = new ServiceAccountTokens(account, info.tokenUrl, READONLY_SCOPE, agent, pino({ level: 'silent' }));
    return await tokens.accessToken({ user }, AbortSignal.timeout(15_000));
  } finally {
    await agent.close();
  }
}

export async function runGmailWorkload(o: StoreBenchOptions): Promise<StoreBenchResult> {
  const keyFile = join(o.dir, 'service-account.json');
  return runStoreWorkload<StandinChild>(o, {
    who: '(g) popgate->gmail',
    popgateDir: 'popgate-g',
    backendName: 'the Gmail stand-in child',
    settingsNote: GMAIL_SETTINGS_NOTE,
    account: (mailbox) => `${mailbox}@${DOMAIN}`,
    startBackend(maildirs) {
      const args = ['--key-file', keyFile];
      for (const [user, path] of Object.entries(maildirs)) args.push('--mailbox', `${user}=${path}`);
      return startJsonChild<StandinInfo>(STANDIN_CHILD, args, 'the Gmail stand-in child');
    },
    popgateBackend: (standin, users) => ({
      adapter: 'gmail',
      baseUrl: standin.info.baseUrl,
      tokenUrl: standin.info.tokenUrl,
      keyFile: standin.info.keyFile,
      domain: DOMAIN,
      users,
      settings: GMAIL_BENCH_SETTINGS,
    }),
    async direct(standin, user, inFlight) {
      const token = await accessToken(standin.info, user);
      const pool = new Pool(standin.info.baseUrl, { connections: inFlight });
      const headers = { authorization: `Bearer ${token}` };
      const base = '/gmail/v1/users/me/messages';
      return {
        label: `undici ${inFlight} in flight`,
        async list() {
          const ids: string[] = [];
          let pageToken: string | undefined;
          do {
            const q = new URLSearchParams({ maxResults: String(GMAIL_LIST_PAGE), includeSpamTrash: 'false', labelIds: 'INBOX' });
            if (pageToken !== undefined) q.set('pageToken', pageToken);
            const res = await pool.request({ method: 'GET', path: `${base}?${q.toString()}`, headers });
            check(res.statusCode === 200, `(e) direct: messages.list answered ${res.statusCode}`);
            const page = (await res.body.json()) as ListPage;
            for (const m of page.messages ?? []) ids.push(m.id);
            pageToken = page.nextPageToken;
          } while (pageToken !== undefined && pageToken !== '');
          return ids.reverse();
        },
        async read(id) {
          const res = await pool.request({ method: 'GET', path: `${base}/${encodeURIComponent(id)}?format=raw`, headers });
          check(res.statusCode === 200, `(e) direct: messages.get ${id} answered ${res.statusCode}`);
          const answer = (await res.body.json()) as { raw?: unknown };
          check(typeof answer.raw === 'string', `(e) direct: messages.get ${id} has no raw`);
          return Buffer.from(answer.raw as string, 'base64url').length;
        },
        async bytes(id) {
          const res = await pool.request({ method: 'GET', path: `${base}/${encodeURIComponent(id)}?format=raw`, headers });
          check(res.statusCode === 200, `(f) relay: messages.get ${id} answered ${res.statusCode}`);
          const answer = (await res.body.json()) as { raw?: unknown };
          check(typeof answer.raw === 'string', `(f) relay: messages.get ${id} has no raw`);
          return Buffer.from(answer.raw as string, 'base64url');
        },
        close: () => pool.close(),
      };
    },
  });
}

type TableFn = Parameters<typeof storeTable>[1];

export function gmailTable(r: StoreBenchResult, table: TableFn, targetCell: (row: StoreRow) => string): string {
  return storeTable(r, table, targetCell, 'stand-in CPU s');
}

export function gmailBigLine(r: StoreBenchResult): string | undefined {
  return storeBigLine(r, 'stand-in');
}
